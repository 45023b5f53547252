/**
 * Large artifact bodies made ready for validation without holding the event
 * loop: a base64 body is checked and decoded a slice at a time, yielding
 * between slices, and a body's SHA-256 is computed on libuv's thread pool
 * (WebCrypto's digest) and remembered, so the synchronous validation that
 * follows (validate.ts, provenance.ts) finds bytes and a digest ready and
 * does neither step itself. Bodies under {@link LARGE_BODY_BYTES} are left as
 * they are: hashing or decoding them in place takes about a millisecond.
 */
import { webcrypto } from 'node:crypto';
import { knownSha256, rememberSha256 } from './provenance';

/** Bodies at least this large (bytes, or base64 characters) are prepared off the loop. */
export const LARGE_BODY_BYTES = 512 * 1024;

/** Base64 characters decoded per step (a multiple of 4): about a millisecond of work. */
const SLICE_CHARS = 1024 * 1024;

const BASE64_RE = /^[A-Za-z0-9+/]*={0,2}$/;

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * The SHA-256 (lowercase hex) of `bytes`: the remembered digest when there is
 * one, else computed on the thread pool and remembered. The caller must not
 * change the bytes afterwards.
 */
export async function digestOffLoop(bytes: Uint8Array): Promise<string> {
  const known = knownSha256(bytes);
  if (known !== undefined) return known;
  const digest = await webcrypto.subtle.digest('SHA-256', bytes);
  const hex = Buffer.from(digest).toString('hex');
  rememberSha256(bytes, hex);
  return hex;
}

/**
 * Decodes a base64 string a slice at a time, yielding between slices; the
 * same acceptance rule as validation (`[A-Za-z0-9+/]`, `=` padding only at
 * the end, a length that is a multiple of 4).
 * @returns the bytes, or undefined when the text is not base64 (validation then says so).
 */
export async function decodeBase64OffLoop(text: string): Promise<Buffer | undefined> {
  if (text.length % 4 !== 0) return undefined;
  const pad = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
  const out = Buffer.allocUnsafe((text.length / 4) * 3 - pad);
  let written = 0;
  for (let at = 0; at < text.length; at += SLICE_CHARS) {
    const slice = text.slice(at, at + SLICE_CHARS);
    // `=` only in the last slice's last two places.
    if (!BASE64_RE.test(slice) || (at + SLICE_CHARS < text.length && slice.includes('='))) return undefined;
    written += out.write(slice, written, 'base64');
    if (at + SLICE_CHARS < text.length) await nextTurn();
  }
  return written === out.length ? out : undefined;
}

/**
 * Prepares the large bodies of a batch of artifact inputs (see the module
 * comment): a large base64 body is replaced by its bytes (in a copy of the
 * input; the caller's object is not changed), and every large body's digest
 * is remembered. Inputs that are not objects, bodies that are not base64 and
 * small bodies are returned unchanged, for validation to judge.
 */
export async function prepareLargeBodies(inputs: readonly unknown[]): Promise<unknown[]> {
  const out = [...inputs];
  for (let i = 0; i < out.length; i++) {
    const input = out[i];
    if (typeof input !== 'object' || input === null) continue;
    const body = (input as { body?: unknown }).body;
    let bytes: Uint8Array | undefined;
    if (typeof body === 'string' && body.length >= LARGE_BODY_BYTES) {
      bytes = await decodeBase64OffLoop(body);
      if (bytes) out[i] = { ...input, body: bytes };
    } else if (body instanceof Uint8Array && body.byteLength >= LARGE_BODY_BYTES) {
      bytes = body;
    }
    if (bytes) await digestOffLoop(bytes);
  }
  return out;
}
