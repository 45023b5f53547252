/**
 * What the dashboard tests drive and check: the gateway holding the demo
 * tenant as `npm start` seeds it, over a router (memory primary + memory
 * analytics, so responses carry extensions.routing); a headless Chromium; pages
 * whose every request is checked; waiting until the panels have settled; and
 * the check that every panel shows the numbers the same GraphQL query returns.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { type Browser, type Page, chromium } from 'playwright-core';
import {
  ArchetypeProgressionDocument,
  CostPerSkillDocument,
  ManagerDashboardDocument,
} from '@hub-gateway/client';
import { mintToken } from '../../src/platform/auth';
import { parseTenantId } from '../../src/hub/tenant';
import { parseRegistryConfig } from '../../src/router/registry-config';
import { RoutingStore, settleRouter } from '../../src/router/routing-store';
import { generateDataset } from '../../src/seed/generator';
import { windowStart, writeDataset } from '../../src/seed/write-dataset';
import { dashboardDist } from '../../src/http/dashboard';
import { SECRET, type TestGateway, startGateway } from '../graphql/harness';

const CHROMIUM = '/usr/bin/chromium';
/** Where the tests' screenshots go (gitignored). */
export const ARTIFACTS = resolve(__dirname, '..', '..', 'test-artifacts', 'dashboard');
// CI installs Chromium (.ci/run) and `npm ci` builds the dashboard (prepare); without either this cannot run.
const built = existsSync(join(dashboardDist() ?? '', 'index.html'));
/** `describe` where Chromium and the built dashboard exist, else `describe.skip`. */
export const maybe = existsSync(CHROMIUM) && built ? describe : describe.skip;

const DAY = 86_400_000;
const today = new Date(Math.floor(Date.now() / DAY) * DAY);
/** The dashboard's default range as its date inputs show it: the last 90 days up to today. */
export const fromDay = new Date(today.getTime() - 90 * DAY).toISOString().slice(0, 10);
export const toDay = today.toISOString().slice(0, 10);
/** The same range as the page's GraphQL variables (`to` exclusive: the start of tomorrow). */
export const from = `${fromDay}T00:00:00.000Z`;
export const to = new Date(today.getTime() + DAY).toISOString();

export type Json = Record<string, unknown>;

// The few page-side globals the functions run in the browser use (this program
// is compiled without the DOM library, which would change Node's types).
interface PageElement {
  getAttribute(name: string): string | null;
  readonly value?: string;
}
declare const document: {
  querySelectorAll(selector: string): ArrayLike<PageElement> & { length: number };
  querySelector(selector: string): PageElement | null;
  readonly activeElement: PageElement | null;
};

/**
 * Starts a gateway serving the dashboard at /dashboard/ over a router holding
 * the demo tenant exactly as `npm start` seeds it (src/http/serve.ts
 * seedDemoOnce), settled; returns it with a `hub:read` token for the tenant.
 * The caller closes the gateway.
 */
export async function startDemoGateway(): Promise<{ gw: TestGateway; token: string }> {
  const config = parseRegistryConfig(
    {
      stores: { warehouse: 'memory:warehouse', primary: 'memory:' },
      tenants: [{ id: 'demo', mode: 'A', primary: 'primary', analytics: 'warehouse', fallback: 'primary' }],
    },
    'test',
  );
  const store = await RoutingStore.open({ load: async () => config });
  const token = await mintToken({ secret: SECRET, tenant: 'demo', scopes: ['hub:read'] });
  const gw = await startGateway({ store, dashboard: { devToken: token, tenant: 'demo' } });
  await writeDataset(
    gw.gateway.hub,
    parseTenantId('demo'),
    generateDataset({ days: 90, start: windowStart(90) }),
  );
  await settleRouter(store);
  return { gw, token };
}

/** Launches the headless Chromium the tests use (no sandbox, no background network). The caller closes it. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
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
}

/**
 * Opens `baseUrl` + `path` in a page whose every request is checked: local ones
 * pass, anything else is aborted and recorded in `blocked`; page errors and
 * console errors go to `errors`, GraphQL request bodies to `graphql`.
 */
