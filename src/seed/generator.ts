/**
 * The deterministic data generator shared by tests, benchmarks and `hub seed`.
 * It produces record inputs (storage names, explicit ids and timestamps) that
 * the Hub seals; the same options always give the same records.
 *
 * The shape is realistic enough for every rollup to show something: managers
 * with teams, L1 -> L2 (and later) progressions, outputs with failures and
 * missing latencies, decisions on outputs, governance events and telemetry.
 */
import { createHash } from 'node:crypto';
import { fromMicros } from '../hub/decimal';
import type { RecordType } from '../hub/model';
import { MS_PER_DAY, formatTimestamp } from '../hub/time';
import type { RecordInput } from '../hub/validate';
import { Prng } from './prng';

export interface GeneratorOptions {
  readonly seed?: number;
  /** First day of activity (UTC midnight), default 2026-01-05 (a Monday). */
  readonly start?: string;
  readonly days?: number;
  readonly managers?: number;
  /** Employees per manager. */
  readonly teamSize?: number;
  /** Average outputs per day across the tenant. */
  readonly outputsPerDay?: number;
  readonly skills?: number;
  /** Include small artifacts (with bodies) on some outputs. */
  readonly artifacts?: boolean;
}

export type Dataset = { [T in RecordType]: RecordInput[] };

const ARCHETYPES = ['analyst', 'engineer', 'designer', 'support'] as const;
const MODELS = ['claude-sonnet', 'claude-haiku', 'gpt-large', 'in-house-7b'] as const;
const LEVELS = ['L1', 'L2', 'L3', 'L4', 'L5'] as const;

/** Skill ids used by the generator (`skill.00` ...). */
export function skillIds(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `skill.${String(i).padStart(2, '0')}`);
}

/** Generates a whole tenant's dataset in memory (fine up to a few hundred thousand records). */
export function generateDataset(options: GeneratorOptions = {}): Dataset {
  const o = withDefaults(options);
  const rng = new Prng(o.seed);
  const start = Date.parse(o.start);
  const out: Dataset = {
    outputs: [],
    decisions: [],
    governance_events: [],
    artifacts: [],
    employee_profiles: [],
    telemetry_events: [],
  };
  const employees = people(o, rng, start, out.employee_profiles);
  const skills = skillIds(o.skills);
  const skillWeights = skills.map((s, i) => [s, 1 / (i + 1)] as const);
  for (let day = 0; day < o.days; day++) {
    const n = Math.max(0, Math.round(o.outputsPerDay * (0.7 + 0.6 * rng.float())));
    for (let k = 0; k < n; k++) {
      const created = start + day * MS_PER_DAY + rng.int(0, MS_PER_DAY - 1);
      const output = makeOutput(rng, created, rng.pick(employees), rng.weighted(skillWeights));
      out.outputs.push(output);
      addFollowUps(rng, o, output, created, out);
    }
  }
  return out;
}

/**
 * Streams outputs only (for large benchmarks), in batches of `batchSize`,
 * spread evenly over `days` from `start`, for `employees` employees.
 */
export function* generateOutputs(
  count: number,
  options: GeneratorOptions & { batchSize?: number; employees?: number } = {},
): Generator<RecordInput[]> {
  const o = withDefaults(options);
  const rng = new Prng(o.seed);
  const start = Date.parse(o.start);
  const span = o.days * MS_PER_DAY;
  const employees = Array.from(
    { length: options.employees ?? 500 },
    (_, i) => `emp-${String(i).padStart(5, '0')}`,
  );
  const skills = skillIds(o.skills);
  const weights = skills.map((s, i) => [s, 1 / (i + 1)] as const);
  const batchSize = options.batchSize ?? 10_000;
  let batch: RecordInput[] = [];
  for (let i = 0; i < count; i++) {
    const created = start + Math.floor((i / count) * span);
    batch.push(makeOutput(rng, created, rng.pick(employees), rng.weighted(weights)));
    if (batch.length >= batchSize) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length > 0) yield batch;
}

/** One batch of {@link generateActivity}: outputs and the records pointing at them. */
export interface ActivityBatch {
  readonly outputs: RecordInput[];
  readonly decisions: RecordInput[];
  readonly governance_events: RecordInput[];
}

/**
 * Streams a large tenant's activity (for benchmarks at millions of outputs):
 * first the profiles of `managers` x `teamSize` people (with promotions, as
 * {@link generateDataset} makes them), then batches of about `batchSize`
 * outputs spread evenly over `days` from `start`, each with its decisions and
 * governance events (same rates as generateDataset; no artifacts or
 * telemetry). Deterministic for given options.
 */
