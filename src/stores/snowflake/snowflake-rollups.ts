/**
 * The rollups in Snowflake SQL, with exactly the semantics of
 * src/hub/rollups/reference.ts:
 * - sums of money are NUMBER sums (exact), read back as decimal strings;
 * - continuous percentiles are computed without floating point: SQL numbers
 *   each group's sorted values (ROW_NUMBER), picks the two values around the
 *   position p*(n-1)/100 (FLOOR of an exact quotient), and returns them with
 *   the interpolation fraction; the final rational is rounded half away from
 *   zero in bigint ({@link interpolate}), as the reference does;
 * - averages and ratios are rounded the same way from the exact SQL sums and
 *   counts. (Snowflake and DuckDB differ on the scale of decimal division, so
 *   no division result is trusted at a rounding boundary.)
 * Grouping, filtering, window functions and joins all run in SQL; the store
 * only folds the few grouped rows (e.g. team member x skill) exactly.
 */
import { divRoundHalfAway, fromMicros, parseDecimal, roundRatio, toMicros } from '../../hub/decimal';
import { HubError } from '../../hub/errors';
import { type Level, SEVERITIES, type Severity } from '../../hub/model';
import type {
  ArchetypeProgressionQuery,
  ArchetypeProgressionRow,
  CostPerSkillQuery,
  CostPerSkillRow,
  ManagerDashboard,
  ManagerDashboardQuery,
  ManagerRow,
  ManagersQuery,
  SkillRow,
  SkillsQuery,
} from '../../hub/store';
import { MS_PER_DAY, formatTimestamp } from '../../hub/time';
import { type Statement, type TenantNames, ntzText, teamIdsSql } from './snowflake-sql';

const TS = 'CAST(? AS TIMESTAMP_NTZ(3))';
const BUCKET_PART = { DAY: 'DAY', WEEK: 'WEEK', MONTH: 'MONTH' } as const;

const cmp = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
const micros = (v: unknown): bigint => {
  const d = parseDecimal(v === null || v === undefined ? '0' : String(v));
  if (!d.ok) throw new HubError('INTERNAL', `rollup sum is not a decimal: ${d.message}`);
  return toMicros(d.value);
};
const int = (v: unknown): number => (v === null || v === undefined ? 0 : Number(v));

/**
 * The continuous percentile from the two values SQL picked: `lo` at position
 * floor(p*(n-1)/100), `hi` the next one, `frac` = p*(n-1) mod 100; equals
 * percentileCont in math.ts: (100*lo + (hi-lo)*frac) / (100*divisor), rounded.
 */
export function interpolate(
  lo: bigint,
  hi: bigint | null,
  frac: bigint,
  places: number,
  divisor = 1n,
): number {
  const b = frac === 0n || hi === null ? lo : hi;
  return roundRatio(100n * lo + (b - lo) * frac, 100n * divisor, places);
}

/** SQL picking, per group, the two sorted values around the p-th percentile position. */
function percentilePick(p: number, countExpr: string, rankExpr: string, valueExpr: string): string {
  const pos = `FLOOR(${p} * (${countExpr} - 1) / 100)`;
  return (
    `MAX(CASE WHEN ${rankExpr} = ${pos} + 1 THEN ${valueExpr} END) AS LO, ` +
    `MAX(CASE WHEN ${rankExpr} = ${pos} + 2 THEN ${valueExpr} END) AS HI`
  );
}

