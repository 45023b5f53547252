/**
 * Token rules (issue 11 item 5): `exp` required with a maximum lifetime, `iss`
 * and `aud` checked when configured, `iat`/`nbf` in the future refused, each
 * with a clear UNAUTHENTICATED message; and the token is checked before the
 * request body is read, so a body that never ends still gets its 401.
 */
import { connect } from 'node:net';
import { SignJWT } from 'jose';
import { main } from '../../src/cli';
import { SECRET, type TestGateway, startGateway } from '../graphql/harness';

const QUERY = '{ outputs(first: 1) { nodes { id } } }';
const key = new TextEncoder().encode(SECRET);
const now = (): number => Math.floor(Date.now() / 1000);

function sign(claims: Record<string, unknown>): Promise<string> {
  return new SignJWT({ tenant_id: 'acme', scope: 'hub:read', ...claims })
    .setProtectedHeader({ alg: 'HS256' })
    .sign(key);
}

async function answer(gw: TestGateway, token: string): Promise<{ status: number; message?: string }> {
  const res = await gw.gql(token, QUERY);
  return { status: res.status, ...(res.body.errors ? { message: res.body.errors[0]?.message } : {}) };
}

describe('lifetime rules (default maximum 24h, 60s skew)', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startGateway();
  });
  afterAll(async () => gw.close());

  test('a token without exp is refused, naming the rule', async () => {
    const r = await answer(gw, await sign({ iat: now() }));
    expect(r.status).toBe(401);
    expect(r.message).toMatch(/no exp claim.*HUB_AUTH_MAX_TTL/);
  });

  test('a lifetime over the maximum is refused, with or without iat', async () => {
    const t = now();
    const long = await answer(gw, await sign({ iat: t, exp: t + 86_400 + 3600 }));
    expect(long.status).toBe(401);
    expect(long.message).toMatch(/lifetime .* exceeds the maximum of 86400s/);
    const noIat = await answer(gw, await sign({ exp: t + 7 * 86_400 }));
    expect(noIat.status).toBe(401);
    expect(noIat.message).toMatch(/beyond the maximum lifetime of 86400s/);
    expect((await answer(gw, await sign({ iat: t, exp: t + 86_400 }))).status).toBe(200);
  });

  test('iat or nbf in the future beyond the skew is refused; within it accepted', async () => {
    const t = now();
    const iat = await answer(gw, await sign({ iat: t + 600, exp: t + 900 }));
    expect(iat.status).toBe(401);
    expect(iat.message).toMatch(/iat is in the future/);
    const nbf = await answer(gw, await sign({ nbf: t + 600, exp: t + 900 }));
    expect(nbf.status).toBe(401);
    expect(nbf.message).toMatch(/not valid yet/);
    expect((await answer(gw, await sign({ iat: t + 5, nbf: t + 5, exp: t + 900 }))).status).toBe(200);
  });
});

describe('issuer and audience when configured', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startGateway({
      auth: {
        jwtSecret: SECRET,
        issuer: 'https://idp.example',
        audience: 'hub-gateway',
        maxTtlSeconds: 3600,
      },
    });
  });
  afterAll(async () => gw.close());

  test('wrong or missing iss/aud refused; the right ones accepted', async () => {
    const t = now();
    const base = { iat: t, exp: t + 600 };
    const wrongIss = await answer(
      gw,
      await sign({ ...base, iss: 'https://evil.example', aud: 'hub-gateway' }),
    );
    expect(wrongIss).toEqual({ status: 401, message: expect.stringMatching(/issuer \(iss\)/) as unknown });
    const noIss = await answer(gw, await sign({ ...base, aud: 'hub-gateway' }));
    expect(noIss.status).toBe(401);
    const wrongAud = await answer(gw, await sign({ ...base, iss: 'https://idp.example', aud: 'other' }));
    expect(wrongAud).toEqual({ status: 401, message: expect.stringMatching(/audience \(aud\)/) as unknown });
    const noAud = await answer(gw, await sign({ ...base, iss: 'https://idp.example' }));
    expect(noAud.status).toBe(401);
    const ok = await answer(
      gw,
      await sign({ ...base, iss: 'https://idp.example', aud: ['x', 'hub-gateway'] }),
    );
    expect(ok.status).toBe(200);
    // The configured maximum (1h) applies.
    const long = await answer(
      gw,
      await sign({ iat: t, exp: t + 7200, iss: 'https://idp.example', aud: 'hub-gateway' }),
    );
    expect(long.message).toMatch(/maximum of 3600s/);
  });
});

describe('the token is checked before the body is read', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startGateway();
  });
  afterAll(async () => gw.close());

  /**
   * Sends the headers and a first piece of a body announced as 1 MB, and never
   * the rest: if the gateway read the body before the token, no answer could come.
   */
  function unfinishedPost(path: string, authorization: string): Promise<string> {
    const { port } = new URL(gw.url);
    return new Promise((resolve, reject) => {
      const socket = connect(Number(port), '127.0.0.1');
      let text = '';
      socket.on('data', (d: Buffer) => {
        text += d.toString('utf8');
        if (text.includes('\r\n\r\n') && /"errors"/.test(text)) {
          socket.destroy();
          resolve(text);
        }
      });
      socket.on('error', reject);
      socket.on('close', () => resolve(text));
      socket.write(
        `POST ${path} HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n` +
          `authorization: ${authorization}\r\ncontent-length: 1000000\r\n\r\n{"query":"{ outputs`,
      );
    });
  }

  test.each(['/graphql', '/ingest/outputs'])(
    '%s: a bad token gets 401 while the body is unfinished',
    async (path) => {
      const forged = await new SignJWT({ tenant_id: 'acme', scope: 'hub:admin' })
        .setProtectedHeader({ alg: 'HS256' })
        .setExpirationTime('5m')
        .sign(new TextEncoder().encode('not-the-secret-not-the-secret-0000'));
      const text = await unfinishedPost(path, `Bearer ${forged}`);
      expect(text).toMatch(/^HTTP\/1\.1 401/);
      expect(text.toLowerCase()).toContain('connection: close');
      expect(text).toContain('UNAUTHENTICATED');
    },
  );
});

test('`hub token` refuses a lifetime the gateway would refuse, and its tokens carry exp', async () => {
  const saved = process.env.HUB_AUTH_JWT_SECRET;
  process.env.HUB_AUTH_JWT_SECRET = SECRET;
  const out: string[] = [];
  const err: string[] = [];
  const io = { out: (l: string) => out.push(l), err: (l: string) => err.push(l) };
  try {
    expect(await main(['token', '--tenant', 'acme', '--ttl', '7d'], io)).toBe(1);
    expect(err.join('\n')).toMatch(/exceeds the maximum lifetime of 86400s \(HUB_AUTH_MAX_TTL\)/);
    expect(await main(['token', '--tenant', 'acme'], io)).toBe(0);
  } finally {
    if (saved === undefined) delete process.env.HUB_AUTH_JWT_SECRET;
    else process.env.HUB_AUTH_JWT_SECRET = saved;
  }
  const payload = JSON.parse(
    Buffer.from((out[0] as string).split('.')[1] as string, 'base64url').toString(),
  ) as {
    exp?: number;
    iat: number;
  };
  expect(payload.exp).toBe(payload.iat + 3600);
});
