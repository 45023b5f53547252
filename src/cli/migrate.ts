import { UsageError } from './command';
import type { Command } from './command';
import { CREATE_HELP, CREATE_OPTION, intOption, openCliStore, requireTenant } from './open';

export const command: Command = {
  path: ['migrate'],
  summary: 'copy a tenant between backends with provenance preserved, then verify',
  help: `Usage: hub migrate --tenant <id> --from <uri> --to <uri> [--page-size <n>] [--create]

Copies every record of the tenant from one store to another in scan order. Each
record's hash is re-verified before it is written and the target keeps it
unchanged. Safe to re-run after a failure: records already copied are reported
as duplicates. Ends by comparing both stores record by record.

Options:
  --tenant <id>      tenant to copy (required)
  --from <uri>       source store (required)
  --to <uri>         target store (required)
  --page-size <n>    records per read and write (default 1000)
${CREATE_HELP.replace('the store', 'the target')}

Example:
  hub migrate --tenant acme --from pglite:./.hub-data --to postgres://hub@db/hub`,
  options: {
    tenant: { type: 'string' },
    from: { type: 'string' },
    to: { type: 'string' },
    'page-size': { type: 'string' },
    ...CREATE_OPTION,
  },
  async run({ values }, io) {
    const tenant = requireTenant(values.tenant);
    if (typeof values.from !== 'string' || typeof values.to !== 'string')
      throw new UsageError('--from and --to are required');
    if (values.from === values.to) throw new UsageError('--from and --to name the same store');
    const { migrateTenant } = require('../migrate/migrate') as typeof import('../migrate/migrate');
    const source = await openCliStore(values.from);
    const target = await openCliStore(values.to, { create: values.create === true }).catch(
      async (err: unknown) => {
        await source.close();
        throw err;
      },
    );
    try {
      const report = await migrateTenant(source, target, tenant, {
        pageSize: intOption(values['page-size'], 'page-size', 1000),
        onProgress: (p) => io.err(`${p.type}: ${p.copied} copied, ${p.duplicates} already there`),
        // Every record the final comparison finds different, by name (the error names the first few).
        onProblem: (line) =>
          io.out(
            line
              // The comparison checks --to against --from: its "target" side is --from.
              .replace('missing in target', 'missing in --from')
              .replace('extra in target', 'missing in --to')
              .replace('in source', 'in --to')
              .replace('in target', 'in --from'),
          ),
      });
      io.out(
        `migrated tenant ${tenant}: ${report.total} records, ${report.verification.checked} verified in the target`,
      );
      return 0;
    } finally {
      await source.close();
      await target.close();
    }
  },
};