/** Cost per skill and bucket. Columns: skill, bucket ms, n, failed, total, in, out, latency count, lo, hi. */
export function costPerSkillStatement(names: TenantNames, q: CostPerSkillQuery): Statement {
  const binds: (string | number)[] = [ntzText(q.from), ntzText(q.to)];
  let skills = '';
  if (q.skillIds) {
    skills = q.skillIds.length
      ? ` AND "SKILL_ID" IN (${q.skillIds.map(() => '?').join(', ')})`
      : ' AND 1 = 0';
    binds.push(...q.skillIds);
  }
  if (q.team) skills += ` AND "EMPLOYEE_ID" IN (${teamIdsSql(names, q.team, binds)})`;
  const part = BUCKET_PART[q.bucket];
  if (!part) throw new HubError('VALIDATION', `unknown bucket ${String(q.bucket)}`);
  const sql =
    `WITH O AS (SELECT "SKILL_ID" AS SKILL, DATE_TRUNC('${part}', "CREATED_AT") AS BUCKET, "STATUS" AS STATUS, ` +
    `"COST_USD" AS COST, "INPUT_TOKENS" AS TIN, "OUTPUT_TOKENS" AS TOUT, "LATENCY_MS" AS LAT ` +
    `FROM ${names.table('outputs')} WHERE "CREATED_AT" >= ${TS} AND "CREATED_AT" < ${TS}${skills}), ` +
    `G AS (SELECT SKILL, BUCKET, COUNT(*) AS N, COUNT(CASE WHEN STATUS <> 'SUCCEEDED' THEN 1 END) AS FAILED, SUM(COST) AS TOTAL, ` +
    `SUM(TIN) AS TIN, SUM(TOUT) AS TOUT, COUNT(LAT) AS NLAT FROM O GROUP BY SKILL, BUCKET), ` +
    `R AS (SELECT SKILL, BUCKET, LAT, ROW_NUMBER() OVER (PARTITION BY SKILL, BUCKET ORDER BY LAT) AS RN ` +
    `FROM O WHERE LAT IS NOT NULL) ` +
    `SELECT G.SKILL, DATE_PART(EPOCH_MILLISECOND, G.BUCKET), G.N, G.FAILED, G.TOTAL, G.TIN, G.TOUT, G.NLAT, ` +
    `${percentilePick(95, 'G.NLAT', 'R.RN', 'R.LAT')} ` +
    `FROM G LEFT JOIN R ON R.SKILL = G.SKILL AND R.BUCKET = G.BUCKET ` +
    `GROUP BY G.SKILL, G.BUCKET, G.N, G.FAILED, G.TOTAL, G.TIN, G.TOUT, G.NLAT ORDER BY G.BUCKET, G.SKILL`;
  return { sql, params: binds };
}

/** Assembles cost-per-skill rows from {@link costPerSkillStatement}'s result. */
export function costPerSkillRows(rows: readonly unknown[][]): CostPerSkillRow[] {
  return rows
    .map((r) => {
      const n = int(r[2]);
      const total = micros(r[4]);
      const nlat = BigInt(int(r[7]));
      return {
        skill_id: String(r[0]),
        bucket_ms: int(r[1]),
        row: {
          skill_id: String(r[0]),
          bucket_start: formatTimestamp(int(r[1])),
          invocations: n,
          failed: int(r[3]),
          total_cost_usd: fromMicros(total),
          avg_cost_usd: fromMicros(divRoundHalfAway(total, BigInt(n))),
          input_tokens: int(r[5]),
          output_tokens: int(r[6]),
          p95_latency_ms:
            nlat === 0n
              ? null
              : interpolate(
                  BigInt(String(r[8])),
                  r[9] == null ? null : BigInt(String(r[9])),
                  (95n * (nlat - 1n)) % 100n,
                  1,
                ),
        },
      };
    })
    .sort((a, b) => a.bucket_ms - b.bucket_ms || cmp(a.skill_id, b.skill_id))
    .map((x) => x.row);
}

