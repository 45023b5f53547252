/**
 * The manager dashboard in headless Chromium, served by the gateway at
 * /dashboard/ over a router (memory primary + memory analytics, so responses
 * carry extensions.routing) holding the demo tenant as `npm start` seeds it.
 * Every panel must show the numbers the same GraphQL query returns; no
 * request may leave the machine; no console error; the manager picker works
 * from the keyboard; loading, empty and error states show. Screenshots go to
 * test-artifacts/dashboard/ (gitignored).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { CostPerSkillDocument, ManagersDocument } from '@hub-gateway/client';
import type { TestGateway } from '../graphql/harness';
import {
  ARTIFACTS,
  type GraphQLResult,
  type Json,
  expectPanelsEqualGraphQL,
  from,
  fromDay,
  graphqlResult,
  launchChromium,
  maybe,
  openCheckedPage,
  settled,
  startDemoGateway,
  to,
  toDay,
} from './dashboard-page';

// The few page-side globals the functions run in the browser use (this program
// is compiled without the DOM library, which would change Node's types).
interface PageElement {
  getAttribute(name: string): string | null;
  readonly value?: string;
}
declare const document: {
  querySelector(selector: string): PageElement | null;
  readonly activeElement: PageElement | null;
};
declare const location: { readonly search: string };

maybe('the manager dashboard in headless Chromium', () => {
  let gw: TestGateway;
  let browser: Browser;
  let token: string;

  beforeAll(async () => {
    ({ gw, token } = await startDemoGateway());
    mkdirSync(ARTIFACTS, { recursive: true });
    browser = await launchChromium();
  }, 120_000);
  afterAll(async () => {
    await browser?.close();
    await gw?.close();
  });

  const openPage = (path: string): ReturnType<typeof openCheckedPage> =>
    openCheckedPage(browser, gw.url, path);
  const gql = (document: { toString(): string }, variables: Json): Promise<GraphQLResult> =>
    graphqlResult(gw, token, document, variables);
  const expectPanelsMatch = (page: Page, managerId: string): Promise<number> =>
    expectPanelsEqualGraphQL(page, managerId, gql);

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
