/**
 * Resolvers of the six record types: the envelope, provenance, relations
 * (through the request's DataLoaders) and federation references.
 */
import type { GraphQLFieldResolver, GraphQLResolveInfo } from 'graphql';
import { HubError } from '../../hub/errors';
import type { ListFilterInput } from '../../hub/filters';
import {
  type ArtifactRecord,
  type EmployeeProfileRecord,
  type HubRecord,
  LIMITS,
  type RecordOf,
  type RecordType,
  bodyWasRead,
} from '../../hub/model';
import { PROVENANCE_ALGORITHM } from '../../hub/provenance';
import { LARGE_BODY_BYTES, digestOffLoop } from '../../hub/large-bodies';
import { type ReadProjection, skipsBody } from '../../hub/store';
import type { GraphQLContext } from '../context';
import { inlineBody } from '../inline-bodies';
import { childListOf, projectionOf, recordProjectionOf } from '../lookahead';
import type { Resolvers } from '../generated/resolvers';
import type { Page } from '../../hub/hub';
import {
  type ConnectionParent,
  type EdgeParent,
  GRAPHQL_TYPE_OF,
  type PageInfoParent,
  toSnake,
} from '../mapping';

/**
 * The default field resolver: a field is read from its own name, else from its
 * snake_case storage name (`costUsd` -> `cost_usd`), so only fields that
 * compute something need a resolver.
 */
export const fieldResolver: GraphQLFieldResolver<unknown, GraphQLContext> = (source, _args, _ctx, info) => {
  if (typeof source !== 'object' || source === null) return undefined;
  const obj = source as Record<string, unknown>;
  const name = info.fieldName;
  return name in obj ? obj[name] : obj[toSnake(name)];
};

/**
 * {@link fieldResolver} specialised for one field name (its snake_case name
 * computed once, `info` never read), for the graphql-jit executor, which
 * reads a field without a resolver by its own name. Undefined when the two
 * names are the same (`status`, `content`): the executor's own property read
 * then does the same, inlined into the compiled query instead of a call.
 */
export function fieldResolverFor(name: string): GraphQLFieldResolver<unknown, GraphQLContext> | undefined {
  const snake = toSnake(name);
  if (snake === name) return undefined;
  return (source) => {
    if (typeof source !== 'object' || source === null) return undefined;
    const obj = source as Record<string, unknown>;
    return name in obj ? obj[name] : obj[snake];
  };
}

/**
 * One page of a list as a connection, each edge with its own cursor (the
 * Hub's page encodes them). Cursors (an HMAC each) are computed only when
 * `edges` or `pageInfo.startCursor` is read: a query selecting `nodes` pays
 * for none of them.
 */
export async function connection(
  ctx: GraphQLContext,
  type: RecordType,
  filter: ListFilterInput | null | undefined,
  first: number | null | undefined,
  after: string | null | undefined,
  info?: GraphQLResolveInfo,
): Promise<ConnectionParent> {
  const f = filter ?? {};
  // A selection that reads no artifact body lists without reading bodies (see lookahead.ts).
  const projection = info ? projectionOf(info, type) : undefined;
  const key = {
    type,
    filter: f,
    first: first ?? LIMITS.defaultPageSize,
    after: after ?? null,
    ...(projection ? { projection } : {}),
  };
  // A selection that lists each record's children is loaded with them (see lookahead.ts).
  const child = info ? childListOf(info, type) : undefined;
  const page = await (child ? ctx.loaders.listWithChildren(key, child) : ctx.loaders.list.load(key));
  return new PageConnection(page);
}

/**
 * The first page (or the page after `after`) of a record's children of
 * `type` (filtered by `outputId`): the page loaded with its parent's list when
 * look-ahead did (no call at all), else through the list loader.
 */
export function childConnection(
  ctx: GraphQLContext,
  parent: HubRecord,
  type: RecordType,
  first: number | null | undefined,
  after: string | null | undefined,
  info?: GraphQLResolveInfo,
): Promise<ConnectionParent> | ConnectionParent {
  const size = first ?? LIMITS.defaultPageSize;
  const projection = info ? projectionOf(info, type) : undefined;
  const page = after == null ? ctx.loaders.prefetchedChildren(parent, type, size, projection) : undefined;
  const filter = { outputId: parent.record_id };
  return page ? new PageConnection(page) : connection(ctx, type, filter, size, after, info);
}