/** Archetype progression. Columns: archetype, from, to, transitions, employees, lo, hi (gaps in ms). */
export function archetypeProgressionStatement(names: TenantNames, q: ArchetypeProgressionQuery): Statement {
  const binds: (string | number)[] = [];
  // The team's members with their whole version history (V comes first in the text: its binds too).
  const team = q.team ? ` WHERE "EMPLOYEE_ID" IN (${teamIdsSql(names, q.team, binds)})` : '';
  binds.push(ntzText(q.from), ntzText(q.to));
  let archetype = '';
  if (q.archetype !== undefined) {
    archetype = ' AND A = ?';
    binds.push(q.archetype);
  }
  const order = 'PARTITION BY "EMPLOYEE_ID" ORDER BY "EFFECTIVE_AT", "CREATED_AT", "RECORD_ID"';
  const sql =
    `WITH V AS (SELECT "EMPLOYEE_ID" AS E, "ARCHETYPE" AS A, "LEVEL" AS L, "EFFECTIVE_AT" AS EFF, ` +
    `LAG("LEVEL") OVER (${order}) AS PL, LAG("EFFECTIVE_AT") OVER (${order}) AS PEFF ` +
    `FROM ${names.table('employee_profiles')}${team}), ` +
    `T AS (SELECT A, PL AS FL, L AS TL, E, DATE_PART(EPOCH_MILLISECOND, EFF) - DATE_PART(EPOCH_MILLISECOND, PEFF) AS GAP ` +
    `FROM V WHERE PL IS NOT NULL AND PL <> L AND EFF >= ${TS} AND EFF < ${TS}${archetype}), ` +
    `G AS (SELECT A, FL, TL, COUNT(*) AS N, COUNT(DISTINCT E) AS PEOPLE FROM T GROUP BY A, FL, TL), ` +
    `R AS (SELECT A, FL, TL, GAP, ROW_NUMBER() OVER (PARTITION BY A, FL, TL ORDER BY GAP) AS RN FROM T) ` +
    `SELECT G.A, G.FL, G.TL, G.N, G.PEOPLE, ${percentilePick(50, 'G.N', 'R.RN', 'R.GAP')} ` +
    `FROM G JOIN R ON R.A = G.A AND R.FL = G.FL AND R.TL = G.TL ` +
    `GROUP BY G.A, G.FL, G.TL, G.N, G.PEOPLE ORDER BY G.A, G.FL, G.TL`;
  return { sql, params: binds };
}

/** Assembles archetype-progression rows. */
export function archetypeProgressionRows(rows: readonly unknown[][]): ArchetypeProgressionRow[] {
  return rows
    .map((r) => {
      const n = BigInt(int(r[3]));
      return {
        archetype: String(r[0]),
        from_level: String(r[1]) as Level,
        to_level: String(r[2]) as Level,
        transitions: Number(n),
        employees: int(r[4]),
        median_days: interpolate(
          BigInt(String(r[5])),
          r[6] == null ? null : BigInt(String(r[6])),
          (50n * (n - 1n)) % 100n,
          2,
          BigInt(MS_PER_DAY),
        ),
      };
    })
    .sort(
      (a, b) =>
        cmp(a.archetype, b.archetype) || cmp(a.from_level, b.from_level) || cmp(a.to_level, b.to_level),
    );
}

/**
 * The manager dashboard's four statements. Binds use `:N` so one value serves
 * several places: :1 = to, :2 = manager id, :3 = from. TEAM = employees whose
 * latest profile with effective_at < to (ties: created_at, record_id) names the manager.
 */
