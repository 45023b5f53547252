/**
 * A bound on the work `JSON.parse` does for a request body, checked while the
 * body is read, before it is parsed: parsing costs about 2 ns per byte of
 * string but 150-200 ns per value (an object, array, member or element), so
 * 12 MB of small objects held the event loop 200 ms in one step while 15 MB
 * of one base64 string took 30 ms. Values are counted as the `{`, `[` and `,`
 * bytes of the text (those inside strings too: an over-count, never an
 * under-count), with native scans (`Buffer.indexOf`), chunk by chunk.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';

const OPEN_OBJECT = 0x7b;
const OPEN_ARRAY = 0x5b;
const COMMA = 0x2c;

/**
 * An inspector for {@link readBody} (respond.ts) that refuses a body once it
 * holds more than `limit` JSON values, with a message naming the limit.
 */
export function jsonValueLimit(limit: number): (chunk: Buffer) => string | undefined {
  let values = 0;
  return (chunk) => {
    for (const byte of [OPEN_OBJECT, OPEN_ARRAY, COMMA]) {
      for (let i = chunk.indexOf(byte); i !== -1; i = chunk.indexOf(byte, i + 1)) {
        if (++values > limit) {
          return `request body has more than ${limit} JSON values (objects, arrays, members and elements); the limit is ${limit}`;
        }
      }
    }
    return undefined;
  };
}

/** Bodies above this many bytes are joined, decoded and parsed in three turns of the event loop. */
export const SPLIT_PARSE_BYTES = 1024 * 1024;

/**
 * Parses a JSON body. A body over {@link SPLIT_PARSE_BYTES} is decoded to text
 * in the turn after the one that joined its chunks (`readBody`), and parsed
 * in the turn after that: each of the three steps copies the whole body once
 * (for the largest allowed, 16 MiB: 10-25 ms each, most of it page faults and
 * the collector on a busy machine), so none holds the loop for the others.
 * @throws SyntaxError when it is not JSON.
 */
export async function parseJsonBody(raw: Buffer): Promise<unknown> {
  if (raw.length <= SPLIT_PARSE_BYTES) return JSON.parse(raw.toString('utf8')) as unknown;
  await nextTurn();
  const text = raw.toString('utf8');
  await nextTurn();
  return JSON.parse(text) as unknown;
}
