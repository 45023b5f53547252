/**
 * The routing store passes the whole conformance suite over a real topology:
 * PostgreSQL primary (outbox in the write transaction) and the Snowflake store
 * on its wire emulator as analytics, fed by the relay.
 */
import { createTestDatabase } from '../support/pg-harness';
import { emulatorStoreUri, startSnowflakeEmulator } from '../support/snowflake-emulator';
import { describeRoutedConformance } from './analytics-conformance';

describeRoutedConformance('router (postgres primary + snowflake analytics)', async () => {
  const pg = await createTestDatabase();
  const emulator = await startSnowflakeEmulator();
  return {
    primaryUri: pg.appUri,
    analyticsUri: emulatorStoreUri(emulator),
    cleanup: async () => {
      await emulator.close();
      await pg.drop();
    },
  };
});
