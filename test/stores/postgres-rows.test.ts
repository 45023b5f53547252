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
