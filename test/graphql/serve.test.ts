/**
 * `hub serve` as `npm start` runs it: development mode seeds the demo tenant
 * once, prints the URLs and a working token, keeps its secret in the data
 * directory, picks PGlite by default, and stops gracefully.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readConfig } from '../../src/config';
import { Hub } from '../../src/hub/hub';
import { silentLogger } from '../../src/platform/log';
import { tracer } from '../../src/platform/tracing';
import { chooseStore } from '../../src/app/choose-store';
import { seedDemoOnce, serve } from '../../src/app/serve';
import { createMemoryStore } from '../../src/stores/memory/memory-store';
import { createTestDatabase } from '../support/pg-harness';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'hub-serve-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const config = () => readConfig({ PORT: '0', HUB_DATA_DIR: dir });

test('dev mode: seeds, prints URL, GraphiQL and a token that works; the secret survives a restart', async () => {
  const lines: string[] = [];
  const served = await serve({
    config: config(),
    storeUri: 'memory:',
    port: 0,
    host: '127.0.0.1',
    dev: true,
    seed: true,
    log: silentLogger,
    print: (l) => lines.push(l),
  });
  try {
    const text = lines.join('\n');
    expect(text).toContain(`${served.url}/graphql`);
    expect(text).toContain(`${served.url}/graphiql`);
    expect(text).toContain(served.devToken);
    expect(text).toMatch(/seeded \d+ records/);
    const res = await fetch(`${served.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${served.devToken}` },
      body: JSON.stringify({
        query:
          '{ managerDashboard(managerId: "mgr-000", from: "2000-01-01T00:00:00Z", to: "2100-01-01T00:00:00Z") { invocations members { employeeId } } archetypeProgression(from: "2000-01-01T00:00:00Z", to: "2100-01-01T00:00:00Z") { fromLevel toLevel transitions } }',
      }),
    });
    const body = (await res.json()) as {
      data: {
        managerDashboard: { invocations: number; members: unknown[] };
        archetypeProgression: { fromLevel: string; toLevel: string }[];
      };
    };
    expect(body.data.managerDashboard.invocations).toBeGreaterThan(100);
    expect(body.data.managerDashboard.members.length).toBeGreaterThan(2);
    expect(body.data.archetypeProgression.some((r) => r.fromLevel === 'L1' && r.toLevel === 'L2')).toBe(true);
    const page = await (await fetch(`${served.url}/graphiql`)).text();
    expect(page).toContain(served.devToken);
  } finally {
    await served.stop();
  }
  // A second start on the same data directory signs with the same secret.
  const again = await serve({
    config: config(),
    storeUri: 'memory:',
    port: 0,
    host: '127.0.0.1',
    dev: true,
    seed: false,
    log: silentLogger,
    print: () => undefined,
  });
  try {
    const res = await fetch(
      `${again.url}/graphql?query=${encodeURIComponent('{ outputs(first: 1) { nodes { id } } }')}`,
      {
        headers: { authorization: `Bearer ${served.devToken}` },
      },
    );
    expect(res.status).toBe(200);
  } finally {
    await again.stop();
  }
});

test('seeding happens once per tenant', async () => {
  const store = createMemoryStore();
  const hub = new Hub(store);
  expect(await seedDemoOnce(hub, 'demo')).toBeGreaterThan(1000);
  expect(await seedDemoOnce(hub, 'demo')).toBe(0);
  await store.close();
});

test('without a secret outside dev mode it refuses to start', async () => {
  await expect(
    serve({
      config: config(),
      storeUri: 'memory:',
      port: 0,
      host: '127.0.0.1',
      dev: false,
      seed: false,
      log: silentLogger,
      print: () => undefined,
    }),
  ).rejects.toThrow(/HUB_AUTH_JWT_SECRET/);
});

test('a start that fails ends its tracer and puts the previous one back; so does stop', async () => {
  // Tracing on (an OTLP endpoint where nothing listens: nothing is exported here).
  const start = (storeUri: string) =>
    serve({
      config: readConfig({ PORT: '0', HUB_DATA_DIR: dir, OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9' }),
      storeUri,
      port: 0,
      host: '127.0.0.1',
      dev: true,
      seed: false,
      log: silentLogger,
      print: () => undefined,
    });
  const before = tracer();
  await expect(start('nosuch:store')).rejects.toThrow(/nosuch/);
  expect(tracer()).toBe(before);

  const served = await start('memory:');
  const during = tracer();
  expect(during).not.toBe(before);
  expect(during.enabled).toBe(true);
  await served.stop();
  expect(tracer()).toBe(before);
});

test('the default store is PGlite in the data directory, served through the router following its control file', async () => {
  const printed: string[] = [];
  const chosen = await chooseStore({
    config: config(),
    log: silentLogger,
    print: (l) => printed.push(l),
  });
  try {
    // The router lets a tenant move off the embedded store while this process holds it (/admin/move).
    expect(chosen.label).toBe('router');
    expect(chosen.description).toBe(
      `router over pglite:${dir} with control plane file:${join(dir, 'control.json')}`,
    );
    expect(chosen.control).toBeDefined();
    await chosen.store.ping();
  } finally {
    await chosen.store.close();
  }
}, 60_000);

test('with HUB_PG_URL, dev mode migrates a fresh database, serves through the router and seeds it', async () => {
  const pg = await createTestDatabase({ migrate: false });
  try {
    const lines: string[] = [];
    const served = await serve({
      // As in development: one superuser URL; the app role keeps row-level security in force.
      config: readConfig({
        PORT: '0',
        HUB_DATA_DIR: dir,
        HUB_PG_URL: `${pg.adminUri}?app_role=${pg.appRole}`,
      }),
      port: 0,
      host: '127.0.0.1',
      dev: true,
      seed: true,
      log: silentLogger,
      print: (l) => lines.push(l),
    });
    try {
      expect(lines.join('\n')).toMatch(/store: router over PostgreSQL postgres:\/\//);
      expect(lines.join('\n')).not.toMatch(/note: could not migrate/);
      const res = await fetch(`${served.url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${served.devToken}` },
        body: JSON.stringify({ query: '{ outputs(first: 2) { nodes { id provenance { verified } } } }' }),
      });
      const body = (await res.json()) as {
        data: { outputs: { nodes: { provenance: { verified: boolean } }[] } };
      };
      expect(body.data.outputs.nodes).toHaveLength(2);
      expect(body.data.outputs.nodes.every((n) => n.provenance.verified)).toBe(true);
    } finally {
      await served.stop();
    }
  } finally {
    await pg.drop();
  }
}, 90_000);

test('`hub serve --dev` as a process: banner on stdout, serves, and exits 0 on SIGTERM', async () => {
  const child = spawn(
    process.execPath,
    ['bin/hub.cjs', 'serve', '--dev', '--store', 'memory:', '--port', '0', '--no-seed'],
    {
      cwd: join(__dirname, '..', '..'),
      env: { ...process.env, HUB_DATA_DIR: dir },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  child.stdout.setEncoding('utf8');
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  // The banner's last line is the dev token: wait for it on stdout (an event), or for the exit.
  const banner = new Promise<void>((resolve) => {
    child.stdout.on('data', (c: string) => {
      out += c;
      if (/^eyJ[\w-]+\.[\w-]+\.[\w-]+$/m.test(out)) resolve();
    });
    void exited.then(() => resolve());
  });
  try {
    await banner;
    const url = /Hub gateway on (http:\/\/[\d.:]+)\/graphql/.exec(out)?.[1];
    const token = /^(eyJ[\w-]+\.[\w-]+\.[\w-]+)$/m.exec(out)?.[1];
    expect(url).toBeDefined();
    const res = await fetch(
      `${url}/graphql?query=${encodeURIComponent('{ outputs(first: 1) { nodes { id } } }')}`,
      {
        headers: { authorization: `Bearer ${token}` },
      },
    );
    expect(await res.json()).toEqual({
      data: { outputs: { nodes: [] } },
      extensions: { cost: expect.any(Object) },
    });
  } finally {
    child.kill('SIGTERM');
  }
  expect(await exited).toBe(0);
  expect(out).toContain('SIGTERM: finishing in-flight requests');
}, 60_000);
