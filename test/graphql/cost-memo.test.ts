/**
 * The preflight remembers an operation's cost for the values of the variables
 * the cost reads (cost.ts `costVariables`): a remembered cost is reused only
 * where it is the cost that would be measured, so no limit can be passed by
 * first sending the same document with other variables.
 */
import { Kind, type OperationDefinitionNode, parse } from 'graphql';
import { costVariables, operationCost } from '../../src/graphql/cost';
import { DEFAULT_LIMITS } from '../../src/graphql/limits';
import { Preflight } from '../../src/graphql/preflight';
import { buildSchema } from '../../src/graphql/schema';

const schema = buildSchema();

/** One parsed operation, checked many times (as the server's document cache hands it back). */
function operation(query: string) {
  const document = parse(query);
  const op = document.definitions.find(
    (d) => d.kind === Kind.OPERATION_DEFINITION,
  ) as OperationDefinitionNode;
  return { document, op };
}

describe('remembered costs', () => {
  test('each value of a page size variable has its own cost, the same as measured', () => {
    const preflight = new Preflight(schema, DEFAULT_LIMITS);
    const { document, op } = operation(
      'query($n: Int, $id: ID!) { outputs(first: $n) { nodes { id decisions(first: 10) { nodes { id } } } } output(id: $id) { id } }',
    );
    for (const n of [2, 3000, 2, 5, 3000]) {
      const vars = { n, id: `o-${n}` };
      const checked = preflight.checkCost(document, op, vars);
      expect(checked.cost).toBe(operationCost(schema, document, op, vars).cost);
      expect(checked.refusal !== undefined).toBe(n === 3000);
    }
  });

  test('a cost measured with a variable that did not coerce is not reused for a valid request', () => {
    const preflight = new Preflight(schema, DEFAULT_LIMITS);
    // With $n invalid, `first` falls back to its argument's default (50).
    const { document, op } = operation('query($n: Int = 100000) { outputs(first: $n) { nodes { id } } }');
    const invalid = preflight.checkCost(document, op, { n: 'many' });
    expect(invalid.exact).toBe(false);
    expect(invalid.refusal).toBeUndefined();
    const valid = preflight.checkCost(document, op, {});
    expect(valid.cost).toBe(operationCost(schema, document, op, {}).cost);
    expect(valid.refusal?.message).toMatch(/query cost .* exceeds the limit of 25000/);
  });

  test('a cost measured with an argument that could not be read is not reused (same cost variables)', () => {
    const preflight = new Preflight(schema, DEFAULT_LIMITS);
    // Without $from (required by `skills`), its arguments cannot be read: costed at their defaults.
    const { document, op } = operation(
      'query($n: Int = 100000, $from: DateTime!) { skills(from: $from, to: "2026-01-01T00:00:00Z", first: $n) { skillId } }',
    );
    const unread = preflight.checkCost(document, op, {});
    expect(unread.exact).toBe(false);
    expect(unread.refusal).toBeUndefined();
    const valid = preflight.checkCost(document, op, { from: '2025-01-01T00:00:00Z' });
    expect(valid.refusal?.message).toMatch(/query cost .* exceeds the limit of 25000/);
  });

  test('a variable not given (its default applies) differs from one given as null', () => {
    const preflight = new Preflight(schema, DEFAULT_LIMITS);
    const { document, op } = operation('query($n: Int = 100000) { outputs(first: $n) { nodes { id } } }');
    expect(preflight.checkCost(document, op, { n: null }).refusal).toBeUndefined();
    expect(preflight.checkCost(document, op, {}).refusal).toBeDefined();
  });

  test('@skip and @include variables are cost variables', () => {
    const preflight = new Preflight(schema, DEFAULT_LIMITS);
    const { document, op } = operation(
      'query($big: Boolean!) { outputs(first: 5) { nodes { id } } ...Big @include(if: $big) }\nfragment Big on Query { outputs(first: 100000) { nodes { id } } }',
    );
    expect(costVariables(document, op)).toEqual({ names: ['big'], byNames: true });
    expect(preflight.checkCost(document, op, { big: false }).refusal).toBeUndefined();
    expect(preflight.checkCost(document, op, { big: true }).refusal).toBeDefined();
    expect(preflight.checkCost(document, op, { big: false }).refusal).toBeUndefined();
  });

  test('_entities and mutations are measured on every request (their cost reads list arguments)', () => {
    const preflight = new Preflight(schema, DEFAULT_LIMITS);
    const { document, op } = operation(
      'query($r: [_Any!]!) { _entities(representations: $r) { ... on Output { id } } }',
    );
    expect(costVariables(document, op).byNames).toBe(false);
    const reps = (n: number) => Array.from({ length: n }, (_, i) => ({ __typename: 'Output', id: `o-${i}` }));
    expect(preflight.checkCost(document, op, { r: reps(3) }).refusal).toBeUndefined();
    expect(preflight.checkCost(document, op, { r: reps(5000) }).refusal?.message).toMatch(/representations/);
    const mutation = operation('mutation($o: [OutputInput!]!) { recordOutputs(records: $o) { count } }');
    expect(costVariables(mutation.document, mutation.op).byNames).toBe(false);
  });
});
