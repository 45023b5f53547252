/**
 * `npm run bench:dashboard`: the manager dashboard's first load in headless
 * Chromium (a fresh browser context each run: nothing cached), from
 * navigation to every panel drawn, beside the time of its GraphQL requests
 * alone (the same four requests, made from Node in the same order: the
 * managers list, then the dashboard, cost-per-skill and progression queries
 * together, as the page makes them). The gateway runs in this process over
 * in-memory PGlite holding the demo tenant exactly as `npm start` seeds it.
 *
 *   node bin/run-ts.cjs bench/dashboard.bench.ts [--runs 15]
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import {
  ArchetypeProgressionDocument,
  CostPerSkillDocument,
  ManagerDashboardDocument,
  ManagersDocument,
  createHubClient,
} from '@hub-gateway/client';
import { mintToken } from '../src/platform/auth';
import { dashboardDist } from '../src/http/dashboard';
import { silentLogger } from '../src/platform/log';
import { createGateway } from '../src/http/server';
import { parseTenantId } from '../src/hub/tenant';
import { generateDataset } from '../src/seed/generator';
import { windowStart, writeDataset } from '../src/seed/write-dataset';
import { openStore } from '../src/stores';
import { percentile, report } from './report';

const CHROMIUM = '/usr/bin/chromium';
const SECRET = 'bench-secret-bench-secret-bench-secret-01';
const DAY = 86_400_000;

declare const document: {
  querySelectorAll(selector: string): ArrayLike<{ getAttribute(name: string): string | null }> & {
    length: number;
  };
};
declare const performance: { now(): number };

async function main(): Promise<void> {
  const runsArg = process.argv.indexOf('--runs');
  const runs = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 15;
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium`);
  if (!existsSync(join(dashboardDist() ?? '', 'index.html')))
    throw new Error('the dashboard is not built: npm run build:dashboard');

  const store = await openStore('pglite:memory');
  const token = await mintToken({ secret: SECRET, tenant: 'demo', scopes: ['hub:read'] });
  const gateway = await createGateway({
    store,
    auth: { jwtSecret: SECRET },
    log: silentLogger,
    dashboard: { devToken: token, tenant: 'demo' },
  });
  process.stdout.write('seeding the demo tenant (as npm start does)...\n');
  await writeDataset(
    gateway.hub,
    parseTenantId('demo'),
    generateDataset({ days: 90, start: windowStart(90) }),
  );
  const url = await gateway.listen(0, '127.0.0.1');
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  const client = createHubClient({ url: `${url}/graphql`, token });
  const today = Math.floor(Date.now() / DAY) * DAY;
  const from = new Date(today - 90 * DAY).toISOString();
  const to = new Date(today + DAY).toISOString();
  const team = { managerId: 'mgr-000' };

  const pageMs: number[] = [];
  const graphqlMs: number[] = [];
  try {
    for (let i = 0; i < runs + 1; i++) {
      // The page's first load: a new context has an empty cache.
      const context = await browser.newContext({ viewport: { width: 1280, height: 1600 } });
      const page = await context.newPage();
      await page.goto(`${url}/dashboard/`, { waitUntil: 'commit' });
      await page.waitForFunction(
        () =>
          document.querySelectorAll('[data-panel]').length === 6 &&
          document.querySelectorAll('[data-panel][data-state="loading"]').length === 0 &&
          Array.from(document.querySelectorAll('.chart')).every(
            (c) => c.getAttribute('data-drawn') === 'true',
          ),
        undefined,
        { polling: 'raf', timeout: 60_000 },
      );
      // Milliseconds since the navigation started, read in the page.
      const drawn = await page.evaluate(() => performance.now());
      await context.close();

      const started = performance.now();
      const managers = await client.request(ManagersDocument, { asOf: to, first: 1000 });
      if (managers.managers.length === 0) throw new Error('no managers: seeding failed');
      await Promise.all([
        client.request(ManagerDashboardDocument, { managerId: team.managerId, from, to }),
        client.request(CostPerSkillDocument, { from, to, bucket: 'WEEK', team }),
        client.request(ArchetypeProgressionDocument, { from, to, team }),
      ]);
      const requests = performance.now() - started;
      if (i === 0) continue; // warm-up: the first run pays for the gateway's and PGlite's first plans
      pageMs.push(drawn);
      graphqlMs.push(requests);
      process.stdout.write(
        `run ${i}: all panels drawn ${drawn.toFixed(0)} ms, GraphQL alone ${requests.toFixed(0)} ms\n`,
      );
    }
  } finally {
    await browser.close();
    await gateway.close();
    await store.close();
  }
  const p50 = (xs: number[]): number => Math.round(percentile([...xs], 50) * 10) / 10;
  const p95 = (xs: number[]): number => Math.round(percentile([...xs], 95) * 10) / 10;
  report(`Dashboard first load, ${runs} runs (demo tenant, PGlite in memory, headless Chromium)`, [
    { name: 'dashboard_all_panels_drawn_p50', value: p50(pageMs), unit: 'ms', baseline: p50(graphqlMs) },
    { name: 'dashboard_all_panels_drawn_p95', value: p95(pageMs), unit: 'ms', baseline: p95(graphqlMs) },
    { name: 'dashboard_graphql_requests_alone_p50', value: p50(graphqlMs), unit: 'ms' },
  ]);
}

main().catch((err: unknown) => {
  process.stderr.write(
    `bench:dashboard failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  process.exitCode = 1;
});
