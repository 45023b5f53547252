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

/** Fields for the access log line of `res`: `tenant` once authenticated, else nothing. */
export function accessFields(res: ServerResponse): { tenant?: string } {
  const tenant = tenants.get(res);
  return tenant === undefined ? {} : { tenant };
}
