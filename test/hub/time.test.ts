import { isCanonicalTimestamp } from '../../src/hub/time';
import { Prng } from '../../src/seed/prng';

/** The definition isCanonicalTimestamp implements without a Date: parses, lies in years 0001-9999, formats back unchanged. */
function reference(value: string): boolean {
  const ms = Date.parse(value);
  return (
    value.length === 24 &&
    ms >= Date.parse('0001-01-01T00:00:00.000Z') &&
    ms <= Date.parse('9999-12-31T23:59:59.999Z') &&
    new Date(ms).toISOString() === value
  );
}

describe('isCanonicalTimestamp', () => {
  it('agrees with the Date round trip on calendar edges', () => {
    const edges = [
      '2024-02-29T23:59:59.999Z',
      '2026-02-29T00:00:00.000Z',
      '2000-02-29T00:00:00.000Z',
      '1900-02-29T00:00:00.000Z',
      '2100-02-29T00:00:00.000Z',
      '2026-04-31T00:00:00.000Z',
      '2026-12-31T00:00:00.000Z',
      '2026-12-32T00:00:00.000Z',
      '2026-00-10T00:00:00.000Z',
      '2026-01-00T00:00:00.000Z',
      '2026-01-01T24:00:00.000Z',
      '2026-01-01T23:60:00.000Z',
      '2026-01-01T23:59:60.000Z',
      '0000-12-31T23:59:59.999Z',
      '0001-01-01T00:00:00.000Z',
      '0099-06-15T12:00:00.000Z',
      '9999-12-31T23:59:59.999Z',
      '2026-01-01T00:00:00.000z',
      '2026-01-01T00:00:00,000Z',
      '+02026-01-01T00:00:00.000Z',
      '2026-01-01T00:00:00.00Z',
      '2026-01-01T00:00:00.0000',
    ];
    for (const v of edges) expect([v, isCanonicalTimestamp(v)]).toEqual([v, reference(v)]);
    expect(isCanonicalTimestamp('2024-02-29T23:59:59.999Z')).toBe(true);
    expect(isCanonicalTimestamp('2026-02-29T00:00:00.000Z')).toBe(false);
  });

  it('agrees with the Date round trip on random instants and one-character changes of them', () => {
    const rng = new Prng(15);
    const alphabet = '0123456789-:.TZtz +/';
    let accepted = 0;
    for (let i = 0; i < 20_000; i++) {
      const ms = Date.UTC(rng.int(1, 9999), 0, 1) + rng.int(0, 366 * 86_400_000);
      const canonical = new Date(Math.min(ms, Date.parse('9999-12-31T23:59:59.999Z'))).toISOString();
      const at = rng.int(0, canonical.length - 1);
      const changed =
        canonical.slice(0, at) +
        (alphabet[rng.int(0, alphabet.length - 1)] as string) +
        canonical.slice(at + 1);
      for (const v of [canonical, changed]) {
        const want = reference(v);
        if (isCanonicalTimestamp(v) !== want) throw new Error(`${v}: expected ${want}`);
        if (want) accepted++;
      }
    }
    // Every unchanged instant, and the changes that still name a valid instant (a digit for a digit, mostly).
    expect(accepted).toBeGreaterThan(20_000);
    expect(accepted).toBeLessThan(40_000);
  });

  it('refuses what is not a string of 24 characters', () => {
    for (const v of [1767225600000, new Date(0), null, undefined, '2026-01-01T00:00:00Z']) {
      expect(isCanonicalTimestamp(v)).toBe(false);
    }
  });
});
