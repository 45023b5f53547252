/**
 * The routing store passes the whole conformance suite over SharePoint
 * (primary, REST emulator, fed to analytics through the router's in-process
 * LocalOutbox) and Snowflake (analytics, wire emulator).
 */
import { emulatorStoreUri as sharePointUri, startSharePointEmulator } from '../support/sharepoint-emulator';
import { emulatorStoreUri as snowflakeUri, startSnowflakeEmulator } from '../support/snowflake-emulator';
import { describeRoutedConformance } from './analytics-conformance';

describeRoutedConformance('router (sharepoint primary + snowflake analytics)', async () => {
  const sp = await startSharePointEmulator();
  const sf = await startSnowflakeEmulator();
  return {
    primaryUri: sharePointUri(sp),
    analyticsUri: snowflakeUri(sf),
    cleanup: async () => {
      await sf.close();
      await sp.close();
    },
  };
});
