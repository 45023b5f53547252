/**
 * bench:cost: the preflight's analysis (static shape + cost, src/graphql/
 * preflight.ts) of the doubling fragment bomb
 * (`fragment F_i on Query { ...F_(i-1) ...F_(i-1) }`) beside graphql-js's
 * validate() of the same document, and of the dashboard's operations. Both
 * are CPU time of the calling thread (process.cpuUsage), median of REPEAT
 * runs after a warm-up; the machine is shared, so read ratios, not absolutes.
 *
 * Env: COST_BENCH_LEVELS (default "20,30"), COST_BENCH_REPEAT (default 15).
 */
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { type DocumentNode, Kind, type OperationDefinitionNode, parse, validate } from 'graphql';
import { DEFAULT_LIMITS } from '../src/graphql/limits';
import { Preflight } from '../src/graphql/preflight';
import { buildSchema } from '../src/graphql/schema';

const LEVELS = (process.env.COST_BENCH_LEVELS ?? '20,30').split(',').map(Number);
const REPEAT = Number(process.env.COST_BENCH_REPEAT ?? 15);
const schema = buildSchema();

function bomb(n: number): string {
  let text = `query Bomb { outputs(first: 1) { nodes { ...F${n} } } }\nfragment F0 on Output { decisions(first: 1) { nodes { id } } }\n`;
  for (let i = 1; i <= n; i++) text += `fragment F${i} on Output { ...F${i - 1} ...F${i - 1} }\n`;
  return text;
}

/** Median CPU milliseconds of `run` over REPEAT runs (after one warm-up). */
function cpuMs(run: () => void): number {
  run();
  const times: number[] = [];
  for (let i = 0; i < REPEAT; i++) {
    const start = process.cpuUsage();
    run();
    const used = process.cpuUsage(start);
    times.push((used.user + used.system) / 1000);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)] as number;
}

/** The whole preflight of a text: parse with the token limit, static shape, cost. */
function analyse(text: string): void {
  // A fresh Preflight each run: its memory of accepted texts must not make a run free.
  const preflight = new Preflight(schema, { ...DEFAULT_LIMITS, maxRootFields: Infinity });
  try {
    preflight.checkSource(text);
  } catch {
    // refused statically: the analysis is done
  }
  const doc = parse(text);
  const op = doc.definitions.find((d) => d.kind === Kind.OPERATION_DEFINITION) as OperationDefinitionNode;
  preflight.checkCost(doc, op, {});
}

const rows: { name: string; analysis: number; validate: number; figure: string }[] = [];
for (const n of LEVELS) {
  const text = bomb(n);
  const doc: DocumentNode = parse(text);
  const op = doc.definitions[0] as OperationDefinitionNode;
  const measured = new Preflight(schema, DEFAULT_LIMITS).checkCost(doc, op, {});
  rows.push({
    name: `fragment_bomb_${n}`,
    analysis: cpuMs(() => analyse(text)),
    validate: cpuMs(() => validate(schema, parse(text))),
    figure: `cost ${measured.cost}, ${measured.visits} visits, ${measured.refusal ? 'refused' : 'accepted'}`,
  });
}
const dashboard = readFileSync(
  join(__dirname, '..', 'packages', 'hub-client', 'operations', 'dashboard.graphql'),
  'utf8',
);
rows.push({
  name: 'dashboard_operations',
  analysis: cpuMs(() => {
    const doc = parse(dashboard);
    const preflight = new Preflight(schema, DEFAULT_LIMITS);
    preflight.checkDocument(doc);
    for (const d of doc.definitions)
      if (d.kind === Kind.OPERATION_DEFINITION) preflight.checkCost(doc, d, {});
  }),
  validate: cpuMs(() => validate(schema, parse(dashboard))),
  figure: '9 operations',
});

const load = loadavg()
  .map((l) => l.toFixed(1))
  .join(' ');
console.log(`cost analysis vs graphql-js validate(), CPU ms (median of ${REPEAT}); load average ${load}`);
console.log('(the machine is shared by other work: absolute times vary, ratios less)\n');
console.log('document                 analysis ms   validate ms   ratio   figures');
for (const r of rows) {
  console.log(
    `${r.name.padEnd(24)} ${r.analysis.toFixed(2).padStart(11)} ${r.validate.toFixed(2).padStart(13)} ${(r.analysis / r.validate).toFixed(2).padStart(7)}   ${r.figure}`,
  );
}
console.log('');
for (const r of rows) {
  console.log(
    `BENCH cost_analysis_${r.name} value=${r.analysis.toFixed(3)} unit=ms baseline=${r.validate.toFixed(3)} ratio=${(r.analysis / r.validate).toFixed(3)}`,
  );
}
