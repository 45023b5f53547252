/**
 * Tenant moves run inside the serving gateway (`POST /admin/move/<step>`,
 * see src/http/admin.ts): the same {@link Mover} as `hub move`, over this
 * process's control plane and stores. It is how the embedded store moves
 * while `npm start` holds its folder (PGlite allows one process), and works
 * the same on any gateway following a control plane.
 *
 * Steps: `create` (`to`, `mode`), `status`, `verify`, `switch`, `reverse`,
 * `complete`, `cancel` (`purgeTarget`). The tenant moved is the caller's own
 * (a `tenant` in the body must name it); store URIs in answers are shown
 * without credentials.
 */
import type { HubConfig } from '../config';
import type { ControlPlane, MoveRecord } from '../control/control-plane';
import { HubError, unreachable } from '../hub/errors';
import type { TenantId } from '../hub/tenant';
import type { Difference } from '../migrate/compare';
import { configuredPrimary } from '../move/deps';
import { Mover } from '../move/move';
import { openStore } from '../stores';
import { redactUri } from '../stores/driver';
import type { AdminActions, AdminCall } from '../http/admin';

/** Longest target URI accepted. */
const MAX_URI_CHARS = 2048;
/** Differences listed in a verify answer (the counts cover all). */
const MAX_DIFFERENCES = 100;

const STEPS = ['create', 'status', 'verify', 'switch', 'reverse', 'complete', 'cancel'] as const;
type Step = (typeof STEPS)[number];

/** The `/admin/move/...` actions of a gateway following `plane`. */
export function moveActions(
  plane: ControlPlane,
  config: Pick<HubConfig, 'configFile' | 'pgUrl' | 'dataDir'>,
  log: (event: string, fields?: Record<string, unknown>) => void,
): AdminActions {
  return async (call) => {
    const step = call.action.startsWith('move/') ? call.action.slice('move/'.length) : '';
    if (!(STEPS as readonly string[]).includes(step))
      throw new HubError(
        'NOT_FOUND',
        `no admin action ${JSON.stringify(call.action.slice(0, 64))}: use move/${STEPS.join('|')}`,
      );
    const tenant = tenantOf(call);
    const mover = new Mover({
      plane,
      openStore,
      configuredPrimary: (t) => configuredPrimary(config, t),
      onProgress: (e) => call.progress(e),
      log,
    });
    return run(mover, step as Step, tenant, call);
  };
}

/** The caller's tenant; a body naming another is refused. */
function tenantOf(call: AdminCall): TenantId {
  const named = call.body.tenant;
  if (named !== undefined && named !== call.identity.tenant)
    throw new HubError(
      'FORBIDDEN',
      `a token of tenant ${call.identity.tenant} cannot move tenant ${JSON.stringify(String(named).slice(0, 64))}`,
    );
  return call.identity.tenant;
}

async function run(mover: Mover, step: Step, tenant: TenantId, call: AdminCall): Promise<unknown> {
  const body = call.body;
  switch (step) {
    case 'create': {
      const to = body.to;
      if (typeof to !== 'string' || to.length === 0 || to.length > MAX_URI_CHARS)
        throw new HubError(
          'VALIDATION',
          `move/create needs "to": the target store URI (at most ${MAX_URI_CHARS} characters)`,
        );
      const mode = body.mode ?? 'online';
      if (mode !== 'online' && mode !== 'read-only')
        throw new HubError('VALIDATION', `"mode" is online or read-only, got ${JSON.stringify(mode)}`);
      return { move: shown(await mover.create(tenant, to, mode)) };
    }
    case 'status': {
      const s = await mover.status(tenant);
      const entry = s.tenant;
      return {
        ...s,
        move: s.move ? shown(s.move) : null,
        tenant: entry
          ? {
              ...entry,
              primary: redactUri(entry.primary),
              ...(entry.replica ? { replica: redactUri(entry.replica) } : {}),
              ...(entry.analytics ? { analytics: redactUri(entry.analytics) } : {}),
            }
          : null,
      };
    }
    case 'verify': {
      const differences: Difference[] = [];
      const report = await mover.verify(tenant, (d) => {
        if (differences.length < MAX_DIFFERENCES) differences.push(d);
      });
      return { report: { ...report, first: differences } };
    }
    case 'switch':
    case 'reverse': {
      const r = step === 'switch' ? await mover.switch(tenant) : await mover.reverse(tenant);
      return { move: shown(r.move), fenceMs: r.fenceMs, steps: r.steps };
    }
    case 'complete':
      return { move: shown(await mover.complete(tenant)) };
    case 'cancel':
      return { move: shown(await mover.cancel(tenant, { purgeTarget: body.purgeTarget === true })) };
    default:
      return unreachable(step, 'move step');
  }
}

/** A move without credentials in its URIs. */
function shown(move: MoveRecord): MoveRecord {
  return { ...move, source: redactUri(move.source), target: redactUri(move.target) };
}
