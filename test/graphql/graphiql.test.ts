/**
 * GraphiQL works offline: headless Chromium with every request to a non-local
 * host blocked loads /graphiql from the gateway alone, runs the example query
 * with the development token, and shows the result.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';
import { mintToken } from '../../src/platform/auth';
import { SECRET, type TestGateway, startGateway, uuid } from './harness';

const CHROMIUM = '/usr/bin/chromium';
// CI installs Chromium (.ci/run); a machine without it cannot run this test at all.
const maybe = existsSync(CHROMIUM) ? describe : describe.skip;

maybe('GraphiQL in headless Chromium, offline', () => {
  let gw: TestGateway;
  let browser: Browser;
  beforeAll(async () => {
    const devToken = await mintToken({ secret: SECRET, tenant: 'demo', scopes: ['hub:read', 'hub:write'] });
    gw = await startGateway({ graphiql: { devToken } });
    const t = await gw.token('demo');
    const res = await gw.gql(
      t,
      `mutation { recordOutputs(records: [{ id: "${uuid(4242)}", skillId: "browser.check", employeeId: "e1", status: SUCCEEDED, costUsd: "0.42" }]) { created } }`,
    );
    expect(res.body.data).toEqual({ recordOutputs: { created: 1 } });
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
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await gw?.close();
  });

  test('loads with every asset from the gateway, runs the example query, shows the result', async () => {
    const page = await browser.newPage();
    const blocked: string[] = [];
    const local: string[] = [];
    await page.route('**/*', async (route) => {
      const url = new URL(route.request().url());
      if (url.hostname === '127.0.0.1' || url.hostname === 'localhost') {
        local.push(url.pathname);
        await route.continue();
      } else {
        blocked.push(url.href);
        await route.abort();
      }
    });
    const pageErrors: string[] = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));

    const res = await page.goto(`${gw.url}/graphiql`, { waitUntil: 'load' });
    expect(res?.status()).toBe(200);
    await page.locator('.graphiql-execute-button').waitFor({ timeout: 30_000 });
    // The headers editor holds the development token.
    expect(await page.locator('.graphiql-editor-tool').innerText()).toContain('Bearer ');
    await page.locator('.graphiql-execute-button').click();
    const result = page.locator('.result-window');
    await result.getByText(uuid(4242)).waitFor({ timeout: 30_000 });
    const text = await result.innerText();
    expect(text).toContain('browser.check');
    expect(text).toContain('"verified": true');
    expect(blocked).toEqual([]);
    expect(pageErrors).toEqual([]);
    expect(local).toEqual(
      expect.arrayContaining([
        '/graphiql',
        '/graphiql/assets/graphiql.min.js',
        '/graphiql/assets/react.production.min.js',
        '/graphiql/assets/graphiql.min.css',
        '/graphql',
      ]),
    );
    await page.screenshot({ path: '/tmp/hub-graphiql.png' }).catch(() => undefined);
    await page.close();
  }, 60_000);

  test('without a development token the page carries no token', async () => {
    const g = await startGateway();
    const html = await (await fetch(`${g.url}/graphiql`)).text();
    expect(html).not.toContain('Bearer');
    expect((await fetch(`${g.url}/graphiql/assets/nope.js`)).status).toBe(404);
    await g.close();
  });
});
