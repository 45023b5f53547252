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

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
/** Most bytes of JSON one character of a string can take (`\uXXXX`). */
const MAX_BYTES_PER_CHAR = 6;
/** Longest raw key kept: `query` written with every character escaped is 30 bytes. */
const MAX_KEY_BYTES = 32;

/**
 * An inspector for {@link readBody} (respond.ts) that refuses a body as soon
 * as the string value of its top-level `query` member holds more than
 * `6 x maxChars` bytes: more characters than the query text limit for
 * certain, since no character takes more than 6 bytes of JSON. Such a body
 * (a 15 MB comment, say) is then never decoded nor parsed: both would make
 * strings of its size on the heap, and the collector's pauses that follow
 * them held the loop longer than the parse itself. The exact limit is checked
 * after parsing, as before. Strings are skipped with native scans; only the
 * bytes between them are looked at one by one. Keys written with escapes are
 * decoded, so `"qu\u0065ry"` is the `query` member too.
 */
// eslint-disable-next-line max-lines-per-function -- one pass over every /graphql body: the same pass as a class with its state in fields (the split tried) scanned 3 MB of small strings in 17 ms against 14-15 ms with these locals
export function queryTextLimit(maxChars: number): (chunk: Buffer) => string | undefined {
  const maxBytes = MAX_BYTES_PER_CHAR * maxChars;
  const refusal = `the query text has more than ${maxChars} characters; the limit is ${maxChars}`;
  let started = false;
  let topIsObject = false;
  let depth = 0;
  let inString = false;
  let escaped = false;
  let inKey = false;
  let expectKey = false;
  let rawKey = '';
  let key = '';
  /** The top-level member whose value is being read is `query`. */
  let queryValue = false;
  let counting = false;
  let bytes = 0;
  // eslint-disable-next-line max-lines-per-function -- the same pass (see queryTextLimit)
  return (chunk) => {
    const n = chunk.length;
    let nextBackslash = -2;
    let i = 0;
    while (i < n) {
      if (inString) {
        if (escaped) {
          escaped = false;
          if (inKey && rawKey.length < MAX_KEY_BYTES) rawKey += String.fromCharCode(chunk[i] as number);
          if (counting && ++bytes > maxBytes) return refusal;
          i++;
          continue;
        }
        const quote = chunk.indexOf(QUOTE, i);
        const end = quote < 0 ? n : quote;
        if (nextBackslash !== -1 && nextBackslash < i) nextBackslash = chunk.indexOf(BACKSLASH, i);
        const stop = nextBackslash >= 0 && nextBackslash < end ? nextBackslash : end;
        if (inKey && rawKey.length < MAX_KEY_BYTES)
          rawKey += chunk.toString('latin1', i, Math.min(stop, i + MAX_KEY_BYTES));
        if (inKey && stop < end) rawKey += '\\';
        if (counting) {
          // The bytes up to the quote or the backslash, and the backslash.
          bytes += stop - i + (stop < end ? 1 : 0);
          if (bytes > maxBytes) return refusal;
        }
        if (stop < end) {
          escaped = true;
          i = stop + 1;
          continue;
        }
        if (quote < 0) break;
        inString = false;
        counting = false;
        if (inKey) key = keyOf(rawKey);
        inKey = false;
        i = quote + 1;
        continue;
      }
      const c = chunk[i] as number;
      if (c === QUOTE) {
        inString = true;
        inKey = depth === 1 && topIsObject && expectKey;
        if (inKey) {
          expectKey = false;
          rawKey = '';
        } else counting = depth === 1 && queryValue;
        bytes = 0;
      } else if (c === 0x7b || c === 0x5b) {
        if (!started) topIsObject = c === 0x7b;
        depth++;
        if (depth === 1 && topIsObject) expectKey = true;
      } else if (c === 0x7d || c === 0x5d) {
        depth--;
      } else if (c === COMMA && depth === 1) {
        expectKey = topIsObject;
        queryValue = false;
      } else if (c === COLON && depth === 1) {
        queryValue = key === 'query';
      }
      if (c > 0x20) started = true;
      i++;
    }
    return undefined;
  };
}

/** A key as JSON.parse reads it (escapes decoded); a key too long to be `query`, or not JSON, is ''. */
function keyOf(raw: string): string {
  if (raw.length >= MAX_KEY_BYTES) return '';
  if (!raw.includes('\\')) return raw;
  try {
    return JSON.parse(`"${raw}"`) as string;
  } catch {
    return '';
  }
}

/**
 * The inspector of a `/graphql` POST body for {@link readBody}: the JSON
 * values limit ({@link jsonValueLimit}) and the query text limit
 * ({@link queryTextLimit}), whichever refuses first.
 */
export function graphqlBodyLimits(limits: {
  readonly maxBodyValues: number;
  readonly maxQueryChars: number;
}): (chunk: Buffer) => string | undefined {
  const values = jsonValueLimit(limits.maxBodyValues);
  const query = queryTextLimit(limits.maxQueryChars);
  return (chunk) => values(chunk) ?? query(chunk);
}
