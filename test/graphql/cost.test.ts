/**
 * The cost model and the static shape, measured on documents directly (no
 * server): what each construct costs, that the walk is linear (visits
 * counted, never timed), and that the preflight names each limit and figure.
 */
import { Kind, type OperationDefinitionNode, parse } from 'graphql';
import { DEFAULT_LIST_SIZE, ROLLUP_COST, operationCost } from '../../src/graphql/cost';
import { DEFAULT_LIMITS } from '../../src/graphql/limits';
import { Preflight } from '../../src/graphql/preflight';
import { buildSchema } from '../../src/graphql/schema';
import { documentShape } from '../../src/graphql/shape';
import { compilesWithJit } from '../../src/graphql/jit-executor';
import { HubError } from '../../src/hub/errors';

const schema = buildSchema();

function cost(query: string, variables: Record<string, unknown> = {}) {
  const doc = parse(query);
  const op = doc.definitions.find((d) => d.kind === Kind.OPERATION_DEFINITION) as OperationDefinitionNode;
  return operationCost(schema, doc, op, variables);
}

/** `fragment F_i on Query { ...F_(i-1) ...F_(i-1) }`: 2^n copies of F0 when expanded. */
export function fragmentBomb(n: number, leaf = 'outputs(first: 1) { nodes { id } }'): string {
  let text = `query Bomb { ...F${n} }\nfragment F0 on Query { ${leaf} }\n`;
  for (let i = 1; i <= n; i++) text += `fragment F${i} on Query { ...F${i - 1} ...F${i - 1} }\n`;
  return text;
}

function refusal(f: () => void): string {
  try {
    f();
  } catch (err) {
    expect(err).toBeInstanceOf(HubError);
    expect((err as HubError).code).toBe('VALIDATION');
    return (err as HubError).message;
  }
  throw new Error('not refused');
}

