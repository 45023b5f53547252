import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { canonicalJson, canonicalJsonOfMembers } from '../../src/hub/jcs';
import type { HubRecord, RecordType } from '../../src/hub/model';
import {
  PROVENANCE_ALGORITHM,
  computeProvenanceHash,
  provenanceCanonicalJson,
  provenanceContent,
  verifyRecord,
} from '../../src/hub/provenance';
import { parseTenantId } from '../../src/hub/tenant';
import { sealRecord } from '../../src/hub/validate';

interface Vector {
  name: string;
  tenant_id: string;
  record_type: RecordType;
  input: Record<string, unknown>;
  canonical_json: string;
  provenance_hash: string;
}

const file = JSON.parse(readFileSync(join(__dirname, '../../docs/provenance-test-vectors.json'), 'utf8')) as {
  algorithm: string;
  vectors: Vector[];
};

describe('provenance hub-sha256-jcs-v1 test vectors (docs/provenance-test-vectors.json)', () => {
  it('names the algorithm', () => {
    expect(file.algorithm).toBe(PROVENANCE_ALGORITHM);
    expect(file.vectors.length).toBeGreaterThanOrEqual(5);
  });

  it.each(file.vectors.map((v) => [v.name, v] as const))('%s: canonical JSON and hash match', (_name, v) => {
    const record = sealRecord(parseTenantId(v.tenant_id), v.record_type, v.input);
    expect(provenanceCanonicalJson(record as unknown as Record<string, unknown>)).toBe(v.canonical_json);
    expect(record.provenance_hash).toBe(v.provenance_hash);
    expect(verifyRecord(record).verified).toBe(true);
    // A client that sends the right hash is accepted; a wrong one is rejected by name.
    expect(
      sealRecord(parseTenantId(v.tenant_id), v.record_type, {
        ...v.input,
        provenance_hash: v.provenance_hash,
      }).provenance_hash,
    ).toBe(v.provenance_hash);
    expect(() =>
      sealRecord(parseTenantId(v.tenant_id), v.record_type, { ...v.input, provenance_hash: '0'.repeat(64) }),
    ).toThrow(/provenance_hash: does not match/);
  });
});

describe('verification', () => {
  const tenant = parseTenantId('acme');
  const base = sealRecord(tenant, 'outputs', {
    skill_id: 's',
    employee_id: 'e',
    status: 'SUCCEEDED',
    content: { a: [1] },
  });

  it('detects a change to any field, including nested JSON and the envelope', () => {
    const tampered: Partial<HubRecord>[] = [
      { tenant_id: parseTenantId('other') },
      { created_at: '2026-01-01T00:00:00.001Z' },
      { cost_usd: '0.1' } as Partial<HubRecord>,
      { content: { a: [2] } } as Partial<HubRecord>,
      { attributes: { x: 1 } },
    ];
    for (const change of tampered) {
      expect(verifyRecord({ ...base, ...change } as HubRecord).verified).toBe(false);
    }
    expect(verifyRecord(base).verified).toBe(true);
  });

  it('an absent optional field and a null one hash the same (new optional fields never change old hashes)', () => {
    const withNull = { ...base, model: null } as unknown as Record<string, unknown>;
    expect(computeProvenanceHash(withNull)).toBe(base.provenance_hash);
  });

  it('checks artifact bodies against content_sha256 and size_bytes', () => {
    const body = Buffer.from('hello\n');
    const artifact = sealRecord(tenant, 'artifacts', {
      name: 'h',
      media_type: 'text/plain',
      size_bytes: 6,
      content_sha256: '5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03',
      body,
    });
    expect(verifyRecord(artifact)).toMatchObject({ verified: true, bodyVerified: true });
    const swapped = { ...artifact, body: Buffer.from('hellO\n') } as HubRecord;
    expect(verifyRecord(swapped)).toMatchObject({ verified: false, bodyVerified: false });
  });
});

describe('canonical JSON (RFC 8785)', () => {
  it('serialises numbers the ECMAScript way and sorts keys by UTF-16 code units', () => {
    expect(canonicalJson({ b: [1e21, 1e-7, -0, 0.1, 100, 5e-324], a: '\u0001\u001f"\\/' })).toBe(
      '{"a":"\\u0001\\u001f\\"\\\\/","b":[1e+21,1e-7,0,0.1,100,5e-324]}',
    );
    expect(canonicalJson({ '\ufb01': 1, '\u{1F600}': 2, '\r': 3 })).toBe('{"\\r":3,"😀":2,"ﬁ":1}');
  });

  it('rejects values JSON cannot represent', () => {
    expect(() => canonicalJson({ a: NaN })).toThrow(/non-finite/);
    expect(() => canonicalJson({ a: Infinity })).toThrow(/non-finite/);
    expect(() => canonicalJson({ a: 1n })).toThrow(/bigint/);
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(() => canonicalJson(cyclic)).toThrow(/cyclic/);
  });
});

describe('canonical JSON of an object with members left out (the provenance fast path)', () => {
  const omit = new Set(['provenance_hash', 'body']);
  const reference = (o: Record<string, unknown>): string => canonicalJson(provenanceContent(o));

  it('is the canonical JSON of the object without the omitted, null and undefined members', () => {
    const objects: Record<string, unknown>[] = [
      { b: 1, a: 'x', provenance_hash: 'h', body: new Uint8Array(1), n: null, u: undefined },
      // The same keys in another order: a cached shape must not carry the first order over.
      { a: 'x', n: null, b: 1, body: new Uint8Array(1), u: undefined, provenance_hash: 'h' },
      // Keys containing the cache's separator: two different key sets with the same joined text.
      { 'a\u0000b': 1, c: 2 },
      { a: 1, 'b\u0000c': 2 },
      {
        nested: { z: [1, { y: null, x: undefined, w: 'q' }], a: {} },
        s: '\ud800 "\\ \u0001',
        '\ufb01': 1,
        '\u{1F600}': 2,
      },
      {},
    ];
    for (const o of objects) expect(canonicalJsonOfMembers(o, omit)).toBe(reference(o));
    // Nested nulls stay (only top-level ones are left out).
    expect(canonicalJsonOfMembers({ a: { b: null }, c: null }, omit)).toBe('{"a":{"b":null}}');
  });

  it('stays right when more key sets pass than it remembers', () => {
    for (let i = 0; i < 2000; i++) {
      const o = { [`k${i}`]: i, [`j${i % 7}`]: `v${i}`, a: [i] };
      expect(canonicalJsonOfMembers(o, omit)).toBe(reference(o));
      expect(canonicalJson(o)).toBe(reference(o));
    }
  });

  it('rejects what canonicalJson rejects', () => {
    expect(() => canonicalJsonOfMembers({ a: NaN }, omit)).toThrow(/non-finite/);
    expect(() => canonicalJsonOfMembers({ a: { b: 1n } }, omit)).toThrow(/bigint/);
  });
});
