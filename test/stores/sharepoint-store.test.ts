/**
 * The SharePoint store's parts that need no fault injection: the URI, the
 * retry delays, `hub db migrate` provisioning, records too long for a Note
 * column, artifact bodies checked on read, and rollups equal to the memory
 * store on generated data read through nextLink pages.
 */
import { isHubError } from '../../src/hub/errors';
import { Hub } from '../../src/hub/hub';
import type { HubRecord } from '../../src/hub/model';
import { verifyRecord } from '../../src/hub/provenance';
import { parseTenantId } from '../../src/hub/tenant';
import { sealBatch } from '../../src/hub/validate';
import { createMemoryStore } from '../../src/stores/memory/memory-store';
import { redactUri } from '../../src/stores/driver';
import { parseSharePointUri, tenantSiteUrl } from '../../src/stores/sharepoint/sharepoint-config';
import { sharepointDriver } from '../../src/stores/sharepoint/sharepoint-driver';
import { parseRetryAfter, retryDelayMs } from '../../src/stores/sharepoint/sharepoint-retry';
import { toSharePointHubError } from '../../src/stores/sharepoint/sharepoint-errors';
import { HttpRequestError } from '@pnp/queryable';
import { LIBRARY_TITLE } from '../../src/stores/sharepoint/sharepoint-schema';
import { generateDataset } from '../../src/seed/generator';
import { migrateTenant, verifyTenant } from '../../src/migrate/migrate';
import {
  type SharePointEmulator,
  emulatorStoreUri,
  startSharePointEmulator,
} from '../support/sharepoint-emulator';

describe('sharepoint:// URI', () => {
  test('parses host, site pattern, token and limits; defaults to HTTPS', () => {
    const c = parseSharePointUri(
      'sharepoint://contoso.sharepoint.com/sites/claresia-{tenant}?token=abc&retries=2',
    );
    expect(c).toMatchObject({
      origin: 'https://contoso.sharepoint.com',
      sitePattern: '/sites/claresia-{tenant}',
      token: 'abc',
      retries: 2,
      retryCapMs: 30_000,
      batchSize: 100,
    });
    expect(tenantSiteUrl(c, parseTenantId('acme'))).toBe(
      'https://contoso.sharepoint.com/sites/claresia-acme',
    );
    expect(parseSharePointUri('sharepoint://127.0.0.1:9/?token=t&http=1').origin).toBe('http://127.0.0.1:9');
    expect(parseSharePointUri('sharepoint://h/?token=t').sitePattern).toBe('/sites/claresia-{tenant}');
  });

  test('rejects bad URIs without echoing the token', () => {
    for (const uri of [
      'sharepoint://h/sites/x?token=SECRET',
      'sharepoint://h/sites/{tenant}?token=SECRET&bogus=1',
      'sharepoint://h/sites/{tenant}',
      'sharepoint://h/sites/{tenant}?token=SECRET&retries=99',
      'sharepoint://u:SECRET@h/sites/{tenant}?token=x',
    ]) {
      let err: unknown;
      try {
        parseSharePointUri(uri);
      } catch (e) {
        err = e;
      }
      expect(isHubError(err, 'VALIDATION')).toBe(true);
      expect((err as Error).message).not.toContain('SECRET');
    }
    expect(redactUri('sharepoint://h/sites/{tenant}?http=1&token=SECRET&retries=1')).toBe(
      'sharepoint://h/sites/{tenant}?http=1&token=***&retries=1',
    );
  });
});

