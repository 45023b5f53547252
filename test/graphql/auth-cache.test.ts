/**
 * The authenticator remembers verified tokens (to skip re-verifying the same
 * bearer token on every request); what it remembers must never let through
 * what verification would reject.
 */
import { SignJWT } from 'jose';
import { createAuthenticator, mintToken } from '../../src/platform/auth';
import { isHubError } from '../../src/hub/errors';

const secret = 'auth-cache-test-secret-0123456789abcdef';
const auth = createAuthenticator({ jwtSecret: secret });

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (err) {
    return isHubError(err) ? err.code : 'other';
  }
}

test('a remembered token stops working when it expires', async () => {
  // The clock is set by hand (jose and the cache both read Date.now), so a slow machine cannot flake this.
  jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask', 'setTimeout'] });
  try {
    const now = Math.floor(Date.now() / 1000);
    const token = await new SignJWT({ tenant_id: 'acme', scope: 'hub:read' })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuedAt(now)
      .setExpirationTime(now + 30)
      .sign(new TextEncoder().encode(secret));
    const header = `Bearer ${token}`;
    expect((await auth.authenticate(header)).tenant).toBe('acme');
    jest.setSystemTime((now + 20) * 1000);
    expect((await auth.authenticate(header)).tenant).toBe('acme');
    jest.setSystemTime((now + 31) * 1000);
    expect(await code(auth.authenticate(header))).toBe('UNAUTHENTICATED');
  } finally {
    jest.useRealTimers();
  }
});

test('remembering one token accepts no other: tampered, other tenant, other spelling', async () => {
  const token = await mintToken({ secret, tenant: 'acme', scopes: ['hub:read'] });
  const other = await mintToken({ secret, tenant: 'globex', scopes: ['hub:write'] });
  expect((await auth.authenticate(`Bearer ${token}`)).tenant).toBe('acme');
  const [h, p, s] = token.split('.') as [string, string, string];
  const forged = `${h}.${Buffer.from(JSON.stringify({ tenant_id: 'globex', scope: 'hub:admin' })).toString('base64url')}.${s}`;
  expect(await code(auth.authenticate(`Bearer ${forged}`))).toBe('UNAUTHENTICATED');
  expect(await code(auth.authenticate(`Bearer ${h}.${p}.${s.slice(0, -2)}AA`))).toBe('UNAUTHENTICATED');
  const second = await auth.authenticate(`Bearer ${other}`);
  expect(second.tenant).toBe('globex');
  expect([...second.scopes]).toEqual(['hub:write']);
  // The first token still maps to its own identity.
  expect((await auth.authenticate(`Bearer ${token}`)).tenant).toBe('acme');
  expect(await code(auth.authenticate(undefined))).toBe('UNAUTHENTICATED');
  expect(await code(auth.authenticate('Basic abc'))).toBe('UNAUTHENTICATED');
});

test('a token signed with another secret is rejected even after a valid one was remembered', async () => {
  const good = await mintToken({ secret, tenant: 'acme', scopes: ['hub:read'] });
  const bad = await mintToken({
    secret: 'another-secret-0123456789abcdef-xyz',
    tenant: 'acme',
    scopes: ['hub:read'],
  });
  expect((await auth.authenticate(`Bearer ${good}`)).tenant).toBe('acme');
  expect(await code(auth.authenticate(`Bearer ${bad}`))).toBe('UNAUTHENTICATED');
});
