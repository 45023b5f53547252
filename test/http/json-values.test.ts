/**
 * The JSON values bound of /graphql bodies (src/http/json-values.ts): values
 * are counted chunk by chunk as the body arrives, and the count stops at the
 * chunk that passes the limit, so a refused body is never parsed.
 */
import { SPLIT_PARSE_BYTES, jsonValueLimit, parseJsonBody } from '../../src/http/json-values';

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
