/**
 * Bearer-token authentication. A token is a JWT verified with `jose`: HS256
 * with a shared secret, or RS256/ES256 against a JWKS URL. The tenant comes
 * from one claim (default `tenant_id`) and scopes from `scope` (space
 * separated, or an array). The tenant never comes from a header or an argument.
 */
import { type JWTPayload, SignJWT, createRemoteJWKSet, errors as joseErrors, jwtVerify } from 'jose';
import { HubError } from '../hub/errors';
import { type TenantId, isTenantId } from '../hub/tenant';

/**
 * Known scopes. `hub:metrics` reads `/metrics` (an operator's credential: the
 * figures cover every tenant), so a tenant's `hub:admin` does not imply it.
 * `hub:schema` is a credential of its own, without a tenant: it reads the
 * subgraph SDL (`{ _service { sdl } }`, for supergraph composition) and
 * nothing else.
 */
export const SCOPES = ['hub:read', 'hub:write', 'hub:admin', 'hub:metrics', 'hub:schema'] as const;
export type Scope = (typeof SCOPES)[number];

/** The scope of a schema-only credential (see {@link SchemaReader}). */
export const SCHEMA_SCOPE = 'hub:schema';

/**
 * A caller holding a schema-only credential: a verified token with the
 * `hub:schema` scope and no tenant claim. It may read the subgraph SDL and
 * nothing of any tenant.
 */
export interface SchemaReader {
  readonly kind: 'schema-reader';
  /** The token's `sub`, when present (for logs). */
  readonly subject?: string;
}

/** Who is calling: established only from a verified token. */
export interface Identity {
  readonly tenant: TenantId;
  readonly scopes: ReadonlySet<Scope>;
  /** The token's `sub`, when present (for logs). */
  readonly subject?: string;
}

export interface AuthOptions {
  /** HS256 shared secret (at least 32 bytes recommended). */
  readonly jwtSecret?: string;
  /** JWKS URL for RS256 / ES256 tokens. */
  readonly jwksUrl?: string;
  /** Claim that holds the tenant id (default `tenant_id`). */
  readonly tenantClaim?: string;
  /** Required `iss` when set (`HUB_AUTH_ISSUER`). */
  readonly issuer?: string;
  /** Required `aud` (one of the token's audiences) when set (`HUB_AUTH_AUDIENCE`). */
  readonly audience?: string;
  /** Longest accepted token lifetime in seconds (`HUB_AUTH_MAX_TTL`, default {@link DEFAULT_MAX_TTL_SECONDS}). */
  readonly maxTtlSeconds?: number;
  /** Clock skew tolerated on `exp`, `nbf` and `iat`, in seconds (default {@link CLOCK_SKEW_SECONDS}). */
  readonly clockSkewSeconds?: number;
}

/** Default longest token lifetime: one day. */
export const DEFAULT_MAX_TTL_SECONDS = 86_400;
/** Default tolerated clock skew between the token issuer and the gateway. */
export const CLOCK_SKEW_SECONDS = 60;

/** Verifies `Authorization` headers. */
export interface Authenticator {
  /**
   * @returns the caller's identity.
   * @throws HubError UNAUTHENTICATED (missing, malformed, expired, forged, or without a valid tenant).
   */
  authenticate(authorization: string | undefined): Promise<Identity>;
  /**
   * As {@link authenticate}, but a schema-only token (scope `hub:schema`, no
   * tenant claim) is accepted as a {@link SchemaReader}. Only `/graphql` asks
   * this, and answers such a caller the SDL and nothing else.
   * @throws HubError UNAUTHENTICATED as {@link authenticate}.
   */
  authenticateCaller(authorization: string | undefined): Promise<Identity | SchemaReader>;
}

/**
 * Builds an authenticator from a secret or a JWKS URL (a secret wins when both
 * are set: both key kinds are never accepted at once, so an HS256 token can
 * never be verified with a public key as its secret).
 * @throws HubError VALIDATION when neither is configured.
 */
