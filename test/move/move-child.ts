/**
 * A move command in a child process that kills itself with SIGKILL at a
 * named point of the move (the crash tests' victim). Arguments: control plane
 * URL, source URI, target URI, tenant, action (create|switch), kill point,
 * and how many times the point must be reached first.
 */
import { PgControlPlane } from '../../src/control/pg-control';
import { parseTenantId } from '../../src/hub/tenant';
import { Mover } from '../../src/move/move';
import { openStore } from '../../src/stores';

async function main(): Promise<void> {
  const [control, source, target, tenantArg, action, point, nth] = process.argv.slice(2) as string[];
  const tenant = parseTenantId(tenantArg as string);
  const plane = await PgControlPlane.open(control as string);
  let reached = 0;
  const mover = new Mover({
    plane,
    openStore,
    configuredPrimary: async () => source,
    checkpoint: (p) => {
      if (p === point && ++reached >= Number(nth)) {
        process.stdout.write(`killed at ${p}\n`);
        process.kill(process.pid, 'SIGKILL');
      }
    },
  });
  if (action === 'create') await mover.create(tenant, target as string, 'online');
  else await mover.switch(tenant);
  process.stdout.write('finished without reaching the kill point\n');
  await plane.close();
}

main().catch((err: unknown) => {
  process.stderr.write(`${String(err)}\n`);
  process.exit(1);
});
