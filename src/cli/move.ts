/**
 * `hub move create|status|verify|switch|reverse|complete|cancel`: tenant moves
 * between stores (src/move/move.ts), durable in the control plane; every
 * command can be re-run after a crash and continues where it stopped.
 */
import { readConfig } from '../config';
import type { TenantId } from '../hub/tenant';
import type { Mover } from '../move/move';
import type { CliIO, Command } from './command';
import { UsageError } from './command';
import { requireTenant } from './open';
import { progressSink } from './progress-output';

const COMMON = `
The move's state lives in the control plane (HUB_CONTROL_URL, else the
HUB_PG_URL database, else <HUB_DATA_DIR>/control.json); gateway replicas
following it apply each change within a second. Progress goes to stderr: a bar
on a terminal, JSON lines otherwise or with --json. See docs/moves.md.`;

async function withMover(
  io: CliIO,
  json: boolean,
  fn: (mover: Mover, tenant: TenantId) => Promise<number>,
  tenant: TenantId,
): Promise<number> {
  const { openMover } = require('../move/deps') as typeof import('../move/deps');
  const opened = await openMover(readConfig(), { onProgress: progressSink(io, json) });
  try {
    return await fn(opened.mover, tenant);
  } finally {
    await opened.close();
  }
}

function redact(uri: string): string {
  const { redactUri } = require('../stores/driver') as typeof import('../stores/driver');
  return redactUri(uri);
}

const tenantOption = { tenant: { type: 'string' as const }, json: { type: 'boolean' as const } };

export const createCommand: Command = {
  path: ['move', 'create'],
  summary: 'start moving a tenant to another store (copies; re-run resumes)',
  help: `Usage: hub move create --tenant <id> --to <uri> [--mode online|read-only] [--json]

Copies every record of the tenant from its current primary to <uri>, per
record type in scan order, with provenance re-verified and hashes kept. The
position is committed after every batch: after a crash, run the same command
again and it resumes there. When the copy ends the move is 'replicating'.

--mode online (default): the tenant keeps taking writes; they are captured in
the primary's outbox and replayed to the target (needs a store with an outbox,
e.g. PostgreSQL). --mode read-only: writes continue until 'hub move switch',
which makes the tenant read-only for its final sync.
${COMMON}`,
  options: { ...tenantOption, to: { type: 'string' }, mode: { type: 'string' } },
  async run({ values }, io) {
    const tenant = requireTenant(values.tenant);
    if (typeof values.to !== 'string' || values.to === '') throw new UsageError('--to is required');
    const mode = (values.mode ?? 'online') as string;
    if (mode !== 'online' && mode !== 'read-only') throw new UsageError('--mode must be online or read-only');
    const to = values.to;
    return withMover(
      io,
      values.json === true,
      async (mover) => {
        const move = await mover.create(tenant, to, mode);
        io.out(`move of tenant ${tenant} to ${redact(move.target)}: ${move.phase} (${move.mode})`);
        io.out(`next: 'hub move verify --tenant ${tenant}', then 'hub move switch --tenant ${tenant}'`);
        return 0;
      },
      tenant,
    );
  },
};

export const statusCommand: Command = {
  path: ['move', 'status'],
  summary: "show a tenant's move: phase, copy progress, replication lag, replicas",
  help: `Usage: hub move status --tenant <id> [--json]
${COMMON}`,
  options: tenantOption,
  async run({ values }, io) {
    const tenant = requireTenant(values.tenant);
    return withMover(
      io,
      true,
      async (mover) => {
        const s = await mover.status(tenant);
        if (values.json) {
          const redacted = s.move
            ? { ...s.move, source: redact(s.move.source), target: redact(s.move.target) }
            : null;
          io.out(
            JSON.stringify({
              ...s,
              move: redacted,
              tenant: s.tenant
                ? {
                    ...s.tenant,
                    primary: redact(s.tenant.primary),
                    ...(s.tenant.replica ? { replica: redact(s.tenant.replica) } : {}),
                  }
                : null,
            }),
          );
          return 0;
        }
        if (!s.move) {
          io.out(`tenant ${tenant} has no move`);
          return 0;
        }
        const m = s.move;
        io.out(`tenant:    ${tenant}`);
        io.out(`move:      ${redact(m.source)} -> ${redact(m.target)} (${m.mode})`);
        io.out(
          `phase:     ${m.phase}${m.step ? ` (interrupted in ${m.step}: re-run the last command)` : ''}`,
        );
        io.out(`primary:   ${m.primaryIs}`);
        io.out(`copied:    ${s.copied}${s.total === undefined ? '' : ` of ${s.total}`} records`);
        if (s.lag) io.out(`lag:       ${s.lag.pending} writes waiting, oldest ${s.lag.seconds.toFixed(1)} s`);
        if (s.tenant) io.out(`state:     ${s.tenant.state}${s.tenant.fenced ? ' (fenced)' : ''}`);
        io.out(
          `replicas:  ${s.replicas.length === 0 ? 'none live' : s.replicas.map((r) => `${r.id}@${r.version}`).join(', ')}`,
        );
        if (m.error) io.out(`last error: ${m.error}`);
        return 0;
      },
      tenant,
    );
  },
};