export function createAuthenticator(options: AuthOptions): Authenticator {
  const rules: ClaimRules = {
    tenantClaim: options.tenantClaim ?? 'tenant_id',
    maxTtl: options.maxTtlSeconds ?? DEFAULT_MAX_TTL_SECONDS,
    skew: options.clockSkewSeconds ?? CLOCK_SKEW_SECONDS,
  };
  const verify = signatureVerifier(options, rules.skew);
  // Verified identities by token: a dashboard sends the same token on every
  // request, and verifying it (WebCrypto HMAC, claim checks) was a visible
  // share of a small query's CPU. An entry lives until the token's `exp`, at
  // most VERIFIED_TTL_MS (so a key removed from a JWKS stops working within
  // it); the map is bounded and simply cleared when full.
  const verified = new Map<string, { identity: Identity | SchemaReader; until: number }>();
  const authenticateCaller = async (authorization: string | undefined): Promise<Identity | SchemaReader> => {
    const hit = authorization === undefined ? undefined : verified.get(authorization);
    if (hit !== undefined) {
      if (Date.now() < hit.until) return hit.identity;
      verified.delete(authorization as string);
    }
    const identity = await verifyHeader(authorization, verify, rules);
    if (verified.size >= MAX_VERIFIED) verified.clear();
    verified.set(authorization as string, {
      identity: identity.identity,
      until: Math.min(identity.expiresAt, Date.now() + VERIFIED_TTL_MS),
    });
    return identity.identity;
  };
  return {
    authenticateCaller,
    async authenticate(authorization) {
      const caller = await authenticateCaller(authorization);
      if (isSchemaReader(caller))
        throw unauthenticated(
          `a ${SCHEMA_SCOPE} token reads only the schema ({ _service { sdl } } at /graphql): it has no tenant`,
        );
      return caller;
    },
  };
}

/** The claim rules jose has no option for (see claimProblem) and the tenant's claim. */
interface ClaimRules {
  readonly tenantClaim: string;
  readonly maxTtl: number;
  readonly skew: number;
}

/**
 * Checks a token's signature, `exp` and `nbf` (with the skew), `iss` and
 * `aud` with jose: HS256 with the secret, else RS256/ES256 from the JWKS.
 * @throws HubError VALIDATION when neither is configured.
 */
function signatureVerifier(options: AuthOptions, skew: number): (token: string) => Promise<JWTPayload> {
  const claims = {
    clockTolerance: skew,
    ...(options.issuer !== undefined ? { issuer: options.issuer } : {}),
    ...(options.audience !== undefined ? { audience: options.audience } : {}),
  };
  if (options.jwtSecret) {
    const key = new TextEncoder().encode(options.jwtSecret);
    return async (token) => (await jwtVerify(token, key, { algorithms: ['HS256'], ...claims })).payload;
  }
  if (options.jwksUrl) {
    const jwks = createRemoteJWKSet(new URL(options.jwksUrl));
    return async (token) =>
      (await jwtVerify(token, jwks, { algorithms: ['RS256', 'ES256'], ...claims })).payload;
  }
  throw new HubError('VALIDATION', 'auth needs HUB_AUTH_JWT_SECRET or HUB_AUTH_JWKS_URL');
}

