/**
 * The `/admin/` route's bounds, whatever the action: POST only, hub:admin,
 * a body of at most 8 KiB that is a JSON object, one action at a time per
 * gateway, progress streamed as NDJSON and an error after progress as the
 * last line; without actions configured the route does not exist.
 */
import type { AdminCall } from '../../src/http/admin';
import { HubError } from '../../src/hub/errors';
import { startGateway, type TestGateway } from '../graphql/harness';

let gw: TestGateway;
const calls: AdminCall[] = [];
let release: (() => void) | undefined;

beforeAll(async () => {
  gw = await startGateway({
    admin: async (call) => {
      calls.push(call);
      if (call.action === 'block') await new Promise<void>((r) => (release = r));
      if (call.action === 'fail-late') {
        call.progress({ step: 'copy', done: 1, final: true });
        throw new HubError('UNAVAILABLE', 'target went away');
      }
      return { echoed: call.body, tenant: call.identity.tenant };
    },
  });
});
afterAll(async () => gw.close());

async function post(path: string, body: string, token?: string): Promise<Response> {
  return fetch(`${gw.url}/admin/${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body,
  });
}

test('POST with hub:admin only; the action gets the verified tenant and the body', async () => {
  expect((await fetch(`${gw.url}/admin/x`)).status).toBe(405);
  expect((await post('x', '{}')).status).toBe(401);
  expect((await post('x', '{}', await gw.token('acme'))).status).toBe(403);
  const res = await post('x', '{"a":1}', await gw.token('acme', ['hub:admin']));
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toContain('application/x-ndjson');
  expect(JSON.parse(await res.text())).toEqual({ result: { echoed: { a: 1 }, tenant: 'acme' } });
});

test('bodies: at most 8 KiB, a JSON object', async () => {
  const admin = await gw.token('acme', ['hub:admin']);
  expect((await post('x', JSON.stringify({ pad: 'x'.repeat(9000) }), admin)).status).toBe(413);
  expect((await post('x', '[1]', admin)).status).toBe(400);
  expect((await post('x', 'not json', admin)).status).toBe(400);
});

test('one action at a time per gateway', async () => {
  const admin = await gw.token('acme', ['hub:admin']);
  const first = post('block', '{}', admin);
  while (!release) await new Promise((r) => setImmediate(r));
  const second = await post('x', '{}', admin);
  expect(second.status).toBe(409);
  release();
  expect((await first).status).toBe(200);
  expect((await post('x', '{}', admin)).status).toBe(200);
});

test('an error after progress is the last NDJSON line', async () => {
  const res = await post('fail-late', '{}', await gw.token('acme', ['hub:admin']));
  const lines = (await res.text())
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as unknown);
  expect(lines).toEqual([
    { progress: { step: 'copy', done: 1, final: true } },
    { error: { code: 'UNAVAILABLE', message: 'target went away' } },
  ]);
});

test('without actions configured, /admin/ does not exist', async () => {
  const plain = await startGateway();
  try {
    const admin = await plain.token('acme', ['hub:admin']);
    const res = await fetch(`${plain.url}/admin/x`, {
      method: 'POST',
      headers: { authorization: `Bearer ${admin}` },
      body: '{}',
    });
    expect(res.status).toBe(404);
  } finally {
    await plain.close();
  }
});
