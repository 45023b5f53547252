/**
 * Federation 2: the gateway's subgraph SDL (as a router reads it from
 * `_service`) composes with a second subgraph that references Output and
 * EmployeeProfile, and entity references resolve through `_entities` exactly as
 * a router would call them.
 */
import { composeServices } from '@apollo/composition';
import { parse } from 'graphql';
import { createLogger } from '../../src/platform/log';
import { type TestGateway, startGateway, uuid } from './harness';

let gw: TestGateway;
let token: string;
beforeAll(async () => {
  gw = await startGateway();
  token = await gw.token('acme');
  const res = await gw.gql(
    token,
    `mutation { recordOutputs(records: [{ id: "${uuid(1)}", skillId: "summarise", employeeId: "e1", status: SUCCEEDED, costUsd: "1.25" }]) { created } }`,
  );
  expect(res.body.data).toEqual({ recordOutputs: { created: 1 } });
});
afterAll(async () => gw.close());

const REVIEWS = `
  extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])
  type Query { reviews: [Review!]! }
  type Review { id: ID! stars: Int! output: Output! }
  type Output @key(fields: "id", resolvable: false) { id: ID! }
`;

test('composes with a second subgraph and resolves an entity reference', async () => {
  const sdlRes = await gw.gql(token, '{ _service { sdl } }');
  const sdl = (sdlRes.body.data?._service as { sdl: string }).sdl;
  expect(sdl).toContain('@key(fields: "id")');
  const result = composeServices([
    { name: 'hub', url: `${gw.url}/graphql`, typeDefs: parse(sdl) },
    { name: 'reviews', url: 'http://reviews.invalid/graphql', typeDefs: parse(REVIEWS) },
  ]);
  expect(result.errors ?? []).toEqual([]);
  const supergraph = result.supergraphSdl ?? '';
  expect(supergraph).toMatch(/type Output[\s\S]*@join__type\(graph: HUB, key: "id"\)/);
  expect(supergraph).toMatch(/type Review/);
  expect(supergraph).toMatch(/costUsd: Decimal!/);

  // What a router sends to resolve Review.output's fields from this subgraph.
  const entities = await gw.gql(
    token,
    `query($r: [_Any!]!) { _entities(representations: $r) { ... on Output { id skillId costUsd provenance { verified } } } }`,
    {
      r: [
        { __typename: 'Output', id: uuid(1) },
        { __typename: 'Output', id: uuid(2) },
      ],
    },
  );
  expect(entities.body).toEqual({
    data: {
      _entities: [
        { id: uuid(1), skillId: 'summarise', costUsd: '1.25', provenance: { verified: true } },
        null,
      ],
    },
    // Per representation: the entity 1 + provenance 1; plus the field.
    extensions: { cost: { requested: 5, limit: 25_000 } },
  });
});

test('every record type is an entity keyed by id', async () => {
  const res = await gw.gql(token, '{ _service { sdl } }');
  const sdl = (res.body.data?._service as { sdl: string }).sdl;
  for (const t of [
    'Output',
    'Decision',
    'GovernanceEvent',
    'Artifact',
    'EmployeeProfile',
    'TelemetryEvent',
  ]) {
    expect(sdl).toMatch(new RegExp(`type ${t} implements HubRecord[^{]*@key\\(fields: "id"\\)`));
  }
});

test('_entities needs a token like any query', async () => {
  const res = await gw.gql(
    null,
    `{ _entities(representations: [{ __typename: "Output", id: "${uuid(1)}" }]) { __typename } }`,
  );
  expect(res.status).toBe(401);
});

test('a bad representation is the caller mistake: VALIDATION naming it, nothing logged as an error', async () => {
  const lines: string[] = [];
  const logged = await startGateway({ log: createLogger('info', (line) => lines.push(line)) });
  try {
    const t = await logged.token('acme');
    const query = `query($r: [_Any!]!) { _entities(representations: $r) { __typename } }`;
    for (const [what, representation, path] of [
      ['no __typename', { id: uuid(1) }, '__typename'],
      ['unknown type', { __typename: 'Nope', id: uuid(1) }, '__typename'],
      ['abstract type', { __typename: 'HubRecord', id: uuid(1) }, '__typename'],
      ['not an entity', { __typename: 'PageInfo', id: uuid(1) }, '__typename'],
      ['no id', { __typename: 'Output' }, 'id'],
    ] as const) {
      const res = await logged.gql(t, query, { r: [{ __typename: 'Output', id: uuid(1) }, representation] });
      const error = res.body.errors?.[0];
      expect({ what, code: error?.extensions?.code }).toEqual({ what, code: 'VALIDATION' });
      expect({ what, issues: error?.extensions?.issues }).toEqual({
        what,
        issues: [expect.objectContaining({ index: 1, path })],
      });
    }
    const errors = lines.map((l) => JSON.parse(l) as { level: string; stack?: string });
    expect(errors.filter((l) => l.level === 'error' || l.stack !== undefined)).toEqual([]);
  } finally {
    await logged.close();
  }
});