/** The identity of an `Authorization: Bearer` header, and when its token expires (ms). */
async function verifyHeader(
  authorization: string | undefined,
  verify: (token: string) => Promise<JWTPayload>,
  rules: ClaimRules,
): Promise<{ identity: Identity | SchemaReader; expiresAt: number }> {
  if (!authorization) {
    throw unauthenticated('missing bearer token: send "Authorization: Bearer <token>"');
  }
  const m = /^Bearer\s+([A-Za-z0-9._~+/=-]+)\s*$/i.exec(authorization);
  if (!m) throw unauthenticated('malformed Authorization header: expected "Bearer <token>"');
  let payload: JWTPayload;
  try {
    payload = await verify(m[1] as string);
  } catch (err) {
    throw unauthenticated(describeJoseError(err), err);
  }
  const problem = claimProblem(payload, Math.floor(Date.now() / 1000), rules.maxTtl, rules.skew);
  if (problem !== undefined) throw unauthenticated(problem);
  const tenant = payload[rules.tenantClaim];
  const scopes = parseScopes(payload.scope);
  const subject = typeof payload.sub === 'string' ? { subject: payload.sub } : {};
  const expiresAt = (payload.exp as number) * 1000;
  // Only a token without any tenant claim is schema-only: a malformed tenant is still refused.
  if (tenant === undefined && scopes.has(SCHEMA_SCOPE))
    return { identity: { kind: 'schema-reader', ...subject }, expiresAt };
  if (!isTenantId(tenant)) {
    throw unauthenticated(`token has no valid tenant in its '${rules.tenantClaim}' claim`);
  }
  return { identity: { tenant, scopes, ...subject }, expiresAt };
}

/** Longest time a verified token is trusted without verifying it again. */
const VERIFIED_TTL_MS = 60_000;
/** Most verified tokens remembered at once. */
const MAX_VERIFIED = 10_000;

/**
 * The lifetime rules of a verified token: `exp` present, passed exactly (no
 * skew), and at most `maxTtl`
 * seconds after `iat` (and after now, so a token without `iat` cannot live
 * longer either), `iat` not in the future beyond the skew.
 * @returns the problem, or undefined when the token is acceptable.
 */
export function claimProblem(
  payload: JWTPayload,
  now: number,
  maxTtl: number,
  skew: number,
): string | undefined {
  if (typeof payload.exp !== 'number' || !Number.isFinite(payload.exp))
    return `token has no exp claim: tokens must expire (within ${maxTtl}s, HUB_AUTH_MAX_TTL)`;
  // The skew applies to claims in the future (iat, nbf); expiry is exact.
  if (payload.exp <= now) return 'token expired';
  if (payload.iat !== undefined) {
    if (typeof payload.iat !== 'number') return 'token claim invalid: iat';
    if (payload.iat > now + skew) return 'token iat is in the future';
    if (payload.exp - payload.iat > maxTtl)
      return `token lifetime (exp - iat) of ${payload.exp - payload.iat}s exceeds the maximum of ${maxTtl}s (HUB_AUTH_MAX_TTL)`;
  }
  if (payload.exp - now > maxTtl + skew)
    return `token expires ${payload.exp - now}s from now, beyond the maximum lifetime of ${maxTtl}s (HUB_AUTH_MAX_TTL)`;
  return undefined;
}

function describeJoseError(err: unknown): string {
  if (err instanceof joseErrors.JWTExpired) return 'token expired';
  if (err instanceof joseErrors.JWSSignatureVerificationFailed) return 'token signature does not verify';
  if (err instanceof joseErrors.JOSEAlgNotAllowed) return 'token algorithm not accepted';
  if (err instanceof joseErrors.JWTClaimValidationFailed) {
    if (err.claim === 'nbf') return 'token is not valid yet (nbf is in the future)';
    if (err.claim === 'iss')
      return 'token issuer (iss) is not the one this gateway accepts (HUB_AUTH_ISSUER)';
    if (err.claim === 'aud') return 'token audience (aud) does not include this gateway (HUB_AUTH_AUDIENCE)';
    return `token claim invalid: ${err.claim}`;
  }
  if (err instanceof joseErrors.JWKSNoMatchingKey) return 'token signed by an unknown key';
  if (err instanceof joseErrors.JWKSTimeout) return 'could not fetch the signing keys in time';
  return 'token is invalid';
}

function unauthenticated(message: string, cause?: unknown): HubError {
  return new HubError('UNAUTHENTICATED', message, cause === undefined ? {} : { cause });
}

/** True for a schema-only caller (see {@link SchemaReader}). */
export function isSchemaReader(caller: Identity | SchemaReader): caller is SchemaReader {
  return 'kind' in caller && caller.kind === 'schema-reader';
}

