import { type HubConfig, readConfig } from '../config';
import type { Command } from './command';
import { UsageError } from './command';

export const command: Command = {
  path: ['token'],
  summary: 'mint a development bearer token (HS256) for a tenant, or a schema-only one',
  help: `Usage: hub token --tenant <id> [--scopes <list>] [--ttl <duration>] [--subject <sub>]
       hub token --scopes hub:schema [--ttl <duration>] [--subject <sub>]

Prints a JWT signed with HUB_AUTH_JWT_SECRET, or (when none is configured) with
the development secret that 'hub serve --dev' keeps in HUB_DATA_DIR. The tenant
goes into the claim named by HUB_AUTH_TENANT_CLAIM (default tenant_id).
For development and tests only: production tokens come from your identity provider.

A hub:schema token has no tenant and no other scope: it reads the subgraph SDL
({ _service { sdl } }, what rover and Apollo Router composition ask) and nothing
else (docs/graphql.md, "Composing a supergraph").

Options:
  --tenant <id>       tenant id (required, except for --scopes hub:schema)
  --scopes <list>     comma-separated: hub:read, hub:write, hub:admin, hub:metrics, or hub:schema alone (default hub:read)
  --ttl <duration>    lifetime, e.g. 90s, 15m, 1h (default 1h; at most HUB_AUTH_MAX_TTL, default 24h)

The token carries exp (always), and iss/aud when HUB_AUTH_ISSUER/HUB_AUTH_AUDIENCE are set.
  --subject <sub>     the token's sub claim (default dev)

Examples:
  hub token --tenant demo --scopes hub:read,hub:write --ttl 8h
  hub token --scopes hub:schema --ttl 15m`,
  options: {
    tenant: { type: 'string' },
    scopes: { type: 'string' },
    ttl: { type: 'string' },
    subject: { type: 'string' },
  },
  async run({ values }, io) {
    const scopes =
      typeof values.scopes === 'string' ? values.scopes.split(',').map((s) => s.trim()) : ['hub:read'];
    const schemaOnly = scopes.includes('hub:schema');
    const tenant = typeof values.tenant === 'string' && values.tenant !== '' ? values.tenant : undefined;
    if (schemaOnly && (tenant !== undefined || scopes.some((s) => s !== 'hub:schema' && s !== '')))
      throw new UsageError('hub:schema is a token of its own: no --tenant and no other scope');
    if (!schemaOnly && tenant === undefined) throw new UsageError('--tenant is required');
    const config = readConfig();
    const { parseTtl, DEFAULT_MAX_TTL_SECONDS } =
      require('../platform/auth') as typeof import('../platform/auth');
    const ttlSeconds = typeof values.ttl === 'string' ? parseTtl(values.ttl) : 3600;
    const maxTtl = config.authMaxTtlSeconds ?? DEFAULT_MAX_TTL_SECONDS;
    if (ttlSeconds > maxTtl) {
      // The gateway would refuse such a token: say so now rather than at the first request.
      io.err(
        `hub token: --ttl of ${ttlSeconds}s exceeds the maximum lifetime of ${maxTtl}s (HUB_AUTH_MAX_TTL)`,
      );
      return 1;
    }
    const token = await mintConfiguredToken(config, {
      ...(tenant !== undefined ? { tenant } : {}),
      scopes: scopes.filter((s) => s !== ''),
      ttlSeconds,
      ...(typeof values.subject === 'string' ? { subject: values.subject } : {}),
    });
    if (token === undefined) {
      io.err(
        'hub token: no signing secret: set HUB_AUTH_JWT_SECRET, or run `hub serve --dev` once to create the development secret',
      );
      return 1;
    }
    io.out(token);
    return 0;
  },
};

/**
 * A token signed with the configured secret (HUB_AUTH_JWT_SECRET, else the
 * development secret `hub serve --dev` keeps in HUB_DATA_DIR), with the
 * configured tenant claim, issuer and audience, as the gateway expects them.
 * The lifetime is capped at HUB_AUTH_MAX_TTL (the gateway refuses longer ones).
 * @returns the token, or undefined when no secret is configured.
 */
export async function mintConfiguredToken(
  config: HubConfig,
  claims: { tenant?: string; scopes: readonly string[]; ttlSeconds: number; subject?: string },
): Promise<string | undefined> {
  const { mintToken, DEFAULT_MAX_TTL_SECONDS } =
    require('../platform/auth') as typeof import('../platform/auth');
  const { readDevSecret } = require('../app/dev-secret') as typeof import('../app/dev-secret');
  const secret = config.jwtSecret ?? readDevSecret(config.dataDir);
  if (!secret) return undefined;
  return mintToken({
    secret,
    ...(claims.tenant !== undefined ? { tenant: claims.tenant } : {}),
    scopes: [...claims.scopes],
    ttlSeconds: Math.min(claims.ttlSeconds, config.authMaxTtlSeconds ?? DEFAULT_MAX_TTL_SECONDS),
    tenantClaim: config.tenantClaim,
    ...(config.authIssuer !== undefined ? { issuer: config.authIssuer } : {}),
    ...(config.authAudience !== undefined ? { audience: config.authAudience } : {}),
    ...(claims.subject !== undefined ? { subject: claims.subject } : {}),
  });
}
