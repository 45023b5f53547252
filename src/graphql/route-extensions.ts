/**
 * Apollo plugin: puts the router's route traces into each response's
 * `extensions.routing`, keyed by root field (response key, so aliases are
 * told apart), so a dashboard can show which store answered and "as of" when:
 *
 *     "extensions": { "routing": { "costPerSkill": {
 *        "stores": [{ "store": "warehouse", "role": "analytics", "reason": "analytics" }],
 *        "watermark": "2026-03-02T10:00:00.000Z", "lagMs": 120 } } }
 *
 * `watermark`: every record acknowledged before it is included (the earliest
 * over the field's rollups); present when the field ran a rollup. Stores are
 * named by label, never by URI. Nothing is added when no routed call ran (e.g.
 * the store is not a routing store).
 *
 * How: each root field's resolver is wrapped (once, with the schema's other
 * rewrites) to make its field's trace the active one
 * (AsyncLocalStorage.enterWith) just before it runs, so every store call the
 * resolver and its sub-fields make lands in that field's trace.
 * A DataLoader batch shared by several root fields is attributed to the field
 * that scheduled it first.
 */
import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import type { GraphQLSchema } from 'graphql';
import { type RouteEntry, RouteTrace, enterRouteTrace, routesExpected } from '../platform/route-trace';

/** One root field's routing, as sent in `extensions.routing`. */
export interface FieldRouting {
  readonly stores: readonly { readonly store: string; readonly role: string; readonly reason: string }[];
  readonly watermark?: string;
  readonly lagMs?: number;
}

/** Summarises one root field's entries (distinct stores; earliest watermark; largest lag). */
export function summarizeRoutes(entries: readonly RouteEntry[]): FieldRouting {
  const seen = new Set<string>();
  const stores: { store: string; role: string; reason: string }[] = [];
  let watermark: string | undefined;
  let lagMs: number | undefined;
  for (const e of entries) {
    const key = `${e.role}\0${e.store}\0${e.reason}`;
    if (!seen.has(key)) {
      seen.add(key);
      stores.push({ store: e.store, role: e.role, reason: e.reason });
    }
    if (e.watermark !== undefined && (watermark === undefined || e.watermark < watermark))
      watermark = e.watermark;
    if (e.lagMs !== undefined) lagMs = Math.max(lagMs ?? 0, e.lagMs);
  }
  return {
    stores,
    ...(watermark === undefined ? {} : { watermark }),
    ...(lagMs === undefined ? {} : { lagMs }),
  };
}

/**
 * Route extensions for one server: {@link traceRootFields} is the schema
 * rewrite (applied with the others, in order, by executable-schema.ts) and
 * {@link plugin} the Apollo plugin that gives each request its traces and
 * reports them. Both share the map from a request's context to its traces.
 */
export class RouteExtensions {
  // The traces of each request's root fields, found by its context object.
  private readonly requests = new WeakMap<object, Map<string, RouteTrace>>();
  private readonly traced = new WeakSet<GraphQLSchema>();

  /**
   * Starts a request: its root fields' traces will be kept in the returned map
   * (by response key). The plugin calls this for every request.
   */
  begin(context: object): Map<string, RouteTrace> {
    const fields = new Map<string, RouteTrace>();
    this.requests.set(context, fields);
    return fields;
  }

  /**
   * Wraps the resolver of every root field (once per schema) so that it runs
   * with its field's trace active. This is what a `willResolveField` hook did,
   * without one: any plugin with that hook makes Apollo instrument every field
   * of every record, a measurable share of a list query's CPU. A root field
   * without a resolver makes no store call and is left alone. Mutates and
   * returns `schema`.
   */
  traceRootFields(schema: GraphQLSchema): GraphQLSchema {
    if (this.traced.has(schema)) return schema;
    this.traced.add(schema);
    const requests = this.requests;
    for (const root of [schema.getQueryType(), schema.getMutationType()]) {
      if (!root) continue;
      for (const field of Object.values(root.getFields())) {
        const resolve = field.resolve;
        if (!resolve) continue;
        field.resolve = (source, args, context: unknown, info) => {
          const fields = typeof context === 'object' && context !== null ? requests.get(context) : undefined;
          if (fields) {
            const key = String(info.path.key);
            let trace = fields.get(key);
            if (!trace) fields.set(key, (trace = new RouteTrace()));
            enterRouteTrace(trace);
          }
          return resolve(source, args, context, info);
        };
      }
    }
    return schema;
  }

  /**
   * The Apollo plugin: a trace map per request, summarised into
   * `extensions.routing`; none while no routing store exists (nothing would be
   * recorded, and each map cost every request an entry in a WeakMap).
   */
  plugin<TContext extends BaseContext>(): ApolloServerPlugin<TContext> {
    return {
      requestDidStart: async ({ contextValue }) => {
        if (!routesExpected()) return;
        const fields = this.begin(contextValue);
        return {
          async willSendResponse({ response }) {
            if (response.body.kind !== 'single') return;
            const routing: Record<string, FieldRouting> = {};
            for (const [key, trace] of fields) {
              if (trace.entries.length > 0) routing[key] = summarizeRoutes(trace.entries);
            }
            if (Object.keys(routing).length === 0) return;
            const result = response.body.singleResult;
            result.extensions = { ...result.extensions, routing };
          },
        };
      },
    };
  }
}

/**
 * The plugin for an Apollo server that applies no rewrites of its own: it
 * traces the root fields of the schema Apollo starts with. (The gateway's
 * server uses {@link RouteExtensions} directly, rewrites in one place.)
 */
export function routeExtensionsPlugin<TContext extends BaseContext>(): ApolloServerPlugin<TContext> {
  const routes = new RouteExtensions();
  return {
    ...routes.plugin<TContext>(),
    async serverWillStart({ schema }) {
      routes.traceRootFields(schema);
    },
  };
}