/** A loaded page as a connection; edges (and their cursors) are built on first read. */
class PageConnection implements ConnectionParent {
  readonly nodes: readonly HubRecord[];
  private built: EdgeParent[] | undefined;

  constructor(private readonly page: Page) {
    this.nodes = page.records;
  }

  get edges(): EdgeParent[] {
    if (this.built === undefined) {
      const page = this.page;
      this.built = this.nodes.map((node, i) => ({ cursor: page.cursorAt(i), node }));
    }
    return this.built;
  }

  get pageInfo(): PageInfoParent {
    const page = this.page;
    const edges = (): EdgeParent[] => this.edges;
    return {
      hasNextPage: page.hasNextPage,
      hasPreviousPage: false,
      get startCursor() {
        return edges()[0]?.cursor ?? null;
      },
      get endCursor() {
        return page.endCursor;
      },
    };
  }
}

/**
 * Loads a record of one type by id for the caller's tenant (null when
 * absent); with a projection leaving the body out (see recordProjectionOf),
 * an artifact comes back without its body, which is then never read.
 */
export function byId<T extends RecordType>(
  ctx: GraphQLContext,
  type: T,
  id: string,
  projection?: ReadProjection,
): Promise<RecordOf[T] | null> {
  // The loader of `type` asks the Hub for records of that type only.
  const loader =
    type === 'artifacts' && skipsBody(projection) ? ctx.loaders.artifactWithoutBody : ctx.loaders.byId[type];
  return loader.load(id) as Promise<RecordOf[T] | null>;
}

const verified = new WeakMap<HubRecord, boolean>();

const envelope = {
  id: (r: HubRecord) => r.record_id,
  recordType: (r: HubRecord) => r.record_type,
  provenance: (r: HubRecord) => r,
};

function reference<T extends RecordType>(type: T) {
  return async (ref: { id?: unknown }, ctx: GraphQLContext, info: GraphQLResolveInfo) => {
    if (typeof ref.id !== 'string') return null;
    // `info` is the `_entities` field's: its selection is the entities' own.
    const record = await byId(ctx, type, ref.id, recordProjectionOf(info, type));
    // @apollo/subgraph tags the result with __typename; stores hand out frozen records.
    return record === null ? null : { ...record };
  };
}

const MAX_INLINE_BODY = LIMITS.maxArtifactBodyBytes;

/**
 * Most body bytes one request returns inline (`bodyBase64`): one largest
 * body and then some. Each inlined body is held as bytes, as base64 text and
 * in the JSON answer until the answer is sent, so this bounds what one
 * request can make the gateway hold (about 3.4 x this), whatever its aliases.
 */
export const MAX_INLINE_BODY_BYTES_PER_REQUEST = 16 * 1024 * 1024;

const inlinedBytes = new WeakMap<GraphQLContext, number>();

/** Counts a body against the request's inline budget; over it, a VALIDATION error naming the limit. */
function chargeInlineBody(ctx: GraphQLContext, r: ArtifactRecord): void {
  const used = inlinedBytes.get(ctx) ?? 0;
  const next = used + r.size_bytes;
  if (next > MAX_INLINE_BODY_BYTES_PER_REQUEST) {
    throw new HubError(
      'VALIDATION',
      `bodyBase64: artifact ${r.record_id} (${r.size_bytes} bytes) would take this request's inline bodies to ${next} bytes; ` +
        `the limit is ${MAX_INLINE_BODY_BYTES_PER_REQUEST} per request: ask for fewer bodies per request`,
      {
        issues: [
          { path: 'bodyBase64', message: `over ${MAX_INLINE_BODY_BYTES_PER_REQUEST} bytes per request` },
        ],
      },
    );
  }
  inlinedBytes.set(ctx, next);
}

/**
 * The artifact with its body: itself when its body was read, else the whole
 * record through the id loader (which never holds records read without a
 * body); null if it is gone.
 */