export async function openCheckedPage(
  browser: Browser,
  baseUrl: string,
  path: string,
): Promise<{ page: Page; blocked: string[]; errors: string[]; graphql: Json[] }> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 1600 } });
  const blocked: string[] = [];
  const errors: string[] = [];
  const graphql: Json[] = [];
  await page.route('**/*', async (route) => {
    const url = new URL(route.request().url());
    if (url.hostname !== '127.0.0.1') {
      blocked.push(url.href);
      return route.abort();
    }
    if (url.pathname === '/graphql') graphql.push(route.request().postDataJSON() as Json);
    return route.continue();
  });
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  await page.goto(`${baseUrl}${path}`, { waitUntil: 'load' });
  return { page, blocked, errors, graphql };
}

/**
 * Waits until no panel is loading, every panel shows data of `managerId`'s
 * requests (when given), and every chart has finished drawing.
 */
export async function settled(page: Page, managerId?: string): Promise<void> {
  await page.waitForFunction(
    (manager) =>
      document.querySelectorAll('[data-panel]').length === 6 &&
      document.querySelectorAll('[data-panel][data-state="loading"]').length === 0 &&
      (manager === null ||
        Array.from(document.querySelectorAll('[data-panel]')).every((p) =>
          (p.getAttribute('data-variables') ?? '').includes(`"managerId":"${manager}"`),
        )) &&
      Array.from(document.querySelectorAll('.chart')).every((c) => c.getAttribute('data-drawn') === 'true'),
    managerId ?? null,
    { timeout: 30_000 },
  );
}

/** A GraphQL result, as the panels' check compares it: data and extensions. */
export type GraphQLResult = { data: Json; extensions: Json };

/** Runs `document` with `variables` as `token` on `gw`; expects no error. */
export async function graphqlResult(
  gw: TestGateway,
  token: string,
  document: { toString(): string },
  variables: Json,
): Promise<GraphQLResult> {
  const res = await gw.gql(token, document.toString(), variables);
  expect(res.body.errors).toBeUndefined();
  return { data: res.body.data as Json, extensions: (res.body as { extensions?: Json }).extensions ?? {} };
}

/** Each row of a panel's table: its key and its cells' exact values by field. */
export const tableRows = (page: Page, table: string) =>
  page.$$eval(`table[data-table="${table}"] tbody tr`, (rows) =>
    rows.map((tr) => ({
      key: tr.getAttribute('data-key'),
      values: Object.fromEntries(
        [...tr.querySelectorAll('td[data-field]')].map((td) => [
          td.getAttribute('data-field'),
          td.getAttribute('data-value'),
        ]),
      ),
      text: [...tr.querySelectorAll('td')].map((td) => td.textContent),
    })),
  );

/**
 * Checks every panel of `page` against GraphQL (run with `gql`) for
 * `managerId`: KPIs, cost per skill, top skills, progression, governance,
 * members, and the freshness line against extensions.routing. Returns how many
 * progression rows the team has.
 */
