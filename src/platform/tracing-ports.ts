/**
 * Spans at the two boundaries below GraphQL: every Hub call (`hub.<method>`)
 * and every call through the HubStore port (`store.<method>`), added by
 * wrapping the object in a Proxy, so neither the Hub nor any store imports
 * tracing. Attributes: the tenant, the record type, the store's label, and
 * sizes (ids asked, records written, rows returned); never ids, filter values
 * or record content. With tracing off the objects are returned unwrapped.
 */
import type { HubStore } from '../hub/store';
import { type Attributes, type Span, tracer } from './tracing';

/** The Hub methods that get a span (the ones returning a promise; `scan` is a generator, `verify` is sync). */
const HUB_METHODS = new Set([
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
const UNTRACED_STORE_METHODS = new Set<PropertyKey>(['close', 'constructor']);

/**
 * Wraps `hub` so that each call of a {@link HUB_METHODS} method runs in a span
 * `hub.<method>` with the tenant and record type. Returns `hub` itself when
 * tracing is off at the time of the call to this function.
 */
export function traceHub<H extends object>(hub: H): H {
  if (!tracer().enabled) return hub;
  return wrapMethods(hub, (prop) => (HUB_METHODS.has(prop) ? `hub.${prop}` : undefined), hubAttributes);
}

/**
 * Wraps a store so that each port call runs in a span `store.<method>` with
 * the store's label (`hub.store`), the tenant, the record type and the rows it
 * returned. Optional parts of the port stay visible exactly as on `store`.
 * Returns `store` itself when tracing is off.
 */
export function traceStore<S extends HubStore>(store: S, label: string): S {
  if (!tracer().enabled) return store;
  return wrapMethods(
    store,
    (prop) => (UNTRACED_STORE_METHODS.has(prop) ? undefined : `store.${prop}`),
    (method, args, span) => {
      span.setAttribute('hub.store', label);
      hubAttributes(method, args, span);
    },
    rowsAttribute,
  );
}

function wrapMethods<T extends object>(
  target: T,
  spanName: (prop: string) => string | undefined,
  before: (method: string, args: readonly unknown[], span: Span) => void,
  after?: (result: unknown, span: Span) => void,
): T {
  // Every property read of the wrapped object comes through `get`, on every
  // request: a method's wrapper is made once and then found by one Map lookup.
  const wrapped = new Map<PropertyKey, unknown>();
  return new Proxy(target, {
    get(obj, prop, receiver) {
      const known = wrapped.get(prop);
      if (known !== undefined) return known;
      const value: unknown = Reflect.get(obj, prop, receiver);
      if (typeof value !== 'function' || typeof prop !== 'string') return value;
      const name = spanName(prop);
      if (name === undefined) return value;
      const fn = traced(obj, value as (...a: unknown[]) => Promise<unknown>, prop, name, before, after);
      wrapped.set(prop, fn);
      return fn;
    },
  });
}

/** `method` of `obj` run in a span `name` when called inside a sampled trace, else called as is. */
function traced(
  obj: object,
  method: (...a: unknown[]) => Promise<unknown>,
  prop: string,
  name: string,
  before: (method: string, args: readonly unknown[], span: Span) => void,
  after: ((result: unknown, span: Span) => void) | undefined,
): (...args: unknown[]) => Promise<unknown> {
  return function (...args: unknown[]): Promise<unknown> {
    const t = tracer();
    // Only inside a sampled trace: a call from an unsampled request, or from
    // background work (the relay's outbox polls), makes no span at all.
    if (!t.activeSpan().recording) return method.apply(obj, args);
    return t.inSpan(name, 'internal', async (span) => {
      if (span.recording) before(prop, args, span);
      const result = await method.apply(obj, args);
      if (after && span.recording) after(result, span);
      return result;
    });
  };
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
