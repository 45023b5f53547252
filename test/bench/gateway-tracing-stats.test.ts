/**
 * The statistics of bench:gateway's tracing part over runs: quantiles,
 * summaries, which configuration a gateway belongs to, and ratios to the mean
 * of the tracing-off gateways.
 */
import {
  byConfiguration,
  configurationOf,
  isTracingOff,
  medianRoundRatios,
  quantile,
  ratiosToOffMean,
  summarize,
} from '../../bench/gateway-tracing-stats';

describe('quantile', () => {
  it('interpolates between order statistics, whatever the input order', () => {
    expect(quantile([3, 1, 2], 0.5)).toBe(2);
    expect(quantile([4, 1, 3, 2], 0.5)).toBe(2.5);
    expect(quantile([1, 2, 3, 4, 5], 0.25)).toBe(2);
    expect(quantile([1, 2, 3, 4], 0.25)).toBe(1.75);
    expect(quantile([10, 20], 0)).toBe(10);
    expect(quantile([10, 20], 1)).toBe(20);
    expect(quantile([7], 0.75)).toBe(7);
  });

  it('is NaN for no samples and leaves its input unsorted', () => {
    expect(quantile([], 0.5)).toBeNaN();
    const xs = [3, 1, 2];
    quantile(xs, 0.5);
    expect(xs).toEqual([3, 1, 2]);
  });
});

describe('summarize', () => {
  it('gives size, median, quartiles and range, leaving NaNs out', () => {
    expect(summarize([5, 1, NaN, 3, 2, 4])).toEqual({ n: 5, median: 3, q1: 2, q3: 4, min: 1, max: 5 });
  });

  it('is all NaN with size 0 for no samples', () => {
    const s = summarize([NaN]);
    expect(s.n).toBe(0);
    for (const v of [s.median, s.q1, s.q3, s.min, s.max]) expect(v).toBeNaN();
  });
});

describe('configurationOf', () => {
  it('puts a configuration’s extra gateways and off_control with their configuration', () => {
    expect(configurationOf('off')).toBe('off');
    expect(configurationOf('off_control')).toBe('off');
    expect(configurationOf('off_control_r2')).toBe('off');
    expect(configurationOf('sampled_0_01_b')).toBe('sampled_0_01');
    expect(configurationOf('sampled_0_01_b_r3')).toBe('sampled_0_01');
    expect(configurationOf('sampled_1_r2')).toBe('sampled_1');
    expect(configurationOf('base_sampled_0_01')).toBe('base_sampled_0_01');
    expect(configurationOf('off_client_post')).toBe('off_client_post');
  });

  it('counts only the tracing-off gateways as off', () => {
    expect(['off', 'off_control', 'off_control_r2'].every(isTracingOff)).toBe(true);
    expect(['off_client_post', 'base_off', 'sampled_0'].some(isTracingOff)).toBe(false);
  });
});

describe('ratios to the tracing-off gateways', () => {
  it('divides every value by the mean of the tracing-off values', () => {
    const r = ratiosToOffMean(
      new Map([
        ['off', 90],
        ['off_control', 110],
        ['sampled_0_01', 95],
      ]),
    );
    expect([...r]).toEqual([
      ['off', 0.9],
      ['off_control', 1.1],
      ['sampled_0_01', 0.95],
    ]);
  });

  it('is NaN without a tracing-off gateway', () => {
    expect(ratiosToOffMean(new Map([['sampled_1', 5]])).get('sampled_1')).toBeNaN();
  });

  it('takes the median over rounds of each round’s ratio', () => {
    const rounds = [
      new Map([
        ['off', 100],
        ['sampled_0_01', 90],
      ]),
      new Map([
        ['off', 200],
        ['sampled_0_01', 196],
      ]),
      new Map([
        ['off', 50],
        ['sampled_0_01', 48],
      ]),
    ];
    expect(medianRoundRatios(rounds).get('sampled_0_01')).toBeCloseTo(0.96);
    expect(medianRoundRatios(rounds).get('off')).toBe(1);
  });

  it('groups the gateways of all runs by configuration, in order of appearance', () => {
    const runs = [
      new Map([
        ['off', 1],
        ['sampled_0_01', 0.95],
        ['off_control', 1.02],
        ['sampled_0_01_b', 0.97],
      ]),
      new Map([
        ['sampled_0_01', 0.96],
        ['off', 0.99],
      ]),
    ];
    expect([...byConfiguration(runs)]).toEqual([
      ['off', [1, 1.02, 0.99]],
      ['sampled_0_01', [0.95, 0.97, 0.96]],
    ]);
  });
});
