/**
 * The resolver rewrites of the executable schema, applied in one place
 * (src/graphql/executable-schema.ts): their order, and the effect each order
 * decision has. Each test below fails if two rewrites swap places.
 */
import { type GraphQLField, type GraphQLResolveInfo, type GraphQLSchema, isObjectType } from 'graphql';
import { buildExecutableSchema } from '../../src/graphql/executable-schema';
import { RouteExtensions } from '../../src/graphql/route-extensions';
import { isHubError } from '../../src/hub/errors';

function field(schema: GraphQLSchema, type: string, name: string): GraphQLField<unknown, unknown> {
  const t = schema.getType(type);
  if (!isObjectType(t)) throw new Error(`${type} is not an object type`);
  const f = t.getFields()[name];
  if (!f) throw new Error(`${type}.${name} does not exist`);
  return f;
}

/** Calls a field's resolver with a context whose deadline has passed. */
function resolveLate(
  f: GraphQLField<unknown, unknown>,
  source: unknown,
  ctx: object = { deadline: 0 },
): unknown {
  if (!f.resolve) throw new Error(`${f.name} has no resolver`);
  return f.resolve(source, {}, ctx, { path: { key: f.name } } as unknown as GraphQLResolveInfo);
}

function timeoutOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return isHubError(err) ? err.code : String(err);
  }
  return undefined;
}

test('the rewrites are applied in order: deadline, default resolvers, route traces', () => {
  const { applied } = buildExecutableSchema({ timeoutMs: 10 }, new RouteExtensions());
  expect(applied).toEqual(['enforceDeadline', 'defaultResolvers', 'traceRootFields']);
});

test('default resolvers read the storage name and, added after the deadline, are not held to it', () => {
  const { schema } = buildExecutableSchema({ timeoutMs: 10 }, new RouteExtensions());
  // A list-of-objects field without a resolver of its own: wrapped by the deadline if it came later.
  const topSkills = [{ skill_id: 's1' }];
  expect(resolveLate(field(schema, 'ManagerDashboard', 'topSkills'), { top_skills: topSkills })).toBe(
    topSkills,
  );
  expect(resolveLate(field(schema, 'Output', 'skillId'), { skill_id: 's1' })).toBe('s1');
  // A field named as it is stored keeps no resolver: graphql-jit reads it inline.
  expect(field(schema, 'Output', 'status').resolve).toBeUndefined();
  // So do the fields of view types, whose parents carry GraphQL's names (mapping.ts).
  expect(field(schema, 'CostPerSkillRow', 'totalCostUsd').resolve).toBeUndefined();
  expect(field(schema, 'CostPerSkillRow', 'p95LatencyMs').resolve).toBeUndefined();
});

test("the schema's own resolvers (relations, root fields) are held to the deadline", () => {
  const { schema } = buildExecutableSchema({ timeoutMs: 10 }, new RouteExtensions());
  expect(timeoutOf(() => resolveLate(field(schema, 'Output', 'decisions'), { record_id: 'x' }))).toBe(
    'TIMEOUT',
  );
  expect(timeoutOf(() => resolveLate(field(schema, 'Query', 'outputs'), undefined))).toBe('TIMEOUT');
});

test("a root field's route trace is entered before its deadline check (the trace wraps outermost)", () => {
  const routes = new RouteExtensions();
  const { schema } = buildExecutableSchema({ timeoutMs: 10 }, routes);
  const ctx = { deadline: 0 };
  const traces = routes.begin(ctx);
  expect(timeoutOf(() => resolveLate(field(schema, 'Query', 'outputs'), undefined, ctx))).toBe('TIMEOUT');
  // Had the deadline wrapped the trace, it would have thrown before the trace existed.
  expect([...traces.keys()]).toEqual(['outputs']);
});