async function withBody(ctx: GraphQLContext, r: ArtifactRecord): Promise<ArtifactRecord | null> {
  if (bodyWasRead(r)) return r;
  return byId(ctx, 'artifacts', r.record_id);
}

/** Resolvers of the record types, the HubRecord interface, Provenance and connections. */
export const recordResolvers: Resolvers = {
  RecordType: {
    OUTPUTS: 'outputs',
    DECISIONS: 'decisions',
    GOVERNANCE_EVENTS: 'governance_events',
    ARTIFACTS: 'artifacts',
    EMPLOYEE_PROFILES: 'employee_profiles',
    TELEMETRY_EVENTS: 'telemetry_events',
  },
  HubRecord: {
    __resolveType: (r) => GRAPHQL_TYPE_OF[r.record_type],
  },
  Provenance: {
    hash: (r) => r.provenance_hash,
    algorithm: () => PROVENANCE_ALGORITHM,
    verified: async (r, _args, ctx) => {
      let v = verified.get(r);
      if (v === undefined) {
        // A record listed without its body is verified from the whole record.
        const whole = r.record_type === 'artifacts' ? await withBody(ctx, r) : r;
        // A large body is hashed on the thread pool, not in verify's synchronous step.
        if (
          whole?.record_type === 'artifacts' &&
          bodyWasRead(whole) &&
          whole.body.byteLength >= LARGE_BODY_BYTES
        )
          await digestOffLoop(whole.body);
        v = whole !== null && ctx.hub.verify(whole).verified;
        verified.set(r, v);
      }
      return v;
    },
  },
  Output: {
    ...envelope,
    __resolveReference: reference('outputs'),
    decisions: (r, args, ctx) => childConnection(ctx, r, 'decisions', args.first, args.after),
    artifacts: (r, args, ctx, info) => childConnection(ctx, r, 'artifacts', args.first, args.after, info),
  },
  Decision: {
    ...envelope,
    __resolveReference: reference('decisions'),
    output: (r, _args, ctx) => byId(ctx, 'outputs', r.output_id),
  },
  GovernanceEvent: {
    ...envelope,
    __resolveReference: reference('governance_events'),
  },
  Artifact: {
    ...envelope,
    __resolveReference: reference('artifacts'),
    output: (r, _args, ctx) => (r.output_id ? byId(ctx, 'outputs', r.output_id) : null),
    bodyBase64: async (r, args, ctx) => {
      const max = args.maxBytes ?? 1_048_576;
      if (!Number.isInteger(max) || max < 0 || max > MAX_INLINE_BODY) {
        throw new HubError('VALIDATION', `maxBytes must be 0 to ${MAX_INLINE_BODY}`, {
          issues: [{ path: 'maxBytes', message: `must be 0 to ${MAX_INLINE_BODY}` }],
        });
      }
      // The stored size decides, so a body over `maxBytes` is never read at all.
      if (r.size_bytes > max) return null;
      chargeInlineBody(ctx, r);
      const whole = await withBody(ctx, r);
      if (whole === null) return null;
      return inlineBody(ctx.inlineBodies, whole.body);
    },
  },
  EmployeeProfile: {
    ...envelope,
    __resolveReference: reference('employee_profiles'),
    manager: (r, _args, ctx) => (r.manager_id ? ctx.loaders.currentProfile.load(r.manager_id) : null),
    reports: async (r, args, ctx) => {
      const asOf = args.asOf ?? new Date().toISOString();
      // The team as of `asOf` is exactly the manager dashboard's membership rule;
      // an empty range [asOf, asOf) keeps the activity part of the rollup empty.
      const dash = await ctx.hub.managerDashboard(ctx.tenant, {
        managerId: r.employee_id,
        from: asOf,
        to: asOf,
      });
      const profiles = await ctx.loaders.currentProfile.loadMany(dash.members.map((m) => m.employee_id));
      const out: EmployeeProfileRecord[] = [];
      for (const p of profiles) {
        if (p instanceof Error) throw p;
        if (p !== null) out.push(p);
      }
      return out;
    },
  },
  TelemetryEvent: {
    ...envelope,
    __resolveReference: reference('telemetry_events'),
  },
};
