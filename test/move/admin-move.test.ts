/**
 * A tenant moved off the embedded store while the gateway holds its folder:
 * `hub serve` as `npm start` runs it (PGlite, the data directory's control
 * file), the move driven through `POST /admin/move/<step>` with a hub:admin
 * token. Refusals: no token (401), no hub:admin (403), another tenant (403),
 * a bad body (400); the move then runs create -> switch -> complete with
 * progress lines, writes land on the new primary, another tenant stays put,
 * and no answer shows the target's password.
 */
import type { Served } from '../../src/app/serve';
import { parseTenantId } from '../../src/hub/tenant';
import { mintToken } from '../../src/platform/auth';
import {
  type EmbeddedGateway,
  expectMovedToPostgres,
  seedBeforeMove,
  startEmbeddedGateway,
} from './embedded-gateway';

jest.setTimeout(180_000);

const acme = parseTenantId('acme');
const beta = parseTenantId('beta');
const SECRET = 'admin-move-test-secret-of-at-least-32-bytes';

let gateway: EmbeddedGateway;
let served: Served;
let target: string;

beforeAll(async () => {
  gateway = await startEmbeddedGateway(SECRET);
  ({ served, target } = gateway);
});

afterAll(async () => {
  await gateway?.stop();
});

function token(tenant: string, scopes: string[]): Promise<string> {
  return mintToken({ secret: SECRET, tenant, scopes, ttlSeconds: 600 });
}

async function admin(
  step: string,
  body: unknown,
  auth?: string,
): Promise<{ status: number; lines: Record<string, unknown>[]; text: string }> {
  const res = await fetch(`${served.url}/admin/move/${step}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(auth ? { authorization: `Bearer ${auth}` } : {}) },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  const lines = text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  return { status: res.status, lines, text };
}

function result(r: { lines: Record<string, unknown>[] }): Record<string, unknown> {
  const last = r.lines[r.lines.length - 1] ?? {};
  if (last.error) throw new Error(JSON.stringify(last.error));
  return last.result as Record<string, unknown>;
}

test('refused without a token, without hub:admin, for another tenant, and for a bad body', async () => {
  expect((await admin('create', { to: target })).status).toBe(401);
  const writer = await token('acme', ['hub:read', 'hub:write']);
  const denied = await admin('create', { to: target }, writer);
  expect(denied.status).toBe(403);
  const acmeAdmin = await token('acme', ['hub:admin']);
  const cross = await admin('create', { tenant: 'beta', to: target }, acmeAdmin);
  expect(cross.status).toBe(403);
  expect(cross.text).toContain('cannot move tenant');
  expect((await admin('create', {}, acmeAdmin)).status).toBe(400);
  expect((await admin('teleport', {}, acmeAdmin)).status).toBe(404);
  // Nothing was started by any of them.
  const status = result(await admin('status', {}, acmeAdmin));
  expect(status.move).toBeNull();
});

test('moves the embedded tenant to PostgreSQL while the gateway serves it', async () => {
  const hub = served.gateway.hub;
  const before = await seedBeforeMove(gateway, acme, beta);
  const acmeAdmin = await token('acme', ['hub:admin']);

  const created = await admin('create', { to: target, mode: 'online' }, acmeAdmin);
  expect(created.status).toBe(200);
  expect(created.lines.some((l) => l.progress !== undefined)).toBe(true);
  expect(result(created).move).toMatchObject({ phase: 'replicating' });
  expect(created.text).not.toContain('s3cret');

  const during = await hub.record(acme, 'telemetry_events', [{ name: 'during' }]);
  const switched = result(await admin('switch', {}, acmeAdmin));
  expect(switched.move).toMatchObject({ phase: 'switched', primaryIs: 'target' });
  expect(typeof switched.fenceMs).toBe('number');
  const after = await hub.record(acme, 'telemetry_events', [{ name: 'after' }]);

  const status = await admin('status', {}, acmeAdmin);
  expect(status.text).not.toContain('s3cret');
  expect(result(status).tenant).toMatchObject({ state: 'moving' });
  const verified = result(await admin('verify', {}, acmeAdmin));
  expect(verified.report).toMatchObject({ missing: 0, extra: 0, differs: 0, invalid: 0 });
  expect(result(await admin('complete', {}, acmeAdmin)).move).toMatchObject({ phase: 'completed' });

  // Every acknowledged write is on PostgreSQL; beta never left the embedded store.
  const ids = [...before, ...during, ...after].map((r) => r.record_id);
  await expectMovedToPostgres(gateway, acme, ids, beta, 1);
});
