/**
 * `hub move create|status|verify|switch|reverse|complete|cancel`: tenant moves
 * between stores (src/move/move.ts), durable in the control plane; every
 * command can be re-run after a crash and continues where it stopped.
 */
import { readConfig } from '../config';
import { HubError } from '../hub/errors';
import type { TenantId } from '../hub/tenant';
import type { MoveRecord } from '../control/control-plane';
import type { CompareReport } from '../migrate/compare';
import type { Mover, MoveStatus } from '../move/move';
import type { CliIO, Command } from './command';
import { UsageError } from './command';
import { requireTenant } from './open';
import { progressSink } from './progress-output';

const COMMON = `
The move's state lives in the control plane (HUB_CONTROL_URL, else the
HUB_PG_URL database, else <HUB_DATA_DIR>/control.json); gateway replicas
following it apply each change within a second. Progress goes to stderr: a bar
on a terminal, JSON lines otherwise or with --json. See docs/moves.md.

--via <url>: the gateway at <url> runs the step (POST /admin/move/<step>), as
while 'npm start' holds the embedded store's folder. Its token: HUB_TOKEN (a
bearer token with hub:admin for the tenant), else one minted for 15 minutes
from HUB_AUTH_JWT_SECRET or the development secret in HUB_DATA_DIR. A step
keeps running on the gateway if this command stops: run it again to resume.`;

/** One command's call: where it runs and how it reports. */
interface StepCall {
  readonly io: CliIO;
  readonly tenant: TenantId;
  readonly json: boolean;
  /** The gateway running the step (`--via`), else this process. */
  readonly via?: string;
}

function stepCall(values: Record<string, unknown>, io: CliIO, json = values.json === true): StepCall {
  const tenant = requireTenant(values.tenant);
  if (values.via === undefined) return { io, tenant, json };
  const { parseGatewayUrl } = require('./move-gateway') as typeof import('./move-gateway');
  parseGatewayUrl(String(values.via));
  return { io, tenant, json, via: String(values.via) };
}

/**
 * Runs a step here, with a {@link Mover} over this machine's control plane
 * and stores (`here`), or on the gateway named by `--via` (`step` and `body`
 * posted to it, its result turned into the same shape by `there`).
 */
async function runStep<T>(
  call: StepCall,
  step: string,
  body: Record<string, unknown>,
  here: (mover: Mover) => Promise<T>,
  there: (result: Record<string, unknown>) => T,
): Promise<T> {
  const onProgress = progressSink(call.io, call.json);
  if (call.via === undefined) {
    const { openMover } = require('../move/deps') as typeof import('../move/deps');
    const opened = await openMover(readConfig(), { onProgress });
    try {
      return await here(opened.mover);
    } finally {
      await opened.close();
    }
  }
  const { runOnGateway, tokenFor } = require('./move-gateway') as typeof import('./move-gateway');
  const { mintConfiguredToken } = require('./token') as typeof import('./token');
  const config = readConfig();
  const token = await tokenFor(call.tenant, {
    ...(process.env.HUB_TOKEN !== undefined ? { env: process.env.HUB_TOKEN } : {}),
    mint: (tenant, ttlSeconds) =>
      mintConfiguredToken(config, { tenant, scopes: ['hub:admin'], ttlSeconds, subject: 'hub-cli' }),
  });
  const result = await runOnGateway({
    via: call.via,
    step,
    body: { tenant: call.tenant, ...body },
    token,
    onProgress,
  });
  return there(result);
}

function gatewayResult<T>(result: Readonly<Record<string, unknown>>, step: string, key: string): T {
  const { resultObject } = require('./move-gateway') as typeof import('./move-gateway');
  return resultObject<T>(result, step, key);
}

function redact(uri: string): string {
  const { redactUri } = require('../stores/driver') as typeof import('../stores/driver');
  return redactUri(uri);
}

const tenantOption = {
  tenant: { type: 'string' as const },
  json: { type: 'boolean' as const },
  via: { type: 'string' as const },
};

/** Where a `--via` usage line says the option goes. */
const VIA = ' [--via <gateway url>]';

