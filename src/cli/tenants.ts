/**
 * `hub tenants list|show|set`: the control plane's tenant entries (primary
 * store and state), which every gateway replica applies within a second.
 */
import { readConfig } from '../config';
import type { CliIO, Command } from './command';
import { UsageError } from './command';
import { requireTenant } from './open';

const STATES = ['active', 'read-only'];

async function withPlane<T>(
  fn: (plane: import('../control/control-plane').ControlPlane) => Promise<T>,
): Promise<T> {
  const { controlUri, openControlPlane } = require('../control/open') as typeof import('../control/open');
  const plane = await openControlPlane(controlUri(readConfig()).uri);
  try {
    return await fn(plane);
  } finally {
    await plane.close();
  }
}

function redact(uri: string): string {
  const { redactUri } = require('../stores/driver') as typeof import('../stores/driver');
  return redactUri(uri);
}

function printEntry(io: CliIO, e: import('../control/control-plane').TenantEntry): void {
  io.out(`tenant:    ${e.id}`);
  io.out(`primary:   ${redact(e.primary)}`);
  if (e.analytics) io.out(`analytics: ${redact(e.analytics)}`);
  io.out(`state:     ${e.state}${e.fenced ? ' (writes fenced: a move is switching)' : ''}`);
  if (e.replica) io.out(`replica:   ${redact(e.replica)} (a move replicates writes there)`);
  io.out(`version:   ${e.version}`);
}

export const listCommand: Command = {
  path: ['tenants', 'list'],
  summary: 'list the tenants the control plane knows, with primary and state',
  help: `Usage: hub tenants list [--json]

Lists the control plane's tenant entries (HUB_CONTROL_URL, else the HUB_PG_URL
database, else <HUB_DATA_DIR>/control.json). Tenants only in HUB_CONFIG or
served by the HUB_PG_URL catch-all are not listed: they are active on their
configured store.`,
  options: { json: { type: 'boolean' } },
  async run({ values }, io) {
    return withPlane(async (plane) => {
      const snap = await plane.snapshot();
      if (values.json) {
        io.out(
          JSON.stringify({
            version: snap.version,
            tenants: snap.tenants.map((t) => ({
              ...t,
              primary: redact(t.primary),
              ...(t.replica ? { replica: redact(t.replica) } : {}),
            })),
          }),
        );
        return 0;
      }
      if (snap.tenants.length === 0) io.out('no tenant entries in the control plane');
      for (const t of snap.tenants)
        io.out(`${t.id.padEnd(20)} ${t.state.padEnd(10)}${t.fenced ? ' fenced' : ''} ${redact(t.primary)}`);
      return 0;
    });
  },
};

export const showCommand: Command = {
  path: ['tenants', 'show'],
  summary: "show one tenant's control plane entry",
  help: `Usage: hub tenants show --tenant <id>`,
  options: { tenant: { type: 'string' } },
  async run({ values }, io) {
    const tenant = requireTenant(values.tenant);
    return withPlane(async (plane) => {
      const e = await plane.getTenant(tenant);
      if (!e) {
        io.out(`tenant ${tenant} has no control plane entry (served as HUB_CONFIG / HUB_PG_URL say)`);
        return 0;
      }
      printEntry(io, e);
      return 0;
    });
  },
};

export const setCommand: Command = {
  path: ['tenants', 'set'],
  summary: "set a tenant's primary store or state (active, read-only) in the control plane",
  help: `Usage: hub tenants set --tenant <id> [--primary <uri>] [--analytics <uri>] [--state active|read-only]

Writes the tenant's entry; every gateway replica applies it within a second.
A read-only tenant's writes are refused with READ_ONLY (HTTP 503, Retry-After)
while reads are served. Changing the primary does not copy data: use
'hub move' to move a tenant. Refused while a move of the tenant is in progress.

Options:
  --tenant <id>       tenant (required)
  --primary <uri>     primary store (default: the current one, or the configured one)
  --analytics <uri>   analytics store
  --state <s>         active | read-only`,
  options: {
    tenant: { type: 'string' },
    primary: { type: 'string' },
    analytics: { type: 'string' },
    state: { type: 'string' },
  },
  async run({ values }, io) {
    const tenant = requireTenant(values.tenant);
    if (values.state !== undefined && !STATES.includes(String(values.state)))
      throw new UsageError(`--state must be one of ${STATES.join(', ')}`);
    return withPlane(async (plane) => {
      const move = await plane.getMove(tenant);
      if (move && move.phase !== 'completed' && move.phase !== 'cancelled')
        throw new UsageError(`tenant ${tenant} is being moved (${move.phase}): use 'hub move' commands`);
      const current = await plane.getTenant(tenant);
      const { configuredPrimary } = require('../move/deps') as typeof import('../move/deps');
      const primary =
        (values.primary as string | undefined) ??
        current?.primary ??
        (await configuredPrimary(readConfig(), tenant));
      if (!primary) throw new UsageError(`tenant ${tenant} has no configured store: give --primary`);
      const { driverFor } = require('../stores') as typeof import('../stores');
      driverFor(primary);
      const analytics = (values.analytics as string | undefined) ?? current?.analytics;
      const version = await plane.commit({
        tenant: {
          id: tenant,
          primary,
          ...(analytics ? { analytics } : {}),
          state:
            (values.state as 'active' | 'read-only' | undefined) ??
            (current?.state === 'read-only' ? 'read-only' : 'active'),
        },
      });
      const e = await plane.getTenant(tenant);
      if (e) printEntry(io, e);
      io.out(`control plane version ${version}: gateways apply it within a second`);
      return 0;
    });
  },
};
