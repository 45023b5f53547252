import type { Command } from './command';
import { openCliStore, requireTenant } from './open';

export const command: Command = {
  path: ['verify'],
  summary: 're-verify the provenance of every record of a tenant (optionally against another store)',
  help: `Usage: hub verify --tenant <id> [--store <uri>] [--against <uri>]

Reads every record of the tenant and recomputes its provenance hash (and each
artifact body's SHA-256). With --against, also checks that both stores hold the
same records with the same hashes. Exit code 1 when anything does not verify.

Options:
  --tenant <id>     tenant to verify (required)
  --store <uri>     store URI (default: HUB_PG_URL, else pglite:<HUB_DATA_DIR>)
  --against <uri>   a second store that must hold the same records`,
  options: { tenant: { type: 'string' }, store: { type: 'string' }, against: { type: 'string' } },
  async run({ values }, io) {
    const tenant = requireTenant(values.tenant);
    const { verifyTenant } = require('../migrate/migrate') as typeof import('../migrate/migrate');
    const store = await openCliStore(values.store);
    const other = typeof values.against === 'string' ? await openCliStore(values.against) : undefined;
    try {
      const report = await verifyTenant(store, tenant, {
        compareWith: other,
        onProgress: (n) => {
          if (n % 10_000 === 0) io.err(`checked ${n} records...`);
        },
      });
      for (const bad of report.invalid.slice(0, 20)) io.out(`does not verify: ${bad}`);
      for (const bad of report.mismatched.slice(0, 20)) io.out(`differs: ${bad}`);
      io.out(
        `${report.checked} records checked, ${report.invalid.length} invalid, ${report.mismatched.length} mismatched`,
      );
      return report.invalid.length === 0 && report.mismatched.length === 0 ? 0 : 1;
    } finally {
      await store.close();
      await other?.close();
    }
  },
};
