/**
 * The package as an operator installs it: `npm pack`, then the tarball
 * installed with `npm install --omit=dev` into an empty folder (no dev
 * dependency, so no TypeScript and no tsx at run time), then the installed
 * `hub` binary: `--help`, `db migrate` against a throwaway database of the
 * test PostgreSQL and against PGlite (its worker and SQL are read from dist/),
 * and `serve`, checked over HTTP (/healthz, a GraphQL query, which reads
 * schema.graphql, and a GraphiQL asset, read from the installed React and
 * GraphiQL packages), then stopped with SIGTERM.
 *
 * The install uses the npm cache (`--prefer-offline`): the dependencies are
 * the ones `npm ci` just fetched, pinned by the shrinkwrap the package carries.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { mintToken } from '../../src/platform/auth';
import { MIGRATIONS } from '../../src/stores/postgres/migrations';
import { type PgTestDatabase, createTestDatabase } from '../support/pg-harness';

const run = promisify(execFile);
const root = resolve(__dirname, '..', '..');
const SECRET = 'package-test-secret-package-test-secret';

let dir: string;
let app: string;
let hubBin: string;
/** What `npm install` of the tarball printed. */
let installOutput = '';

/** Runs the installed `hub` with `args`; resolves to its exit code and output. */
async function hub(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; out: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [hubBin, ...args], {
      cwd: app,
      env: { ...process.env, ...env },
    });
    return { code: 0, out: stdout + stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, out: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'hub-package-'));
  // Packing runs `prepare` (dist/ is built when stale) and the shrinkwrap hooks.
  await run('npm', ['pack', '--silent', '--pack-destination', dir], { cwd: root });
  const tarball = (await readdir(dir)).find((f) => f.endsWith('.tgz'));
  if (!tarball) throw new Error('npm pack made no tarball');
  app = join(dir, 'app');
  await mkdir(app);
  await writeFile(join(app, 'package.json'), JSON.stringify({ name: 'hub-install-test', private: true }));
  const installed = await run(
    'npm',
    ['install', '--omit=dev', '--no-audit', '--no-fund', '--prefer-offline', join(dir, tarball)],
    { cwd: app, maxBuffer: 16 * 1024 * 1024 },
  );
  installOutput = `${installed.stdout}${installed.stderr}`;
  hubBin = join(app, 'node_modules', 'hub-gateway', 'bin', 'hub.cjs');
}, 300_000);

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

test('the installed package holds compiled JavaScript and no development tools', () => {
  const pkg = join(app, 'node_modules', 'hub-gateway');
  expect(existsSync(join(pkg, 'dist', 'cli.js'))).toBe(true);
  expect(existsSync(join(pkg, 'dist', 'stores', 'postgres', 'schema.sql'))).toBe(true);
  expect(existsSync(join(pkg, 'dist', 'stores', 'postgres', 'pglite-worker.cjs'))).toBe(true);
  expect(existsSync(join(pkg, 'src'))).toBe(false);
  for (const devTool of ['typescript', 'tsx', 'jest', 'postgraphile', '@duckdb/node-api']) {
    expect({ devTool, installed: existsSync(join(app, 'node_modules', devTool)) }).toEqual({
      devTool,
      installed: false,
    });
  }
});

test('every package an operator installs accepts our Node (engines >=20.19): npm warns about none', () => {
  expect(installOutput).not.toMatch(/EBADENGINE/);
});

test('hub --help', async () => {
  const r = await hub(['--help']);
  expect(r.code).toBe(0);
  expect(r.out).toMatch(/Usage: hub <command>/);
  expect(r.out).toMatch(/db migrate/);
});

test('hub db migrate: PostgreSQL (a throwaway database) and PGlite', async () => {
  const pg = await createTestDatabase({ migrate: false });
  const pglite = await mkdtemp(join(tmpdir(), 'hub-package-pglite-'));
  try {
    const r = await hub(['db', 'migrate', '--store', pg.ownerUri]);
    expect(r).toMatchObject({ code: 0 });
    expect(r.out).toContain(`${MIGRATIONS.length} migration(s) applied`);
    const p = await hub(['db', 'migrate', '--store', `pglite:${pglite}`]);
    expect(p).toMatchObject({ code: 0 });
    expect(p.out).toContain(`${MIGRATIONS.length} migration(s) applied`);
  } finally {
    await pg.drop();
    await rm(pglite, { recursive: true, force: true });
  }
}, 120_000);

describe('hub serve', () => {
  let pg: PgTestDatabase;
  let child: ChildProcess;
  let out = '';
  let url: string;

  beforeAll(async () => {
    pg = await createTestDatabase();
    child = spawn(process.execPath, [hubBin, 'serve', '--store', pg.appUri, '--port', '0'], {
      cwd: app,
      env: { ...process.env, HUB_AUTH_JWT_SECRET: SECRET, HUB_CONFIG: '', HUB_PG_URL: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout?.setEncoding('utf8');
    child.stderr?.setEncoding('utf8');
    url = await new Promise<string>((resolve, reject) => {
      const onData = (chunk: string): void => {
        out += chunk;
        const m = /Hub gateway on (http:\/\/[\d.:]+)\/graphql/.exec(out);
        if (m?.[1]) resolve(m[1]);
      };
      child.stdout?.on('data', onData);
      child.stderr?.on('data', (chunk: string) => (out += chunk));
      child.once('exit', (code) => reject(new Error(`hub serve exited with ${code}:\n${out}`)));
    });
  }, 120_000);

  afterAll(async () => {
    if (child && child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
    await pg?.drop();
  });

  test('/healthz and /readyz answer', async () => {
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    expect(await (await fetch(`${url}/readyz`)).json()).toEqual({ status: 'ready' });
  });

  test('a GraphQL query is answered (schema.graphql and the resolvers load from the package)', async () => {
    const token = await mintToken({ secret: SECRET, tenant: 'acme', scopes: ['hub:read'] });
    const res = await fetch(`${url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ query: '{ outputs(first: 1) { nodes { id } pageInfo { hasNextPage } } }' }),
    });
    expect(await res.json()).toEqual({
      data: { outputs: { nodes: [], pageInfo: { hasNextPage: false } } },
      extensions: { cost: { requested: 3, limit: 25_000 } },
    });
  });

  test('GraphiQL assets are served from the installed packages', async () => {
    const res = await fetch(`${url}/graphiql/assets/graphiql.min.js`);
    expect(res.status).toBe(200);
    expect((await res.arrayBuffer()).byteLength).toBeGreaterThan(100_000);
  });

  test('the dashboard is shipped and served: its page and every asset it names', async () => {
    const res = await fetch(`${url}/dashboard/`);
    expect(res.status).toBe(200);
    const html = await res.text();
    const assets = [...html.matchAll(/(?:src|href)="(\/dashboard\/assets\/[^"]+)"/g)].map(
      (m) => m[1] as string,
    );
    expect(assets.length).toBeGreaterThanOrEqual(2);
    for (const asset of assets) expect((await fetch(`${url}${asset}`)).status).toBe(200);
  });

  test('SIGTERM stops it with exit code 0', async () => {
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(out).toContain('SIGTERM: finishing in-flight requests');
  });
});