describe('cost model', () => {
  test('page sizes multiply what is below them; literals, variables and defaults alike', () => {
    const q =
      'query($n: Int) { outputs(first: $n) { nodes { id decisions(first: 10) { nodes { id output { id } } } } } }';
    // outputs 1 + nodes 100 + decisions 100 + nodes 1000 + output 1000
    expect(cost(q, { n: 100 }).cost).toBe(2201);
    expect(cost(q).cost).toBe(1 + 50 + 50 + 500 + 500);
  });

  test("a variable's default page size is the one that runs (it used to be ignored)", () => {
    const q =
      'query($n: Int = 500) { outputs(first: $n) { nodes { decisions(first: $n) { nodes { id } } } } }';
    const literal = '{ outputs(first: 500) { nodes { decisions(first: 500) { nodes { id } } } } }';
    expect(cost(q).cost).toBe(cost(literal).cost);
    expect(cost(q).cost).toBeGreaterThan(250_000);
    // A given value wins over the default.
    expect(cost(q, { n: 2 }).cost).toBe(
      cost('{ outputs(first: 2) { nodes { decisions(first: 2) { nodes { id } } } } }').cost,
    );
  });

  test("_entities costs per representation, on each representation's type", () => {
    const q =
      'query($r: [_Any!]!) { _entities(representations: $r) { ... on Output { id decisions { nodes { id } } } ... on Decision { id } } }';
    const outputs = (n: number) =>
      Array.from({ length: n }, (_, i) => ({ __typename: 'Output', id: `o${i}` }));
    const decisions = (n: number) =>
      Array.from({ length: n }, (_, i) => ({ __typename: 'Decision', id: `d${i}` }));
    // Output: 1 + decisions 1 + 50 nodes = 52 each; Decision: 1 each.
    expect(cost(q, { r: outputs(10) })).toMatchObject({ cost: 1 + 10 * 52, representations: 10 });
    expect(cost(q, { r: [...outputs(10), ...decisions(5)] }).cost).toBe(1 + 10 * 52 + 5);
    expect(cost(q, { r: outputs(200_000) })).toMatchObject({
      representations: 200_000,
      cost: 1 + 200_000 * 52,
    });
  });

  test('node(id) costs a lookup per record type; every alias counts', () => {
    const one = cost('{ node(id: "x") { id } }').cost;
    expect(one).toBe(6);
    const aliases = Array.from({ length: 8000 }, (_, i) => `a${i}: node(id: "${i}") { id }`).join(' ');
    expect(cost(`{ ${aliases} }`).cost).toBe(8000 * one);
  });

  test('bodyBase64 costs the KiB of base64 it may return, times the lists around it', () => {
    const max = 10_485_760;
    const perBody = Math.ceil((Math.ceil(max / 3) * 4) / 1024); // 13,654
    expect(cost(`{ artifact(id: "a") { bodyBase64(maxBytes: ${max}) } }`).cost).toBe(1 + perBody);
    expect(cost('{ artifact(id: "a") { bodyBase64 } }').cost).toBe(1 + 1366); // default 1 MiB
    const eighty = Array.from(
      { length: 80 },
      (_, i) => `a${i}: artifacts { nodes { bodyBase64(maxBytes: ${max}) } }`,
    );
    expect(cost(`{ ${eighty.join(' ')} }`).cost).toBe(80 * (1 + 50 + 50 * perBody));
    // maxBytes from a variable counts too; beyond the store's maximum it costs the maximum (the resolver refuses it).
    expect(cost('query($m: Int) { artifact(id: "a") { bodyBase64(maxBytes: $m) } }', { m: 3 }).cost).toBe(2);
    expect(cost('{ artifact(id: "a") { bodyBase64(maxBytes: 2000000000) } }').cost).toBe(1 + perBody);
  });

  test('JSON leaves cost by the bytes their record may hold', () => {
    expect(cost('{ output(id: "a") { content attributes } }').cost).toBe(1 + 16 + 4);
    expect(cost('{ outputs { nodes { content } } }').cost).toBe(1 + 50 + 50 * 16);
  });

  test('reports and the rollups cost a rollup each, per profile for reports', () => {
    expect(
      cost(
        '{ managerDashboard(managerId: "m", from: "2026-01-01T00:00:00Z", to: "2026-02-01T00:00:00Z") { invocations } }',
      ).cost,
    ).toBe(1 + ROLLUP_COST);
    const reports = cost('{ employeeProfiles(first: 100) { nodes { reports { id } } } }').cost;
    // employeeProfiles 1 + nodes 100 + per profile: reports (1 + list of 50 + rollup) + 50 report objects... objects are the list elements
    expect(reports).toBe(1 + 100 + 100 * (1 + DEFAULT_LIST_SIZE + ROLLUP_COST));
    expect(cost('{ managers(first: 1000) { managerId } }').cost).toBe(1 + 1000 + ROLLUP_COST);
  });

  test('@skip and @include are honoured; introspection costs nothing', () => {
    const q =
      'query($s: Boolean!) { outputs(first: 500) @skip(if: $s) { nodes { id } } output(id: "a") { id } }';
    expect(cost(q, { s: true }).cost).toBe(1);
    expect(cost(q, { s: false }).cost).toBe(1 + 500 + 1);
    expect(cost('{ __schema { types { fields { name } } } }').cost).toBe(0);
  });

  test('mutations cost a unit per record written, which also sizes their results', () => {
    const q =
      'mutation($r: [DecisionInput!]!) { recordDecisions(records: $r) { created results { id error { code } } } }';
    const records = Array.from({ length: 10 }, () => ({
      outputId: 'o',
      skillId: 's',
      decidedBy: 'e',
      outcome: 'ACCEPTED',
    }));
    expect(cost(q, { r: records }).cost).toBe(1 + 10 + 10 * (1 + 1));
  });

  test("mutations cost a unit per KiB of their records' long strings (artifact bodies)", () => {
    const q = 'mutation($r: [ArtifactInput!]!) { recordArtifacts(records: $r) { created } }';
    const artifact = (chars: number) => ({
      outputId: 'o',
      name: 'a.bin',
      bodyBase64: 'QUJD'.repeat(chars / 4),
    });
    // 2 records: 1 + 2, plus 1,024 + 2 KiB of base64 (a string under 1 KiB costs nothing more).
    expect(cost(q, { r: [artifact(1024 * 1024), artifact(2048)] }).cost).toBe(1 + 2 + 1024 + 2);
    expect(cost(q, { r: [artifact(1020)] }).cost).toBe(1 + 1);
  });

  test('a fragment doubling 30 times is costed in a number of steps linear in its size', () => {
    const measured = cost(fragmentBomb(30));
    // 2^30 copies of outputs(first: 1) { nodes { id } } (cost 2 each) ...
    expect(measured.cost).toBe(2 ** 31);
    // ... costed by visiting each of the 31 fragments' selection sets and the 2 below F0 once.
    expect(measured.visits).toBeLessThanOrEqual(40);
    expect(cost(fragmentBomb(20)).visits).toBeLessThanOrEqual(30);
  });
});

/**
 * Items whose every read is counted: a representation's `__typename` (read by
 * the cost per type) or a record's fields (read for their long strings).
 */
function counted<T extends object>(n: number, item: (i: number) => T): { items: T[]; reads: () => number } {
  let reads = 0;
  const items = Array.from({ length: n }, (_, i) => {
    const fields = item(i);
    const watched = {} as T;
    for (const [key, value] of Object.entries(fields)) {
      Object.defineProperty(watched, key, {
        enumerable: true,
        get: () => {
          reads++;
          return value as unknown;
        },
      });
    }
    return watched;
  });
  return { items, reads: () => reads };
}

