/**
 * The client as an integrator gets it: `npm pack` of packages/hub-client,
 * installed from the tarball into an empty project (the npm registry supplies
 * its declared dependencies and nothing else), a program type-checked
 * against it (a wrong variable must fail to compile, with the tsc error
 * asserted), then run, ESM and CommonJS, against a live gateway.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { parseTenantId } from '../../src/hub/tenant';
import { generateDataset } from '../../src/seed/generator';
import { type TestGateway, startGateway } from './harness';

const run = promisify(execFile);
const ROOT = resolve(__dirname, '..', '..');
const PACKAGE = join(ROOT, 'packages', 'hub-client');
const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
const from = '2026-01-05T00:00:00.000Z';
const to = '2026-02-05T00:00:00.000Z';

let gw: TestGateway;
let dir: string;
let tarball: { filename: string; size: number; unpackedSize: number; entryCount: number };

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'hub-client-consumer-'));
  const [started, packed] = await Promise.all([
    startGateway(),
    // prepack builds dist/ (ESM + CJS + declarations) first.
    run('npm', ['pack', '--json', '--pack-destination', dir], { cwd: PACKAGE, maxBuffer: 16 << 20 }),
  ]);
  gw = started;
  const out = packed.stdout;
  tarball = (JSON.parse(out.slice(out.indexOf('['))) as (typeof tarball)[])[0] as typeof tarball;
  const data = generateDataset({ days: 31, managers: 2, teamSize: 4, outputsPerDay: 10, artifacts: false });
  for (const [type, records] of Object.entries(data)) {
    if (records.length > 0) await gw.gateway.hub.record(parseTenantId('demo'), type as never, records);
  }
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify({ name: 'consumer', private: true, type: 'module' }),
  );
  await run('npm', ['install', '--no-audit', '--no-fund', '--ignore-scripts', join(dir, tarball.filename)], {
    cwd: dir,
    maxBuffer: 16 << 20,
  });
}, 240_000);

afterAll(async () => {
  await gw?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const tsconfig = (files: string[]): string =>
  JSON.stringify({
    compilerOptions: {
      target: 'ES2022',
      module: 'NodeNext',
      moduleResolution: 'NodeNext',
      lib: ['ES2022', 'DOM'],
      types: [],
      strict: true,
      outDir: 'out',
    },
    files,
  });

test('the tarball is small and installs with its declared dependencies only', () => {
  // A few tens of kB: no server code, no database drivers.
  expect(tarball.size).toBeLessThan(40_000);
  const manifest = JSON.parse(readFileSync(join(PACKAGE, 'package.json'), 'utf8')) as {
    dependencies: Record<string, string>;
  };
  const installed = readdirSync(join(dir, 'node_modules'))
    .filter((d) => !d.startsWith('.'))
    .flatMap((d) =>
      d.startsWith('@') ? readdirSync(join(dir, 'node_modules', d)).map((s) => `${d}/${s}`) : [d],
    )
    .sort();
  expect(installed.join(' ')).toEqual(
    ['@hub-gateway/client', ...Object.keys(manifest.dependencies)].sort().join(' '),
  );
});

test('a program type-checks against the installed package and runs against a live gateway (ESM)', async () => {
  writeFileSync(
    join(dir, 'program.ts'),
    `import { createHubClient, HubClientError, ManagerDashboardDocument, ManagersDocument, type ManagerDashboardQuery } from '@hub-gateway/client';
const [url, token] = process.argv.slice(2) as [string, string];
const client = createHubClient({ url, token });
const managers = await client.request(ManagersDocument); // all of Managers' variables are optional
const dash: ManagerDashboardQuery = await client.request(ManagerDashboardDocument, {
  managerId: managers.managers[0]?.managerId ?? '',
  from: '${from}',
  to: '${to}',
});
let code = '';
try {
  await client.request(ManagerDashboardDocument, { managerId: 'x', from: '${to}', to: '${from}' });
} catch (err) {
  if (err instanceof HubClientError) code = err.code;
}
console.log(JSON.stringify({ managers: managers.managers.length, invocations: dash.managerDashboard.invocations, members: dash.managerDashboard.members.length, code }));
declare const process: { argv: string[] };
`,
  );
  writeFileSync(join(dir, 'tsconfig.json'), tsconfig(['program.ts']));
  await run(process.execPath, [TSC, '-p', join(dir, 'tsconfig.json')], { cwd: dir });
  const token = await gw.token('demo', ['hub:read']);
  const { stdout } = await run(process.execPath, [
    join(dir, 'out', 'program.js'),
    `${gw.url}/graphql`,
    token,
  ]);
  const expected = await gw.gateway.hub.managerDashboard(parseTenantId('demo'), {
    managerId: 'mgr-000',
    from,
    to,
  });
  expect(JSON.parse(stdout)).toEqual({
    managers: 2,
    invocations: expected.invocations,
    members: expected.members.length,
    code: 'VALIDATION',
  });
}, 120_000);

test('wrong, missing and extra variables fail to compile', async () => {
  writeFileSync(
    join(dir, 'bad.ts'),
    `import { createHubClient, ManagerDashboardDocument } from '@hub-gateway/client';
const client = createHubClient({ url: 'http://127.0.0.1:4000/graphql' });
export const wrongType = client.request(ManagerDashboardDocument, { managerId: 42, from: 'a', to: 'b' });
export const extra = client.request(ManagerDashboardDocument, { managerId: 'm', from: 'a', to: 'b', teamId: 'x' });
export const missing = client.request(ManagerDashboardDocument);
`,
  );
  writeFileSync(join(dir, 'tsconfig.bad.json'), tsconfig(['bad.ts']));
  const result = await run(process.execPath, [TSC, '-p', join(dir, 'tsconfig.bad.json'), '--noEmit'], {
    cwd: dir,
  }).then(
    () => ({ code: 0, stdout: '' }),
    (err: { code: number; stdout: string }) => err,
  );
  expect(result.code).not.toBe(0);
  const errors = result.stdout.split('\n').filter((l) => l.startsWith('bad.ts'));
  expect(errors).toEqual([
    expect.stringMatching(
      /^bad\.ts\(3,\d+\): error TS2322: Type 'number' is not assignable to type 'string'/,
    ),
    expect.stringMatching(/^bad\.ts\(4,\d+\): error TS2353: .*'teamId' does not exist/),
    expect.stringMatching(/^bad\.ts\(5,\d+\): error TS2554: Expected 2-3 arguments, but got 1/),
  ]);
}, 120_000);

test('CommonJS consumers get the same API through require()', async () => {
  writeFileSync(
    join(dir, 'program.cjs'),
    `const { createHubClient, SkillsDocument } = require('@hub-gateway/client');
const client = createHubClient({ url: process.argv[2], token: process.argv[3] });
client.request(SkillsDocument, { from: '${from}', to: '${to}' }).then((r) => console.log(r.skills.length));
`,
  );
  const token = await gw.token('demo', ['hub:read']);
  const { stdout } = await run(process.execPath, [join(dir, 'program.cjs'), `${gw.url}/graphql`, token]);
  const skills = await gw.gateway.hub.skills(parseTenantId('demo'), { from, to });
  expect(Number(stdout.trim())).toBe(skills.length);
}, 60_000);
