/**
 * Bearer-token authentication and scopes, over HTTP: HS256 secrets, a JWKS URL
 * (ES256 and RS256) served locally, the tenant claim, and the `hub token` CLI.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import { main } from '../../src/cli';
import { mintToken } from '../../src/platform/auth';
import { SECRET, type TestGateway, startGateway } from './harness';

const QUERY = '{ outputs(first: 1) { nodes { id } } }';
const MUTATION = 'mutation { recordTelemetryEvents(records: [{ name: "x" }]) { created } }';

describe('HS256', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startGateway();
  });
  afterAll(async () => gw.close());

  async function expect401(authorization: string | undefined, message: RegExp) {
    const res = await fetch(`${gw.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) },
      body: JSON.stringify({ query: QUERY }),
    });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Bearer');
    const body = (await res.json()) as { errors: { message: string; extensions: { code: string } }[] };
    expect(body.errors[0]?.extensions.code).toBe('UNAUTHENTICATED');
    expect(body.errors[0]?.message).toMatch(message);
  }

  test('missing, malformed, expired, forged and tenant-less tokens are 401 with a clear message', async () => {
    await expect401(undefined, /missing bearer token/);
    await expect401('Basic abc', /malformed Authorization/);
    await expect401('Bearer not.a.jwt', /invalid/);
    const expired = await new SignJWT({ tenant_id: 'acme', scope: 'hub:read' })
      .setProtectedHeader({ alg: 'HS256' })
      .setExpirationTime(Math.floor(Date.now() / 1000) - 60)
      .sign(new TextEncoder().encode(SECRET));
    await expect401(`Bearer ${expired}`, /expired/);
    const forged = await mintToken({
      secret: 'another-secret-another-secret-1234',
      tenant: 'acme',
      scopes: ['hub:admin'],
    });
    await expect401(`Bearer ${forged}`, /signature/);
    const noTenant = await new SignJWT({ scope: 'hub:read' })
      .setProtectedHeader({ alg: 'HS256' })
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode(SECRET));
    await expect401(`Bearer ${noTenant}`, /tenant_id/);
    const badTenant = await new SignJWT({ tenant_id: 'ACME; drop', scope: 'hub:read' })
      .setProtectedHeader({ alg: 'HS256' })
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode(SECRET));
    await expect401(`Bearer ${badTenant}`, /tenant/);
    const unsigned = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from('{"tenant_id":"acme","scope":"hub:admin"}').toString('base64url')}.`;
    await expect401(`Bearer ${unsigned}`, /token/);
  });

  test('scopes: read cannot write, write cannot read, admin can do both (403 FORBIDDEN)', async () => {
    const read = await gw.token('acme', ['hub:read']);
    const write = await gw.token('acme', ['hub:write']);
    const admin = await gw.token('acme', ['hub:admin']);
    expect((await gw.gql(read, QUERY)).status).toBe(200);
    const denied = await gw.gql(read, MUTATION);
    expect(denied.status).toBe(403);
    expect(denied.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(denied.body.errors?.[0]?.message).toMatch(/hub:write/);
    expect((await gw.gql(write, MUTATION)).body.data).toEqual({ recordTelemetryEvents: { created: 1 } });
    const noRead = await gw.gql(write, QUERY);
    expect(noRead.status).toBe(403);
    expect(noRead.body.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect((await gw.gql(admin, QUERY)).status).toBe(200);
    expect((await gw.gql(admin, MUTATION)).body.data).toEqual({ recordTelemetryEvents: { created: 1 } });
    const none = await gw.gql(await gw.token('acme', []), QUERY);
    expect(none.status).toBe(403);
  });

  test('`hub token` mints a token the gateway accepts, from the configured secret', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const saved = process.env.HUB_AUTH_JWT_SECRET;
    process.env.HUB_AUTH_JWT_SECRET = SECRET;
    try {
      const code = await main(
        ['token', '--tenant', 'acme', '--scopes', 'hub:read,hub:write', '--ttl', '5m'],
        {
          out: (l) => out.push(l),
          err: (l) => err.push(l),
        },
      );
      expect(code).toBe(0);
    } finally {
      if (saved === undefined) delete process.env.HUB_AUTH_JWT_SECRET;
      else process.env.HUB_AUTH_JWT_SECRET = saved;
    }
    const token = out[0] as string;
    expect((await gw.gql(token, MUTATION)).status).toBe(200);
    const payload = JSON.parse(Buffer.from(token.split('.')[1] as string, 'base64url').toString()) as {
      exp: number;
      iat: number;
      scope: string;
    };
    expect(payload.exp - payload.iat).toBe(300);
    expect(payload.scope).toBe('hub:read hub:write');
    expect(
      await main(['token', '--scopes', 'hub:read'], { out: () => undefined, err: () => undefined }),
    ).toBe(2);
  });
});

describe('JWKS (ES256 and RS256) and a custom tenant claim', () => {
  let gw: TestGateway;
  let jwks: ReturnType<typeof createServer>;
  let es: Awaited<ReturnType<typeof generateKeyPair>>;
  let rs: Awaited<ReturnType<typeof generateKeyPair>>;
  beforeAll(async () => {
    es = await generateKeyPair('ES256');
    rs = await generateKeyPair('RS256');
    const keys = [
      { ...(await exportJWK(es.publicKey)), kid: 'es', alg: 'ES256', use: 'sig' },
      { ...(await exportJWK(rs.publicKey)), kid: 'rs', alg: 'RS256', use: 'sig' },
    ];
    jwks = createServer((_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ keys }));
    });
    await new Promise<void>((r) => jwks.listen(0, '127.0.0.1', r));
    const port = (jwks.address() as AddressInfo).port;
    gw = await startGateway({ auth: { jwksUrl: `http://127.0.0.1:${port}/jwks.json`, tenantClaim: 'org' } });
  });
  afterAll(async () => {
    await gw.close();
    await new Promise((r) => jwks.close(r));
  });

  const sign = (
    alg: 'ES256' | 'RS256',
    key: Parameters<SignJWT['sign']>[0],
    kid: string,
    claims: Record<string, unknown>,
  ) => new SignJWT(claims).setProtectedHeader({ alg, kid }).setExpirationTime('5m').sign(key);

  test('accepts ES256 and RS256 tokens from the JWKS, tenant from the configured claim', async () => {
    for (const [alg, pair, kid] of [
      ['ES256', es, 'es'],
      ['RS256', rs, 'rs'],
    ] as const) {
      const t = await sign(alg, pair.privateKey, kid, { org: 'acme', scope: 'hub:read' });
      const res = await gw.gql(t, QUERY);
      expect(res.status).toBe(200);
    }
  });

  test('rejects HS256, unknown keys and a tenant in the default claim only', async () => {
    const hs = await mintToken({ secret: SECRET, tenant: 'acme', scopes: ['hub:read'], tenantClaim: 'org' });
    expect((await gw.gql(hs, QUERY)).status).toBe(401);
    const other = await generateKeyPair('ES256');
    const unknown = await sign('ES256', other.privateKey, 'es', { org: 'acme', scope: 'hub:read' });
    expect((await gw.gql(unknown, QUERY)).status).toBe(401);
    const wrongClaim = await sign('ES256', es.privateKey, 'es', { tenant_id: 'acme', scope: 'hub:read' });
    const res = await gw.gql(wrongClaim, QUERY);
    expect(res.status).toBe(401);
    expect(res.body.errors?.[0]?.message).toMatch(/'org' claim/);
  });
});
