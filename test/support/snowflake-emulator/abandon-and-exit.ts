/**
 * A child-process scenario for the faults test: open a Snowflake store on an
 * emulator, stop the emulator so the store abandons a write at its deadline
 * while the driver keeps retrying it, then close the store and the emulator
 * and return from main. The process must then exit by itself (nothing the
 * store started may keep it alive); it prints the write's error code first.
 */
import { isHubError } from '../../../src/hub/errors';
import { parseTenantId } from '../../../src/hub/tenant';
import { sealBatch } from '../../../src/hub/validate';
import { snowflakeDriver } from '../../../src/stores/snowflake/snowflake-driver';
import { emulatorStoreUri, startSnowflakeEmulator } from '.';

async function main(): Promise<void> {
  const emulator = await startSnowflakeEmulator();
  const store = await snowflakeDriver.open(emulatorStoreUri(emulator, { timeoutMs: 500 }));
  const tenant = parseTenantId('abandon-exit');
  const batch = (n: number) =>
    sealBatch(tenant, 'outputs', [
      {
        skill_id: 'skill.1',
        employee_id: `emp-${n}`,
        status: 'SUCCEEDED',
        cost_usd: '0.000001',
        created_at: new Date(Date.UTC(2026, 2, 1) + n).toISOString(),
      },
    ]);
  await store.putBatch(tenant, batch(1));
  await emulator.stop();
  let code = 'none';
  try {
    await store.putBatch(tenant, batch(2));
  } catch (err) {
    code = isHubError(err) ? err.code : String(err);
  }
  await store.close();
  await emulator.close();
  process.stdout.write(`${code}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${String(err)}\n`);
  process.exitCode = 1;
});
