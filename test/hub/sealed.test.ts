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

describe('isCanonicalField on uuid and sha256 (run tests instead of counted repeats)', () => {
  // The patterns the fast tests replaced: they must accept exactly the same strings.
  const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
  const SHA256 = /^[0-9a-f]{64}$/;
  const uuidSpec = fieldsOf('outputs').find((f) => f.name === 'record_id') as FieldSpec;
  const shaSpec = fieldsOf('outputs').find((f) => f.name === 'provenance_hash') as FieldSpec;
  const uuid = '0196e6b4-1c2d-7e5f-8a9b-0c1d2e3f4a5b';
  const sha = '5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03';
  // Every one-character change of a valid value (each position, a few replacements), moved
  // dashes, and lengths one off: where a run test and a length check could disagree.
  const variants = (valid: string): string[] => {
    const out = [valid, valid.slice(1), `${valid}0`, `${valid}-`, `-${valid.slice(1)}`, `${valid}\n`];
    for (let i = 0; i < valid.length; i++) {
      for (const ch of ['0', 'f', 'g', 'F', '-', ' ', '\n', 'é'])
        out.push(valid.slice(0, i) + ch + valid.slice(i + 1));
      out.push(valid.slice(0, i) + valid.slice(i + 1) + '0');
      out.push(`0${valid.slice(0, i)}${valid.slice(i + 1)}`);
      // The character swapped with each of its next three: moves every dash by one to three places.
      for (let j = i + 1; j < Math.min(valid.length, i + 4); j++) {
        const chars = [...valid];
        [chars[i], chars[j]] = [chars[j] as string, chars[i] as string];
        out.push(chars.join(''));
      }
    }
    return out;
  };

  it('uuid: true exactly for lowercase 8-4-4-4-12', () => {
    const values = [
      ...variants(uuid),
      '01234567-89ab-cdef-0123-456789abcdef-',
      '0123456789abcdef0123456789abcdef0123',
    ];
    for (const v of values)
      expect({ v, fast: isCanonicalField(uuidSpec, v) }).toEqual({ v, fast: UUID.test(v) });
    for (const v of [undefined, null, 36, ['0196e6b4-1c2d-7e5f-8a9b-0c1d2e3f4a5b']])
      expect(isCanonicalField(uuidSpec, v)).toBe(false);
  });

  it('sha256: true exactly for 64 lowercase hex digits', () => {
    for (const v of [...variants(sha), '', 'a'.repeat(65), 'a'.repeat(128)])
      expect({ v, fast: isCanonicalField(shaSpec, v) }).toEqual({ v, fast: SHA256.test(v) });
    expect(isCanonicalField(shaSpec, Buffer.from(sha))).toBe(false);
  });
});

describe('checkSealedBatch verdicts decided once per batch', () => {
  const [rec] = sealBatch(tenant, 'outputs', [{ skill_id: 's', employee_id: 'e', status: 'SUCCEEDED' }]) as [
    HubRecord,
  ];
  const issuesOf = (t: string, records: readonly unknown[]): string[] => {
    try {
      checkSealedBatch(t as typeof tenant, records as HubRecord[]);
    } catch (e) {
      return (e as { issues: { index?: number; path: string }[] }).issues.map((i) => `${i.index}:${i.path}`);
    }
    return [];
  };

  it('reports a tenant id that is not a canonical id on every record carrying it', () => {
    // Not a parsed TenantId (a cast): the records equal to it are still refused by name.
    const odd = 'acme corp';
    const oddRec = { ...rec, tenant_id: odd };
    expect(issuesOf(odd, [oddRec, oddRec])).toEqual(['0:tenant_id', '1:tenant_id']);
  });

  it('reports a record type that is not one, or not spelled as one', () => {
    for (const type of ['OUTPUTS', 'outputs ', 'bogus', 7]) {
      expect(issuesOf(tenant, [rec, { ...rec, record_type: type }])).toEqual(['1:record_type']);
    }
  });

  it('reports a record of another tenant', () => {
    expect(issuesOf(tenant, [{ ...rec, tenant_id: 'other' }, rec])).toEqual(['0:tenant_id']);
  });
});
