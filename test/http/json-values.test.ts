/**
 * The JSON values bound of /graphql bodies (src/http/json-values.ts): values
 * are counted chunk by chunk as the body arrives, and the count stops at the
 * chunk that passes the limit, so a refused body is never parsed. The same
 * for a `query` string certainly over the query text limit.
 */
import { SPLIT_PARSE_BYTES, jsonValueLimit, parseJsonBody, queryTextLimit } from '../../src/http/json-values';

test('counts objects, arrays, members and elements across chunks; refuses past the limit', () => {
  const inspect = jsonValueLimit(7);
  // {"a":[1,2],"b":{"c":3}}: { [ , , { = 5 values so far
  expect(inspect(Buffer.from('{"a":[1,2],'))).toBeUndefined();
  expect(inspect(Buffer.from('"b":{"c":3}}'))).toBeUndefined();
  // two more: 7, at the limit
  expect(inspect(Buffer.from('[1,'))).toBeUndefined();
  expect(inspect(Buffer.from(','))).toBe(
    'request body has more than 7 JSON values (objects, arrays, members and elements); the limit is 7',
  );
});

test('separators inside strings count too (an over-count, never an under-count)', () => {
  expect(jsonValueLimit(2)(Buffer.from('{"text":"a,b,c"}'))).toMatch(/more than 2 JSON values/);
  // A long string without separators (a base64 body) counts as nothing more.
  expect(jsonValueLimit(3)(Buffer.from(`{"b":"${'QUJD'.repeat(100_000)}"}`))).toBeUndefined();
});

test('a body over 1 MiB is decoded and parsed in turns of their own; a small one in one turn', async () => {
  const turns = async (raw: Buffer): Promise<string[]> => {
    const order: string[] = [];
    let parsed = false;
    // Other work, one step per turn of the loop, until the body is parsed.
    const other = (): void => {
      if (parsed) return;
      order.push('other work');
      setImmediate(other);
    };
    setImmediate(other);
    const value = await parseJsonBody(raw);
    parsed = true;
    order.push('parsed');
    expect(value).toEqual(JSON.parse(raw.toString('utf8')));
    return order;
  };
  const big = Buffer.from(
    JSON.stringify({ query: '{ a }', variables: { b: 'x'.repeat(SPLIT_PARSE_BYTES), c: ['\u00e9'] } }),
  );
  // The turn that joined the chunks, then one to decode, then one to parse.
  expect(await turns(big)).toEqual(['other work', 'other work', 'parsed']);
  expect(await turns(Buffer.from('{"query":"{ a }"}'))).toEqual(['parsed']);
  await expect(parseJsonBody(Buffer.from('{"query":'))).rejects.toThrow(SyntaxError);
  await expect(parseJsonBody(Buffer.from(`{"q":"${'x'.repeat(SPLIT_PARSE_BYTES)}"`))).rejects.toThrow(
    SyntaxError,
  );
});

/** Feeds `body` in chunks of `size` bytes; the first refusal, or undefined. */
function inspectQuery(maxChars: number, body: string, size = body.length): string | undefined {
  const inspect = queryTextLimit(maxChars);
  const bytes = Buffer.from(body);
  for (let at = 0; at < bytes.length; at += size) {
    const refusal = inspect(bytes.subarray(at, at + size));
    if (refusal !== undefined) return refusal;
  }
  return undefined;
}

test('a query string certainly over the text limit is refused as it is read, in any chunking', () => {
  // Limit 10 characters: refused past 60 bytes of JSON (no character takes more than 6).
  const over = JSON.stringify({ query: `# ${'a'.repeat(59)}`, variables: {} });
  const under = JSON.stringify({ variables: { a: 1 }, query: `# ${'a'.repeat(58)}` });
  for (const size of [1, 2, 7, 64, 1_000_000]) {
    expect(inspectQuery(10, over, size)).toBe('the query text has more than 10 characters; the limit is 10');
    expect(inspectQuery(10, under, size)).toBeUndefined();
  }
  // Refused at the chunk that passes the bound: the rest of the body is never needed.
  const inspect = queryTextLimit(10);
  expect(inspect(Buffer.from(`{"query":"${'a'.repeat(60)}`))).toBeUndefined();
  expect(inspect(Buffer.from('a'))).toMatch(/more than 10 characters/);
});

test('never refuses a query within the limit, however it is escaped', () => {
  // 10 characters each written as \uXXXX: 60 bytes, the most 10 characters can take.
  const escaped = `{"query":"${'\\u0041'.repeat(10)}"}`;
  expect((JSON.parse(escaped) as { query: string }).query).toBe('A'.repeat(10));
  expect(inspectQuery(10, escaped, 1)).toBeUndefined();
  expect(inspectQuery(10, `{"query":"${'\\"'.repeat(10)}"}`, 3)).toBeUndefined();
  expect(inspectQuery(10, `{"query":"${'é'.repeat(10)}"}`, 1)).toBeUndefined();
});

test('only the top-level query member counts; an escaped key is the same member', () => {
  const long = 'x'.repeat(1000);
  for (const body of [
    { variables: { query: long } },
    { variables: { b: long }, operationName: 'A', query: '{ a }' },
    { extensions: { query: long }, query: '{ a }' },
    [{ query: long }],
    { query: { nested: long } },
  ]) {
    expect(inspectQuery(10, JSON.stringify(body), 5)).toBeUndefined();
  }
  expect(inspectQuery(10, `{"variables":{},"qu\\u0065ry":"${long}"}`, 4)).toMatch(/more than 10/);
  expect(inspectQuery(10, `{"a":"\\"query\\":","query" : "${long}"}`, 4)).toMatch(/more than 10/);
});
