/**
 * Compiled operations are cached per tenant within a quota: one tenant
 * sending many distinct operations recompiles only its own, never another
 * tenant's, and repeats are served without compiling.
 */
import { createHash } from 'node:crypto';
import type { GatewayGraphQLRequestContext } from '@apollo/server-gateway-interface';
import { buildSchema, parse } from 'graphql';
import { jitGateway } from '../../src/graphql/jit-executor';

const schema = buildSchema('type Query { n(i: Int): Int }');
schema.getQueryType()!.getFields().n!.resolve = (_s, args: { i?: number }) => args.i ?? 0;

test("a tenant's flood of distinct operations evicts only its own compiled operations", async () => {
  const compiles = new Map<string, number>();
  const gateway = jitGateway(schema, {
    jitMaxFields: 100,
    compiledCache: { entries: 4 },
    onCompile: (tenant) => compiles.set(tenant, (compiles.get(tenant) ?? 0) + 1),
  });
  const { executor } = await gateway.load({ apollo: {} as never });
  const run = async (tenant: string, i: number): Promise<unknown> => {
    const source = `{ n(i: ${i}) }`;
    const request = {
      document: parse(source),
      source,
      queryHash: createHash('sha256').update(source).digest('hex'),
      operationName: null,
      request: { variables: {} },
      context: { tenant },
    } as unknown as GatewayGraphQLRequestContext;
    if (!executor) throw new Error('the jit gateway has no executor');
    const result = await executor(request);
    return result.data;
  };

  expect(await run('b', 0)).toEqual({ n: 0 });
  for (let i = 1; i <= 50; i++) expect(await run('a', i)).toEqual({ n: i });
  expect(compiles.get('a')).toBe(50);
  // B's operation is still compiled; A's oldest ones are gone, its newest kept.
  expect(await run('b', 0)).toEqual({ n: 0 });
  expect(compiles.get('b')).toBe(1);
  await run('a', 50);
  expect(compiles.get('a')).toBe(50);
  await run('a', 1);
  expect(compiles.get('a')).toBe(51);
  // The same text from another tenant is that tenant's own entry.
  await run('c', 50);
  expect(compiles.get('c')).toBe(1);
});
