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
 * How: for each root field, `willResolveField` makes a fresh trace the active
 * one (AsyncLocalStorage.enterWith) just before the resolver runs, so every
 * store call the resolver and its sub-fields make lands in that field's trace.
 * A DataLoader batch shared by several root fields is attributed to the field
 * that scheduled it first.
 */
import type { ApolloServerPlugin, BaseContext } from '@apollo/server';
import { type RouteEntry, RouteTrace, enterRouteTrace } from '../router/route-trace';

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

/** The plugin; register it in the ApolloServer `plugins` list. */
export function routeExtensionsPlugin<TContext extends BaseContext>(): ApolloServerPlugin<TContext> {
  return {
    async requestDidStart() {
      const fields = new Map<string, RouteTrace>();
      return {
        async executionDidStart() {
          return {
            willResolveField({ info }) {
              if (info.path.prev !== undefined) return;
              const key = String(info.path.key);
              let trace = fields.get(key);
              if (!trace) fields.set(key, (trace = new RouteTrace()));
              enterRouteTrace(trace);
            },
          };
        },
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
