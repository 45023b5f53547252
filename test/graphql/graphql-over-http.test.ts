/**
 * GraphQL over HTTP, as the spec's own audit suite (graphql-http's
 * `serverAudits`) checks it against a live gateway: every MUST and every
 * SHOULD passes. In particular request errors (parse, validation, bad
 * parameters, a body that is not JSON) answer 200 when the client accepts
 * `application/json` (what Apollo Router and Gateway send: they then read the
 * Hub's own error), and keep 4xx under `application/graphql-response+json`.
 */
import { serverAudits } from 'graphql-http';
import { type TestGateway, startGateway } from './harness';

let gw: TestGateway;
let token: string;

beforeAll(async () => {
  gw = await startGateway();
  token = await gw.token('audit', ['hub:read']);
});
afterAll(async () => gw?.close());

test('every MUST and SHOULD of the GraphQL-over-HTTP audit passes', async () => {
  const audits = serverAudits({
    url: () => `${gw.url}/graphql`,
    // The audit's requests, each with a bearer token: the gateway answers nobody without one.
    fetchFn: (input: string | URL | Request, init?: RequestInit) => {
      const headers = new Headers(init?.headers);
      headers.set('authorization', `Bearer ${token}`);
      return fetch(input, { ...init, headers });
    },
  });
  const failed: string[] = [];
  for (const audit of audits) {
    if (!audit.name.startsWith('MUST') && !audit.name.startsWith('SHOULD')) continue;
    const result = await audit.fn();
    if (result.status !== 'ok') failed.push(`${result.name}: ${result.reason}`);
  }
  expect(failed).toEqual([]);
}, 120_000);

test.each<[string, { query: string; variables?: Record<string, unknown> }]>([
  ['a parse error', { query: '{' }],
  ['a validation error', { query: '{ nope }' }],
  [
    'bad variables',
    { query: 'query Q($n: Int) { outputs(first: $n) { nodes { id } } }', variables: { n: 'x' } },
  ],
])(
  '%s is 200 under application/json and 400 under application/graphql-response+json',
  async (_what, body) => {
    for (const [accept, status] of [
      ['application/json', 200],
      ['application/graphql-response+json', 400],
    ] as const) {
      const res = await gw.gql(token, body.query, body.variables, {
        accept,
      });
      expect({ accept, status: res.status, code: res.body.errors?.[0]?.extensions?.code }).toEqual({
        accept,
        status,
        code: 'VALIDATION',
      });
    }
  },
);

test('a body that is not JSON is not a well-formed request: 400 whatever is accepted', async () => {
  for (const accept of ['application/json', 'application/graphql-response+json']) {
    const res = await fetch(`${gw.url}/graphql`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', accept },
      body: '{ not json',
    });
    expect({ accept, status: res.status }).toEqual({ accept, status: 400 });
  }
});

test('an unauthenticated request is still 401 whatever it accepts (not a GraphQL request error)', async () => {
  const res = await gw.gql(null, '{ outputs { nodes { id } } }', undefined, { accept: 'application/json' });
  expect(res.status).toBe(401);
});
