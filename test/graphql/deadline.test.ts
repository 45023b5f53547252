/**
 * enforceDeadline: once a request's deadline has passed, no field with its own
 * resolver starts (TIMEOUT for that field); before it, every field resolves.
 */
import { type GraphQLObjectType, buildSchema, execute, parse } from 'graphql';
import { enforceDeadline } from '../../src/graphql/limits';
import { isHubError } from '../../src/hub/errors';

/**
 * A root field that "takes long": when `overrun` is set it moves the request's
 * deadline into the past while it runs, as the clock passing the deadline
 * would (no real delay, so the test does not depend on the machine's speed).
 */
function schemaWithSlowRoot(overrun: boolean) {
  const schema = buildSchema('type Query { slow: Item } type Item { name: String, child: Item }');
  let childCalls = 0;
  (schema.getQueryType() as GraphQLObjectType).getFields().slow!.resolve = async (
    _s: unknown,
    _a: unknown,
    ctx: { deadline: number },
  ) => {
    await Promise.resolve();
    if (overrun) ctx.deadline = 0;
    return { name: 'a' };
  };
  (schema.getType('Item') as GraphQLObjectType).getFields().child!.resolve = () => {
    childCalls++;
    return { name: 'b' };
  };
  return { schema: enforceDeadline(schema, { timeoutMs: 10 }), calls: () => childCalls };
}

const document = parse('{ slow { name child { name } } }');

test('a field whose resolver would start after the deadline answers TIMEOUT and does not run', async () => {
  const { schema, calls } = schemaWithSlowRoot(true);
  const res = await execute({ schema, document, contextValue: { deadline: Date.now() + 60_000 } });
  expect(res.data).toEqual({ slow: { name: 'a', child: null } });
  expect(res.errors).toHaveLength(1);
  expect(res.errors?.[0]?.path).toEqual(['slow', 'child']);
  const original = res.errors?.[0]?.originalError;
  expect(isHubError(original) && original.code).toBe('TIMEOUT');
  expect(calls()).toBe(0);
});

test('before the deadline every field resolves', async () => {
  const { schema, calls } = schemaWithSlowRoot(false);
  const res = await execute({ schema, document, contextValue: { deadline: Date.now() + 60_000 } });
  expect(res.errors).toBeUndefined();
  expect(res.data).toEqual({ slow: { name: 'a', child: { name: 'b' } } });
  expect(calls()).toBe(1);
});

test('leaf fields of a loaded object are not held to the deadline (they start no work)', async () => {
  const schema = buildSchema('type Query { item: Item } type Item { name: String, child: Item }');
  let nameCalls = 0;
  // The root starts in time, then the clock passes the deadline (set to 0 here).
  (schema.getQueryType() as GraphQLObjectType).getFields().item!.resolve = (
    _s: unknown,
    _a: unknown,
    ctx: { deadline: number },
  ) => {
    ctx.deadline = 0;
    return { name: 'a' };
  };
  (schema.getType('Item') as GraphQLObjectType).getFields().name!.resolve = (s: { name: string }) => {
    nameCalls++;
    return s.name;
  };
  (schema.getType('Item') as GraphQLObjectType).getFields().child!.resolve = () => ({ name: 'b' });
  enforceDeadline(schema, { timeoutMs: 10 });
  const res = await execute({
    schema,
    document: parse('{ item { name child { name } } }'),
    contextValue: { deadline: Date.now() + 5000 },
  });
  // The leaf still resolves; the object field does not start.
  expect(res.data).toEqual({ item: { name: 'a', child: null } });
  expect(nameCalls).toBe(1);
  expect(res.errors?.[0]?.path).toEqual(['item', 'child']);
});
