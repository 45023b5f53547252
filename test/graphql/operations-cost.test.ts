/**
 * The registered operations (packages/hub-client/operations, which the
 * dashboard in apps/dashboard runs) stay well under the default limits, with
 * the largest pages their fields accept: the limits never refuse the dashboard.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Kind, type OperationDefinitionNode, parse } from 'graphql';
import { operationCost } from '../../src/graphql/cost';
import { compilesWithJit } from '../../src/graphql/jit-executor';
import { DEFAULT_LIMITS } from '../../src/graphql/limits';
import { Preflight } from '../../src/graphql/preflight';
import { buildSchema } from '../../src/graphql/schema';

const ROOT = join(__dirname, '..', '..');
const OPERATIONS = join(ROOT, 'packages', 'hub-client', 'operations');
const DASHBOARD = join(ROOT, 'apps', 'dashboard', 'src');
const schema = buildSchema();

const files = readdirSync(OPERATIONS).filter((f) => f.endsWith('.graphql'));
const operations = files.flatMap((file) => {
  const text = readFileSync(join(OPERATIONS, file), 'utf8');
  const doc = parse(text);
  return doc.definitions
    .filter((d): d is OperationDefinitionNode => d.kind === Kind.OPERATION_DEFINITION)
    .map((op) => ({ name: op.name?.value ?? '', op, text: `${text}\n# ${op.name?.value}`, doc }));
});

/** The largest page each paged root field accepts (schema.graphql). */
const MAX_PAGE: Readonly<Record<string, number>> = { managers: 1000, skills: 1000 };

/** Variables asking for the largest pages: every Int variable at its field's maximum. */
function largestPages(op: OperationDefinitionNode): Record<string, unknown> {
  const root = op.selectionSet.selections.find((s) => s.kind === Kind.FIELD);
  const max = root?.kind === Kind.FIELD ? (MAX_PAGE[root.name.value] ?? 500) : 500;
  const vars: Record<string, unknown> = {};
  for (const d of op.variableDefinitions ?? []) {
    const type = d.type.kind === Kind.NON_NULL_TYPE ? d.type.type : d.type;
    if (type.kind === Kind.NAMED_TYPE && type.name.value === 'Int') vars[d.variable.name.value] = max;
  }
  return vars;
}

test('the client package has the dashboard operations', () => {
  expect(operations.map((o) => o.name)).toEqual(
    expect.arrayContaining(['Managers', 'ManagerDashboard', 'CostPerSkill', 'ArchetypeProgression']),
  );
});

test.each(operations.map((o) => [o.name, o] as const))(
  '%s costs under a third of the default limit with its largest pages, passes every static limit, and is compiled',
  (_name, { op, doc, text }) => {
    const { cost } = operationCost(schema, doc, op, largestPages(op));
    expect(cost).toBeGreaterThan(0);
    expect(cost).toBeLessThan(DEFAULT_LIMITS.maxCost / 3);
    expect(() => new Preflight(schema, DEFAULT_LIMITS).checkSource(text)).not.toThrow();
    // ... and stays compiled by graphql-jit (its speed is the dashboard's).
    expect(compilesWithJit(schema, doc, op.name?.value, DEFAULT_LIMITS.jitMaxFields)).toBe(true);
  },
);

test('the dashboard runs only documents of the client package, with the pages it asks for', () => {
  const names = new Set(operations.map((o) => `${o.name}Document`));
  const used = new Set<string>();
  for (const file of readdirSync(DASHBOARD).filter((f) => /\.tsx?$/.test(f))) {
    const source = readFileSync(join(DASHBOARD, file), 'utf8');
    // No GraphQL text of its own: every request is a client document.
    expect(source).not.toMatch(/\b(query|mutation)\s+\w*\s*[({]/);
    for (const m of source.matchAll(/\b(\w+Document)\b/g))
      if (m[1] !== 'TypedDocument') used.add(m[1] as string);
  }
  expect(used.size).toBeGreaterThan(0);
  for (const name of used) expect(names).toContain(name);
  // The managers picker asks for 1,000 at once (App.tsx).
  const managers = operations.find((o) => o.name === 'Managers');
  if (!managers) throw new Error('no Managers operation');
  expect(operationCost(schema, managers.doc, managers.op, { first: 1000 }).cost).toBe(1 + 1000 + 100);
});