describe('the walk stops at the limits: what the caller sends past them is not read', () => {
  const entities = 'query($r: [_Any!]!) { _entities(representations: $r) { ... on Output { id } } }';
  const limits = { maxRepresentations: 1000, maxCost: 25_000 };

  test('representations over the limit are refused by their count, none of them read', () => {
    const reps = counted(20_000, (i) => ({ __typename: 'Output', id: `o${i}` }));
    const doc = parse(entities);
    const op = doc.definitions[0] as OperationDefinitionNode;
    const measured = operationCost(schema, doc, op, { r: reps.items }, limits);
    expect(measured).toMatchObject({ representations: 20_000, stopped: true });
    expect(reps.reads()).toBe(0);
    expect(new Preflight(schema, DEFAULT_LIMITS).checkCost(doc, op, { r: reps.items }).refusal?.message).toBe(
      'query has 20000 representations; the limit is 1000',
    );
    expect(reps.reads()).toBe(0);
    // At the limit, each is read once (its type), and the cost is whole.
    const atLimit = counted(1000, (i) => ({ __typename: 'Output', id: `o${i}` }));
    expect(operationCost(schema, doc, op, { r: atLimit.items }, limits)).toMatchObject({
      cost: 1 + 1000 * 1,
      stopped: false,
    });
    expect(atLimit.reads()).toBe(1000);
  });

  test('two _entities fields: the second is refused by the count of both, unread', () => {
    const doc = parse(
      'query($a: [_Any!]!, $b: [_Any!]!) { a: _entities(representations: $a) { ... on Output { id } } b: _entities(representations: $b) { ... on Output { id } } }',
    );
    const op = doc.definitions[0] as OperationDefinitionNode;
    const a = counted(600, (i) => ({ __typename: 'Output', id: `o${i}` }));
    const b = counted(600, (i) => ({ __typename: 'Output', id: `o${i}` }));
    const measured = operationCost(schema, doc, op, { a: a.items, b: b.items }, limits);
    expect(measured).toMatchObject({ representations: 1200, stopped: true });
    expect(a.reads() + b.reads()).toBe(600);
  });

  test("a mutation's records past the cost limit are not read", () => {
    const q = 'mutation($r: [ArtifactInput!]!) { recordArtifacts(records: $r) { created } }';
    const doc = parse(q);
    const op = doc.definitions[0] as OperationDefinitionNode;
    const many = counted(30_000, () => ({ outputId: 'o', name: 'a.bin', bodyBase64: 'QUJD' }));
    expect(operationCost(schema, doc, op, { r: many.items }, limits)).toMatchObject({
      cost: 1 + 30_000,
      stopped: true,
    });
    expect(many.reads()).toBe(0);
    // 100 records of 1 MiB of base64 (1,024 units each): reading stops at the record that passes the limit.
    const big = counted(100, () => ({ outputId: 'o', name: 'a.bin', bodyBase64: 'QUJD'.repeat(262_144) }));
    const measured = operationCost(schema, doc, op, { r: big.items }, limits);
    expect(measured.stopped).toBe(true);
    expect(measured.cost).toBeGreaterThan(25_000);
    expect(big.reads()).toBe(25 * 3);
    expect(
      new Preflight(schema, DEFAULT_LIMITS).checkCost(doc, op, { r: big.items }).refusal?.message,
    ).toMatch(/^query cost of at least \d+ exceeds the limit of 25000/);
  });

  test('only the variables the cost reads are coerced', () => {
    // $id only selects a record: execution coerces it (and refuses a bad one); the cost reads $n.
    const doc = parse(
      'query($n: Int, $id: ID!) { outputs(first: $n) { nodes { id } } output(id: $id) { id } }',
    );
    const op = doc.definitions[0] as OperationDefinitionNode;
    expect(operationCost(schema, doc, op, { n: 3, id: { not: 'an id' } })).toMatchObject({
      cost: 1 + 3 + 1,
      exact: true,
    });
    expect(operationCost(schema, doc, op, { n: 'not an Int', id: 'o-1' }).exact).toBe(false);
  });
});

