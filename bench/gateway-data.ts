/**
 * bench:gateway's data: the bench tenant, outputs loaded into a throwaway
 * database through a checkout's own PostgreSQL store (this one or a baseline
 * tree), and the two read requests driven against them.
 */
import { createRequire } from 'node:module';
import { resolve as resolvePath } from 'node:path';
import { Pool } from 'pg';
import type { OutputRecord } from '../src/hub/model';
import { parseTenantId } from '../src/hub/tenant';
import { sealBatch } from '../src/hub/validate';
import { generateOutputs, skillIds } from '../src/seed/generator';
import { openStore } from '../src/stores';
import { type PgTestDatabase, createTestDatabase } from '../test/support/pg-harness';
import { log } from './gateway-log';

/** The one tenant whose outputs the benchmark loads and reads. */
export const tenant = parseTenantId('bench-gw');
/** How many skills the generated outputs spread over (the list request filters by one). */
export const SKILLS = 12;
const loadModule = createRequire(__filename);

/** What loading a database needs from a checkout (this one, or the baseline tree). */
export interface Tree {
  readonly dir: string;
  readonly harness: { createTestDatabase: typeof createTestDatabase };
  readonly openStore: typeof openStore;
  readonly generateOutputs: typeof generateOutputs;
  readonly sealBatch: typeof sealBatch;
}

/** This checkout's harness, store, generator and validation. */
export const THIS_TREE: Tree = {
  dir: resolvePath(__dirname, '..'),
  harness: { createTestDatabase },
  openStore,
  generateOutputs,
  sealBatch,
};

/** The baseline checkout's own harness, store, generator and validation (its schema, its policies). */
export function loadTree(dir: string): Tree {
  // Through tsx's CommonJS hook, as this file runs (import() would take the ESM loader, which has none).
  const at = (path: string): unknown => loadModule(resolvePath(dir, path));
  const stores = at('src/stores/index.ts') as { openStore: Tree['openStore'] };
  const seed = at('src/seed/generator.ts') as { generateOutputs: Tree['generateOutputs'] };
  const validate = at('src/hub/validate.ts') as { sealBatch: Tree['sealBatch'] };
  return {
    dir: resolvePath(dir),
    harness: at('test/support/pg-harness.ts') as Tree['harness'],
    openStore: stores.openStore,
    generateOutputs: seed.generateOutputs,
    sealBatch: validate.sealBatch,
  };
}

/** Loads `count` outputs for the bench tenant through `tree`'s PostgreSQL store; returns every 97th id. */
export async function loadOutputs(tree: Tree, db: PgTestDatabase, count: number): Promise<string[]> {
  const ids: string[] = [];
  log(`loading ${count} outputs through the PostgreSQL store of ${tree.dir}...`);
  const loader = await tree.openStore(`${db.appUri}?max=4`);
  const t0 = Date.now();
  for (const inputs of tree.generateOutputs(count, {
    seed: 7,
    batchSize: 20_000,
    skills: SKILLS,
    days: 365,
  })) {
    const sealed = tree.sealBatch(tenant, 'outputs', inputs) as OutputRecord[];
    await loader.putBatch(tenant, sealed);
    for (let k = 0; k < sealed.length; k += 97) ids.push((sealed[k] as OutputRecord).record_id);
  }
  await loader.close();
  log(`loaded in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  const admin = new Pool({ connectionString: db.adminUri, max: 1 });
  await admin.query('VACUUM ANALYZE hub.outputs');
  await admin.end();
  return ids;
}

/** The bodies of the two read requests, the i-th of each. */
export interface ReadBodies {
  readonly byId: (i: number) => string;
  readonly list: (i: number) => string;
}

/** The two read requests: an output by id (over `ids`) and a list of 50 filtered by one skill. */
export function readBodies(ids: readonly string[]): ReadBodies {
  const skills = skillIds(SKILLS);
  return {
    byId: (i) =>
      JSON.stringify({
        query: 'query($id: ID!) { output(id: $id) { id skillId employeeId status costUsd createdAt } }',
        variables: { id: ids[(i * 7919) % ids.length] },
      }),
    list: (i) =>
      JSON.stringify({
        query:
          'query($s: [String!]) { outputs(first: 50, filter: { skillIds: $s }) { nodes { id skillId employeeId status costUsd createdAt } pageInfo { endCursor } } }',
        variables: { s: [skills[i % SKILLS]] },
      }),
  };
}
