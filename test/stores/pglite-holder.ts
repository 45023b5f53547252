/**
 * A process holding a PGlite folder open (the lock tests' other process).
 * Argument: the folder. Opens `pglite:<folder>`, writes one output for tenant
 * `holder` (unless it is there), prints `ready <pid>` and then waits until
 * killed. If the open fails it prints `error <message>` and exits 1.
 */
import { randomUUID } from 'node:crypto';
import { parseTenantId } from '../../src/hub/tenant';
import { sealBatch } from '../../src/hub/validate';
import { openStore } from '../../src/stores';

async function main(): Promise<void> {
  const dir = process.argv[2] as string;
  const store = await openStore(`pglite:${dir}`, { create: false });
  const tenant = parseTenantId('holder');
  const existing = await store.list(tenant, { type: 'outputs', filter: {}, limit: 1 });
  if (existing.length === 0) {
    const [record] = sealBatch(tenant, 'outputs', [
      {
        record_id: randomUUID(),
        created_at: '2026-02-01T00:00:00.000Z',
        skill_id: 's',
        employee_id: 'e',
        status: 'SUCCEEDED',
        input_tokens: 1,
        output_tokens: 1,
        cost_usd: '0.01',
      },
    ]);
    await store.putBatch(tenant, [record as NonNullable<typeof record>]);
  }
  process.stdout.write(`ready ${process.pid}\n`);
  setInterval(() => undefined, 60_000);
}

main().catch((err: unknown) => {
  process.stdout.write(`error ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
