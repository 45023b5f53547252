/**
 * The per-request GraphQL context: who is calling (from the verified token),
 * the Hub, and DataLoaders created for this request only, so no cache entry is
 * ever shared between requests or tenants.
 */
import type { Hub } from '../hub/hub';
import type { TenantId } from '../hub/tenant';
import type { Logger } from '../platform/log';
import { NOOP_SPAN, type Span } from '../platform/tracing';
import type { Scope } from '../platform/auth';
import type { UsageMeter } from '../platform/usage';
import { type InlineBodies, newInlineBodies } from './inline-bodies';
import { type Loaders, createLoaders } from './loaders';

export interface GraphQLContext {
  readonly tenant: TenantId;
  readonly scopes: ReadonlySet<Scope>;
  readonly hub: Hub;
  /** The operation's span: the no-op span unless the request is sampled. */
  readonly span: Span;
  readonly loaders: Loaders;
  readonly requestId: string;
  readonly log: Logger;
  /** Epoch ms after which no further field is resolved (TIMEOUT). */
  readonly deadline: number;
  /** Filled in while the request runs, for logs and metrics. */
  readonly stats: RequestStats;
  /** Bytes of the request's body as received (0 for GET): a mutation's count as ingested (usage). */
  readonly bodyBytes: number;
  /** Per-tenant usage, when the gateway keeps it (the `usage` query reads it). */
  readonly usage?: UsageReader;
  /** Large bodies the answer's writer puts in place of their placeholders (inline-bodies.ts). */
  readonly inlineBodies: InlineBodies;
}

/** What the `usage` query needs of the usage meter. */
export type UsageReader = Pick<UsageMeter, 'read'>;

/** What the server learns about a request while running it. */
export interface RequestStats {
  operation: string;
  operationType: string;
  /** The operation's cost (cost.ts), once the preflight has measured it; charged to the tenant's cost budget. */
  cost?: number;
  /** Refused by a limit of the preflight (charged to the tenant's budget like the largest operation allowed). */
  refused?: boolean;
}

export interface ContextInput {
  readonly tenant: TenantId;
  readonly scopes: ReadonlySet<Scope>;
  readonly hub: Hub;
  /** The operation's span (default: the no-op span). */
  readonly span?: Span;
  readonly requestId: string;
  readonly log: Logger;
  readonly timeoutMs: number;
  /** Called with each DataLoader batch size (metrics). */
  readonly onBatch?: (loader: string, size: number) => void;
  /** Bytes of the request's body (default 0). */
  readonly bodyBytes?: number;
  readonly usage?: UsageReader;
}

/** Builds a fresh context (and fresh loaders) for one request. */
export function createContext(input: ContextInput): GraphQLContext {
  return {
    tenant: input.tenant,
    scopes: input.scopes,
    hub: input.hub,
    span: input.span ?? NOOP_SPAN,
    loaders: createLoaders(input.hub, input.tenant, input.onBatch),
    requestId: input.requestId,
    log: input.log,
    deadline: Date.now() + input.timeoutMs,
    stats: { operation: 'unknown', operationType: 'unknown' },
    bodyBytes: input.bodyBytes ?? 0,
    inlineBodies: newInlineBodies(),
    ...(input.usage ? { usage: input.usage } : {}),
  };
}
