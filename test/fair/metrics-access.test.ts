/**
 * Metrics that reveal nothing (issue 11 item 4): `/metrics` and the detail of
 * `/readyz` only for the operator (a credential on the main port, or only on
 * their own listener), operation label values only for registered operations
 * (a flood of random names adds none), and no tenant id anywhere in them.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { mintToken } from '../../src/platform/auth';
import { GatewayMetrics } from '../../src/platform/metrics';
import { CLIENT_OPERATIONS } from '../../src/platform/operations';
import { parseTenantId } from '../../src/hub/tenant';
import { SECRET, type TestGateway, startGateway } from '../graphql/harness';

const QUERY = '{ outputs(first: 1) { nodes { id } } }';

function operationLabels(text: string): Set<string> {
  return new Set([...text.matchAll(/operation="([^"]*)"/g)].map((m) => m[1] as string));
}

describe('on the main port, behind a credential', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startGateway({ metricsAccess: { token: 'static-metrics-credential-0123456789' } });
  });
  afterAll(async () => gw.close());

  test('no credential, a tenant token (even hub:admin) or a wrong static token: 401', async () => {
    for (const authorization of [
      undefined,
      `Bearer ${await gw.token('acme', ['hub:read'])}`,
      `Bearer ${await gw.token('acme', ['hub:admin'])}`,
      'Bearer static-metrics-credential-012345678X',
    ]) {
      const res = await fetch(`${gw.url}/metrics`, { headers: authorization ? { authorization } : {} });
      expect(res.status).toBe(401);
      expect(await res.text()).not.toMatch(/hub_/);
    }
  });

  test('the static token or a hub:metrics token reads it', async () => {
    const res = await fetch(`${gw.url}/metrics`, {
      headers: { authorization: 'Bearer static-metrics-credential-0123456789' },
    });
    expect(res.status).toBe(200);
    expect(await res.text()).toMatch(/hub_http_requests_total/);
    expect(await gw.metrics()).toMatch(/hub_http_requests_total/);
  });

  test('a flood of random operation names adds no label value, and no tenant id appears', async () => {
    const acme = await gw.token('acme');
    const beta = await gw.token('beta');
    const names = Array.from({ length: 300 }, (_, i) => `Op${i}_${Math.random().toString(36).slice(2)}`);
    for (let i = 0; i < names.length; i += 30) {
      await Promise.all(names.slice(i, i + 30).map((n) => gw.gql(acme, `query ${n} ${QUERY}`)));
    }
    await gw.gql(beta, `query TeamOutputs ${QUERY}`);
    await gw.gql(beta, QUERY);
    const text = await gw.metrics();
    const labels = operationLabels(text);
    expect([...labels].sort()).toEqual(['TeamOutputs', 'anonymous', 'other']);
    for (const n of names.slice(0, 20)) expect(text).not.toContain(n);
    expect(text).not.toMatch(/acme|beta/);
  });

  test('/readyz shows its detail only to the operator', async () => {
    const plain = await fetch(`${gw.url}/readyz`, {
      headers: { authorization: `Bearer ${await gw.token('acme', ['hub:admin'])}` },
    });
    expect(await plain.json()).toEqual({ status: 'ready' });
  });
});

describe('on its own listener (HUB_METRICS_PORT)', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startGateway({ metricsAccess: { separateListener: true } });
  });
  afterAll(async () => gw.close());

  test('the main port has no /metrics, even with an operator token; the metrics port serves it', async () => {
    const operator = await mintToken({ secret: SECRET, tenant: 'ops', scopes: ['hub:metrics'] });
    const main = await fetch(`${gw.url}/metrics`, { headers: { authorization: `Bearer ${operator}` } });
    expect(main.status).toBe(404);
    const metricsUrl = await gw.gateway.listenMetrics(0, '127.0.0.1');
    const res = await fetch(`${metricsUrl}/metrics`);
    expect(res.status).toBe(200);
    expect(await res.text()).toMatch(/hub_http_requests_total/);
    expect((await fetch(`${metricsUrl}/graphql`)).status).toBe(404);
    expect(await (await fetch(`${metricsUrl}/readyz`)).json()).toEqual({ status: 'ready' });
  });
});

test("a tenant's registered operations are labels for that tenant only", () => {
  const m = new GatewayMetrics();
  const acme = parseTenantId('acme');
  const beta = parseTenantId('beta');
  m.useRegisteredOperations((t) => (t === acme ? new Set(['AcmeQuarterly']) : undefined));
  expect(m.operationLabel('AcmeQuarterly', acme)).toBe('AcmeQuarterly');
  expect(m.operationLabel('AcmeQuarterly', beta)).toBe('other');
  expect(m.operationLabel('ManagerDashboard', beta)).toBe('ManagerDashboard');
  expect(m.operationLabel(undefined, beta)).toBe('anonymous');
  expect(m.operationLabel('x'.repeat(500), acme)).toBe('other');
});

test('the client operations allowed as labels are exactly those of packages/hub-client', () => {
  const dir = join(__dirname, '../../packages/hub-client/operations');
  const names = readdirSync(dir)
    .filter((f) => f.endsWith('.graphql'))
    .flatMap((f) =>
      [...readFileSync(join(dir, f), 'utf8').matchAll(/^(?:query|mutation|subscription)\s+(\w+)/gm)].map(
        (m) => m[1] as string,
      ),
    );
  expect([...CLIENT_OPERATIONS].sort()).toEqual(names.sort());
});
