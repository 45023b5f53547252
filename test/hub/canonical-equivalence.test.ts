/**
 * The canonical JSON and provenance hashes the hot paths compute (shape
 * cache, string scan by code units, prefixes that carry a string's opening
 * quote) against a plain reading of RFC 8785 written here: sorted keys,
 * ECMAScript `JSON.stringify` for strings and numbers. Records are generated
 * from a fixed seed, so every run checks the same few thousand.
 */
import { createHash } from 'node:crypto';
import { canonicalJson, canonicalJsonOfMembers } from '../../src/hub/jcs';
import type { HubRecord } from '../../src/hub/model';
import {
  computeProvenanceHash,
  provenanceCanonicalJson,
  provenanceContent,
  verifyRecord,
} from '../../src/hub/provenance';

/** RFC 8785 as the spec states it, with no cache and no fast path. */
function reference(value: unknown): string {
  if (typeof value === 'number' && !Number.isFinite(value)) throw new Error('non-finite');
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value))
    return `[${value.map((v) => (v === undefined ? 'null' : reference(v))).join(',')}]`;
  const obj = value as Record<string, unknown>;
  const keys = Object.keys(obj)
    .filter((k) => obj[k] !== undefined)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${reference(obj[k])}`).join(',')}}`;
}

const sha256 = (text: string): string => createHash('sha256').update(text, 'utf8').digest('hex');

/** xorshift32 from a fixed seed: the same sequence in every run. */
function rng(seed: number): () => number {
  let x = seed;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 0x1_0000_0000;
  };
}

const ODD_STRINGS = [
  '',
  'plain',
  'quote " inside',
  'back \\ slash',
  '\u0000\u0001\u001f\u007f',
  'tab\tnew\nline\r',
  '\u2028\u2029',
  'é ß ﬁ 中文',
  'pair \ud83d\ude00',
  'lone high \ud83d',
  '\ude00 lone low first',
  'ends in a lone high \ud800',
  '/solidus/',
  'x'.repeat(128),
  `${'x'.repeat(128)}"`,
  `${'y'.repeat(200)}\ud800`,
  `${'z'.repeat(300)}`,
];
const ODD_NUMBERS = [0, -0, 1, -1, 0.1, 1e21, 1e-7, 5e-324, 1.5e300, Number.MAX_SAFE_INTEGER, 123456.789];
const ODD_KEYS = [
  'a',
  'b',
  'B',
  '10',
  '9',
  '1',
  '',
  'k"q',
  'é',
  '\ud83d\ude00',
  '\ufb01',
  'provenance_hash',
  'body',
];

function pick<T>(r: () => number, list: readonly T[]): T {
  return list[Math.floor(r() * list.length)] as T;
}

function jsonValue(r: () => number, depth: number): unknown {
  const kind = Math.floor(r() * (depth > 2 ? 5 : 7));
  switch (kind) {
    case 0:
      return null;
    case 1:
      return r() < 0.5;
    case 2:
      return pick(r, ODD_NUMBERS);
    case 3:
    case 4:
      return pick(r, ODD_STRINGS);
    case 5:
      return Array.from({ length: Math.floor(r() * 4) }, () =>
        r() < 0.1 ? undefined : jsonValue(r, depth + 1),
      );
    default: {
      const obj: Record<string, unknown> = {};
      for (let i = Math.floor(r() * 5); i > 0; i--) obj[pick(r, ODD_KEYS)] = jsonValue(r, depth + 1);
      return obj;
    }
  }
}

