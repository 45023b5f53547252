/**
 * The conformance suite on a real PostgreSQL server (HUB_TEST_PG_URL), in a
 * throwaway database, through the application role (row-level security on).
 */
import { openStore } from '../../src/stores';
import { describeStoreConformance } from '../conformance/suite';
import { createTestDatabase } from '../support/pg-harness';

describeStoreConformance('postgres', async () => {
  const pg = await createTestDatabase();
  const store = await openStore(pg.appUri);
  return { store, cleanup: () => pg.drop() };
});
