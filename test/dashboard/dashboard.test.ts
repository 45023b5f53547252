/**
 * The manager dashboard in headless Chromium, served by the gateway at
 * /dashboard/ over a router (memory primary + memory analytics, so responses
 * carry extensions.routing) holding the demo tenant as `npm start` seeds it.
 * Every panel must show the numbers the same GraphQL query returns; no
 * request may leave the machine; no console error; the manager picker works
 * from the keyboard; loading, empty and error states show. Screenshots go to
 * test-artifacts/dashboard/ (gitignored).
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { type Browser, type Page, chromium } from 'playwright-core';
import {
  ArchetypeProgressionDocument,
  CostPerSkillDocument,
  ManagerDashboardDocument,
  ManagersDocument,
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
const ARTIFACTS = resolve(__dirname, '..', '..', 'test-artifacts', 'dashboard');
// CI installs Chromium (.ci/run) and `npm ci` builds the dashboard (prepare); without either this cannot run.
const built = existsSync(join(dashboardDist() ?? '', 'index.html'));
const maybe = existsSync(CHROMIUM) && built ? describe : describe.skip;

const DAY = 86_400_000;
const today = new Date(Math.floor(Date.now() / DAY) * DAY);
const fromDay = new Date(today.getTime() - 90 * DAY).toISOString().slice(0, 10);
const toDay = today.toISOString().slice(0, 10);
const from = `${fromDay}T00:00:00.000Z`;
const to = new Date(today.getTime() + DAY).toISOString();

type Json = Record<string, unknown>;

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
declare const location: { readonly search: string };

maybe('the manager dashboard in headless Chromium', () => {
  let gw: TestGateway;
  let browser: Browser;
  let token: string;

  beforeAll(async () => {
    const config = parseRegistryConfig(
      {
        stores: { warehouse: 'memory:warehouse', primary: 'memory:' },
        tenants: [{ id: 'demo', mode: 'A', primary: 'primary', analytics: 'warehouse', fallback: 'primary' }],
      },
      'test',
    );
    const store = await RoutingStore.open({ load: async () => config });
    token = await mintToken({ secret: SECRET, tenant: 'demo', scopes: ['hub:read'] });
    gw = await startGateway({ store, dashboard: { devToken: token, tenant: 'demo' } });
    // The demo tenant exactly as `npm start` seeds it (src/http/serve.ts seedDemoOnce).
    await writeDataset(
      gw.gateway.hub,
      parseTenantId('demo'),
      generateDataset({ days: 90, start: windowStart(90) }),
    );
    await settleRouter(store);
    mkdirSync(ARTIFACTS, { recursive: true });
    browser = await chromium.launch({
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
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await gw?.close();
  });

  /** A page whose every request is checked: local ones pass, anything else is aborted and recorded. */
  async function openPage(
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
    await page.goto(`${gw.url}${path}`, { waitUntil: 'load' });
    return { page, blocked, errors, graphql };
  }

  /**
   * Waits until no panel is loading, every panel shows data of `managerId`'s
   * requests (when given), and every chart has finished drawing.
   */
  async function settled(page: Page, managerId?: string): Promise<void> {
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

  async function gql(
    document: { toString(): string },
    variables: Json,
  ): Promise<{ data: Json; extensions: Json }> {
    const res = await gw.gql(token, document.toString(), variables);
    expect(res.body.errors).toBeUndefined();
    return { data: res.body.data as Json, extensions: (res.body as { extensions?: Json }).extensions ?? {} };
  }

  /** Each row of a panel's table: its key and its cells' exact values by field. */
  const tableRows = (page: Page, table: string) =>
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

  /** Checks every panel against GraphQL; returns how many progression rows the team has. */
  async function expectPanelsMatch(page: Page, managerId: string): Promise<number> {
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
      d.topSkills.map((s) => [
        s.skillId,
        { invocations: String(s.invocations), totalCostUsd: s.totalCostUsd },
      ]),
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
    expect(
      routing.every((r) => r.stores.every((s) => s.store === 'warehouse' && s.role === 'analytics')),
    ).toBe(true);
    const marks = routing.map((r) => r.watermark).filter((w): w is string => !!w);
    expect(marks.length).toBe(3);
    // Each panel's request was answered at its own moment: the page shows the earliest of its own.
    expect(await freshness.getAttribute('data-watermark')).toMatch(/^\d{4}-\d\d-\d\dT/);
    return progRows.length;
  }

  test('every panel shows what GraphQL returns for the demo tenant, offline, with no console error', async () => {
    const { page, blocked, errors, graphql } = await openPage('/dashboard/');
    await settled(page, 'mgr-000');
    // The first load: the managers list, then the dashboard, cost and progression queries.
    const operation = (body: Json): string => /query (\w+)/.exec(String(body.query))?.[1] ?? '?';
    expect(graphql.map(operation).sort()).toEqual([
      'ArchetypeProgression',
      'CostPerSkill',
      'ManagerDashboard',
      'Managers',
    ]);
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-first-manager.png'), fullPage: true });
    // The picker lists the managers GraphQL lists as of the range's end.
    const managers = (await gql(ManagersDocument, { asOf: to, first: 1000 })).data.managers as {
      managerId: string;
      teamSize: number;
    }[];
    const options = await page.$$eval('select[name="manager"] option', (os) =>
      os.map((o) => o.getAttribute('value')),
    );
    expect(options).toEqual(managers.map((m) => m.managerId));
    expect(await page.inputValue('select[name="manager"]')).toBe('mgr-000');
    expect(await page.inputValue('input[name="from"]')).toBe(fromDay);
    expect(await page.inputValue('input[name="to"]')).toBe(toDay);
    await expectPanelsMatch(page, 'mgr-000');
    // mgr-002's team changed level in the range (mgr-000's did not): its progression panel has rows.
    await page.selectOption('select[name="manager"]', 'mgr-002');
    await settled(page, 'mgr-002');
    expect(await expectPanelsMatch(page, 'mgr-002')).toBeGreaterThan(0);
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-mgr-002.png'), fullPage: true });
    await page.selectOption('select[name="manager"]', 'mgr-000');
    await settled(page, 'mgr-000');
    // Each panel links to GraphiQL with the query behind it and its variables.
    const href = await page.locator('[data-panel="cost"] a.graphiql').getAttribute('href');
    const link = new URL(href ?? '', gw.url);
    expect(link.pathname).toBe('/graphiql');
    expect(link.searchParams.get('query')).toBe(CostPerSkillDocument.toString().trim());
    expect(JSON.parse(link.searchParams.get('variables') ?? '{}')).toEqual({
      from,
      to,
      bucket: 'WEEK',
      team: { managerId: 'mgr-000' },
    });
    // Later requests only for the panels of the manager picked: never the managers list again.
    expect(graphql.filter((b) => operation(b) === 'Managers').length).toBe(1);
    expect(new Set(graphql.map(operation))).toEqual(
      new Set(['ArchetypeProgression', 'CostPerSkill', 'ManagerDashboard', 'Managers']),
    );
    expect(blocked).toEqual([]);
    expect(errors).toEqual([]);
    await page.close();
  }, 120_000);

  test('the manager picker and range work from the keyboard', async () => {
    const { page, errors } = await openPage('/dashboard/');
    await settled(page);
    // Tab from the top of the page reaches the manager picker first.
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.getAttribute('name'))).toBe('manager');
    await page.keyboard.press('ArrowDown');
    await page.waitForFunction(`document.querySelector('select[name="manager"]').value === 'mgr-001'`);
    await page.waitForFunction(() => new URLSearchParams(location.search).get('manager') === 'mgr-001');
    await settled(page, 'mgr-001');
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-keyboard-second-manager.png'), fullPage: true });
    await expectPanelsMatch(page, 'mgr-001');
    // The next controls are the range and the bucket, in that order (a date input has a Tab stop
    // per part: day, month, year).
    const active = (): Promise<string | null | undefined> =>
      page.evaluate(() => document.activeElement?.getAttribute('name'));
    for (const name of ['from', 'to', 'bucket']) {
      for (let i = 0; i < 4 && (await active()) !== name; i++) await page.keyboard.press('Tab');
      expect(await active()).toBe(name);
    }
    // Choosing monthly buckets from the keyboard redraws the cost panel with MONTH rows.
    await page.keyboard.press('ArrowDown');
    await page.waitForFunction(() =>
      (document.querySelector('[data-panel="cost"]')?.getAttribute('data-variables') ?? '').includes(
        '"MONTH"',
      ),
    );
    await settled(page, 'mgr-001');
    const months = await page.$$eval('table[data-table="costPerSkill"] tbody tr', (rows) =>
      rows.map((r) => r.getAttribute('data-key')?.slice(8, 10)),
    );
    expect(new Set(months)).toEqual(new Set(['01']));
    expect(errors).toEqual([]);
    await page.close();
  }, 120_000);

  test('empty and error states', async () => {
    // A range after the data: the team exists, nothing happened: empty cost and progression panels.
    const { page, errors } = await openPage('/dashboard/?manager=mgr-000&from=2099-01-01&to=2099-01-31');
    await settled(page);
    expect(await page.getAttribute('[data-panel="cost"]', 'data-state')).toBe('empty');
    expect(await page.getAttribute('[data-panel="progression"]', 'data-state')).toBe('empty');
    expect(await page.textContent('[data-kpi="invocations"]')).toBe('0');
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-empty.png'), fullPage: true });
    expect(errors).toEqual([]);
    await page.close();

    // The gateway answering the cost query with an error: that panel says so, the others still show.
    const failing = await browser.newPage();
    await failing.route('**/*', async (route) => {
      const body = route.request().postData() ?? '';
      if (body.includes('query CostPerSkill'))
        return route.fulfill({
          status: 504,
          contentType: 'application/json',
          body: JSON.stringify({
            errors: [{ message: 'the request took too long', extensions: { code: 'TIMEOUT' } }],
          }),
        });
      return route.continue();
    });
    await failing.goto(`${gw.url}/dashboard/`);
    await failing.waitForSelector('[data-panel="cost"][data-state="error"]');
    expect(await failing.textContent('[data-panel="cost"] [role="alert"]')).toContain('TIMEOUT');
    await failing.waitForSelector('[data-panel="kpis"][data-state="ok"]');
    await failing.screenshot({ path: join(ARTIFACTS, 'dashboard-error.png'), fullPage: true });
    await failing.close();
  }, 120_000);

  test('loading state shows until the answer arrives', async () => {
    const page = await browser.newPage();
    let release: () => void = () => {};
    const gate = new Promise<void>((r) => (release = r));
    await page.route('**/graphql', async (route) => {
      if ((route.request().postData() ?? '').includes('query ManagerDashboard')) await gate;
      return route.continue();
    });
    await page.goto(`${gw.url}/dashboard/`);
    await page.waitForSelector('[data-panel="kpis"][data-state="loading"] [role="status"]');
    release();
    await page.waitForSelector('[data-panel="kpis"][data-state="ok"]');
    await page.close();
  }, 60_000);
});
