/**
 * The SharePoint store's write pacer on an injected clock: unpaced until a
 * refusal, then spacing requests at the accepted rate, probing upwards, and
 * meeting the limit again after a refusal. The store with it against a
 * throttling emulator is covered by sharepoint-faults.test.ts and the move tests.
 */
import { MIN_RATE, PROBE, WINDOW_MS, WritePacer } from '../../src/stores/sharepoint/sharepoint-pacer';

function fakeClock(): { now: () => number; sleep: (ms: number) => Promise<void>; slept: number[] } {
  let t = 1000;
  const slept: number[] = [];
  return {
    now: () => t,
    sleep: (ms) => {
      slept.push(ms);
      t += ms;
      return Promise.resolve();
    },
    slept,
  };
}

describe('WritePacer', () => {
  it('sends without waiting until a part is refused as throttled', async () => {
    const clock = fakeClock();
    const pacer = new WritePacer(clock);
    for (let i = 0; i < 10; i++) {
      await pacer.admit(100);
      pacer.answered(100, 0);
    }
    expect(clock.slept).toEqual([]);
    expect(pacer.rate).toBeUndefined();
  });

  it('learns nothing from a refusal before anything was accepted', async () => {
    const clock = fakeClock();
    const pacer = new WritePacer(clock);
    await pacer.admit(100);
    pacer.answered(0, 100);
    expect(pacer.rate).toBeUndefined();
  });

  it('paces at the accepted rate once throttled, spacing requests by their parts', async () => {
    const clock = fakeClock();
    const pacer = new WritePacer(clock);
    await pacer.admit(600);
    // 400 parts accepted over the second since the first request, 200 refused.
    await clock.sleep(1000);
    clock.slept.length = 0;
    pacer.answered(400, 200);
    expect(pacer.rate).toBeCloseTo(400, 6);
    await pacer.admit(100); // leaves at once
    await pacer.admit(100); // 100 parts at 400/s: 250 ms later
    await pacer.admit(100);
    expect(clock.slept).toEqual([250, 250]);
  });

  it('raises the pace with accepted parts and lowers it to what the window accepted on a refusal', async () => {
    const clock = fakeClock();
    const pacer = new WritePacer(clock);
    await pacer.admit(100);
    await clock.sleep(WINDOW_MS);
    pacer.answered(800, 1); // 800 accepted over the window: 400/s
    expect(pacer.rate).toBeCloseTo(400, 6);
    pacer.answered(100, 0);
    expect(pacer.rate).toBeCloseTo(400 + PROBE * 100, 6);
    // The window moves on: the 800 leave it, 300 accepted in the last 2 s -> 150/s.
    await clock.sleep(WINDOW_MS + 1);
    pacer.answered(300, 50);
    expect(pacer.rate).toBeCloseTo(150, 6);
  });

  it('never paces below its floor', async () => {
    const clock = fakeClock();
    const pacer = new WritePacer(clock);
    await pacer.admit(1);
    await clock.sleep(WINDOW_MS);
    pacer.answered(1, 99);
    expect(pacer.rate).toBe(MIN_RATE);
  });
});
