import type { Command } from './command';
import { CREATE_HELP, CREATE_OPTION, intOption, openCliStore, requireTenant } from './open';

export const command: Command = {
  path: ['seed'],
  summary: 'write a deterministic demo dataset for a tenant',
  help: `Usage: hub seed --tenant <id> [--store <uri>] [--seed <n>] [--days <n>] [--per-day <n>] [--start <date>] [--create]

Writes generated records (profiles with promotions, outputs, decisions, governance
events, artifacts, telemetry) for one tenant. The same options always produce the
same records, so running it twice reports duplicates and writes nothing new.

Options:
  --tenant <id>    tenant to seed (required)
  --store <uri>    store URI (default: HUB_PG_URL, else pglite:<HUB_DATA_DIR>)
  --seed <n>       generator seed (default 42)
  --days <n>       days of activity (default 90)
  --per-day <n>    average outputs per day (default 30)
  --start <date>   first day, RFC 3339 (default: <days> days before today, UTC midnight)
${CREATE_HELP}

Example:
  hub seed --tenant demo --store memory: --days 30`,
  options: {
    tenant: { type: 'string' },
    store: { type: 'string' },
    seed: { type: 'string' },
    days: { type: 'string' },
    'per-day': { type: 'string' },
    start: { type: 'string' },
    ...CREATE_OPTION,
  },
  async run({ values }, io) {
    const tenant = requireTenant(values.tenant);
    const { Hub } = require('../hub/hub') as typeof import('../hub/hub');
    const { generateDataset } = require('../seed/generator') as typeof import('../seed/generator');
    const { windowStart, writeDataset } =
      require('../seed/write-dataset') as typeof import('../seed/write-dataset');
    const days = intOption(values.days, 'days', 90);
    const start = typeof values.start === 'string' ? values.start : windowStart(days);
    const data = generateDataset({
      seed: intOption(values.seed, 'seed', 42),
      days,
      outputsPerDay: intOption(values['per-day'], 'per-day', 30),
      start,
    });
    const store = await openCliStore(values.store, { create: values.create === true });
    try {
      const { created, duplicates } = await writeDataset(new Hub(store), tenant, data, {
        onType: (type, count) => io.out(`${type}: ${count}`),
      });
      io.out(`seeded tenant ${tenant}: ${created} created, ${duplicates} already present`);
      return 0;
    } finally {
      await store.close();
    }
  },
};