/** An output-like record: known fields in a shuffled order, some absent or null, odd values in some. */
function record(r: () => number, i: number): Record<string, unknown> {
  const fields: [string, unknown][] = [
    ['record_id', `0196e6b4-1c2d-7e5f-8a9b-${String(i).padStart(12, '0')}`],
    ['tenant_id', 'acme'],
    ['record_type', 'outputs'],
    ['created_at', '2026-03-01T12:00:00.000Z'],
    ['skill_id', r() < 0.8 ? `skill-${i % 7}` : pick(r, ODD_STRINGS)],
    ['employee_id', `emp-${i % 13}`],
    ['status', 'SUCCEEDED'],
    ['input_tokens', r() < 0.8 ? i : pick(r, ODD_NUMBERS)],
    ['output_tokens', i * 3],
    ['cost_usd', '0.0042'],
    ['provenance_hash', 'f'.repeat(64)],
  ];
  if (r() < 0.5) fields.push(['model', r() < 0.5 ? null : pick(r, ODD_STRINGS)]);
  if (r() < 0.5) fields.push(['latency_ms', r() < 0.2 ? undefined : i % 100]);
  if (r() < 0.7) fields.push(['attributes', jsonValue(r, 0)]);
  if (r() < 0.5) fields.push(['content', jsonValue(r, 0)]);
  if (r() < 0.1) fields.push([pick(r, ODD_KEYS), pick(r, ODD_STRINGS)]);
  // Mostly one key order (the shape cache's common case), sometimes another.
  if (r() < 0.3) fields.sort(() => r() - 0.5);
  return Object.fromEntries(fields);
}

describe('canonical JSON equals a plain RFC 8785 serialisation', () => {
  it('for every single UTF-16 code unit, in a short string and in a long one', () => {
    const wrong: string[] = [];
    for (let c = 0; c < 0x10000; c++) {
      const ch = String.fromCharCode(c);
      const long = `${'x'.repeat(140)}${ch}`;
      // A one-character string, that character as a key before a string value, and at the end of
      // a string too long for the code-unit scan (the regular expression decides those).
      const values = [ch, { [ch]: 'v', z: ch }, { [ch]: long }];
      for (const v of values) if (canonicalJson(v) !== reference(v)) wrong.push(c.toString(16));
    }
    expect(wrong).toEqual([]);
  });

  it('for generated JSON values (odd strings, numbers, keys, nesting)', () => {
    const r = rng(0x5eed);
    const wrong: unknown[] = [];
    for (let i = 0; i < 3000; i++) {
      const value = jsonValue(r, 0);
      if (canonicalJson(value) !== reference(value)) wrong.push(value);
    }
    expect(wrong).toEqual([]);
  });

  it('for generated records: provenance text, hash and verdict', () => {
    const r = rng(42);
    const omit = new Set(['provenance_hash', 'body']);
    const wrong: unknown[] = [];
    for (let i = 0; i < 3000; i++) {
      const rec = record(r, i);
      const text = reference(provenanceContent(rec));
      const hash = sha256(text);
      if (provenanceCanonicalJson(rec) !== text || canonicalJsonOfMembers(rec, omit) !== text)
        wrong.push({ rec, text });
      if (computeProvenanceHash(rec) !== hash) wrong.push({ rec, hash });
      // Sealed as is, tampered in its hash (one digit, case), or carrying another hash.
      const variants: [string, boolean][] = [
        [hash, true],
        [`${hash.slice(0, 63)}${hash.endsWith('0') ? '1' : '0'}`, false],
        [hash.toUpperCase(), hash === hash.toUpperCase()],
        ['f'.repeat(64), hash === 'f'.repeat(64)],
      ];
      for (const [stored, verified] of variants) {
        const v = verifyRecord({ ...rec, provenance_hash: stored } as unknown as HubRecord);
        if (v.verified !== verified || v.expectedHash !== hash || Object.keys(v).length !== 2)
          wrong.push({ rec, stored, v });
      }
    }
    expect(wrong).toEqual([]);
  });

  it('rejects what the plain serialisation rejects, with the same messages as before', () => {
    expect(() => canonicalJson({ a: 'ok', b: NaN })).toThrow(/non-finite number NaN/);
    expect(() => canonicalJsonOfMembers({ a: 'ok', b: [Infinity] }, new Set())).toThrow(
      /non-finite number Infinity/,
    );
    expect(() => canonicalJson({ a: 'ok', f: () => 1 })).toThrow(/function is not a JSON value/);
  });
});
