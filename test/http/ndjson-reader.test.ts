/**
 * The streaming NDJSON reader: the same lines whatever the chunking, an
 * artifact body decoded and hashed as it streams (never held as text), and
 * every bound refused with the line, the field and the record id.
 */
import { createHash, randomBytes } from 'node:crypto';
import { type LineItem, NdjsonReader, type LineLimits } from '../../src/http/ndjson-reader';
import { bodySha256 } from '../../src/hub/provenance';

const LIMITS: LineLimits = {
  maxLineBytes: 1 << 20,
  maxTextBytes: 4096,
  spill: { field: 'body', maxBytes: 64 * 1024 },
  lineLimitName: 'HUB_INGEST_MAX_LINE_BYTES',
};

/** Reads `text` cut into pieces of `size` bytes. */
function read(text: string | Buffer, size: number, limits: LineLimits = LIMITS): LineItem[] {
  const bytes = Buffer.isBuffer(text) ? text : Buffer.from(text);
  const reader = new NdjsonReader(limits);
  const out: LineItem[] = [];
  for (let i = 0; i < bytes.length; i += size) out.push(...reader.push(bytes.subarray(i, i + size)));
  out.push(...reader.end());
  return out;
}

const plain = (item: LineItem): unknown =>
  item.kind === 'record'
    ? JSON.parse(
        JSON.stringify(item.value, (_k, v: unknown) =>
          v && typeof v === 'object' && (v as { type?: string }).type === 'Buffer'
            ? Buffer.from((v as { data: number[] }).data).toString('base64')
            : v,
        ),
      )
    : item;

test('the same lines and values at every chunk size, bodies decoded', () => {
  const body = randomBytes(700);
  const lines = [
    JSON.stringify({ record_id: 'a', name: 'x "quoted" \\ back', body: body.toString('base64') }),
    '',
    '  {"record_id":"b","attributes":{"body":"not spilled: nested"},"body":"QUJD"}  ',
    '{"record_id":"c","body":"QUI=","n":[1,{"k":"v"}],"u":"\\u00e9\\n"}',
    '[1,2,"body"]',
    '{"broken": ',
  ];
  const text = lines.join('\n');
  const whole = read(text, text.length + 1).map(plain);
  expect(whole).toEqual([
    { record_id: 'a', name: 'x "quoted" \\ back', body: body.toString('base64') },
    { kind: 'blank', line: 2 },
    { record_id: 'b', attributes: { body: 'not spilled: nested' }, body: 'QUJD' },
    { record_id: 'c', body: 'QUI=', n: [1, { k: 'v' }], u: 'é\n' },
    [1, 2, 'body'],
    { kind: 'invalid', line: 6, message: 'not valid JSON' },
  ]);
  for (const size of [1, 2, 3, 5, 7, 64, 1000]) expect(read(text, size).map(plain)).toEqual(whole);
});

test('a streamed body carries its digest, so validation does not hash it again', () => {
  const body = randomBytes(50_000);
  const [item] = read(JSON.stringify({ body: body.toString('base64') }), 4096);
  expect(item?.kind).toBe('record');
  const decoded = (item as { value: { body: Buffer } }).value.body;
  expect(decoded.equals(body)).toBe(true);
  expect(bodySha256(decoded)).toBe(createHash('sha256').update(body).digest('hex'));
  // Held bytes count the decoded body, not its base64 text.
  expect((item as { bytes: number }).bytes).toBeLessThan(body.length + 100);
});

test("JSON's \\/ escape is accepted in a body; other escapes and bad base64 are refused naming body", () => {
  expect(read('{"body":"a\\/8="}', 3).map(plain)).toEqual([
    { body: Buffer.from('a/8=', 'base64').toString('base64') },
  ]);
  for (const bad of ['"QU\\nJD"', '"QUJ"', '"QU=D"', '"Q==="', '"QUJD*"']) {
    const [item] = read(`{"record_id":"r-1","body":${bad}}`, 2);
    expect(item).toEqual({
      kind: 'invalid',
      line: 1,
      message: 'body: must be base64 (record_id r-1)',
    });
  }
});

test('a body over the limit is refused naming the field, the line and the record; the next line is read', () => {
  const big = randomBytes(LIMITS.spill!.maxBytes + 3).toString('base64');
  const text = [`{"record_id":"big-1","body":"${big}","name":"n"}`, '{"record_id":"ok","body":""}'].join(
    '\n',
  );
  const items = read(text, 8192);
  expect(items[0]).toEqual({
    kind: 'invalid',
    line: 1,
    message: `body: is more than ${LIMITS.spill!.maxBytes} bytes; the limit is ${LIMITS.spill!.maxBytes} (record_id big-1)`,
  });
  expect(items[1]).toMatchObject({ kind: 'record', line: 2, value: { record_id: 'ok' } });
});

test('text outside the body and whole lines are bounded, naming the field being read', () => {
  const content = 'x'.repeat(LIMITS.maxTextBytes);
  const [text] = read(`{"record_id":"t-1","content":"${content}"}\n`, 512);
  expect(text).toEqual({
    kind: 'invalid',
    line: 1,
    message: `the record's fields other than body take more than ${LIMITS.maxTextBytes} bytes of JSON (while reading field "content") (record_id t-1)`,
  });
  const small = { ...LIMITS, maxLineBytes: 1000 };
  const [line, next] = read(`{"record_id":"l-1","body":"${'A'.repeat(2000)}"}\n{"a":1}`, 100, small);
  expect(line).toEqual({
    kind: 'invalid',
    line: 1,
    message:
      'line is longer than 1000 bytes (HUB_INGEST_MAX_LINE_BYTES) (while reading field "body") (record_id l-1)',
  });
  expect(next).toMatchObject({ kind: 'record', line: 2, value: { a: 1 } });
});

test('a repeated body field is refused rather than one of them kept silently', () => {
  const [item] = read('{"body":"QUJD","body":"QUJD"}', 4);
  expect(item).toMatchObject({
    kind: 'invalid',
    message: expect.stringMatching(/^body: appears more than once/),
  });
});
