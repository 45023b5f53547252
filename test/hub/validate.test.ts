import { fromMicros, parseDecimal, roundRatio, toMicros } from '../../src/hub/decimal';
import { HubError } from '../../src/hub/errors';
import { percentileCont } from '../../src/hub/rollups/math';
import { parseTenantId } from '../../src/hub/tenant';
import { bucketStart, parseTimestamp } from '../../src/hub/time';
import { isUuid, uuidv7 } from '../../src/hub/uuid';
import { sealBatch } from '../../src/hub/validate';

const tenant = parseTenantId('acme');

function issuesOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(HubError);
    expect((err as HubError).code).toBe('VALIDATION');
    return (err as HubError).issues.map((i) => `${i.index ?? '-'}:${i.path}`);
  }
  throw new Error('expected a validation error');
}

describe('validation', () => {
  it('collects every problem of every record with its index and field path', () => {
    const issues = issuesOf(() =>
      sealBatch(tenant, 'outputs', [
        { skill_id: 'ok', employee_id: 'ok', status: 'SUCCEEDED' },
        {
          skill_id: 'bad id!',
          status: 'MAYBE',
          input_tokens: -1,
          cost_usd: '1.1234567',
          latency_ms: 2.5,
          colour: 'red',
        },
        'not an object',
        {
          skill_id: 's',
          employee_id: 'e',
          status: 'FAILED',
          created_at: '2026-02-30T00:00:00Z',
          attributes: [],
        },
        {
          skill_id: 's',
          employee_id: 'e',
          status: 'FAILED',
          content: { deep: { x: NaN } },
          model: 'a\u0000b',
        },
      ]),
    );
    expect(issues).toEqual(
      expect.arrayContaining([
        '1:skill_id',
        '1:employee_id',
        '1:status',
        '1:input_tokens',
        '1:cost_usd',
        '1:latency_ms',
        '1:colour',
        '2:',
        '3:created_at',
        '3:attributes',
        '4:content.deep.x',
        '4:model',
      ]),
    );
    expect(issues.some((i) => i.startsWith('0:'))).toBe(false);
  });

  it('the error message names the record index and field', () => {
    expect(() =>
      sealBatch(tenant, 'decisions', [
        { output_id: 'x', skill_id: 's', decided_by: 'd', outcome: 'ACCEPTED' },
      ]),
    ).toThrow(/\[0\] output_id: must be a UUID/);
  });

  it('refuses a tenant_id or record_type in the body that disagrees with the caller', () => {
    expect(
      issuesOf(() =>
        sealBatch(tenant, 'telemetry_events', [{ name: 'n', tenant_id: 'other', record_type: 'outputs' }]),
      ),
    ).toEqual(['0:tenant_id', '0:record_type']);
    // The same tenant is accepted (a record exported and re-imported carries it).
    expect(sealBatch(tenant, 'telemetry_events', [{ name: 'n', tenant_id: 'acme' }])[0]?.tenant_id).toBe(
      'acme',
    );
  });

  it('rejects a repeated record_id inside one batch', () => {
    const id = uuidv7();
    expect(
      issuesOf(() =>
        sealBatch(tenant, 'telemetry_events', [
          { record_id: id, name: 'a' },
          { record_id: id, name: 'b' },
        ]),
      ),
    ).toEqual(['1:record_id']);
  });

  it('enforces the size limits on attributes (64 KiB) and the record (256 KiB)', () => {
    const big = 'x'.repeat(70 * 1024);
    expect(
      issuesOf(() => sealBatch(tenant, 'telemetry_events', [{ name: 'n', attributes: { big } }])),
    ).toEqual(['0:attributes']);
    const huge = Array.from({ length: 5 }, () => 'y'.repeat(60 * 1024));
    expect(
      issuesOf(() =>
        sealBatch(tenant, 'outputs', [{ skill_id: 's', employee_id: 'e', status: 'FAILED', content: huge }]),
      ),
    ).toEqual(['0:']);
  });

  it('checks artifact bodies: size, hash, and the configured limit', () => {
    const body = Buffer.from('abc');
    const good = {
      name: 'a',
      media_type: 'text/plain',
      size_bytes: 3,
      content_sha256: 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
      body,
    };
    expect(sealBatch(tenant, 'artifacts', [good])).toHaveLength(1);
    expect(sealBatch(tenant, 'artifacts', [{ ...good, body: body.toString('base64') }])).toHaveLength(1);
    expect(
      issuesOf(() =>
        sealBatch(tenant, 'artifacts', [{ ...good, size_bytes: 4, content_sha256: 'a'.repeat(64) }]),
      ),
    ).toEqual(['0:size_bytes', '0:content_sha256']);
    expect(issuesOf(() => sealBatch(tenant, 'artifacts', [good], { maxArtifactBodyBytes: 2 }))).toEqual([
      '0:body',
    ]);
    expect(issuesOf(() => sealBatch(tenant, 'artifacts', [{ ...good, body: undefined }]))).toEqual([
      '0:body',
    ]);
  });

  it('assigns UUIDv7 ids and millisecond UTC timestamps by default', () => {
    const [r] = sealBatch(tenant, 'telemetry_events', [{ name: 'n' }], {
      now: () => Date.parse('2026-03-01T00:00:00.123Z'),
    });
    expect(r?.created_at).toBe('2026-03-01T00:00:00.123Z');
    expect(r?.record_id).toMatch(/^019[0-9a-f]{5}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(r?.record_id.replace(/-/g, '').slice(0, 12)).toBe(
      Date.parse('2026-03-01T00:00:00.123Z').toString(16).padStart(12, '0'),
    );
  });

  it('rejects bad tenant ids with a clear message', () => {
    for (const bad of ['', 'UPPER', '-lead', 'a'.repeat(64), 'a_b', 'a b']) {
      expect(() => parseTenantId(bad)).toThrow(/invalid tenant id/);
    }
    expect(parseTenantId('a'.repeat(63))).toHaveLength(63);
  });
});

describe('decimals', () => {
  it('canonicalises', () => {
    const ok = (v: unknown) => {
      const d = parseDecimal(v);
      return d.ok ? d.value : `error: ${d.message}`;
    };
    expect(ok('0012.3400')).toBe('12.34');
    expect(ok('-0.000')).toBe('0');
    expect(ok('5.')).toMatch(/error/);
    expect(ok('1e3')).toMatch(/error/);
    expect(ok(0.1)).toBe('0.1');
    expect(ok(1e-7)).toMatch(/error/);
    expect(ok('0.0000001')).toMatch(/at most 6/);
    expect(ok('123456789012345')).toMatch(/at most 14/);
    expect(fromMicros(toMicros('12.000001') + toMicros('0.999999'))).toBe('13');
    expect(fromMicros(-1n)).toBe('-0.000001');
  });

  it('rounds half away from zero', () => {
    expect(roundRatio(5n, 10n, 0)).toBe(1);
    expect(roundRatio(-5n, 10n, 0)).toBe(-1);
    expect(roundRatio(1n, 3n, 4)).toBe(0.3333);
    expect(roundRatio(2n, 3n, 4)).toBe(0.6667);
    expect(roundRatio(1n, 8n, 2)).toBe(0.13);
  });

  it('computes continuous percentiles exactly', () => {
    expect(percentileCont([], 95, 1)).toBeNull();
    expect(percentileCont([7n], 95, 1)).toBe(7);
    expect(percentileCont([1n, 2n], 95, 1)).toBe(2); // 1.95 exactly -> 2.0
    expect(percentileCont([10n, 20n, 30n, 40n], 50, 2)).toBe(25);
    expect(
      percentileCont(
        Array.from({ length: 21 }, (_, i) => BigInt(i)),
        95,
        1,
      ),
    ).toBe(19);
  });
});

describe('timestamps and buckets', () => {
  it('parses RFC 3339 with offsets, rejects impossible dates and sub-millisecond precision', () => {
    expect(parseTimestamp('2026-03-01T01:00:00+01:00')).toEqual({
      ok: true,
      ms: Date.parse('2026-03-01T00:00:00Z'),
    });
    expect(parseTimestamp('2026-03-01T00:00:00.1234Z').ok).toBe(false);
    expect(parseTimestamp('2026-03-01T00:00:00.1230Z').ok).toBe(true);
    expect(parseTimestamp('2026-02-29T00:00:00Z').ok).toBe(false);
    expect(parseTimestamp('2026-03-01').ok).toBe(false);
    expect(parseTimestamp(1700000000).ok).toBe(false);
  });

  it('truncates to UTC day, Monday-start week, and month', () => {
    const sunday = Date.parse('2026-03-08T23:59:59.999Z');
    expect(new Date(bucketStart(sunday, 'DAY')).toISOString()).toBe('2026-03-08T00:00:00.000Z');
    expect(new Date(bucketStart(sunday, 'WEEK')).toISOString()).toBe('2026-03-02T00:00:00.000Z');
    expect(new Date(bucketStart(Date.parse('2026-03-09T00:00:00Z'), 'WEEK')).toISOString()).toBe(
      '2026-03-09T00:00:00.000Z',
    );
    expect(new Date(bucketStart(sunday, 'MONTH')).toISOString()).toBe('2026-03-01T00:00:00.000Z');
  });

  it('generates valid, time-ordered UUIDv7s', () => {
    const a = uuidv7(1000);
    const b = uuidv7(2000);
    expect(isUuid(a) && isUuid(b)).toBe(true);
    expect(a < b).toBe(true);
  });
});
