/**
 * End to end over HTTP against a real gateway on the memory store: the record
 * mutations — created, duplicate and conflict reported per record, identical
 * retries, one invalid record rejecting its whole batch with VALIDATION
 * issues, artifacts round-tripping their body.
 */
import { createHash } from 'node:crypto';
import { type TestGateway, startGateway, uuid } from './harness';

let gw: TestGateway;
let token: string;
beforeAll(async () => {
  gw = await startGateway();
  token = await gw.token('acme');
});
afterAll(async () => gw.close());

describe('mutations', () => {
  test('created, duplicate and conflict are reported per record, in order', async () => {
    const rec = { id: uuid(1), skillId: 'sum', employeeId: 'e1', status: 'SUCCEEDED', costUsd: '0.10' };
    const m = `mutation($r: [OutputInput!]!) { recordOutputs(records: $r) { created duplicates errors results { index id status error { code message } } } }`;
    const first = await gw.gql(token, m, {
      r: [rec, { ...rec, id: uuid(2), createdAt: '2026-03-01T10:00:00+02:00' }],
    });
    expect(first.status).toBe(200);
    expect(first.body.data?.recordOutputs).toMatchObject({ created: 2, duplicates: 0, errors: 0 });
    // Same id, different content (cost): a CONFLICT for that record alone.
    const again = await gw.gql(token, m, {
      r: [
        { ...rec, costUsd: '0.2' },
        { ...rec, id: uuid(3) },
      ],
    });
    const batch = again.body.data?.recordOutputs as {
      created: number;
      errors: number;
      results: { index: number; id: string; status: string; error: unknown }[];
    };
    expect(batch.results.map((r) => [r.index, r.id, r.status])).toEqual([
      [0, uuid(1), 'ERROR'],
      [1, uuid(3), 'CREATED'],
    ]);
    expect(batch.results[0]?.error).toMatchObject({ code: 'CONFLICT' });
    expect(batch).toMatchObject({ created: 1, errors: 1 });
    const read = await gw.gql(token, `{ output(id: "${uuid(1)}") { costUsd } }`);
    expect(read.body.data?.output).toEqual({ costUsd: '0.1' });
  });

  test('an identical retry (same id and createdAt) is a duplicate', async () => {
    const rec = {
      id: uuid(10),
      createdAt: '2026-03-01T10:00:00.000Z',
      skillId: 'sum',
      employeeId: 'e1',
      status: 'FAILED',
    };
    const m = `mutation($r: [OutputInput!]!) { recordOutputs(records: $r) { created duplicates results { status } } }`;
    expect((await gw.gql(token, m, { r: [rec] })).body.data?.recordOutputs).toMatchObject({ created: 1 });
    expect((await gw.gql(token, m, { r: [rec] })).body.data?.recordOutputs).toMatchObject({
      created: 0,
      duplicates: 1,
    });
  });

  test('one invalid record rejects the whole batch with VALIDATION issues in GraphQL names', async () => {
    const m = `mutation($r: [OutputInput!]!) { recordOutputs(records: $r) { created } }`;
    const good = { id: uuid(20), skillId: 's', employeeId: 'e', status: 'SUCCEEDED' };
    const bad = {
      id: uuid(21),
      skillId: 'bad skill id!',
      employeeId: 'e',
      status: 'SUCCEEDED',
      inputTokens: -1,
    };
    const res = await gw.gql(token, m, { r: [good, bad] });
    expect(res.status).toBe(200);
    const err = res.body.errors?.[0];
    expect(err?.extensions?.code).toBe('VALIDATION');
    expect(err?.extensions?.issues).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ index: 1, path: 'skillId' }),
        expect.objectContaining({ index: 1, path: 'inputTokens' }),
      ]),
    );
    const read = await gw.gql(token, `{ output(id: "${uuid(20)}") { id } }`);
    expect(read.body.data?.output).toBeNull();
  });

  test('artifacts round-trip their body as base64 and verify', async () => {
    const body = Buffer.from('hello, artifact');
    const sha = createHash('sha256').update(body).digest('hex');
    const m = `mutation($r: [ArtifactInput!]!) { recordArtifacts(records: $r) { created } }`;
    const r = await gw.gql(token, m, {
      r: [
        {
          id: uuid(30),
          name: 'a.txt',
          mediaType: 'text/plain',
          sizeBytes: body.length,
          contentSha256: sha,
          outputId: uuid(2),
          bodyBase64: body.toString('base64'),
        },
      ],
    });
    expect(r.body.data?.recordArtifacts).toEqual({ created: 1 });
    const q = await gw.gql(
      token,
      `{ artifact(id: "${uuid(30)}") { name sizeBytes contentSha256 bodyBase64 small: bodyBase64(maxBytes: 4) provenance { verified } output { id } } }`,
    );
    expect(q.body.data?.artifact).toEqual({
      name: 'a.txt',
      sizeBytes: body.length,
      contentSha256: sha,
      bodyBase64: body.toString('base64'),
      small: null,
      provenance: { verified: true },
      output: { id: uuid(2) },
    });
    const wrong = await gw.gql(token, m, {
      r: [{ name: 'b', mediaType: 'x/y', sizeBytes: 3, contentSha256: sha, bodyBase64: 'YWJj' }],
    });
    expect(wrong.body.errors?.[0]?.extensions?.issues).toEqual([
      expect.objectContaining({ index: 0, path: 'contentSha256' }),
    ]);
  });
});
