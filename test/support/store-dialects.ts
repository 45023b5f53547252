/**
 * The PostgreSQL store's two dialects, for test files that run the same
 * cases on each (describe.each): a throwaway database on the server, opened
 * as the application role (row-level security applies), and an in-memory
 * PGlite.
 *
 * Typical use:
 *   describeOnEachDialect('edge values', (on) => {
 *     test('...', async () => { await on.store.putBatch(...); });
 *   });
 */
import type { HubStore } from '../../src/hub/store';
import { openStore } from '../../src/stores';
import { type PgTestDatabase, createTestDatabase } from './pg-harness';

/** One dialect: its name (for the describe title) and how to open a fresh store on it. */
export interface StoreDialect {
  readonly name: 'postgres' | 'pglite';
  readonly open: () => Promise<HubStore>;
}

/**
 * The two dialects, and `dropAll`, which drops every server database their
 * `open` created (call it in afterAll, once the stores are closed).
 */
export function postgresDialects(): { dialects: StoreDialect[]; dropAll: () => Promise<void> } {
  const databases: PgTestDatabase[] = [];
  return {
    dialects: [
      {
        name: 'postgres',
        open: async () => {
          const pg = await createTestDatabase();
          databases.push(pg);
          return openStore(pg.appUri);
        },
      },
      { name: 'pglite', open: () => openStore('pglite:memory') },
    ],
    dropAll: async () => {
      await Promise.all(databases.splice(0).map((pg) => pg.drop()));
    },
  };
}

/**
 * Declares `title` once per dialect (`<title> on postgres`, `<title> on
 * pglite`), each with a store opened before its tests and closed after them,
 * read by the tests as `on.store`; the server databases are dropped after the
 * file. Reading `on.store` outside a test (before it is open) throws.
 */
export function describeOnEachDialect(title: string, body: (on: { readonly store: HubStore }) => void): void {
  const { dialects, dropAll } = postgresDialects();
  afterAll(dropAll);
  describe.each(dialects)(`${title} on $name`, ({ open }) => {
    let store: HubStore | undefined;
    beforeAll(async () => {
      store = await open();
    }, 60_000);
    afterAll(async () => {
      await store?.close();
    });
    body({
      get store(): HubStore {
        if (store === undefined) throw new Error('the dialect store is read before it is open');
        return store;
      },
    });
  });
}
