/**
 * Query resolvers: lookups by id, lists, and the three rollups. Every call
 * carries the tenant of the verified token; nothing here reads a tenant from
 * arguments.
 */
import { RECORD_TYPES } from '../../hub/model';
import type { QueryResolvers } from '../generated/resolvers';
import { recordProjectionOf } from '../lookahead';
import { costPerSkillView } from '../mapping';
import { byId, connection } from './records';

/** Resolvers of `Query`. */
export const queryResolvers: QueryResolvers = {
  output: (_p, { id }, ctx) => byId(ctx, 'outputs', id),
  decision: (_p, { id }, ctx) => byId(ctx, 'decisions', id),
  governanceEvent: (_p, { id }, ctx) => byId(ctx, 'governance_events', id),
  // A selection that reads no body looks the artifact up without it (see lookahead.ts).
  artifact: (_p, { id }, ctx, info) => byId(ctx, 'artifacts', id, recordProjectionOf(info, 'artifacts')),
  employeeProfile: (_p, { id }, ctx) => byId(ctx, 'employee_profiles', id),
  telemetryEvent: (_p, { id }, ctx) => byId(ctx, 'telemetry_events', id),
  node: async (_p, { id }, ctx, info) => {
    // Ids are unique per type only: look in every type (one batched call per type).
    const found = await Promise.all(RECORD_TYPES.map((t) => byId(ctx, t, id, recordProjectionOf(info, t))));
    return found.find((r) => r !== null) ?? null;
  },
  employee: (_p, { employeeId }, ctx) => ctx.loaders.currentProfile.load(employeeId),

  outputs: (_p, a, ctx, info) => connection(ctx, 'outputs', a.filter, a.first, a.after, info),
  decisions: (_p, a, ctx, info) => connection(ctx, 'decisions', a.filter, a.first, a.after, info),
  governanceEvents: (_p, a, ctx, info) =>
    connection(ctx, 'governance_events', a.filter, a.first, a.after, info),
  artifacts: (_p, a, ctx, info) => connection(ctx, 'artifacts', a.filter, a.first, a.after, info),
  employeeProfiles: (_p, a, ctx, info) =>
    connection(ctx, 'employee_profiles', a.filter, a.first, a.after, info),
  telemetryEvents: (_p, a, ctx, info) =>
    connection(ctx, 'telemetry_events', a.filter, a.first, a.after, info),

  costPerSkill: async (_p, a, ctx) =>
    (
      await ctx.hub.costPerSkill(ctx.tenant, {
        from: a.from,
        to: a.to,
        bucket: a.bucket,
        skillIds: a.skillIds,
        team: a.team,
      })
    ).map(costPerSkillView),
  archetypeProgression: (_p, a, ctx) =>
    ctx.hub.archetypeProgression(ctx.tenant, {
      from: a.from,
      to: a.to,
      archetype: a.archetype,
      team: a.team,
    }),
  managers: (_p, a, ctx) => ctx.hub.managers(ctx.tenant, { asOf: a.asOf, first: a.first, after: a.after }),
  skills: (_p, a, ctx) =>
    ctx.hub.skills(ctx.tenant, { from: a.from, to: a.to, team: a.team, first: a.first, after: a.after }),
  managerDashboard: (_p, a, ctx) =>
    ctx.hub.managerDashboard(ctx.tenant, { managerId: a.managerId, from: a.from, to: a.to }),
};