export function managerDashboardStatements(
  names: TenantNames,
  q: ManagerDashboardQuery,
): Record<string, Statement> {
  const binds = [ntzText(q.to), q.managerId, ntzText(q.from)];
  const team =
    `WITH CUR AS (SELECT "EMPLOYEE_ID" AS E, "DISPLAY_NAME" AS DN, "ARCHETYPE" AS A, "LEVEL" AS L, "MANAGER_ID" AS M ` +
    `FROM ${names.table('employee_profiles')} WHERE "EFFECTIVE_AT" < CAST(:1 AS TIMESTAMP_NTZ(3)) ` +
    `QUALIFY ROW_NUMBER() OVER (PARTITION BY "EMPLOYEE_ID" ORDER BY "EFFECTIVE_AT" DESC, "CREATED_AT" DESC, "RECORD_ID" DESC) = 1), ` +
    `TEAM AS (SELECT E, DN, A, L FROM CUR WHERE M = :2) `;
  const range = (col: string): string =>
    `${col} >= CAST(:3 AS TIMESTAMP_NTZ(3)) AND ${col} < CAST(:1 AS TIMESTAMP_NTZ(3))`;
  return {
    members: { sql: `${team}SELECT E, DN, A, L FROM TEAM ORDER BY E`, params: binds },
    outputs: {
      sql:
        `${team}SELECT O."EMPLOYEE_ID", O."SKILL_ID", COUNT(*), COUNT(CASE WHEN O."STATUS" <> 'SUCCEEDED' THEN 1 END), SUM(O."COST_USD") ` +
        `FROM ${names.table('outputs')} O JOIN TEAM ON TEAM.E = O."EMPLOYEE_ID" WHERE ${range('O."CREATED_AT"')} ` +
        `GROUP BY O."EMPLOYEE_ID", O."SKILL_ID"`,
      params: binds,
    },
    decisions: {
      sql:
        `${team}SELECT COUNT(*), COUNT(CASE WHEN D."OUTCOME" = 'ACCEPTED' THEN 1 END), COUNT(CASE WHEN D."OUTCOME" = 'ESCALATED' THEN 1 END) ` +
        `FROM ${names.table('decisions')} D JOIN ${names.table('outputs')} O ON O."RECORD_ID" = D."OUTPUT_ID" ` +
        `JOIN TEAM ON TEAM.E = O."EMPLOYEE_ID" WHERE ${range('D."CREATED_AT"')}`,
      params: binds,
    },
    governance: {
      sql:
        `${team}SELECT G."SEVERITY", COUNT(*) FROM ${names.table('governance_events')} G ` +
        `JOIN TEAM ON TEAM.E = G."EMPLOYEE_ID" WHERE ${range('G."CREATED_AT"')} GROUP BY G."SEVERITY"`,
      params: binds,
    },
  };
}

/** Results of the four dashboard statements (empty arrays for a tenant with no data). */
export interface DashboardResults {
  readonly members: readonly unknown[][];
  readonly outputs: readonly unknown[][];
  readonly decisions: readonly unknown[][];
  readonly governance: readonly unknown[][];
}

/** Folds the dashboard statements' rows into the port's shape, exactly. */
export function managerDashboardResult(managerId: string, r: DashboardResults): ManagerDashboard {
  const perMember = new Map<string, { n: number; micros: bigint }>();
  const perSkill = new Map<string, { n: number; micros: bigint }>();
  let invocations = 0;
  let failed = 0;
  let total = 0n;
  for (const row of r.outputs) {
    const n = int(row[2]);
    const m = micros(row[4]);
    invocations += n;
    failed += int(row[3]);
    total += m;
    for (const [map, key] of [
      [perMember, String(row[0])],
      [perSkill, String(row[1])],
    ] as const) {
      const acc = map.get(key) ?? { n: 0, micros: 0n };
      acc.n += n;
      acc.micros += m;
      map.set(key, acc);
    }
  }
  const d = r.decisions[0] ?? [0, 0, 0];
  const decisionTotal = int(d[0]);
  const accepted = int(d[1]);
  const bySeverity = Object.fromEntries(SEVERITIES.map((s) => [s, 0])) as Record<Severity, number>;
  for (const row of r.governance) bySeverity[String(row[0]) as Severity] = int(row[1]);
  return {
    manager_id: managerId,
    invocations,
    failed,
    total_cost_usd: fromMicros(total),
    decisions: {
      accepted,
      total: decisionTotal,
      acceptance_rate: decisionTotal === 0 ? null : roundRatio(BigInt(accepted), BigInt(decisionTotal), 4),
      escalations: int(d[2]),
    },
    governance_by_severity: bySeverity,
    top_skills: [...perSkill.entries()]
      .sort(([a, x], [b, y]) => y.n - x.n || cmp(a, b))
      .slice(0, 5)
      .map(([skill_id, s]) => ({ skill_id, invocations: s.n, total_cost_usd: fromMicros(s.micros) })),
    members: r.members
      .map((row) => {
        const m = perMember.get(String(row[0]));
        return {
          employee_id: String(row[0]),
          display_name: String(row[1]),
          archetype: String(row[2]),
          level: String(row[3]) as Level,
          invocations: m?.n ?? 0,
          total_cost_usd: fromMicros(m?.micros ?? 0n),
        };
      })
      .sort((a, b) => cmp(a.employee_id, b.employee_id)),
  };
}

