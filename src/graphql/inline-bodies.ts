/**
 * Large artifact bodies returned inline (`bodyBase64`) are not built as
 * strings in the answer: the resolver registers the body's bytes with the
 * request and returns a placeholder, and the answer's text is written with
 * each placeholder replaced by the body's base64, encoded a slice at a time,
 * a turn of the event loop each. A 10 MiB body used to be a 14 MB base64
 * string, copied again by `JSON.stringify` into the answer and again into
 * bytes for the socket, all in one turn with the collector's pauses after
 * them: 122 ms of CPU (bench:abuse --probe, load 7) for one request the
 * limits allow.
 *
 * A placeholder carries a random nonce made for the request, so no stored
 * value a tenant wrote can be taken for one. Base64 needs no escaping in
 * JSON, so the text between the quotes is the base64 itself.
 */
import { randomBytes } from 'node:crypto';
import { setImmediate as nextTurn } from 'node:timers/promises';

/** Bodies from this many bytes are written as slices; smaller ones are encoded in place. */
export const STREAMED_BODY_BYTES = 64 * 1024;
/** Bytes of body encoded per slice (a multiple of 3, so slices join without padding): 256 KiB of base64. */
const SLICE_BYTES = 3 * 64 * 1024;

/**
 * The bodies one request returns as placeholders: held by its context
 * (Apollo runs resolvers with a shallow copy of the context, which shares it).
 */
export interface InlineBodies {
  /** `hub-body:<nonce>:`, made when the first body is registered. */
  prefix?: string;
  readonly bodies: Uint8Array[];
}

/** A request's empty set of inline bodies. */
export function newInlineBodies(): InlineBodies {
  return { bodies: [] };
}

/**
 * The value `bodyBase64` returns for `body`: its base64 when small, else a
 * placeholder the answer's writer replaces ({@link withInlineBodies}).
 */
export function inlineBody(request: InlineBodies, body: Uint8Array): string {
  if (body.byteLength < STREAMED_BODY_BYTES) {
    return Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('base64');
  }
  request.prefix ??= `hub-body:${randomBytes(16).toString('hex')}:`;
  request.bodies.push(body);
  return `${request.prefix}${request.bodies.length - 1}`;
}

/**
 * The answer `json` of the request holding `request` as it is to be
 * written: itself when it holds no placeholder, else its pieces with each
 * placeholder's body as base64 slices, one turn of the event loop per slice.
 */
export function withInlineBodies(request: InlineBodies, json: string): string | AsyncIterable<string> {
  if (request.prefix === undefined) return json;
  return pieces(json, request.prefix, request.bodies.splice(0));
}

async function* pieces(json: string, prefix: string, bodies: readonly Uint8Array[]): AsyncGenerator<string> {
  const opening = `"${prefix}`;
  let from = 0;
  for (let at = json.indexOf(opening); at !== -1; at = json.indexOf(opening, from)) {
    const close = json.indexOf('"', at + opening.length);
    const body = bodies[Number(json.slice(at + opening.length, close))];
    // Not one of this request's (cannot happen: the nonce is the request's): written as it is.
    if (close === -1 || body === undefined) break;
    yield json.slice(from, at + 1);
    const bytes = Buffer.from(body.buffer, body.byteOffset, body.byteLength);
    for (let start = 0; start < bytes.byteLength; start += SLICE_BYTES) {
      yield bytes.subarray(start, start + SLICE_BYTES).toString('base64');
      await nextTurn();
    }
    from = close;
  }
  yield json.slice(from);
}
