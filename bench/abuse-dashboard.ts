/**
 * bench:abuse's tenant B: the manager dashboard loaded over and over, paced
 * to stay within a share of its cost budget (see the bench's file comment).
 */
import { DEFAULT_TENANT_LIMITS } from '../src/platform/tenant-limits';
import { gql, send } from './abuse-http';
import { arg, log } from './abuse-options';

/** The dashboard's documents, read from the client package (what the page sends). */
export async function dashboardDocuments(): Promise<Record<string, string>> {
  const client = (await import('@hub-gateway/client')) as unknown as Record<string, { toString(): string }>;
  const pick = (name: string): string => {
    const doc = client[`${name}Document`];
    if (!doc) throw new Error(`@hub-gateway/client has no ${name}Document`);
    return doc.toString();
  };
  return {
    Managers: pick('Managers'),
    ManagerDashboard: pick('ManagerDashboard'),
    CostPerSkill: pick('CostPerSkill'),
    ArchetypeProgression: pick('ArchetypeProgression'),
  };
}

/** What one phase of B's loop measured. */
export interface Phase {
  readonly latencies: number[];
  readonly failures: Map<number, number>;
  /** Cost units B's answers reported (`extensions.cost.requested`). */
  units: number;
  /** Milliseconds the phase lasted. */
  ms: number;
}

/** B's cost budget per second the loop keeps to (a share of the default). */
export const B_UNITS_PER_SECOND = arg('b-budget-share', 0.8) * DEFAULT_TENANT_LIMITS.costPerSecond;

/** Cost units an answer reports in `extensions.cost.requested` (0 when none). */
function unitsOf(text: string): number {
  const m = /"cost":\{"requested":(\d+)/.exec(text);
  return m ? Number(m[1]) : 0;
}

/**
 * Loads the dashboard over and over until `until`, within B's budget
 * ({@link B_UNITS_PER_SECOND}): every request's latency is one sample.
 */
export async function dashboardLoop(
  url: string,
  token: string,
  docs: Record<string, string>,
  range: { from: string; to: string },
  until: number,
): Promise<Phase> {
  const phase: Phase = { latencies: [], failures: new Map(), units: 0, ms: 0 };
  const started = Date.now();
  const one = async (body: string): Promise<string> => {
    const r = await send(url, '/graphql', token, body);
    phase.units += unitsOf(r.text);
    if (r.status !== 200 || r.text.includes('"errors"')) {
      phase.failures.set(r.status, (phase.failures.get(r.status) ?? 0) + 1);
      if (phase.failures.size === 1 && (phase.failures.get(r.status) ?? 0) === 1)
        log(`B got ${r.status}: ${r.text.slice(0, 300)}`);
    } else phase.latencies.push(r.ms);
    return r.text;
  };
  while (Date.now() < until) {
    // Ahead of the budget: wait until the units spent are within it.
    const ahead = (phase.units / B_UNITS_PER_SECOND) * 1000 - (Date.now() - started);
    if (ahead > 0) await new Promise((r) => setTimeout(r, Math.min(ahead, until - Date.now())));
    if (Date.now() >= until) break;
    const managers = JSON.parse(
      (await one(gql(docs.Managers as string, { asOf: range.to, first: 1000 }))) || '{}',
    ) as { data?: { managers?: { managerId: string }[] } };
    const managerId = managers.data?.managers?.[0]?.managerId ?? 'mgr-001';
    const team = { managerId };
    await Promise.all([
      one(gql(docs.ManagerDashboard as string, { managerId, from: range.from, to: range.to })),
      one(gql(docs.CostPerSkill as string, { from: range.from, to: range.to, bucket: 'WEEK', team })),
      one(gql(docs.ArchetypeProgression as string, { from: range.from, to: range.to, team })),
    ]);
  }
  phase.ms = Date.now() - started;
  return phase;
}