/** Managers of current profiles as of `asOf`. Columns: manager id, team size, the manager's own display name. */
export function managersStatement(names: TenantNames, q: ManagersQuery): Statement {
  const binds: (string | number)[] = [ntzText(q.asOf)];
  let after = '';
  if (q.after !== undefined) {
    after = ' AND M > ?';
    binds.push(q.after);
  }
  if (!Number.isSafeInteger(q.limit) || q.limit < 1 || q.limit > 1000)
    throw new HubError('VALIDATION', `limit must be 1..1000, got ${q.limit}`);
  const sql =
    `WITH CUR AS (SELECT "EMPLOYEE_ID" AS E, "DISPLAY_NAME" AS DN, "MANAGER_ID" AS M ` +
    `FROM ${names.table('employee_profiles')} WHERE "EFFECTIVE_AT" < ${TS} ` +
    `QUALIFY ROW_NUMBER() OVER (PARTITION BY "EMPLOYEE_ID" ORDER BY "EFFECTIVE_AT" DESC, "CREATED_AT" DESC, "RECORD_ID" DESC) = 1), ` +
    `G AS (SELECT M, COUNT(*) AS N FROM CUR WHERE M IS NOT NULL${after} GROUP BY M) ` +
    `SELECT G.M, G.N, CUR.DN FROM G LEFT JOIN CUR ON CUR.E = G.M ORDER BY G.M LIMIT ${q.limit}`;
  return { sql, params: binds };
}

/** Assembles manager rows (ordered by id in byte order, whatever the collation). */
export function managersRows(rows: readonly unknown[][]): ManagerRow[] {
  return rows
    .map((r) => ({
      manager_id: String(r[0]),
      team_size: int(r[1]),
      display_name: r[2] === null || r[2] === undefined ? null : String(r[2]),
    }))
    .sort((a, b) => cmp(a.manager_id, b.manager_id));
}

/** Skills of outputs in range (optionally the team's). Columns: skill, invocations, total cost. */
export function skillsStatement(names: TenantNames, q: SkillsQuery): Statement {
  const binds: (string | number)[] = [ntzText(q.from), ntzText(q.to)];
  let where = '';
  if (q.team) where += ` AND "EMPLOYEE_ID" IN (${teamIdsSql(names, q.team, binds)})`;
  if (q.after !== undefined) {
    where += ' AND "SKILL_ID" > ?';
    binds.push(q.after);
  }
  if (!Number.isSafeInteger(q.limit) || q.limit < 1 || q.limit > 1000)
    throw new HubError('VALIDATION', `limit must be 1..1000, got ${q.limit}`);
  const sql =
    `SELECT "SKILL_ID", COUNT(*), SUM("COST_USD") FROM ${names.table('outputs')} ` +
    `WHERE "CREATED_AT" >= ${TS} AND "CREATED_AT" < ${TS}${where} ` +
    `GROUP BY "SKILL_ID" ORDER BY "SKILL_ID" LIMIT ${q.limit}`;
  return { sql, params: binds };
}

/** Assembles skill rows. */
export function skillsRows(rows: readonly unknown[][]): SkillRow[] {
  return rows
    .map((r) => ({
      skill_id: String(r[0]),
      invocations: int(r[1]),
      total_cost_usd: fromMicros(micros(r[2])),
    }))
    .sort((a, b) => cmp(a.skill_id, b.skill_id));
}
