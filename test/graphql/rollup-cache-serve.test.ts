/**
 * `hub serve` with its rollup result cache (on by default): over HTTP, a
 * repeated cost-per-skill request answers the same, and a record written
 * (with an old createdAt, inside the range) is in the very next answer
 * (read-your-writes), as with the cache off; `/metrics` counts the hits.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readConfig } from '../../src/config';
import { silentLogger } from '../../src/platform/log';
import { serve } from '../../src/app/serve';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'hub-rollup-cache-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const COST = `{ costPerSkill(from: "2000-01-01T00:00:00Z", to: "2100-01-01T00:00:00Z", bucket: MONTH) { skillId bucketStart invocations totalCostUsd p95LatencyMs } }`;

async function runOn(cacheMb: string): Promise<{ totals: number[]; hits: number }> {
  const served = await serve({
    config: readConfig({
      PORT: '0',
      HUB_DATA_DIR: dir,
      HUB_ROLLUP_CACHE_MB: cacheMb,
      HUB_METRICS_TOKEN: 'metrics-token',
    }),
    storeUri: 'memory:',
    port: 0,
    host: '127.0.0.1',
    dev: true,
    seed: true,
    log: silentLogger,
    print: () => undefined,
  });
  const post = async (query: string): Promise<Record<string, unknown>> => {
    const res = await fetch(`${served.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${served.devToken}` },
      body: JSON.stringify({ query }),
    });
    return (await res.json()) as Record<string, unknown>;
  };
  const total = async (): Promise<number> => {
    const body = (await post(COST)) as { data: { costPerSkill: { invocations: number }[] } };
    return body.data.costPerSkill.reduce((n, r) => n + r.invocations, 0);
  };
  try {
    const first = await post(COST);
    expect(await post(COST)).toEqual(first);
    const before = await total();
    const written = await post(
      `mutation { recordOutputs(records: [{ skillId: "skill-late", employeeId: "emp-late", status: SUCCEEDED, createdAt: "2026-01-10T10:00:00Z", costUsd: "0.25" }]) { created } }`,
    );
    expect(written).toMatchObject({ data: { recordOutputs: { created: 1 } } });
    const after = await total();
    expect(await total()).toBe(after);
    const metrics = await (
      await fetch(`${served.url}/metrics`, { headers: { authorization: 'Bearer metrics-token' } })
    ).text();
    const hits = /^hub_rollup_cache_requests_total\{outcome="hit"\} (\d+)$/m.exec(metrics);
    return { totals: [before, after], hits: Number(hits?.[1] ?? 0) };
  } finally {
    await served.stop();
  }
}

test('cached or not, a repeated request answers the same and a write is in the next answer', async () => {
  const cached = await runOn('64');
  expect(cached.totals[1]).toBe((cached.totals[0] as number) + 1);
  // Served from the cache: the repeated request, and the last one after the write.
  expect(cached.hits).toBeGreaterThanOrEqual(2);
  const off = await runOn('0');
  expect(off.totals).toEqual(cached.totals);
  expect(off.hits).toBe(0);
}, 120_000);
