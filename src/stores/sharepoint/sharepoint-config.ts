/**
 * The `sharepoint://` store URI and the per-tenant site naming.
 *
 *   sharepoint://HOST[:PORT]/sites/claresia-{tenant}?token=TOKEN
 *     path         site of each tenant, exactly one {tenant} (default /sites/claresia-{tenant})
 *     token        bearer token sent as `Authorization: Bearer` (required)
 *     http=1       plain HTTP instead of HTTPS (the local emulator only)
 *     timeoutMs    deadline of one HTTP attempt (default 30000)
 *     retries      retries of a throttled or failed request, and rounds of
 *                  re-queued throttled $batch parts (default 5)
 *     retryCapMs   longest wait before one retry, whatever Retry-After asks (default 30000)
 *     batchSize    sub-requests per $batch POST (default 100)
 *     tenants=a,b  tenants `hub db migrate` provisions ahead
 *
 * The token never appears in messages or logs (`redactUri` in ../driver.ts masks `token=`).
 */
import { HubError } from '../../hub/errors';
import { type TenantId, parseTenantId } from '../../hub/tenant';
import { integerOption } from '../driver';

/** Parsed store URI. */
export interface SharePointConfig {
  /** `https://host[:port]` (or `http://` with `http=1`), no trailing slash. */
  readonly origin: string;
  /** Server-relative site path with one `{tenant}`, e.g. `/sites/claresia-{tenant}`. */
  readonly sitePattern: string;
  readonly token: string;
  readonly timeoutMs: number;
  readonly retries: number;
  readonly retryCapMs: number;
  readonly batchSize: number;
  readonly tenants: readonly TenantId[];
}

function invalid(message: string): HubError {
  return new HubError('VALIDATION', `invalid sharepoint store URI: ${message}`);
}

const intParam = (
  params: URLSearchParams,
  name: string,
  fallback: number,
  min: number,
  max: number,
): number => integerOption(params, name, fallback, min, max, invalid);

const KNOWN = new Set(['token', 'http', 'timeoutMs', 'retries', 'retryCapMs', 'batchSize', 'tenants']);

/**
 * Parses a `sharepoint://` URI (see the file comment).
 * @throws HubError VALIDATION naming the bad part; never echoes the token.
 */
export function parseSharePointUri(uri: string): SharePointConfig {
  let url: URL;
  try {
    url = new URL(uri);
  } catch (err) {
    throw new HubError('VALIDATION', 'invalid sharepoint store URI: not a URL', { cause: err });
  }
  if (url.protocol !== 'sharepoint:') throw invalid('scheme must be sharepoint://');
  if (!/^[A-Za-z0-9.-]+$/.test(url.hostname)) throw invalid('missing or malformed host');
  if (url.username || url.password) throw invalid('put the token in ?token=, not in user:password@');
  const params = url.searchParams;
  for (const key of params.keys()) if (!KNOWN.has(key)) throw invalid(`unknown parameter ${key}`);
  const token = params.get('token');
  if (!token) throw invalid('missing ?token=');
  const http = params.get('http');
  if (http !== null && http !== '1' && http !== '0') throw invalid('http must be 1 or 0');
  const path = decodeURIComponent(url.pathname).replace(/\/+$/, '') || '/sites/claresia-{tenant}';
  if (path.split('{tenant}').length !== 2 || !/^(\/[A-Za-z0-9_{}-]+)+$/.test(path))
    throw invalid('the path must be a site path with exactly one {tenant}, e.g. /sites/claresia-{tenant}');
  const tenants = (params.get('tenants') ?? '')
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t.length > 0)
    .map((t) => parseTenantId(t));
  return {
    origin: `${http === '1' ? 'http' : 'https'}://${url.host}`,
    sitePattern: path,
    token,
    timeoutMs: intParam(params, 'timeoutMs', 30_000, 100, 600_000),
    retries: intParam(params, 'retries', 5, 0, 20),
    retryCapMs: intParam(params, 'retryCapMs', 30_000, 0, 600_000),
    batchSize: intParam(params, 'batchSize', 100, 1, 1000),
    tenants,
  };
}

/**
 * The absolute URL of a tenant's site. Tenant ids are re-validated
 * (`a-z0-9-` only), so a tenant id cannot reach another path.
 */
export function tenantSiteUrl(
  config: Pick<SharePointConfig, 'origin' | 'sitePattern'>,
  tenant: TenantId,
): string {
  return `${config.origin}${config.sitePattern.replace('{tenant}', parseTenantId(tenant))}`;
}