describe('retry delays', () => {
  const now = Date.parse('2026-11-28T10:00:00Z');
  test('Retry-After as seconds or HTTP-date, capped, jittered upwards only', () => {
    expect(parseRetryAfter('3', now)).toBe(3000);
    expect(parseRetryAfter('Sat, 28 Nov 2026 10:00:05 GMT', now)).toBe(5000);
    expect(parseRetryAfter('Sat, 28 Nov 2026 09:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    const policy = { retryCapMs: 60_000 };
    expect(retryDelayMs('3', 0, policy, now, () => 0)).toBe(3000);
    expect(retryDelayMs('3', 0, policy, now, () => 0.999)).toBe(3599);
    expect(retryDelayMs('Sat, 28 Nov 2026 10:00:05 GMT', 4, policy, now, () => 0)).toBe(5000);
    expect(retryDelayMs('600', 0, policy, now, () => 0.5)).toBe(60_000);
    // No Retry-After: exponential from 100 ms.
    expect([0, 1, 2, 3].map((a) => retryDelayMs(null, a, policy, now, () => 0))).toEqual([
      100, 200, 400, 800,
    ]);
  });
});

describe('error mapping', () => {
  /** pnp's own error for an answer, as its parser builds it. */
  const http = (status: number, body = '', headers: Record<string, string> = {}) =>
    HttpRequestError.init(new Response(body, { status, headers }));
  const odata = (cls: string) =>
    JSON.stringify({ 'odata.error': { code: `-1, Microsoft.SharePoint.${cls}`, message: { value: 'x' } } });

  test('HTTP statuses, SharePoint exception classes and network failures map to the closed codes', async () => {
    const cases: [unknown, string][] = [
      [await http(401), 'UNAUTHENTICATED'],
      [await http(403), 'FORBIDDEN'],
      [await http(404), 'NOT_FOUND'],
      [await http(412), 'CONFLICT'],
      [await http(429, '', { 'Retry-After': '5' }), 'THROTTLED'],
      [await http(503, '', { 'Retry-After': '5' }), 'THROTTLED'],
      [await http(503), 'UNAVAILABLE'],
      [await http(500, odata('SPException')), 'UNAVAILABLE'],
      [await http(500, odata('SPQueryThrottledException')), 'INTERNAL'],
      [await http(400, odata('Client.InvalidClientQueryException')), 'INTERNAL'],
      [await http(504), 'TIMEOUT'],
      [Object.assign(new Error('timed out'), { name: 'TimeoutError' }), 'TIMEOUT'],
      [
        new TypeError('fetch failed', { cause: Object.assign(new Error('x'), { code: 'ECONNREFUSED' }) }),
        'UNAVAILABLE',
      ],
      [new Error('something else'), 'INTERNAL'],
    ];
    for (const [err, code] of cases) {
      const mapped = toSharePointHubError(err, 'read');
      expect([mapped.code, mapped.cause === err]).toEqual([code, true]);
    }
    expect(toSharePointHubError(await http(500, odata('SPQueryThrottledException')), 'list').message).toBe(
      'sharepoint list failed (HTTP 500 SPQueryThrottledException)',
    );
  });
});

describe('sharepoint store on the emulator', () => {
  let emulator: SharePointEmulator;
  beforeAll(async () => {
    emulator = await startSharePointEmulator();
  });
  afterAll(() => emulator.close());

  test('migrate provisions the listed tenants once; a second run has nothing to do', async () => {
    const uri = emulatorStoreUri(emulator, { tenants: 'mig-a,mig-b' });
    const lines: string[] = [];
    const steps = await sharepointDriver.migrate?.(uri, { log: (l) => lines.push(l) });
    expect(steps?.filter((s) => s.startsWith('mig-a: list'))).toHaveLength(6);
    expect(steps).toContain(`mig-b: library ${LIBRARY_TITLE}`);
    expect(await sharepointDriver.migrate?.(uri)).toEqual([]);
    expect(lines.join('\n')).not.toContain(emulator.token);
  });

  test('a record too long for a Note column round-trips through a library file; artifact bodies are checked', async () => {
    const store = await sharepointDriver.open(emulatorStoreUri(emulator));
    try {
      const tenant = parseTenantId('big-records');
      const hub = new Hub(store);
      const big = { blob: 'x'.repeat(63_000) };
      const [r] = await hub.record(tenant, 'telemetry_events', [{ name: 'big', properties: big }]);
      const [got] = await hub.get(tenant, 'telemetry_events', [r?.record_id as string]);
      expect((got as { properties: unknown }).properties).toEqual(big);
      expect(verifyRecord(got as HubRecord).verified).toBe(true);

      const body = Buffer.from('hello');
      const [art] = sealBatch(tenant, 'artifacts', [
        {
          name: 'a.txt',
          media_type: 'text/plain',
          size_bytes: 5,
          content_sha256: '2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824',
          body,
        },
      ]);
      await store.putBatch(tenant, [art as HubRecord]);
      const lib = emulator.sites.get('/sites/claresia-big-records')?.lists.get(LIBRARY_TITLE.toLowerCase());
      const name = [...(lib?.files.keys() ?? [])].find((n) => n.startsWith('art-')) as string;
      lib?.files.set(name, Buffer.from('tampered'));
      const err = await store
        .getByIds(tenant, 'artifacts', [art?.record_id as string])
        .catch((e: unknown) => e);
      expect(isHubError(err, 'INTERNAL')).toBe(true);
    } finally {
      await store.close();
    }
  });

  test('rollups equal the memory store on generated data (reads span several nextLink pages)', async () => {
    const store = await sharepointDriver.open(emulatorStoreUri(emulator));
    const memory = createMemoryStore();
    try {
      const tenant = parseTenantId('rollup-eq');
      const data = generateDataset({ seed: 7, days: 40, outputsPerDay: 150, managers: 2, teamSize: 5 });
      for (const hub of [new Hub(store), new Hub(memory)])
        for (const [type, inputs] of Object.entries(data))
          await hub.record(tenant, type as never, inputs as never);
      const range = { from: '2025-01-01T00:00:00Z', to: '2027-01-01T00:00:00Z' };
      const [a, b] = [new Hub(store), new Hub(memory)];
      expect(await a.costPerSkill(tenant, { ...range, bucket: 'WEEK' })).toEqual(
        await b.costPerSkill(tenant, { ...range, bucket: 'WEEK' }),
      );
      expect(await a.archetypeProgression(tenant, range)).toEqual(
        await b.archetypeProgression(tenant, range),
      );
      const managerId = data.employee_profiles
        .map((p) => p.manager_id)
        .find((m) => typeof m === 'string') as string;
      const dash = { managerId, from: '2026-01-20T00:00:00Z', to: '2026-02-10T00:00:00Z' };
      const board = await a.managerDashboard(tenant, dash);
      expect(board.members.length).toBeGreaterThan(0);
      expect(board).toEqual(await b.managerDashboard(tenant, dash));
      expect(data.outputs.length).toBeGreaterThan(5000);
    } finally {
      await store.close();
    }
    // Over 6,000 outputs and their records through the emulator's $batch: over 60 s on a busy machine.
  }, 240_000);

  test('hub migrate: a tenant copied from memory to SharePoint verifies record by record', async () => {
    const store = await sharepointDriver.open(emulatorStoreUri(emulator));
    try {
      const source = createMemoryStore();
      const tenant = parseTenantId('migrated');
      const data = generateDataset({
        seed: 5,
        days: 5,
        outputsPerDay: 30,
        managers: 1,
        teamSize: 3,
        artifacts: true,
      });
      for (const [type, inputs] of Object.entries(data))
        await new Hub(source).record(tenant, type as never, inputs as never);
      const report = await migrateTenant(source, store, tenant, { pageSize: 250 });
      const total = Object.values(data).reduce((n, v) => n + v.length, 0);
      expect(data.artifacts.length).toBeGreaterThan(0);
      expect(report.verification).toEqual({ checked: total, invalid: [], mismatched: [] });
      expect((await verifyTenant(store, tenant)).checked).toBe(total);
      // Re-running copies nothing twice.
      const again = await migrateTenant(source, store, tenant, { pageSize: 250 });
      expect(again.verification.checked).toBe(total);
    } finally {
      await store.close();
    }
  });
});
