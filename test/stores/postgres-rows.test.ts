/**
 * Row conversion of the PostgreSQL store: values as the server prints them
 * become the Hub's canonical forms, on the fast paths exactly as on the
 * general ones.
 */
import { canonicalDbNumeric, canonicalNumeric, recordFromRow } from '../../src/stores/postgres/postgres-sql';
import { TYPE_PARSERS, parseTimestamptz } from '../../src/stores/postgres/queryable';
import { parseTenantId } from '../../src/hub/tenant';

test('numerics as PostgreSQL prints numeric(20,6) canonicalise like the general parser', () => {
  const printed = [
    '12.340000',
    '5.000000',
    '0.000000',
    '-0.000000',
    '-12.500000',
    '0.500000',
    '0.000001',
    '99999999999999.999999',
    '100.000000',
    '7',
    '-3',
  ];
  for (const text of printed) expect(canonicalDbNumeric(text)).toBe(canonicalNumeric(text));
  expect(canonicalDbNumeric('12.340000')).toBe('12.34');
  expect(canonicalDbNumeric('100.000000')).toBe('100');
  expect(canonicalDbNumeric('-0.000000')).toBe('0');
});

test('a row keeps timestamps the type parser already made canonical, and converts raw ones', () => {
  const parse = TYPE_PARSERS[1184] as (text: string) => unknown;
  const canonical = parse('2026-03-01 12:00:00.12+00');
  expect(canonical).toBe('2026-03-01T12:00:00.120Z');
  const tenant = parseTenantId('rows');
  const base = {
    record_id: '01900000-0000-7000-8000-000000000001',
    attributes: null,
    provenance_hash: 'a'.repeat(64),
    name: 'n',
    skill_id: null,
    employee_id: null,
    duration_ms: null,
    cost_usd: '1.250000',
    input_tokens: null,
    output_tokens: null,
    properties: null,
  };
  const fromParsed = recordFromRow(tenant, 'telemetry_events', { ...base, created_at: canonical });
  const fromRaw = recordFromRow(tenant, 'telemetry_events', {
    ...base,
    created_at: '2026-03-01 12:00:00.12+00',
  });
  const fromOtherZone = recordFromRow(tenant, 'telemetry_events', {
    ...base,
    created_at: '2026-03-01 13:00:00.12+01',
  });
  for (const r of [fromParsed, fromRaw, fromOtherZone]) {
    expect(r.created_at).toBe('2026-03-01T12:00:00.120Z');
    expect((r as unknown as { cost_usd: string }).cost_usd).toBe('1.25');
  }
  expect(parseTimestamptz('2026-03-01 12:00:00+00')).toBe('2026-03-01T12:00:00.000Z');
});

test('timestamptz text in a UTC session converts by position exactly as through Date', () => {
  const cases: [string, string][] = [
    ['2026-03-01 12:00:00+00', '2026-03-01T12:00:00.000Z'],
    ['2026-03-01 12:00:00.1+00', '2026-03-01T12:00:00.100Z'],
    ['2026-03-01 12:00:00.12+00', '2026-03-01T12:00:00.120Z'],
    ['2026-03-01 12:00:00.123+00', '2026-03-01T12:00:00.123Z'],
    ['2026-03-01 12:00:00.123456+00', '2026-03-01T12:00:00.123Z'],
    ['1970-01-01 00:00:00.001+00', '1970-01-01T00:00:00.001Z'],
  ];
  for (const [text, canonical] of cases) expect(parseTimestamptz(text)).toBe(canonical);
  // Many instants: the by-position path agrees with Date's ISO form (milliseconds kept, micros cut).
  for (let i = 0; i < 2000; i++) {
    const ms = Date.UTC(2020, 0, 1) + Math.floor(i * 7_919_113.7);
    const iso = new Date(ms).toISOString();
    const micros = String(i % 1000).padStart(3, '0');
    const pgText = `${iso.slice(0, 10)} ${iso.slice(11, 23)}${micros}+00`.replace(/\.?0+\+00$/, '+00');
    expect(parseTimestamptz(pgText)).toBe(iso);
  }
});