export function generateActivity(
  count: number,
  options: GeneratorOptions & { batchSize?: number } = {},
): { profiles: RecordInput[]; batches: Generator<ActivityBatch> } {
  const o = { ...withDefaults(options), artifacts: false };
  const rng = new Prng(o.seed);
  const start = Date.parse(o.start);
  const profiles: RecordInput[] = [];
  const employees = people(o, rng, start, profiles);
  const skills = skillIds(o.skills);
  const weights = skills.map((s, i) => [s, 1 / (i + 1)] as const);
  const span = o.days * MS_PER_DAY;
  const batchSize = options.batchSize ?? 10_000;
  function* batches(): Generator<ActivityBatch> {
    let out: Dataset = emptyDataset();
    for (let i = 0; i < count; i++) {
      const created = start + Math.floor((i / count) * span);
      const output = makeOutput(rng, created, rng.pick(employees), rng.weighted(weights));
      out.outputs.push(output);
      addFollowUps(rng, o, output, created, out);
      if (out.outputs.length >= batchSize || i === count - 1) {
        yield { outputs: out.outputs, decisions: out.decisions, governance_events: out.governance_events };
        out = emptyDataset();
      }
    }
  }
  return { profiles, batches: batches() };
}

function emptyDataset(): Dataset {
  return {
    outputs: [],
    decisions: [],
    governance_events: [],
    artifacts: [],
    employee_profiles: [],
    telemetry_events: [],
  };
}

function withDefaults(o: GeneratorOptions): Required<GeneratorOptions> {
  return {
    seed: o.seed ?? 42,
    start: o.start ?? '2026-01-05T00:00:00.000Z',
    days: o.days ?? 90,
    managers: o.managers ?? 4,
    teamSize: o.teamSize ?? 6,
    outputsPerDay: o.outputsPerDay ?? 30,
    skills: o.skills ?? 12,
    artifacts: o.artifacts ?? true,
  };
}

/** Managers and their teams, each with a first profile and, for many, promotions. */
function people(o: Required<GeneratorOptions>, rng: Prng, start: number, profiles: RecordInput[]): string[] {
  const employees: string[] = [];
  const version = (
    id: string,
    name: string,
    archetype: string,
    level: string,
    manager: string | undefined,
    at: number,
  ) => {
    profiles.push({
      record_id: rng.uuidv7(at),
      created_at: formatTimestamp(at),
      employee_id: id,
      display_name: name,
      archetype,
      level,
      ...(manager ? { manager_id: manager } : {}),
      team: manager ? `team-${manager}` : 'leadership',
      effective_at: formatTimestamp(at),
    });
  };
  for (let m = 0; m < o.managers; m++) {
    const manager = `mgr-${String(m).padStart(3, '0')}`;
    version(manager, `Manager ${m}`, 'lead', 'L4', undefined, start - 365 * MS_PER_DAY);
    for (let e = 0; e < o.teamSize; e++) {
      const id = `emp-${String(m).padStart(3, '0')}-${String(e).padStart(3, '0')}`;
      const archetype = rng.pick(ARCHETYPES);
      let level = rng.weighted([
        [0, 5],
        [1, 3],
        [2, 1],
      ] as const);
      let at = start - rng.int(30, 400) * MS_PER_DAY;
      version(id, `Person ${m}.${e}`, archetype, LEVELS[level] as string, manager, at);
      // Up to two promotions, some inside the activity window.
      for (let p = 0; p < 2 && level < 3 && rng.float() < 0.6; p++) {
        at += rng.int(20, 120) * MS_PER_DAY;
        if (at >= start + o.days * MS_PER_DAY) break;
        level++;
        version(id, `Person ${m}.${e}`, archetype, LEVELS[level] as string, manager, at);
      }
      employees.push(id);
    }
  }
  return employees;
}

