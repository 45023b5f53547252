import { Hub } from '../hub/hub';
import type { RecordType } from '../hub/model';
import { generateDataset } from '../seed/generator';
import type { Command } from './command';
import { intOption, openCliStore, requireTenant } from './open';

export const command: Command = {
  path: ['seed'],
  summary: 'write a deterministic demo dataset for a tenant',
  help: `Usage: hub seed --tenant <id> [--store <uri>] [--seed <n>] [--days <n>] [--per-day <n>] [--start <date>]

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

Example:
  hub seed --tenant demo --store memory: --days 30`,
  options: {
    tenant: { type: 'string' },
    store: { type: 'string' },
    seed: { type: 'string' },
    days: { type: 'string' },
    'per-day': { type: 'string' },
    start: { type: 'string' },
  },
  async run({ values }, io) {
    const tenant = requireTenant(values.tenant);
    const days = intOption(values.days, 'days', 90);
    const today = Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), new Date().getUTCDate());
    const start =
      typeof values.start === 'string' ? values.start : new Date(today - days * 86_400_000).toISOString();
    const data = generateDataset({
      seed: intOption(values.seed, 'seed', 42),
      days,
      outputsPerDay: intOption(values['per-day'], 'per-day', 30),
      start,
    });
    const store = await openCliStore(values.store);
    try {
      const hub = new Hub(store);
      let created = 0;
      let duplicates = 0;
      for (const [type, inputs] of Object.entries(data) as [RecordType, unknown[]][]) {
        for (let i = 0; i < inputs.length; i += 1000) {
          const results = await hub.record(tenant, type, inputs.slice(i, i + 1000));
          for (const r of results) {
            if (r.status === 'error') throw r.error;
            if (r.status === 'created') created++;
            else duplicates++;
          }
        }
        io.out(`${type}: ${inputs.length}`);
      }
      io.out(`seeded tenant ${tenant}: ${created} created, ${duplicates} already present`);
      return 0;
    } finally {
      await store.close();
    }
  },
};