export async function expectPanelsEqualGraphQL(
  page: Page,
  managerId: string,
  gql: (document: { toString(): string }, variables: Json) => Promise<GraphQLResult>,
): Promise<number> {
  const team = { managerId };
  const [dash, cost, prog] = await Promise.all([
    gql(ManagerDashboardDocument, { managerId, from, to }),
    gql(CostPerSkillDocument, { from, to, bucket: 'WEEK', team }),
    gql(ArchetypeProgressionDocument, { from, to, team }),
  ]);
  const d = dash.data.managerDashboard as {
    invocations: number;
    failed: number;
    totalCostUsd: string;
    decisions: { acceptanceRate: number | null; escalations: number; total: number };
    governanceBySeverity: Record<string, number>;
    topSkills: { skillId: string; invocations: number; totalCostUsd: string }[];
    members: { employeeId: string; displayName: string; invocations: number; totalCostUsd: string }[];
  };
  expect(d.members.length).toBeGreaterThan(0);
  const kpis = Object.fromEntries(
    await page.$$eval('[data-kpi]', (els) =>
      els.map((e) => [e.getAttribute('data-kpi'), e.getAttribute('data-value')]),
    ),
  );
  expect(kpis).toEqual({
    invocations: String(d.invocations),
    failed: String(d.failed),
    totalCostUsd: d.totalCostUsd,
    acceptanceRate: d.decisions.acceptanceRate === null ? '' : String(d.decisions.acceptanceRate),
    escalations: String(d.decisions.escalations),
    decisions: String(d.decisions.total),
  });
  // What a person reads: the same numbers, formatted.
  expect(await page.textContent('[data-kpi="invocations"]')).toBe(d.invocations.toLocaleString('en-US'));
  expect(await page.textContent('[data-kpi="totalCostUsd"]')).toMatch(
    new RegExp(`^\\$${Number(d.totalCostUsd.split('.')[0]).toLocaleString('en-US')}\\.`),
  );

  const costRows = cost.data.costPerSkill as {
    bucketStart: string;
    skillId: string;
    invocations: number;
    failed: number;
    totalCostUsd: string;
    p95LatencyMs: number | null;
  }[];
  expect(costRows.length).toBeGreaterThan(0);
  expect(await tableRows(page, 'costPerSkill')).toEqual(
    costRows.map((r) => ({
      key: `${r.bucketStart}|${r.skillId}`,
      values: {
        invocations: String(r.invocations),
        failed: String(r.failed),
        totalCostUsd: r.totalCostUsd,
        p95LatencyMs: r.p95LatencyMs === null ? '' : String(r.p95LatencyMs),
      },
      text: expect.any(Array),
    })),
  );
  expect((await tableRows(page, 'topSkills')).map((r) => [r.key, r.values])).toEqual(
    d.topSkills.map((s) => [s.skillId, { invocations: String(s.invocations), totalCostUsd: s.totalCostUsd }]),
  );
  const progRows = prog.data.archetypeProgression as {
    archetype: string;
    fromLevel: string;
    toLevel: string;
    transitions: number;
    employees: number;
    medianDays: number;
  }[];
  // The panel lists L1 -> L2 first, then the rest in the API's order.
  const l1l2 = (r: { fromLevel: string; toLevel: string }): boolean =>
    r.fromLevel === 'L1' && r.toLevel === 'L2';
  expect((await tableRows(page, 'progression')).map((r) => [r.key, r.values])).toEqual(
    [...progRows.filter(l1l2), ...progRows.filter((r) => !l1l2(r))].map((r) => [
      `${r.archetype}|${r.fromLevel}|${r.toLevel}`,
      {
        transitions: String(r.transitions),
        employees: String(r.employees),
        medianDays: String(r.medianDays),
      },
    ]),
  );
  const governance = await tableRows(page, 'governance');
  expect(governance[1]?.values).toEqual(
    Object.fromEntries(Object.entries(d.governanceBySeverity).map(([k, v]) => [k, String(v)])),
  );
  expect((await tableRows(page, 'members')).map((r) => [r.key, r.text[1], r.values])).toEqual(
    d.members.map((m) => [
      m.employeeId,
      m.displayName,
      { invocations: String(m.invocations), totalCostUsd: m.totalCostUsd },
    ]),
  );
  // The "as of" watermark and store: what extensions.routing said for the same queries.
  const routing = [dash, cost, prog].flatMap((r) =>
    Object.values(
      (r.extensions.routing ?? {}) as Record<
        string,
        { stores: { store: string; role: string }[]; watermark?: string }
      >,
    ),
  );
  const freshness = page.locator('[data-freshness]');
  expect(await freshness.getAttribute('data-freshness')).toBe('routed');
  expect(await freshness.getAttribute('data-stores')).toBe('warehouse (analytics)');
  expect(routing.every((r) => r.stores.every((s) => s.store === 'warehouse' && s.role === 'analytics'))).toBe(
    true,
  );
  const marks = routing.map((r) => r.watermark).filter((w): w is string => !!w);
  expect(marks.length).toBe(3);
  // Each panel's request was answered at its own moment: the page shows the earliest of its own.
  expect(await freshness.getAttribute('data-watermark')).toMatch(/^\d{4}-\d\d-\d\dT/);
  return progRows.length;
}
