/**
 * Loads the benchmark data: `outputs` outputs spread over `tenants` tenants,
 * each tenant a full dataset from the deterministic generator (outputs plus
 * the decisions, governance events, profiles and telemetry that go with
 * them; no artifacts), sealed by the Hub's sealBatch so provenance hashes are
 * real. Either through COPY (as the server admin: COPY FROM is refused under
 * RLS) or through the store's bulk path (PostgresStore.putBatch as the app role).
 */
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { Client } from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import type { HubRecord, RecordType } from '../../src/hub/model';
import { RECORD_TYPES } from '../../src/hub/model';
import type { HubStore, MaintenanceSource } from '../../src/hub/store';
import { type TenantId, parseTenantId } from '../../src/hub/tenant';
import { sealBatch } from '../../src/hub/validate';
import { generateDataset } from '../../src/seed/generator';
import { openStore } from '../../src/stores';
import { columnsOf } from '../../src/stores/postgres/postgres-columns';

/** Days of activity per tenant (the generator's default start, 2026-01-05). */
export const DAYS = 365;
export const START = '2026-01-05T00:00:00.000Z';

/** Tenant ids of the run (`bench-t0`, ...). */
export function tenantIds(count: number): TenantId[] {
  return Array.from({ length: count }, (_, i) => parseTenantId(`bench-t${i}`));
}

export interface LoadResult {
  readonly records: Record<RecordType, number>;
  readonly ms: number;
  readonly generateMs: number;
}

const escapeCopy = (text: string): string =>
  /[\\\n\r\t]/.test(text)
    ? text.replace(/[\\\n\r\t]/g, (c) =>
        c === '\\' ? '\\\\' : c === '\n' ? '\\n' : c === '\r' ? '\\r' : '\\t',
      )
    : text;

function copyLine(record: HubRecord, type: RecordType): string {
  const x = record as unknown as Record<string, unknown>;
  const fields = [record.tenant_id as string];
  for (const c of columnsOf(type)) {
    const v = x[c.name];
    if (v === undefined || v === null) fields.push('\\N');
    else if (c.kind === 'json' || c.kind === 'json_object') fields.push(escapeCopy(JSON.stringify(v)));
    else if (c.kind === 'bytes') fields.push(`\\\\x${Buffer.from(v as Uint8Array).toString('hex')}`);
    else fields.push(escapeCopy(String(v)));
  }
  return `${fields.join('\t')}\n`;
}

async function copyRecords(client: Client, type: RecordType, records: readonly HubRecord[]): Promise<void> {
  const names = ['tenant_id', ...columnsOf(type).map((c) => c.name)].join(', ');
  const stream = client.query(copyFrom(`COPY hub.${type} (${names}) FROM STDIN`));
  function* chunks(): Generator<string> {
    for (let i = 0; i < records.length; i += 2000) {
      let s = '';
      for (const r of records.slice(i, i + 2000)) s += copyLine(r, type);
      yield s;
    }
  }
  await pipeline(Readable.from(chunks()), stream);
}

/**
 * Generates, seals and loads every tenant's data, one tenant at a time (so
 * memory stays at one tenant's records). `adminUri` is used for COPY,
 * `appUri` for the store path.
 */
export async function loadData(options: {
  readonly outputs: number;
  readonly tenants: number;
  readonly mode: 'copy' | 'store';
  readonly adminUri: string;
  readonly appUri: string;
  readonly log: (line: string) => void;
}): Promise<LoadResult> {
  const counts = Object.fromEntries(RECORD_TYPES.map((t) => [t, 0])) as Record<RecordType, number>;
  let generateMs = 0;
  let loadMs = 0;
  const admin = options.mode === 'copy' ? new Client({ connectionString: options.adminUri }) : undefined;
  if (admin) await admin.connect();
  const store = options.mode === 'store' ? await openStore(`${options.appUri}?max=2`) : undefined;
  try {
    const perTenant = options.outputs / options.tenants;
    for (const [i, tenant] of tenantIds(options.tenants).entries()) {
      const g0 = performance.now();
      const data = generateDataset({
        seed: 1000 + i,
        start: START,
        days: DAYS,
        outputsPerDay: perTenant / DAYS,
        artifacts: false,
      });
      const sealed = RECORD_TYPES.map((type) => [type, sealBatch(tenant, type, data[type])] as const);
      const l0 = performance.now();
      generateMs += l0 - g0;
      for (const [type, records] of sealed) {
        counts[type] += records.length;
        if (records.length === 0) continue;
        if (admin) await copyRecords(admin, type, records);
        else if (store) {
          // Two batches in flight: the store's bulk path is one statement per 5,000 rows.
          const batches: HubRecord[][] = [];
          for (let s = 0; s < records.length; s += 20_000) batches.push(records.slice(s, s + 20_000));
          let next = 0;
          await Promise.all(
            [0, 1].map(async () => {
              while (next < batches.length) await store.putBatch(tenant, batches[next++] as HubRecord[]);
            }),
          );
        }
      }
      loadMs += performance.now() - l0;
      options.log(
        `tenant ${tenant}: ${sealed.map(([t, r]) => `${r.length} ${t}`).join(', ')} ` +
          `(generate+seal ${((l0 - g0) / 1000).toFixed(1)} s, load ${((performance.now() - l0) / 1000).toFixed(1)} s)`,
      );
    }
  } finally {
    await admin?.end();
    await store?.close();
  }
  await foldFeed(options.appUri, options.log);
  return { records: counts, ms: loadMs, generateMs };
}

/**
 * Folds the change feed the load wrote into the rollup cells (the written
 * records' feed rows), as the gateway's consumer does while writes arrive:
 * timing then starts from the steady state where the consumer keeps up,
 * not from a backlog of every record of the year.
 */
async function foldFeed(appUri: string, log: (line: string) => void): Promise<void> {
  const store = (await openStore(`${appUri}?max=1&rollup_consumer=false&statement_timeout=0`)) as HubStore &
    MaintenanceSource;
  try {
    const t0 = performance.now();
    let folded = 0;
    for (let n = -1; n !== 0; folded += n) n = await store.maintain(20_000);
    log(
      `folded ${folded} feed rows into the rollup cells in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
    );
  } finally {
    await store.close();
  }
}