describe('static shape', () => {
  test('counts aliases, repeats, root fields, directives and depth, fragments at each spread', () => {
    const doc = parse(`query Q {
      a: output(id: "1") { id id }
      output(id: "2") { ...F }
      outputs @include(if: true) { nodes { ...F } }
    }
    fragment F on Output { x: id decisions { nodes { output { id } } } }`);
    expect(documentShape(schema, doc).operations.get('Q')).toEqual({
      aliases: 1 + 1 + 1 + 1, // a, the repeated id, x at each of F's 2 spreads
      rootFields: 3,
      directives: 1,
      depth: 6, // outputs nodes decisions nodes output id
      jitFields: expect.any(Number),
    });
  });

  test('the doubling fragment is measured linearly; its figures are its expansion', () => {
    const shape = documentShape(schema, parse(fragmentBomb(30)));
    expect(shape.operations.get('Bomb')?.rootFields).toBe(2 ** 30);
    expect(shape.visits).toBeLessThanOrEqual(40);
  });

  test('graphql-jit compiles small operations only; abstract types count once per possible type', () => {
    const aliases = (n: number) =>
      parse(`{ ${Array.from({ length: n }, (_, i) => `a${i}: node(id: "${i}") { id }`).join(' ')} }`);
    const jit = (n: number) => documentShape(schema, aliases(n)).operations.get('')?.jitFields;
    expect(jit(1)).toBe(1 + 6); // node + id on each of the 6 record types
    expect(compilesWithJit(schema, aliases(10), undefined, DEFAULT_LIMITS.jitMaxFields)).toBe(true);
    expect(compilesWithJit(schema, aliases(100), undefined, DEFAULT_LIMITS.jitMaxFields)).toBe(false);
  });
});

describe('preflight refusals name the limit and the figure', () => {
  const preflight = new Preflight(schema, DEFAULT_LIMITS);
  const check = (query: string) => preflight.checkSource(query);

  test('aliases', () => {
    const q = `{ ${Array.from({ length: 8000 }, (_, i) => `a${i}: node(id: "${i}") { id }`).join(' ')} }`;
    const small = new Preflight(schema, { ...DEFAULT_LIMITS, maxTokens: 1_000_000 });
    expect(refusal(() => small.checkSource(q))).toBe(
      'query has 8000 aliases or repeated fields; the limit is 100',
    );
  });

  test('repeated fields (graphql-js validation compares them pairwise)', () => {
    const q = `{ outputs { nodes { ${'decisions { nodes { id } } '.repeat(150)} } } }`;
    expect(refusal(() => check(q))).toBe('query has 149 aliases or repeated fields; the limit is 100');
  });

  test('tokens', () => {
    expect(refusal(() => check(`{ ${'__typename '.repeat(2500)} }`))).toBe(
      'query has more than 2000 tokens; the limit is 2000',
    );
  });

  test('root fields, directives, depth', () => {
    const roots = new Preflight(schema, { ...DEFAULT_LIMITS, maxAliases: 1000 });
    expect(
      refusal(() =>
        roots.checkSource(
          `{ ${Array.from({ length: 21 }, (_, i) => `f${i}: output(id: "x") { id }`).join(' ')} }`,
        ),
      ),
    ).toBe('query has 21 root fields; the limit is 20');
    expect(refusal(() => check(`{ outputs { nodes { ${'id @include(if: true) '.repeat(51)} } } }`))).toMatch(
      /directives; the limit is 50$/,
    );
    expect(
      refusal(() =>
        check(
          '{ decisions { nodes { output { decisions { nodes { output { decisions { nodes { output { decisions { nodes { output { id } } } } } } } } } } } } }',
        ),
      ),
    ).toBe('query depth 13 exceeds the limit of 12');
  });

  test('the doubling fragment bomb, 30 levels: refused with its figure', () => {
    expect(refusal(() => check(fragmentBomb(30)))).toBe(`query has ${2 ** 30} root fields; the limit is 20`);
    // On a type below the root it is refused by its cost.
    let nested =
      'query Bomb { outputs(first: 1) { nodes { ...F30 } } }\nfragment F0 on Output { decisions(first: 1) { nodes { id } } }\n';
    for (let i = 1; i <= 30; i++) nested += `fragment F${i} on Output { ...F${i - 1} ...F${i - 1} }\n`;
    const doc = parse(nested);
    const op = doc.definitions[0] as OperationDefinitionNode;
    expect(preflight.checkCost(doc, op, {}).refusal?.message).toBe(
      `query cost ${1 + 1 + 2 ** 30 * 2} exceeds the limit of 25000: ask for smaller pages (first), fewer nested lists or smaller bodies (maxBytes)`,
    );
  });

  test('representations and cost', () => {
    const doc = parse('query($r: [_Any!]!) { _entities(representations: $r) { ... on Output { id } } }');
    const op = doc.definitions[0] as OperationDefinitionNode;
    const r = Array.from({ length: 200_000 }, (_, i) => ({ __typename: 'Output', id: String(i) }));
    expect(preflight.checkCost(doc, op, { r }).refusal?.message).toBe(
      'query has 200000 representations; the limit is 1000',
    );
    expect(preflight.checkCost(doc, op, { r: r.slice(0, 1000) }).refusal).toBeUndefined();
  });
});