export const createCommand: Command = {
  path: ['move', 'create'],
  summary: 'start moving a tenant to another store (copies; re-run resumes)',
  help: `Usage: hub move create --tenant <id> --to <uri> [--mode online|read-only] [--json]${VIA}

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
    const call = stepCall(values, io);
    if (typeof values.to !== 'string' || values.to === '') throw new UsageError('--to is required');
    const mode = (values.mode ?? 'online') as string;
    if (mode !== 'online' && mode !== 'read-only') throw new UsageError('--mode must be online or read-only');
    const to = values.to;
    const move = await runStep(
      call,
      'create',
      { to, mode },
      (mover) => mover.create(call.tenant, to, mode),
      (result) => gatewayResult<MoveRecord>(result, 'create', 'move'),
    );
    const { tenant } = call;
    const via = call.via === undefined ? '' : ` --via ${call.via}`;
    io.out(`move of tenant ${tenant} to ${redact(move.target)}: ${move.phase} (${move.mode})`);
    io.out(
      `next: 'hub move verify --tenant ${tenant}${via}', then 'hub move switch --tenant ${tenant}${via}'`,
    );
    return 0;
  },
};

export const statusCommand: Command = {
  path: ['move', 'status'],
  summary: "show a tenant's move: phase, copy progress, replication lag, replicas",
  help: `Usage: hub move status --tenant <id> [--json]${VIA}
${COMMON}`,
  options: tenantOption,
  async run({ values }, io) {
    const call = stepCall(values, io, true);
    const { tenant } = call;
    const s = await runStep(
      call,
      'status',
      {},
      (mover) => mover.status(tenant),
      // `move` is null when the tenant has none; the rest is the status as the gateway's Mover built it.
      (result) => result as unknown as MoveStatus,
    );
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
    io.out(`phase:     ${m.phase}${m.step ? ` (interrupted in ${m.step}: re-run the last command)` : ''}`);
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
};

export const verifyCommand: Command = {
  path: ['move', 'verify'],
  summary: "compare a moving tenant's two stores record by record (names each difference)",
  help: `Usage: hub move verify --tenant <id> [--json]${VIA}

Streams both stores in scan order and compares them record by record in
constant memory, recomputing every provenance hash; prints every record
missing, extra or different (through a gateway, the first 100 of them and the
counts of all). During an online move, writes still in the replication lag
show as missing until shipped (see 'hub move status').
Exit code 1 when anything differs.
${COMMON}`,
  options: tenantOption,
  async run({ values }, io) {
    const call = stepCall(values, io);
    const { describeDifference, isClean } =
      require('../migrate/compare') as typeof import('../migrate/compare');
    const report = await runStep(
      call,
      'verify',
      {},
      (mover) => mover.verify(call.tenant, (d) => io.out(describeDifference(d))),
      (result) => {
        // The gateway lists the first differences in the report; here they are printed as they come.
        const r = gatewayResult<CompareReport>(result, 'verify', 'report');
        if (!Array.isArray(r.first))
          throw new HubError('INTERNAL', "the gateway's verify report lists no differences");
        for (const d of r.first) io.out(describeDifference(d));
        const all = r.missing + r.extra + r.differs + r.invalid;
        if (all > r.first.length)
          io.out(
            `... and ${all - r.first.length} more differences (the gateway lists the first ${r.first.length})`,
          );
        return r;
      },
    );
    io.out(
      `${report.source} records in the primary, ${report.target} in the other store: ${report.missing} missing, ${report.extra} extra, ${report.differs} different, ${report.invalid} invalid`,
    );
    return isClean(report) ? 0 : 1;
  },
};

/** What the steps after the copy answer: the move, and the fence's length for a switch. */
interface StepOutcome {
  readonly move: MoveRecord;
  readonly fenceMs?: number;
}

function stepCommand(
  name: 'switch' | 'reverse' | 'complete' | 'cancel',
  summary: string,
  help: string,
  here: (mover: Mover, tenant: TenantId, values: Record<string, unknown>) => Promise<StepOutcome>,
  describe: (outcome: StepOutcome, tenant: TenantId) => string,
  extra: { readonly flag: string; readonly field: string } | undefined = undefined,
): Command {
  return {
    path: ['move', name],
    summary,
    help: `Usage: hub move ${name} --tenant <id>${extra ? ` [--${extra.flag}]` : ''}${VIA}\n\n${help}\n${COMMON}`,
    options: { ...tenantOption, ...(extra ? { [extra.flag]: { type: 'boolean' as const } } : {}) },
    async run({ values }, io) {
      const call = stepCall(values, io);
      const body = extra ? { [extra.field]: values[extra.flag] === true } : {};
      const outcome = await runStep(
        call,
        name,
        body,
        (mover) => here(mover, call.tenant, values),
        (result) => ({ ...result, move: gatewayResult<MoveRecord>(result, name, 'move') }) as StepOutcome,
      );
      io.out(describe(outcome, call.tenant));
      return 0;
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
  (mover, tenant) => mover.switch(tenant),
  ({ move, fenceMs }, tenant) =>
    `tenant ${tenant} now runs on ${redact(move.target)} (writes refused for ${fenceMs} ms)`,
);

export const reverseCommand = stepCommand(
  'reverse',
  'after a switch: make the source the primary again (nothing lost)',
  'The switch procedure the other way; the move is replicating again and can be switched or cancelled.',
  (mover, tenant) => mover.reverse(tenant),
  ({ move, fenceMs }, tenant) =>
    `tenant ${tenant} runs on ${redact(move.source)} again (writes refused for ${fenceMs} ms)`,
);

export const completeCommand = stepCommand(
  'complete',
  'after a switch: end the move (replication stops; the source copy is left)',
  "The target stays the primary and the tenant is active. The tenant's records on the old store are left in place.",
  async (mover, tenant) => ({ move: await mover.complete(tenant) }),
  ({ move }, tenant) => `move of tenant ${tenant} completed: primary ${redact(move.target)}`,
);

export const cancelCommand = stepCommand(
  'cancel',
  'abandon a move that has not switched (the tenant stays on its source)',
  'With --purge-target, deletes the records copied to the target.',
  async (mover, tenant, values) => ({
    move: await mover.cancel(tenant, { purgeTarget: values['purge-target'] === true }),
  }),
  (_outcome, tenant) => `move of tenant ${tenant} cancelled`,
  { flag: 'purge-target', field: 'purgeTarget' },
);
