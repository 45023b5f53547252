/**
 * Batch writes, one mutation per record type. Inputs are renamed to storage
 * names and handed to `Hub.record`, which validates the whole batch first.
 */
import { HubError } from '../../hub/errors';
import type { RecordType } from '../../hub/model';
import { requireScope } from '../../platform/auth';
import type { GraphQLContext } from '../context';
import type {
  MutationResolvers,
  RecordBatchResultResolvers,
  RecordResultResolvers,
} from '../generated/resolvers';
import { type BatchParent, inputToRecord } from '../mapping';

/** Most records accepted by one mutation (bigger loads go to /ingest). */
export const MAX_MUTATION_BATCH = 1000;

async function recordBatch(
  ctx: GraphQLContext,
  type: RecordType,
  records: readonly Readonly<Record<string, unknown>>[],
): Promise<BatchParent> {
  requireScope(ctx, 'hub:write');
  if (records.length === 0 || records.length > MAX_MUTATION_BATCH) {
    throw new HubError('VALIDATION', `records must hold 1 to ${MAX_MUTATION_BATCH} records`, {
      issues: [{ path: 'records', message: `must hold 1 to ${MAX_MUTATION_BATCH} records` }],
    });
  }
  const results = await ctx.hub.record(ctx.tenant, type, records.map(inputToRecord));
  return { results };
}

/** Resolvers of `Mutation`. */
export const mutationResolvers: MutationResolvers = {
  recordOutputs: (_p, a, ctx) => recordBatch(ctx, 'outputs', a.records),
  recordDecisions: (_p, a, ctx) => recordBatch(ctx, 'decisions', a.records),
  recordGovernanceEvents: (_p, a, ctx) => recordBatch(ctx, 'governance_events', a.records),
  recordArtifacts: (_p, a, ctx) => recordBatch(ctx, 'artifacts', a.records),
  recordEmployeeProfiles: (_p, a, ctx) => recordBatch(ctx, 'employee_profiles', a.records),
  recordTelemetryEvents: (_p, a, ctx) => recordBatch(ctx, 'telemetry_events', a.records),
};

/** Counts of a batch. */
export const batchResolvers: RecordBatchResultResolvers = {
  created: (b) => b.results.filter((r) => r.status === 'created').length,
  duplicates: (b) => b.results.filter((r) => r.status === 'duplicate').length,
  errors: (b) => b.results.filter((r) => r.status === 'error').length,
  results: (b) => b.results,
};

/** One record's outcome. */
export const recordResultResolvers: RecordResultResolvers = {
  id: (r) => r.record_id,
  status: (r) => (r.status === 'created' ? 'CREATED' : r.status === 'duplicate' ? 'DUPLICATE' : 'ERROR'),
  // A per-record error is CONFLICT today; its message names only this tenant's record.
  error: (r) => (r.status === 'error' ? { code: r.error.code, message: r.error.message } : null),
};
