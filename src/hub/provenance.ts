/**
 * Provenance `hub-sha256-jcs-v1`: lowercase hex SHA-256 of the UTF-8 bytes of
 * the RFC 8785 canonical JSON of a record's content. The content is every field
 * in its storage name (envelope included) except `provenance_hash` itself and
 * the artifact body (covered by `content_sha256`); absent or null top-level
 * fields are left out, so a new optional field never changes old hashes.
 */
import { hash } from 'node:crypto';
import { canonicalJsonOfMembers } from './jcs';
import { type HubRecord, bodyWasRead } from './model';

export const PROVENANCE_ALGORITHM = 'hub-sha256-jcs-v1';

/** Fields that are stored but not hashed. */
const EXCLUDED = new Set(['provenance_hash', 'body']);

/** The object whose canonical JSON is hashed (exported for test vectors and other languages' checks). */
export function provenanceContent(record: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const content: Record<string, unknown> = {};
  for (const key of Object.keys(record)) {
    const value = record[key];
    if (value === undefined || value === null || EXCLUDED.has(key)) continue;
    content[key] = value;
  }
  return content;
}

/** Canonical JSON text of a record's provenance content. */
export function provenanceCanonicalJson(record: Readonly<Record<string, unknown>>): string {
  // The text of canonicalJson(provenanceContent(record)), without building the object.
  return canonicalJsonOfMembers(record, EXCLUDED);
}

/** Computes the provenance hash of a record (its `provenance_hash` field, if any, is ignored). */
export function computeProvenanceHash(record: Readonly<Record<string, unknown>>): string {
  return sha256Hex(provenanceCanonicalJson(record));
}

/** Lowercase hex SHA-256 of a string's UTF-8 bytes or of raw bytes. */
export function sha256Hex(data: string | Uint8Array): string {
  // One call, no Hash object: about a third of createHash().update().digest() for a record's text.
  return hash('sha256', data, 'hex');
}

// Digests computed while the bytes streamed in (NDJSON ingest hashes a body
// piece by piece as it decodes it): validation reads them instead of hashing
// 10 MiB again in one synchronous step. Weak: gone with the bytes.
const knownDigests = new WeakMap<Uint8Array, string>();

/**
 * Records `hex` as the SHA-256 of `bytes`, computed incrementally by the
 * caller (who must not change the bytes afterwards), so {@link bodySha256}
 * does not recompute it.
 */
export function rememberSha256(bytes: Uint8Array, hex: string): void {
  knownDigests.set(bytes, hex);
}

/** Lowercase hex SHA-256 of `bytes`: the remembered digest when there is one, else computed. */
export function bodySha256(bytes: Uint8Array): string {
  return knownDigests.get(bytes) ?? sha256Hex(bytes);
}

/** The digest remembered for `bytes` (see {@link rememberSha256}), if any. */
export function knownSha256(bytes: Uint8Array): string | undefined {
  return knownDigests.get(bytes);
}

/** The outcome of re-checking a record read from a store. */
export interface Verification {
  /** True when the stored hash equals the recomputed one and, for artifacts, the body matches. */
  readonly verified: boolean;
  readonly expectedHash: string;
  /** For artifacts: whether the body hashes to `content_sha256` and has `size_bytes` bytes. */
  readonly bodyVerified?: boolean;
}

/**
 * Recomputes a record's hash (and an artifact's body hash) and compares it with
 * the stored values. Never throws for a well-formed record; an artifact read
 * without its body (a projection) is never `verified`: read it whole to check.
 */
export function verifyRecord(record: HubRecord): Verification {
  const expectedHash = computeProvenanceHash(record as unknown as Record<string, unknown>);
  const hashOk = expectedHash === record.provenance_hash;
  if (record.record_type !== 'artifacts') return { verified: hashOk, expectedHash };
  // A body left unread by a projection cannot be checked: never reported verified.
  if (!bodyWasRead(record)) return { verified: false, expectedHash, bodyVerified: false };
  const bodyVerified =
    record.body.byteLength === record.size_bytes && bodySha256(record.body) === record.content_sha256;
  return { verified: hashOk && bodyVerified, expectedHash, bodyVerified };
}
