import { isHubError } from '../../src/hub/errors';
import { type FieldSpec, type HubRecord, fieldsOf } from '../../src/hub/model';
import { checkSealedBatch } from '../../src/hub/sealed';
import { parseTenantId } from '../../src/hub/tenant';
import { checkField, isCanonicalField } from '../../src/hub/field-checks';
import { sealBatch } from '../../src/hub/validate';

const tenant = parseTenantId('acme');

/** What checkField says of a value: its canonical form, or that it reported a problem. */
function slow(spec: FieldSpec, value: unknown): { ok: boolean; canonical: unknown } {
  let ok = true;
  const canonical = checkField(spec, value, () => void (ok = false));
  return { ok, canonical };
}

describe('isCanonicalField (the store check fast path)', () => {
  const spec = (name: string): FieldSpec => {
    const found = [...fieldsOf('outputs'), ...fieldsOf('artifacts')].find((f) => f.name === name);
    if (!found) throw new Error(`no field ${name}`);
    return found;
  };
  const cases: [string, unknown[]][] = [
    [
      'created_at',
      [
        '2026-01-01T00:00:00.000Z',
        '2026-02-29T00:00:00.000Z', // not a leap year
        '2024-02-29T23:59:59.999Z',
        '2026-01-01T00:00:00.000+00:00',
        '2026-01-01T00:00:00Z',
        '2026-1-01T00:00:00.000Z',
        '0000-01-01T00:00:00.000Z',
        '0001-01-01T00:00:00.000Z',
        '9999-12-31T23:59:59.999Z',
        '2026-13-01T00:00:00.000Z',
        '2026-01-01T24:00:00.000Z',
        '2026-01-01t00:00:00.000Z',
        '2026-01-01 00:00:00.000Z',
        1767225600000,
        new Date(0),
      ],
    ],
    [
      'cost_usd',
      [
        '0',
        '1',
        '12.34',
        '0.000001',
        '12345678901234',
        '123456789012345',
        '0.0000001',
        '1.50',
        '01',
        '-1',
        '-0',
        '1.',
        '.5',
        ' 1',
        '1e3',
        2.5,
      ],
    ],
    [
      'record_id',
      ['0b8e9e2a-1c2d-4e5f-8a9b-0c1d2e3f4a5b', '0B8E9E2A-1C2D-4E5F-8A9B-0C1D2E3F4A5B', 'nope', ''],
    ],
    ['provenance_hash', ['a'.repeat(64), 'A'.repeat(64), 'a'.repeat(63), 'g'.repeat(64)]],
    ['skill_id', ['s', 'a.b:c@d-e_f', '', 'a b', 'x'.repeat(128), 'x'.repeat(129), 3]],
    ['status', ['SUCCEEDED', 'FAILED', 'succeeded', 'DONE', null]],
    ['input_tokens', [0, 5, -1, 1.5, Number.MAX_SAFE_INTEGER + 1, '5']],
    // Optional text of at most 256 characters, then required text.
    [
      'model',
      [
        'fine',
        '',
        ' ',
        'nul \u0000',
        'pair \ud83d\ude00',
        'lone \ud83d',
        'lone \ude00 x',
        'y'.repeat(256),
        'y'.repeat(257),
      ],
    ],
    ['name', ['fine', '', ' ', 'pair \ud83d\ude00', 'lone \ud83d']],
  ];

  it.each(cases)(
    '%s: true only for values checkField accepts unchanged, and for all of those',
    (name, values) => {
      const s = spec(name);
      for (const value of values) {
        const { ok, canonical } = slow(s, value);
        const unchanged = ok && canonical === value;
        expect({ value, fast: isCanonicalField(s, value) }).toEqual({ value, fast: unchanged });
      }
    },
  );
});

describe('checkSealedBatch', () => {
  const [good, other] = sealBatch(tenant, 'outputs', [
    {
      skill_id: 's',
      employee_id: 'e',
      status: 'SUCCEEDED',
      cost_usd: '1.5',
      created_at: '2026-01-01T00:00:00Z',
    },
    { skill_id: 's', employee_id: 'f', status: 'FAILED' },
  ]) as [HubRecord, HubRecord];

  it('passes sealed records', () => {
    expect(() => checkSealedBatch(tenant, [good, other])).not.toThrow();
  });

  it.each([
    ['cost_usd', '1.50', 'is not in canonical form'],
    ['created_at', '2026-01-01T00:00:00Z', 'is not in canonical form'],
    ['created_at', '2026-02-30T00:00:00.000Z', 'calendar date'],
    ['record_id', other.record_id.toUpperCase(), 'is not in canonical form'],
    ['provenance_hash', other.provenance_hash.toUpperCase(), 'is not in canonical form'],
    ['cost_usd', '-1', '>= 0'],
  ])('refuses %s = %j naming the record (%s)', (field, value, message) => {
    const bad = { ...other, [field]: value } as unknown as HubRecord;
    const err = (() => {
      try {
        checkSealedBatch(tenant, [good, bad]);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(isHubError(err, 'VALIDATION')).toBe(true);
    const issues = (err as { issues: { index?: number; path: string; message: string }[] }).issues;
    expect(issues.map((i) => `${i.index}:${i.path}`)).toEqual([`1:${field}`]);
    expect(issues[0]?.message).toContain(message);
    expect(issues[0]?.message).toContain(String(bad.record_id));
  });
});
