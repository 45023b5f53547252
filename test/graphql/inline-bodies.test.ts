/**
 * Large inline bodies (`bodyBase64`) are written as base64 slices in place of
 * a placeholder, never built into the answer's string: the answer a client
 * reads is exactly the one a whole string would have been, a stored value
 * that looks like a placeholder is returned as it is, and the writer's
 * pieces are each at most one slice of a body.
 */
import { createHash, randomBytes } from 'node:crypto';
import {
  STREAMED_BODY_BYTES,
  inlineBody,
  newInlineBodies,
  withInlineBodies,
} from '../../src/graphql/inline-bodies';
import { parseTenantId } from '../../src/hub/tenant';
import { type TestGateway, startGateway, uuid } from './harness';

async function collect(body: string | AsyncIterable<string>): Promise<string[]> {
  if (typeof body === 'string') return [body];
  const pieces: string[] = [];
  for await (const piece of body) pieces.push(piece);
  return pieces;
}

describe('the writer of an answer with inline bodies', () => {
  test('small bodies are encoded in place; an answer without placeholders is written as it is', () => {
    const ctx = newInlineBodies();
    const small = randomBytes(STREAMED_BODY_BYTES - 1);
    expect(inlineBody(ctx, small)).toBe(small.toString('base64'));
    expect(withInlineBodies(ctx, '{"data":{}}')).toBe('{"data":{}}');
  });

  test('each placeholder becomes its body, a slice of at most 256 KiB of base64 per piece', async () => {
    const ctx = newInlineBodies();
    const one = randomBytes(1024 * 1024 + 1);
    const two = randomBytes(STREAMED_BODY_BYTES);
    const answer = { data: { a: inlineBody(ctx, one), name: 'x', b: inlineBody(ctx, two) } };
    const pieces = await collect(withInlineBodies(ctx, JSON.stringify(answer)));
    expect(pieces.join('')).toBe(
      JSON.stringify({ data: { a: one.toString('base64'), name: 'x', b: two.toString('base64') } }),
    );
    // 1 MiB + 1 byte: 6 slices; 64 KiB: 1; and the text around them.
    expect(pieces.length).toBeGreaterThanOrEqual(7);
    expect(Math.max(...pieces.map((p) => p.length))).toBeLessThanOrEqual(256 * 1024);
  });
});

describe('over HTTP', () => {
  let gw: TestGateway;
  const big = randomBytes(1024 * 1024 + 2);
  const small = Buffer.from('small body');
  // A stored name shaped like a placeholder: returned as written, never replaced.
  const lookalike = `hub-body:${'0'.repeat(32)}:0`;
  beforeAll(async () => {
    gw = await startGateway();
    await gw.gateway.hub.record(
      parseTenantId('acme'),
      'artifacts',
      [
        { n: 1, body: big, name: lookalike },
        { n: 2, body: small, name: 'small' },
      ].map(({ n, body, name }) => ({
        record_id: uuid(n),
        name,
        media_type: 'application/octet-stream',
        size_bytes: body.byteLength,
        content_sha256: createHash('sha256').update(body).digest('hex'),
        body,
      })),
    );
  });
  afterAll(async () => gw.close());

  test('large and small bodies, under aliases, come back byte for byte', async () => {
    const token = await gw.token('acme', ['hub:read']);
    const res = await gw.gql(
      token,
      `{ a: artifact(id: "${uuid(1)}") { name bodyBase64(maxBytes: 2000000) provenance { verified } }
         b: artifact(id: "${uuid(2)}") { name bodyBase64 }
         c: artifact(id: "${uuid(1)}") { again: bodyBase64(maxBytes: 2000000) } }`,
    );
    expect(res.status).toBe(200);
    expect(res.body.errors).toBeUndefined();
    expect(res.body.data).toEqual({
      a: { name: lookalike, bodyBase64: big.toString('base64'), provenance: { verified: true } },
      b: { name: 'small', bodyBase64: small.toString('base64') },
      c: { again: big.toString('base64') },
    });
  });

  test("another tenant's request gets none of the bodies", async () => {
    const other = await gw.token('other-co', ['hub:read']);
    const res = await gw.gql(other, `{ artifact(id: "${uuid(1)}") { bodyBase64(maxBytes: 2000000) } }`);
    expect(res.body.data).toEqual({ artifact: null });
  });
});
