/**
 * The HubStore conformance suite: one function, run unchanged against every
 * store (and the router wrapping stores). Like Keyv's test suite it takes a
 * factory; the store is created once per suite and every test works in fresh,
 * random tenants so tests never see each other's data.
 *
 * A store may opt out of a case only by naming it in `options.skip` with the
 * reason (normally a capability it lacks); the reason shows in the test name.
 */
import { randomBytes } from 'node:crypto';
import { Hub } from '../../src/hub/hub';
import type { HubStore } from '../../src/hub/store';
import { type TenantId, parseTenantId } from '../../src/hub/tenant';
import { isolationCases } from './cases/isolation';
import { nestedCases } from './cases/nested';
import { listCases } from './cases/list';
import { projectionCases } from './cases/projection';
import { liveCases } from './cases/live';
import { rollupCases } from './cases/rollups';
import { teamCases } from './cases/team';
import { writeCases } from './cases/write';

export interface StoreUnderTest {
  readonly store: HubStore;
  /** Releases everything the factory created (databases, servers). */
  readonly cleanup?: () => Promise<void>;
  /**
   * Waits until every acknowledged write is visible to rollups (stores that
   * feed an analytics copy asynchronously); resolves at once elsewhere.
   */
  readonly settle?: () => Promise<void>;
}

export type StoreFactory = () => Promise<StoreUnderTest>;

export interface ConformanceOptions {
  /** Case name -> reason it does not apply to this store. */
  readonly skip?: Readonly<Record<string, string>>;
  /** Size of the large-batch case (default 10,000). */
  readonly largeBatch?: number;
}

/** What each group of cases gets from the suite. */
export interface SuiteContext {
  /** The store under test (valid inside tests). */
  store(): HubStore;
  /** A Hub service over the store. */
  hub(): Hub;
  /** A fresh tenant id no other test uses. */
  tenant(): TenantId;
  /** See {@link StoreUnderTest.settle}. */
  settle(): Promise<void>;
  /** Declares a test, honouring `options.skip`. */
  test(name: string, fn: () => Promise<void>, timeoutMs?: number): void;
  readonly options: ConformanceOptions;
}

/** Declares the whole suite for one store. */
export function describeStoreConformance(
  name: string,
  factory: StoreFactory,
  options: ConformanceOptions = {},
): void {
  describe(`HubStore conformance: ${name}`, () => {
    let sut: StoreUnderTest | undefined;
    let hub: Hub | undefined;
    const run = randomBytes(3).toString('hex');
    let counter = 0;

    beforeAll(async () => {
      sut = await factory();
      hub = new Hub(sut.store);
    }, 120_000);

    afterAll(async () => {
      await sut?.store.close();
      await sut?.cleanup?.();
    }, 120_000);

    const ctx: SuiteContext = {
      store: () => required(sut).store,
      hub: () => required(hub),
      tenant: () => parseTenantId(`t-${run}-${++counter}`),
      settle: async () => {
        await sut?.settle?.();
      },
      test: (caseName, fn, timeoutMs) => {
        const reason = options.skip?.[caseName];
        if (reason) test.skip(`${caseName} (skipped: ${reason})`, fn);
        else test(caseName, fn, timeoutMs);
      },
      options,
    };

    ctx.test('declares only the optional parts of the port it implements', async () => {
      const store = ctx.store() as HubStore & Record<string, unknown>;
      const { capabilities } = store;
      expect(Number.isInteger(capabilities.maxBatchSize) && capabilities.maxBatchSize > 0).toBe(true);
      if (capabilities.outbox) {
        expect(typeof store['drainOutbox']).toBe('function');
        expect(typeof store['outboxBacklog']).toBe('function');
      }
      if (capabilities.nestedLists) expect(typeof store['listWithChildren']).toBe('function');
      if (capabilities.recordCounts) expect(typeof store['countRecords']).toBe('function');
      if (capabilities.immediateWrites) expect(typeof store['putBatchNow']).toBe('function');
      if (capabilities.tenantOutbox) expect(typeof store['tenantOutboxBacklog']).toBe('function');
      if (capabilities.maintenance) expect(typeof store['maintain']).toBe('function');
      if (capabilities.rollupVersions) expect(typeof store['rollupVersion']).toBe('function');
      if (capabilities.bulkWrite) {
        const { batchSize, concurrency } = capabilities.bulkWrite;
        expect(Number.isInteger(batchSize) && batchSize >= 1).toBe(true);
        expect(batchSize).toBeLessThanOrEqual(capabilities.maxBatchSize);
        expect(Number.isInteger(concurrency) && concurrency >= 1 && concurrency <= 16).toBe(true);
      }
    });

    writeCases(ctx);
    listCases(ctx);
    isolationCases(ctx);
    rollupCases(ctx);
    teamCases(ctx);
    nestedCases(ctx);
    projectionCases(ctx);
    liveCases(ctx);
  });
}

function required<T>(value: T | undefined): T {
  if (value === undefined) throw new Error('store under test is not ready (factory failed?)');
  return value;
}
