/**
 * The PostgreSQL store with the ListBatcher, the flush and the cork turned
 * off (HUB_BENCH_READ_PATH_OFF, as bench/read-path.bench.ts runs it to measure
 * what each gains): the same answers, and still no read crosses tenants.
 * The switches are read when their modules load, so the variable is set
 * before the store's modules are required.
 */
import type { HubRecord } from '../../src/hub/model';
import type { HubStore } from '../../src/hub/store';
import { parseTenantId } from '../../src/hub/tenant';
import { sealBatch } from '../../src/hub/validate';
import { generateDataset } from '../../src/seed/generator';
import type * as Layers from '../../src/platform/read-path-layers';
import type * as Stores from '../../src/stores';
import type * as Harness from '../support/pg-harness';
import type { PgTestDatabase } from '../support/pg-harness';

process.env.HUB_BENCH_READ_PATH_OFF = 'listbatcher,flush,cork';
/* eslint-disable @typescript-eslint/no-require-imports */
const { parseReadPathLayers, readPathLayerOff } =
  require('../../src/platform/read-path-layers') as typeof Layers;
const { openStore } = require('../../src/stores') as typeof Stores;
const { createTestDatabase } = require('../support/pg-harness') as typeof Harness;
/* eslint-enable @typescript-eslint/no-require-imports */

const a = parseTenantId('layers-a');
const b = parseTenantId('layers-b');
let pg: PgTestDatabase;
let store: HubStore;
const written = new Map<string, { outputs: HubRecord[]; decisions: HubRecord[] }>();

beforeAll(async () => {
  pg = await createTestDatabase();
  store = await openStore(pg.appUri);
  for (const [tenant, seed] of [
    [a, 1],
    [b, 2],
  ] as const) {
    const data = generateDataset({ seed, days: 5, outputsPerDay: 10, artifacts: false });
    const outputs = sealBatch(tenant, 'outputs', data.outputs);
    const decisions = sealBatch(tenant, 'decisions', data.decisions);
    await store.putBatch(tenant, outputs);
    await store.putBatch(tenant, decisions);
    written.set(tenant, { outputs, decisions });
  }
}, 60_000);

afterAll(async () => {
  await store?.close();
  await pg?.drop();
});

test('the variable turns off the layers it names, and a name that is not a layer is refused', () => {
  expect(
    ['dataloader', 'lookahead', 'listbatcher', 'flush', 'cork'].filter((l) => readPathLayerOff(l as never)),
  ).toEqual(['listbatcher', 'flush', 'cork']);
  expect([...parseReadPathLayers(' flush, cork ')]).toEqual(['flush', 'cork']);
  expect([...parseReadPathLayers(undefined)]).toEqual([]);
  expect(() => parseReadPathLayers('flush,batching')).toThrow(/unknown layer batching.*dataloader/);
});

test('concurrent lists and lookups of two tenants answer as written, each from its own tenant', async () => {
  const ofA = written.get(a) as { outputs: HubRecord[]; decisions: HubRecord[] };
  const ofB = written.get(b) as { outputs: HubRecord[]; decisions: HubRecord[] };
  const parents = ofA.outputs.slice(0, 20);
  const [lists, found, crossed] = await Promise.all([
    Promise.all(
      parents.map((o) => store.list(a, { type: 'decisions', filter: { outputId: o.record_id }, limit: 50 })),
    ),
    store.getByIds(
      a,
      'outputs',
      parents.map((o) => o.record_id),
    ),
    // Tenant b asks for a's records by id and by parent: it must see none.
    Promise.all([
      store.getByIds(
        b,
        'outputs',
        parents.map((o) => o.record_id),
      ),
      store.list(b, {
        type: 'decisions',
        filter: { outputId: (parents[0] as HubRecord).record_id },
        limit: 50,
      }),
    ]),
  ]);
  parents.forEach((o, i) => {
    const expected = ofA.decisions
      .filter((d) => (d as { output_id?: string }).output_id === o.record_id)
      .map((d) => d.record_id)
      .sort();
    expect((lists[i] as HubRecord[]).map((d) => d.record_id).sort()).toEqual(expected);
  });
  expect(found.map((r) => r?.record_id)).toEqual(parents.map((o) => o.record_id));
  expect(crossed[0]).toEqual(parents.map(() => null));
  expect(crossed[1]).toEqual([]);
  expect(lists.flat().length).toBeGreaterThan(0);
  expect(ofB.outputs.length).toBeGreaterThan(0);
});
