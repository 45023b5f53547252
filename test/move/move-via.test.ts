/**
 * `hub move <step> --via <gateway URL>`: the CLI driving a move through a
 * serving gateway's `/admin/move` while it holds the embedded store's folder,
 * with a token minted from the configured secret or taken from HUB_TOKEN.
 * Refusals keep the gateway's code (another tenant's token, no hub:admin), an
 * unreachable gateway or a cut answer says so, and no step starts on a bad
 * `--via`. Another tenant stays on the embedded store throughout.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Served } from '../../src/app/serve';
import { main } from '../../src/cli';
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
const SECRET = 'move-via-test-secret-of-at-least-32-bytes';
const ENV = ['HUB_AUTH_JWT_SECRET', 'HUB_TOKEN', 'HUB_DATA_DIR'] as const;

let emptyDir: string;
let gateway: EmbeddedGateway;
let served: Served;
let target: string;
const savedEnv = new Map<string, string | undefined>();

beforeAll(async () => {
  for (const k of ENV) savedEnv.set(k, process.env[k]);
  emptyDir = await mkdtemp(join(tmpdir(), 'hub-move-via-empty-'));
  gateway = await startEmbeddedGateway(SECRET);
  ({ served, target } = gateway);
});

afterAll(async () => {
  setEnv(Object.fromEntries(savedEnv));
  await gateway?.stop();
  await rm(emptyDir, { recursive: true, force: true });
});

/** The CLI's environment for one call: the gateway's secret by default, nothing else of the machine's. */
function setEnv(env: Partial<Record<(typeof ENV)[number], string>>): void {
  for (const k of ENV) {
    const v = env[k];
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
}

async function hub(
  args: string[],
  env: Partial<Record<(typeof ENV)[number], string>> = {
    HUB_AUTH_JWT_SECRET: SECRET,
    HUB_DATA_DIR: emptyDir,
  },
): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  setEnv(env);
  const code = await main(args, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out, err };
}

/** A port nothing listens on: one a server had, closed. */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address() as AddressInfo;
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

/** A server answering every request with `answer`, to see how the client takes a broken or foreign peer. */
async function peer(answer: (res: ServerResponse) => void): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => answer(res));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

test('a bad --via or no token is refused before anything is sent', async () => {
  const ftp = await hub(['move', 'status', '--tenant', 'acme', '--via', 'ftp://127.0.0.1:4000']);
  expect(ftp.code).toBe(2);
  expect(ftp.err.join('\n')).toContain('--via must be an http:// or https:// URL');
  const creds = await hub(['move', 'status', '--tenant', 'acme', '--via', 'http://op:pw@127.0.0.1:4000']);
  expect(creds.code).toBe(2);
  expect(creds.err.join('\n')).toContain('must not carry credentials');
  const garbage = await hub(['move', 'status', '--tenant', 'acme', '--via', 'not a url']);
  expect(garbage.code).toBe(2);
  expect(garbage.err.join('\n')).toContain("--via must be the gateway's URL");

  const noToken = await hub(['move', 'status', '--tenant', 'acme', '--via', served.url], {
    HUB_DATA_DIR: emptyDir,
  });
  expect(noToken.code).toBe(2);
  expect(noToken.err.join('\n')).toContain('no token for the gateway: set HUB_TOKEN');
});

test("the gateway's refusals keep their code: another tenant's token, no hub:admin", async () => {
  const betaAdmin = await mintToken({
    secret: SECRET,
    tenant: 'beta',
    scopes: ['hub:admin'],
    ttlSeconds: 600,
  });
  const cross = await hub(['move', 'create', '--tenant', 'acme', '--to', target, '--via', served.url], {
    HUB_TOKEN: betaAdmin,
    HUB_DATA_DIR: emptyDir,
  });
  expect(cross.code).toBe(1);
  expect(cross.err.join('\n')).toMatch(/FORBIDDEN: a token of tenant beta cannot move tenant "acme"/);

  const writer = await mintToken({ secret: SECRET, tenant: 'acme', scopes: ['hub:write'], ttlSeconds: 600 });
  const denied = await hub(['move', 'create', '--tenant', 'acme', '--to', target, '--via', served.url], {
    HUB_TOKEN: writer,
    HUB_DATA_DIR: emptyDir,
  });
  expect(denied.code).toBe(1);
  expect(denied.err.join('\n')).toContain('FORBIDDEN');

  // A token signed with another secret: the gateway does not know it.
  const stranger = await hub(['move', 'status', '--tenant', 'acme', '--via', served.url], {
    HUB_AUTH_JWT_SECRET: 'some-other-secret-of-at-least-32-bytes!!',
    HUB_DATA_DIR: emptyDir,
  });
  expect(stranger.code).toBe(1);
  expect(stranger.err.join('\n')).toContain('UNAUTHENTICATED');

  // None of them started a move.
  const status = await hub(['move', 'status', '--tenant', 'acme', '--json', '--via', served.url]);
  expect(status.code).toBe(0);
  expect(JSON.parse(status.out.join('\n')).move).toBeNull();
});

