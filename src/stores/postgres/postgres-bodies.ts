/**
 * Large artifact bodies read from PostgreSQL, decoded to bytes over several
 * turns of the event loop: a body is selected as base64 text, and decoding a
 * 10 MiB one in the turn that read it held the loop 30 ms and more.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { Row } from './queryable';

/** Base64 characters of a body from which it is decoded in slices, a turn each. */
const LARGE_BODY_TEXT = 1024 * 1024;

/**
 * Decodes the large bodies of `rows` (base64 text as selected) to bytes a
 * slice per turn of the event loop, in place: pg decoded the text from the
 * wire in the turn that read it (14 MB for a 10 MiB body), and decoding all
 * of it to bytes in that same turn held the loop 30 ms and more.
 */
export async function afterLargeBodies(rows: Row[]): Promise<void> {
  for (const r of rows) {
    if (typeof r.body === 'string' && r.body.length >= LARGE_BODY_TEXT) r.body = await decodeSpread(r.body);
  }
}

/**
 * Base64 text to bytes, about {@link LARGE_BODY_TEXT} characters per turn.
 * PostgreSQL's `encode(..., 'base64')` breaks lines every 76 characters
 * (57 bytes): a slice ending after a line break decodes alone. Text without
 * line breaks is decoded at once.
 */
async function decodeSpread(text: string): Promise<Buffer> {
  const out = Buffer.allocUnsafe(Math.ceil((text.length * 3) / 4));
  let written = 0;
  let from = 0;
  while (from < text.length) {
    await nextTurn();
    const brk = text.indexOf('\n', from + LARGE_BODY_TEXT);
    const to = brk === -1 ? text.length : brk + 1;
    written += out.write(text.slice(from, to), written, 'base64');
    from = to;
  }
  return out.subarray(0, written);
}
