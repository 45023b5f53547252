/**
 * Spans at the two boundaries below GraphQL: every Hub call (`hub.<method>`)
 * and every call through the HubStore port (`store.<method>`), so neither the
 * Hub nor any store imports tracing. Both are views made only inside a
 * sampled trace, holding their parent span (src/hub/tracing-ports.ts): a
 * request's operation makes {@link tracedHub}; each of its Hub calls runs the
 * Hub over its store's traced view, whose `store.<method>` spans hand their
 * own span further down. Attributes: the tenant, the record type, the store's
 * label, and sizes (ids asked, records written, rows returned); never ids,
 * filter values or record content. Unsampled requests, and everything with
 * tracing off, call the ordinary Hub and store.
 */
import type { Hub } from '../hub/hub';
import type { HubStore } from '../hub/store';
import { tracedStore } from '../hub/tracing-ports';
import { type Attributes, type Span, inChildSpan, tracer } from './tracing';

/** The Hub methods that get a span (the ones returning a promise; `scan` is a generator, `verify` is sync). */
const HUB_METHODS = new Set<PropertyKey>([
  'record',
  'writeSealed',
  'get',
  'list',
  'listWithChildren',
  'costPerSkill',
  'archetypeProgression',
  'managers',
  'skills',
  'managerDashboard',
]);

/** Methods of the port that get no span: lifecycle, not work. */
const UNTRACED_STORE_METHODS = new Set<PropertyKey>(['close', 'constructor', 'traced']);

/**
 * `hub` as a sampled request's operation calls it: each call of a
 * {@link HUB_METHODS} method runs in a span `hub.<method>`, child of `parent`,
 * with the tenant and record type, over the traced view of the Hub's store.
 * Returns `hub` itself when `parent` does not record.
 */
export function tracedHub(hub: Hub, parent: Span): Hub {
  if (!parent.recording) return hub;
  return new Proxy(hub, {
    get(target, prop, receiver) {
      const value: unknown = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function' || typeof prop !== 'string' || !HUB_METHODS.has(prop)) return value;
      return (...args: unknown[]) =>
        inChildSpan(parent, `hub.${prop}`, 'internal', (span) => {
          hubAttributes(prop, args, span);
          const inner = target.over(tracedStore(target.store, span));
          return (Reflect.get(inner, prop) as (...a: unknown[]) => Promise<unknown>).apply(inner, args);
        });
    },
  });
}

/**
 * Gives `store` traced views whose port calls run in spans `store.<method>`
 * with the store's label (`hub.store`), the tenant, the record type and the
 * rows returned, each handing its span on to the store's own view. Ordinary
 * calls pass straight through. Returns `store` itself when tracing is off.
 */
export function traceStore<S extends HubStore>(store: S, label: string): S {
  if (!tracer().enabled) return store;
  const traced = (parent: Span): S => storeSpans(store, label, parent);
  return new Proxy(store, {
    get(target, prop, receiver) {
      return prop === 'traced' ? traced : Reflect.get(target, prop, receiver);
    },
  });
}

/** The view of `store` whose port calls are spans `store.<method>`, children of `parent`. */
function storeSpans<S extends HubStore>(store: S, label: string, parent: Span): S {
  return new Proxy(store, {
    get(target, prop, receiver) {
      if (prop === 'traced') return (p: Span) => storeSpans(target, label, p);
      const value: unknown = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function' || typeof prop !== 'string' || UNTRACED_STORE_METHODS.has(prop))
        return value;
      return (...args: unknown[]) =>
        inChildSpan(parent, `store.${prop}`, 'internal', async (span) => {
          span.setAttribute('hub.store', label);
          hubAttributes(prop, args, span);
          const inner = tracedStore(target, span);
          const result: unknown = await (Reflect.get(inner, prop) as (...a: unknown[]) => unknown).apply(
            inner,
            args,
          );
          rowsAttribute(result, span);
          return result;
        });
    },
  });
}

/** Tenant, record type and request sizes, read from a Hub or port call's arguments by position. */
function hubAttributes(method: string, args: readonly unknown[], span: Span): void {
  const [tenant, second, third] = args;
  const attributes: Record<string, string | number> = {};
  if (typeof tenant === 'string') attributes['hub.tenant'] = tenant;
  if (typeof second === 'string') attributes['hub.record_type'] = second;
  else if (isObject(second) && typeof second.type === 'string') attributes['hub.record_type'] = second.type;
  // get/getByIds(tenant, type, ids), record(tenant, type, inputs), putBatch/writeSealed(tenant, records)
  if (Array.isArray(third)) attributes[method === 'record' ? 'hub.records' : 'hub.ids'] = third.length;
  else if (Array.isArray(second)) attributes['hub.records'] = second.length;
  if (isObject(second) && typeof second.limit === 'number') attributes['hub.limit'] = second.limit;
  span.setAttributes(attributes as Attributes);
}

/** `hub.rows`: rows a store call returned (records, children included, or rollup rows). */
function rowsAttribute(result: unknown, span: Span): void {
  const rows = countRows(result);
  if (rows !== undefined) span.setAttribute('hub.rows', rows);
}

/** Rows in a port call's result: an array's length, or a page's records plus children. */
export function countRows(result: unknown): number | undefined {
  if (Array.isArray(result)) return result.length;
  if (isObject(result) && Array.isArray(result.records)) {
    let n = result.records.length;
    if (Array.isArray(result.children)) for (const c of result.children) n += Array.isArray(c) ? c.length : 0;
    return n;
  }
  return undefined;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null;
}
