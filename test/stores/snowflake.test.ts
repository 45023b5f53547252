/**
 * The conformance suite against the Snowflake store, through the real
 * snowflake-sdk over HTTP, on the local wire emulator (DuckDB underneath).
 * flushMs=0: the micro-batch writer flushes as soon as no flush is in flight
 * (batching concurrent writes) so the suite does not wait 2 s per write;
 * batching by time is tested in snowflake-store.test.ts.
 */
import { snowflakeDriver } from '../../src/stores/snowflake/snowflake-driver';
import { describeStoreConformance } from '../conformance/suite';
import { emulatorStoreUri, startSnowflakeEmulator } from '../support/snowflake-emulator';

describeStoreConformance('snowflake (wire emulator)', async () => {
  const emulator = await startSnowflakeEmulator();
  const store = await snowflakeDriver.open(emulatorStoreUri(emulator));
  return { store, cleanup: () => emulator.close() };
});
