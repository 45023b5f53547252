import { readConfig } from '../config';
import type { Command } from './command';
import { UsageError } from './command';
import { requireTenant } from './open';

/** The counters in the order they are shown, with their column titles. */
const COLUMNS = [
  ['requests', 'requests'],
  ['errors', 'errors'],
  ['cost_units', 'cost units'],
  ['rows_read', 'rows read'],
  ['rollups', 'rollups'],
  ['bytes_ingested', 'bytes ingested'],
] as const;

function instant(value: unknown, name: string, fallback: number): number {
  if (value === undefined) return fallback;
  const ms = Date.parse(String(value));
  if (Number.isNaN(ms)) throw new UsageError(`--${name} must be a date-time (e.g. 2026-03-01T00:00:00Z)`);
  return ms;
}

export const command: Command = {
  path: ['usage'],
  summary: "a tenant's usage per minute (requests, errors, cost units, rows read, rollups, bytes ingested)",
  help: `Usage: hub usage --tenant <id> [--from <date-time>] [--to <date-time>] [--json]

Prints the tenant's usage per UTC minute over [from, to) as the gateways
flushed it (every HUB_USAGE_FLUSH_SECONDS, default 60), from the usage table of
HUB_USAGE_URL, else HUB_PG_URL, else the PGlite in HUB_DATA_DIR (while no
gateway holds it open: with PGlite use the GraphQL query 'usage' instead).
Minutes without traffic are left out; the last line is the total.

Options:
  --tenant <id>        tenant (required)
  --from <date-time>   start, inclusive (default: 24 hours before --to)
  --to <date-time>     end, exclusive (default: now)
  --json               one JSON object: the minutes and the total

Examples:
  hub usage --tenant acme
  hub usage --tenant acme --from 2026-03-01T00:00:00Z --to 2026-03-02T00:00:00Z --json`,
  options: {
    tenant: { type: 'string' },
    from: { type: 'string' },
    to: { type: 'string' },
    json: { type: 'boolean' },
  },
  async run({ values }, io) {
    const tenant = requireTenant(values.tenant);
    const to = instant(values.to, 'to', Date.now());
    const from = instant(values.from, 'from', to - 24 * 3600 * 1000);
    const { MAX_USAGE_RANGE_MS } = require('../platform/usage') as typeof import('../platform/usage');
    if (from > to) throw new UsageError('--from must not be after --to');
    if (to - from > MAX_USAGE_RANGE_MS) throw new UsageError('--to must be at most 31 days after --from');
    const config = readConfig();
    const uri = config.usage.url ?? config.pgUrl ?? `pglite:${config.dataDir}`;
    const { driverFor } = require('../stores') as typeof import('../stores');
    const { redactUri } = require('../stores/driver') as typeof import('../stores/driver');
    const open = driverFor(uri).openUsage;
    if (!open) throw new UsageError(`${redactUri(uri)} keeps no usage: set HUB_USAGE_URL to a PostgreSQL`);
    const sink = await open(uri);
    try {
      const rows = await sink.read(tenant, new Date(from).toISOString(), new Date(to).toISOString());
      const total: Record<string, number> = {};
      for (const [key] of COLUMNS) total[key] = rows.reduce((n, r) => n + r[key], 0);
      if (values.json === true) {
        io.out(
          JSON.stringify({
            tenant,
            from: new Date(from).toISOString(),
            to: new Date(to).toISOString(),
            minutes: rows,
            total,
          }),
        );
        return 0;
      }
      const table = [
        ['minute (UTC)', ...COLUMNS.map(([, title]) => title)],
        ...rows.map((r) => [
          r.minute.slice(0, 16).replace('T', ' '),
          ...COLUMNS.map(([key]) => String(r[key])),
        ]),
        ['total', ...COLUMNS.map(([key]) => String(total[key]))],
      ];
      const widths = table[0]?.map((_c, i) => Math.max(...table.map((row) => (row[i] ?? '').length))) ?? [];
      for (const row of table) {
        io.out(
          row
            .map((cell, i) => (i === 0 ? cell.padEnd(widths[i] ?? 0) : cell.padStart(widths[i] ?? 0)))
            .join('  '),
        );
      }
      return 0;
    } finally {
      await sink.close();
    }
  },
};
