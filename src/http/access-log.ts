/**
 * What the access log line of a request says about its caller: the tenant,
 * noted by the handler that authenticated the request, read by the listener
 * that writes the line when the response closes (src/http/server.ts).
 */
import type { ServerResponse } from 'node:http';

// Keyed by the response: the one object both the handler and the listener hold.
const tenants = new WeakMap<ServerResponse, string>();

/** Notes the authenticated tenant of the request `res` answers. */
export function noteTenant(res: ServerResponse, tenant: string): void {
  tenants.set(res, tenant);
}

/**
 * The fields of the access log line of `res`: `tenant` once authenticated,
 * then the method, path, status and milliseconds. (One object literal per
 * shape, not a spread: this runs on every request.)
 */
export function accessFields(
  res: ServerResponse,
  method: string | undefined,
  path: string,
  ms: number,
): Record<string, unknown> {
  const tenant = tenants.get(res);
  const status = res.statusCode;
  return tenant === undefined ? { method, path, status, ms } : { tenant, method, path, status, ms };
}