test('an unreachable gateway, a cut answer, an error line and a foreign server each say what happened', async () => {
  const port = await closedPort();
  const down = await hub(['move', 'status', '--tenant', 'acme', '--via', `http://127.0.0.1:${port}`]);
  expect(down.code).toBe(1);
  expect(down.err.join('\n')).toContain(`UNAVAILABLE: cannot reach the gateway at http://127.0.0.1:${port}`);

  const cut = await peer((res) => {
    res.writeHead(200, { 'content-type': 'application/x-ndjson' });
    res.end(`${JSON.stringify({ progress: { step: 'copy', done: 10, rate: 5 } })}\n`);
  });
  const failing = await peer((res) => {
    res.writeHead(200, { 'content-type': 'application/x-ndjson' });
    res.end(
      `${JSON.stringify({ error: { code: 'CONFLICT', message: 'tenant acme already has a move' } })}\n`,
    );
  });
  const odd = await peer((res) => {
    res.writeHead(200, { 'content-type': 'application/x-ndjson' });
    res.end(`${JSON.stringify({ result: { fenceMs: 3 } })}\n`);
  });
  const nulls = await peer((res) => {
    res.writeHead(200, { 'content-type': 'application/x-ndjson' });
    res.end('null\n');
  });
  const nullResult = await peer((res) => {
    res.writeHead(200, { 'content-type': 'application/x-ndjson' });
    res.end('{"result":null}\n');
  });
  const foreign = await peer((res) => {
    res.writeHead(404, { 'content-type': 'text/html' });
    res.end('<h1>Not Found</h1>');
  });
  try {
    const c = await hub(['move', 'create', '--tenant', 'acme', '--to', target, '--via', cut.url]);
    expect(c.code).toBe(1);
    expect(c.err.join('\n')).toContain('closed its answer before the step');
    expect(c.err.join('\n')).toContain('may still be running there');
    // The progress line that came was passed on (JSON lines: stderr is not a terminal here).
    expect(c.err.some((l) => JSON.parse(l.startsWith('{') ? l : '{}').progress?.done === 10)).toBe(true);

    const f = await hub(['move', 'create', '--tenant', 'acme', '--to', target, '--via', failing.url]);
    expect(f.code).toBe(1);
    expect(f.err.join('\n')).toContain('CONFLICT: tenant acme already has a move');

    // A result of another shape (another version's gateway) is named, not printed as undefined.
    const o = await hub(['move', 'switch', '--tenant', 'acme', '--via', odd.url]);
    expect(o.code).toBe(1);
    expect(o.err.join('\n')).toContain(`INTERNAL: the gateway's answer to move/switch has no "move" object`);

    const n = await hub(['move', 'status', '--tenant', 'acme', '--via', nulls.url]);
    expect(n.code).toBe(1);
    expect(n.err.join('\n')).toContain('INTERNAL: the gateway at');
    expect(n.err.join('\n')).toContain('a line that is not a JSON object');
    const r = await hub(['move', 'status', '--tenant', 'acme', '--via', nullResult.url]);
    expect(r.code).toBe(1);
    expect(r.err.join('\n')).toContain('a result that is not a JSON object');

    const g = await hub(['move', 'status', '--tenant', 'acme', '--via', foreign.url]);
    expect(g.code).toBe(1);
    expect(g.err.join('\n')).toContain('answered HTTP 404');
    expect(g.err.join('\n')).toContain('a Hub gateway');
  } finally {
    for (const p of [cut, failing, odd, nulls, nullResult, foreign]) p.server.close();
  }
});

test('moves the embedded tenant to PostgreSQL through the running gateway, step by step', async () => {
  const hubService = served.gateway.hub;
  const before = await seedBeforeMove(gateway, acme, beta);

  const created = await hub(['move', 'create', '--tenant', 'acme', '--to', target, '--via', served.url]);
  expect(created.code).toBe(0);
  expect(created.out[0]).toMatch(/^move of tenant acme to .*: replicating \(online\)$/);
  expect(created.out[1]).toContain(`--via ${served.url}`);
  const progress = created.err.map((l) => JSON.parse(l) as { progress?: { step: string; done: number } });
  expect(progress.some((p) => p.progress?.step === 'copy')).toBe(true);
  expect([...created.out, ...created.err].join('\n')).not.toContain('s3cret');

  const during = await hubService.record(acme, 'telemetry_events', [{ name: 'during' }]);
  const status = await hub(['move', 'status', '--tenant', 'acme', '--json', '--via', served.url]);
  expect(status.code).toBe(0);
  const s = JSON.parse(status.out.join('\n')) as { move: { phase: string; target: string }; copied: number };
  expect(s.move.phase).toBe('replicating');
  expect(s.copied).toBeGreaterThanOrEqual(300);
  expect(status.out.join('\n')).not.toContain('s3cret');
  const lines = await hub(['move', 'status', '--tenant', 'acme', '--via', served.url]);
  expect(lines.out.join('\n')).toMatch(/phase: +replicating/);

  const switched = await hub(['move', 'switch', '--tenant', 'acme', '--via', served.url]);
  expect(switched.code).toBe(0);
  expect(switched.out[0]).toMatch(/^tenant acme now runs on .* \(writes refused for \d+ ms\)$/);
  const after = await hubService.record(acme, 'telemetry_events', [{ name: 'after' }]);

  const verified = await hub(['move', 'verify', '--tenant', 'acme', '--via', served.url]);
  expect(verified.out.join('\n')).toMatch(/0 missing, 0 extra, 0 different, 0 invalid/);
  expect(verified.code).toBe(0);
  const completed = await hub(['move', 'complete', '--tenant', 'acme', '--via', served.url]);
  expect(completed.code).toBe(0);
  expect(completed.out[0]).toMatch(/^move of tenant acme completed: primary /);

  // Every acknowledged write is on PostgreSQL; beta never left the embedded store.
  const ids = [...before, ...during, ...after].map((r) => r.record_id);
  await expectMovedToPostgres(gateway, acme, ids, beta, 1);
});

test('every move command documents --via', async () => {
  for (const step of ['create', 'status', 'verify', 'switch', 'reverse', 'complete', 'cancel']) {
    const help = await hub(['move', step, '--help']);
    expect(help.code).toBe(0);
    expect(help.out.join('\n')).toContain('[--via <gateway url>]');
    expect(help.out.join('\n')).toContain('HUB_TOKEN');
  }
});