function makeOutput(rng: Prng, created: number, employee: string, skill: string): RecordInput {
  const input = rng.int(50, 4000);
  const output = rng.int(0, 2000);
  // Cost in micro-dollars: token-based with some noise, so sums exercise exact decimals.
  const micros = BigInt(input * 3 + output * 15 + rng.int(0, 999));
  const status = rng.weighted([
    ['SUCCEEDED', 85],
    ['FAILED', 10],
    ['BLOCKED', 5],
  ] as const);
  return {
    record_id: rng.uuidv7(created),
    created_at: formatTimestamp(created),
    skill_id: skill,
    employee_id: employee,
    invocation_id: `inv-${rng.next().toString(16)}`,
    model: rng.pick(MODELS),
    status,
    input_tokens: input,
    output_tokens: output,
    cost_usd: fromMicros(micros),
    ...(rng.float() < 0.95 ? { latency_ms: rng.int(80, 9000) } : {}),
    ...(rng.float() < 0.3
      ? { content: { summary: `result ${rng.next()}`, score: rng.int(0, 100) / 10 } }
      : {}),
  };
}

/** The records that follow an output: a decision, a governance event, an artifact, a telemetry event, each by chance. */
function addFollowUps(
  rng: Prng,
  o: Required<GeneratorOptions>,
  output: RecordInput,
  created: number,
  out: Dataset,
): void {
  // The draws happen in this order whatever is kept: a seed gives the same dataset.
  if (rng.float() < 0.6) out.decisions.push(decisionOf(rng, output, created));
  if (rng.float() < 0.1) out.governance_events.push(governanceEventOf(rng, output, created));
  if (o.artifacts && rng.float() < 0.03) out.artifacts.push(artifactOf(rng, output, created));
  if (rng.float() < 0.5) out.telemetry_events.push(telemetryOf(rng, output, created));
}

/** A reviewer's decision on the output, within six hours. */
function decisionOf(rng: Prng, output: RecordInput, created: number): RecordInput {
  const at = created + rng.int(1, 6 * 3600) * 1000;
  return {
    record_id: rng.uuidv7(at),
    created_at: formatTimestamp(at),
    output_id: output.record_id as string,
    skill_id: output.skill_id as string,
    decided_by: `reviewer-${rng.int(1, 5)}`,
    outcome: rng.weighted([
      ['ACCEPTED', 60],
      ['EDITED', 20],
      ['REJECTED', 12],
      ['ESCALATED', 8],
    ] as const),
    ...(rng.float() < 0.3 ? { rationale: 'checked against the source documents' } : {}),
  };
}

/** A policy check of the output, within a minute. */
function governanceEventOf(rng: Prng, output: RecordInput, created: number): RecordInput {
  const at = created + rng.int(0, 60) * 1000;
  return {
    record_id: rng.uuidv7(at),
    created_at: formatTimestamp(at),
    policy_id: rng.pick(['pii.redaction', 'spend.limit', 'data.residency', 'prompt.injection']),
    severity: rng.weighted([
      ['INFO', 40],
      ['LOW', 25],
      ['MEDIUM', 20],
      ['HIGH', 10],
      ['CRITICAL', 5],
    ] as const),
    action: rng.weighted([
      ['ALLOWED', 50],
      ['FLAGGED', 30],
      ['REDACTED', 15],
      ['BLOCKED', 5],
    ] as const),
    skill_id: output.skill_id as string,
    employee_id: output.employee_id as string,
    subject_record_id: output.record_id as string,
  };
}

/** A small text artifact of the output, a second later. */
function artifactOf(rng: Prng, output: RecordInput, created: number): RecordInput {
  const outputId = output.record_id as string;
  const at = created + 1000;
  const body = Buffer.from(`artifact of ${outputId}\n`.repeat(rng.int(1, 20)));
  return {
    record_id: rng.uuidv7(at),
    created_at: formatTimestamp(at),
    name: `report-${rng.int(1, 9999)}.txt`,
    media_type: 'text/plain',
    size_bytes: body.byteLength,
    content_sha256: createHash('sha256').update(body).digest('hex'),
    skill_id: output.skill_id as string,
    output_id: output.record_id as string,
    employee_id: output.employee_id as string,
    body,
  };
}

/** The invocation's telemetry event. */
function telemetryOf(rng: Prng, output: RecordInput, created: number): RecordInput {
  const at = created + 5;
  return {
    record_id: rng.uuidv7(at),
    created_at: formatTimestamp(at),
    name: 'skill.invoked',
    skill_id: output.skill_id as string,
    employee_id: output.employee_id as string,
    duration_ms: rng.int(80, 9000),
    cost_usd: output.cost_usd as string,
    input_tokens: output.input_tokens as number,
    output_tokens: output.output_tokens as number,
    properties: { region: rng.pick(['eu', 'us', 'apac']) },
  };
}
