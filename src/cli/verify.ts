import type { Command } from './command';
import { defaultStoreUri, openCliStore, requireTenant } from './open';
import { progressSink } from './progress-output';

export const command: Command = {
  path: ['verify'],
  summary: 're-verify the provenance of every record of a tenant (optionally against another store)',
  help: `Usage: hub verify --tenant <id> [--store <uri>] [--against <uri>] [--json]

Reads every record of the tenant and recomputes its provenance hash (and each
artifact body's SHA-256). With --against, also compares both stores record by
record in scan order, naming every record missing, extra or different. Memory
use does not grow with the tenant (both sides are streamed). Progress goes to
stderr: a bar on a terminal, JSON lines otherwise or with --json. Exit code 1
when anything does not verify, or when the tenant has no records at all in
--store (an unknown tenant: nothing was verified).

Options:
  --tenant <id>     tenant to verify (required)
  --store <uri>     store URI (default: HUB_PG_URL, else pglite:<HUB_DATA_DIR>)
  --against <uri>   a second store that must hold the same records
  --json            progress as JSON lines even on a terminal`,
  options: {
    tenant: { type: 'string' },
    store: { type: 'string' },
    against: { type: 'string' },
    json: { type: 'boolean' },
  },
  async run({ values }, io) {
    const tenant = requireTenant(values.tenant);
    const { verifyTenant } = require('../migrate/migrate') as typeof import('../migrate/migrate');
    const { redactUri } = require('../stores/driver') as typeof import('../stores/driver');
    const storeUri =
      typeof values.store === 'string' && values.store !== '' ? values.store : defaultStoreUri();
    const store = await openCliStore(storeUri);
    const other =
      typeof values.against === 'string'
        ? await openCliStore(values.against).catch(async (err: unknown) => {
            await store.close();
            throw err;
          })
        : undefined;
    try {
      let problems = 0;
      const report = await verifyTenant(store, tenant, {
        compareWith: other,
        onEvent: progressSink(io, values.json === true),
        keep: 0,
        onProblem: (line) => {
          problems++;
          // The checked store is the comparison's source side, --against its target side.
          io.out(
            line
              .replace('missing in target', 'missing in --against store')
              .replace('extra in target', 'missing in --store')
              .replace('in source', 'in --store')
              .replace('in target', 'in --against store'),
          );
        },
      });
      io.out(`${report.checked} records checked, ${problems} problem${problems === 1 ? '' : 's'}`);
      if (report.checked === 0 && problems === 0) {
        // Nothing verified is not a pass: a mistyped or unknown tenant has no records.
        io.err(
          `hub verify: tenant ${tenant} has no records in ${redactUri(storeUri)}: an unknown tenant (or the wrong --store), nothing verified`,
        );
        return 1;
      }
      return problems === 0 ? 0 : 1;
    } finally {
      await store.close();
      await other?.close();
    }
  },
};