export const verifyCommand: Command = {
  path: ['move', 'verify'],
  summary: "compare a moving tenant's two stores record by record (names each difference)",
  help: `Usage: hub move verify --tenant <id> [--json]

Streams both stores in scan order and compares them record by record in
constant memory, recomputing every provenance hash; prints every record
missing, extra or different. During an online move, writes still in the
replication lag show as missing until shipped (see 'hub move status').
Exit code 1 when anything differs.
${COMMON}`,
  options: tenantOption,
  async run({ values }, io) {
    const tenant = requireTenant(values.tenant);
    const { describeDifference, isClean } =
      require('../migrate/compare') as typeof import('../migrate/compare');
    return withMover(
      io,
      values.json === true,
      async (mover) => {
        const report = await mover.verify(tenant, (d) => io.out(describeDifference(d)));
        io.out(
          `${report.source} records in the primary, ${report.target} in the other store: ${report.missing} missing, ${report.extra} extra, ${report.differs} different, ${report.invalid} invalid`,
        );
        return isClean(report) ? 0 : 1;
      },
      tenant,
    );
  },
};

function stepCommand(
  name: 'switch' | 'reverse' | 'complete' | 'cancel',
  summary: string,
  help: string,
  run: (mover: Mover, tenant: TenantId, values: Record<string, unknown>) => Promise<string>,
  extra: Command['options'] = {},
): Command {
  return {
    path: ['move', name],
    summary,
    help: `Usage: hub move ${name} --tenant <id>${Object.keys(extra)
      .map((k) => ` [--${k}]`)
      .join('')}\n\n${help}\n${COMMON}`,
    options: { ...tenantOption, ...extra },
    async run({ values }, io) {
      const tenant = requireTenant(values.tenant);
      return withMover(
        io,
        values.json === true,
        async (mover) => {
          io.out(await run(mover, tenant, values));
          return 0;
        },
        tenant,
      );
    },
  };
}

export const switchCommand = stepCommand(
  'switch',
  'make the target the tenant primary (short write fence, or read-only final sync)',
  `Online: fences the tenant's writes, waits until every live gateway replica
enforces the fence, drains the replication lag to zero, makes the target the
primary and lifts the fence in one change; writes made on the new primary are
replicated back to the old one so 'hub move reverse' loses nothing.
Read-only: the tenant is read-only while the final sync copies what the
target lacks, then the target becomes the primary.`,
  async (mover, tenant) => {
    const { move, fenceMs } = await mover.switch(tenant);
    return `tenant ${tenant} now runs on ${redact(move.target)} (writes refused for ${fenceMs} ms)`;
  },
);

export const reverseCommand = stepCommand(
  'reverse',
  'after a switch: make the source the primary again (nothing lost)',
  'The switch procedure the other way; the move is replicating again and can be switched or cancelled.',
  async (mover, tenant) => {
    const { move, fenceMs } = await mover.reverse(tenant);
    return `tenant ${tenant} runs on ${redact(move.source)} again (writes refused for ${fenceMs} ms)`;
  },
);

export const completeCommand = stepCommand(
  'complete',
  'after a switch: end the move (replication stops; the source copy is left)',
  "The target stays the primary and the tenant is active. The tenant's records on the old store are left in place.",
  async (mover, tenant) => {
    const move = await mover.complete(tenant);
    return `move of tenant ${tenant} completed: primary ${redact(move.target)}`;
  },
);

export const cancelCommand = stepCommand(
  'cancel',
  'abandon a move that has not switched (the tenant stays on its source)',
  'With --purge-target, deletes the records copied to the target.',
  async (mover, tenant, values) => {
    await mover.cancel(tenant, { purgeTarget: values['purge-target'] === true });
    return `move of tenant ${tenant} cancelled`;
  },
  { 'purge-target': { type: 'boolean' } },
);
