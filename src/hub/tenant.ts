import { HubError } from './errors';

declare const tenantBrand: unique symbol;
/** A tenant id that has passed {@link parseTenantId}. Stores accept only this type. */
export type TenantId = string & { readonly [tenantBrand]: true };

const TENANT_RE = /^[a-z0-9][a-z0-9-]{0,62}$/;

/**
 * Validates a tenant id (`^[a-z0-9][a-z0-9-]{0,62}$`) and brands it.
 * @throws HubError VALIDATION naming the offending value's shape, never echoing more than 80 characters.
 */
export function parseTenantId(value: unknown): TenantId {
  if (typeof value === 'string' && TENANT_RE.test(value)) return value as TenantId;
  const shown = typeof value === 'string' ? JSON.stringify(value.slice(0, 80)) : typeof value;
  throw new HubError(
    'VALIDATION',
    `invalid tenant id ${shown}: expected 1-63 characters of a-z, 0-9 and '-', starting with a letter or digit`,
    { issues: [{ path: 'tenant_id', message: 'must match ^[a-z0-9][a-z0-9-]{0,62}$' }] },
  );
}

/** True when `value` is a well-formed tenant id. */
export function isTenantId(value: unknown): value is TenantId {
  return typeof value === 'string' && TENANT_RE.test(value);
}
