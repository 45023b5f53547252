/**
 * The conformance suite against the SharePoint store, through the real
 * @pnp/sp over HTTP, on the local SharePoint REST emulator (in-memory lists).
 * The large-batch case runs at full size (10,000 records = 100 $batch
 * requests of 100 item adds).
 */
import { sharepointDriver } from '../../src/stores/sharepoint/sharepoint-driver';
import { describeStoreConformance } from '../conformance/suite';
import { emulatorStoreUri, startSharePointEmulator } from '../support/sharepoint-emulator';

describeStoreConformance('sharepoint (REST emulator)', async () => {
  const emulator = await startSharePointEmulator();
  const store = await sharepointDriver.open(emulatorStoreUri(emulator));
  return { store, cleanup: () => emulator.close() };
});