/** Reads the `scope` claim (space separated string or array), keeping only known scopes. */
export function parseScopes(claim: unknown): ReadonlySet<Scope> {
  const words = typeof claim === 'string' ? claim.split(/\s+/) : Array.isArray(claim) ? claim : [];
  return new Set(words.filter((w): w is Scope => (SCOPES as readonly unknown[]).includes(w)));
}

/** True when the identity holds `needed` (hub:admin holds every scope but hub:metrics). */
export function hasScope(identity: Pick<Identity, 'scopes'>, needed: Scope): boolean {
  return identity.scopes.has(needed) || (needed !== 'hub:metrics' && identity.scopes.has('hub:admin'));
}

/** @throws HubError FORBIDDEN naming the missing scope. */
export function requireScope(identity: Pick<Identity, 'scopes'>, needed: Scope): void {
  if (!hasScope(identity, needed))
    throw new HubError('FORBIDDEN', `this operation needs the ${needed} scope`);
}

export interface MintOptions {
  readonly secret: string;
  /** The tenant; omitted only for a schema-only token (scopes exactly `hub:schema`). */
  readonly tenant?: string;
  readonly scopes: readonly string[];
  /** Lifetime in seconds (default 3600). */
  readonly ttlSeconds?: number;
  readonly tenantClaim?: string;
  readonly subject?: string;
  /** `iss` claim (set it to HUB_AUTH_ISSUER when the gateway checks one). */
  readonly issuer?: string;
  /** `aud` claim (set it to HUB_AUTH_AUDIENCE when the gateway checks one). */
  readonly audience?: string;
}

/**
 * Mints an HS256 token (development and tests): for a tenant, or without one
 * a schema-only token (scopes exactly `hub:schema`).
 * @throws HubError VALIDATION for a bad tenant id, an unknown scope, a missing
 *   tenant, or `hub:schema` mixed with a tenant or other scopes.
 */
export async function mintToken(options: MintOptions): Promise<string> {
  const bad = options.scopes.filter((s) => !(SCOPES as readonly string[]).includes(s));
  if (bad.length > 0)
    throw new HubError('VALIDATION', `unknown scope ${bad.join(', ')}: expected ${SCOPES.join(', ')}`);
  if (options.scopes.includes(SCHEMA_SCOPE)) {
    if (options.tenant !== undefined || options.scopes.some((s) => s !== SCHEMA_SCOPE))
      throw new HubError(
        'VALIDATION',
        `${SCHEMA_SCOPE} is a credential of its own: no tenant and no other scope (it reads only the schema)`,
      );
  } else if (!isTenantId(options.tenant)) {
    throw new HubError(
      'VALIDATION',
      options.tenant === undefined ? 'a tenant is required' : `invalid tenant id ${options.tenant}`,
    );
  }
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({
    ...(options.tenant !== undefined ? { [options.tenantClaim ?? 'tenant_id']: options.tenant } : {}),
    scope: options.scopes.join(' '),
    ...(options.issuer !== undefined ? { iss: options.issuer } : {}),
    ...(options.audience !== undefined ? { aud: options.audience } : {}),
  })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(options.subject ?? 'dev')
    .setIssuedAt(now)
    .setExpirationTime(now + (options.ttlSeconds ?? 3600))
    .sign(new TextEncoder().encode(options.secret));
}

/** Parses a duration like `90s`, `15m`, `1h`, `7d` or plain seconds. @returns seconds. */
export function parseTtl(text: string): number {
  const m = /^(\d+)\s*([smhd]?)$/.exec(text.trim());
  if (!m)
    throw new HubError('VALIDATION', `invalid duration ${JSON.stringify(text)}: use e.g. 90s, 15m, 1h, 7d`);
  const n = Number(m[1]);
  const unit = { '': 1, s: 1, m: 60, h: 3600, d: 86_400 }[m[2] as '' | 's' | 'm' | 'h' | 'd'];
  if (n <= 0) throw new HubError('VALIDATION', 'duration must be positive');
  return n * unit;
}
