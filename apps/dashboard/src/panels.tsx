/** The content of each panel, drawn from the typed query results. */
import type {
  ArchetypeProgressionQuery,
  CostPerSkillQuery,
  ManagerDashboardQuery,
} from '@hub-gateway/client';
import { useMemo } from 'react';
import { Chart } from './Chart';
import { day, int, percent, usd } from './format';

type Dashboard = ManagerDashboardQuery['managerDashboard'];
const SEVERITIES = ['INFO', 'LOW', 'MEDIUM', 'HIGH', 'CRITICAL'] as const;

/** A number cell: formatted text, the exact value in data-value. */
function Num(props: { value: number | string | null; text: string; field: string }) {
  return (
    <td className="num" data-field={props.field} data-value={props.value === null ? '' : String(props.value)}>
      {props.text}
    </td>
  );
}

export function Kpis({ d }: { d: Dashboard }) {
  const items: [string, string, number | string | null, string][] = [
    ['invocations', 'Invocations', d.invocations, int(d.invocations)],
    ['failed', 'Failures', d.failed, int(d.failed)],
    ['totalCostUsd', 'Cost', d.totalCostUsd, usd(d.totalCostUsd)],
    ['acceptanceRate', 'Acceptance rate', d.decisions.acceptanceRate, percent(d.decisions.acceptanceRate)],
    ['escalations', 'Escalations', d.decisions.escalations, int(d.decisions.escalations)],
  ];
  return (
    <dl className="kpis">
      {items.map(([key, label, value, text]) => (
        <div key={key} className="kpi">
          <dt>{label}</dt>
          <dd data-kpi={key} data-value={value === null ? '' : String(value)}>
            {text}
          </dd>
        </div>
      ))}
      <div className="kpi small">
        <dt>Decisions</dt>
        <dd data-kpi="decisions" data-value={d.decisions.total}>
          {int(d.decisions.accepted)} accepted of {int(d.decisions.total)}
        </dd>
      </div>
    </dl>
  );
}

export function CostPerSkill({ rows }: { rows: CostPerSkillQuery['costPerSkill'] }) {
  const option = useMemo(() => {
    const buckets = [...new Set(rows.map((r) => r.bucketStart))].sort();
    const skills = [...new Set(rows.map((r) => r.skillId))].sort();
    const cost = new Map(rows.map((r) => [`${r.bucketStart}|${r.skillId}`, Number(r.totalCostUsd)]));
    return {
      tooltip: { trigger: 'axis' },
      legend: { type: 'scroll', bottom: 0 },
      grid: { left: 56, right: 16, top: 16, bottom: 48 },
      xAxis: { type: 'category', data: buckets.map(day) },
      yAxis: { type: 'value', name: 'USD' },
      series: skills.map((s) => ({
        name: s,
        type: 'bar',
        stack: 'cost',
        data: buckets.map((b) => cost.get(`${b}|${s}`) ?? 0),
      })),
    };
  }, [rows]);
  return (
    <>
      <Chart option={option} label="Cost per skill over time, stacked by skill" />
      <details>
        <summary>Data</summary>
        <table data-table="costPerSkill">
          <thead>
            <tr>
              <th scope="col">Bucket</th>
              <th scope="col">Skill</th>
              <th scope="col">Invocations</th>
              <th scope="col">Failed</th>
              <th scope="col">Cost</th>
              <th scope="col">p95 latency</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr key={`${r.bucketStart}|${r.skillId}`} data-key={`${r.bucketStart}|${r.skillId}`}>
                <td>{day(r.bucketStart)}</td>
                <td>{r.skillId}</td>
                <Num field="invocations" value={r.invocations} text={int(r.invocations)} />
                <Num field="failed" value={r.failed} text={int(r.failed)} />
                <Num field="totalCostUsd" value={r.totalCostUsd} text={usd(r.totalCostUsd)} />
                <Num
                  field="p95LatencyMs"
                  value={r.p95LatencyMs}
                  text={r.p95LatencyMs === null ? '—' : `${r.p95LatencyMs} ms`}
                />
              </tr>
            ))}
          </tbody>
        </table>
      </details>
    </>
  );
}

export function TopSkills({ skills }: { skills: Dashboard['topSkills'] }) {
  const option = useMemo(
    () => ({
      tooltip: {},
      grid: { left: 96, right: 24, top: 8, bottom: 24 },
      xAxis: { type: 'value' },
      yAxis: { type: 'category', data: skills.map((s) => s.skillId).reverse() },
      series: [{ type: 'bar', name: 'Invocations', data: skills.map((s) => s.invocations).reverse() }],
    }),
    [skills],
  );
  return (
    <>
      <Chart option={option} label="Top skills by team invocations" height={200} />
      <table data-table="topSkills">
        <thead>
          <tr>
            <th scope="col">Skill</th>
            <th scope="col">Invocations</th>
            <th scope="col">Cost</th>
          </tr>
        </thead>
        <tbody>
          {skills.map((s) => (
            <tr key={s.skillId} data-key={s.skillId}>
              <td>{s.skillId}</td>
              <Num field="invocations" value={s.invocations} text={int(s.invocations)} />
              <Num field="totalCostUsd" value={s.totalCostUsd} text={usd(s.totalCostUsd)} />
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

export function Progression({ rows }: { rows: ArchetypeProgressionQuery['archetypeProgression'] }) {
  const isL1L2 = (r: { fromLevel: string; toLevel: string }): boolean =>
    r.fromLevel === 'L1' && r.toLevel === 'L2';
  // L1 -> L2 first (the headline), then the other transitions in the API's order.
  const ordered = useMemo(() => [...rows.filter(isL1L2), ...rows.filter((r) => !isL1L2(r))], [rows]);
  const option = useMemo(
    () => ({
      tooltip: {},
      grid: { left: 150, right: 24, top: 8, bottom: 24 },
      xAxis: { type: 'value', name: 'people', minInterval: 1 },
      yAxis: {
        type: 'category',
        inverse: true,
        data: ordered.map((r) => `${r.archetype} ${r.fromLevel}→${r.toLevel}`),
      },
      series: [
        {
          type: 'bar',
          name: 'People',
          data: ordered.map((r) => ({
            value: r.employees,
            itemStyle: { color: isL1L2(r) ? '#2f9e44' : '#9aa5b1' },
          })),
        },
      ],
    }),
    [ordered],
  );
  const l1l2 = rows.filter(isL1L2);
  return (
    <>
      {l1l2.length === 0 && (
        <p className="status" data-l1l2="none">
          No L1 → L2 promotion in the team in this range; other level changes below.
        </p>
      )}
      <Chart
        option={option}
        label="Team members by level transition (L1 to L2 first)"
        height={Math.max(120, 32 * ordered.length + 40)}
      />
      <table data-table="progression">
        <thead>
          <tr>
            <th scope="col">Archetype</th>
            <th scope="col">From → to</th>
            <th scope="col">Transitions</th>
            <th scope="col">People</th>
            <th scope="col">Median days</th>
          </tr>
        </thead>
        <tbody>
          {ordered.map((r) => (
            <tr
              key={`${r.archetype}|${r.fromLevel}|${r.toLevel}`}
              data-key={`${r.archetype}|${r.fromLevel}|${r.toLevel}`}
              className={r.fromLevel === 'L1' && r.toLevel === 'L2' ? 'highlight' : undefined}
            >
              <td>{r.archetype}</td>
              <td>
                {r.fromLevel} → {r.toLevel}
              </td>
              <Num field="transitions" value={r.transitions} text={int(r.transitions)} />
              <Num field="employees" value={r.employees} text={int(r.employees)} />
              <Num field="medianDays" value={r.medianDays} text={String(r.medianDays)} />
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

export function Governance({ counts }: { counts: Dashboard['governanceBySeverity'] }) {
  const option = useMemo(
    () => ({
      tooltip: {},
      grid: { left: 40, right: 16, top: 8, bottom: 24 },
      xAxis: { type: 'category', data: [...SEVERITIES] },
      yAxis: { type: 'value', minInterval: 1 },
      series: [
        {
          type: 'bar',
          name: 'Events',
          data: SEVERITIES.map((s) => ({
            value: counts[s],
            itemStyle: { color: ['#8aa', '#6a9', '#db3', '#e73', '#c22'][SEVERITIES.indexOf(s)] },
          })),
        },
      ],
    }),
    [counts],
  );
  return (
    <>
      <Chart option={option} label="Governance events of the team by severity" height={200} />
      <table data-table="governance">
        <tbody>
          <tr>
            {SEVERITIES.map((s) => (
              <th key={s} scope="col">
                {s}
              </th>
            ))}
          </tr>
          <tr>
            {SEVERITIES.map((s) => (
              <Num key={s} field={s} value={counts[s]} text={int(counts[s])} />
            ))}
          </tr>
        </tbody>
      </table>
    </>
  );
}

export function Members({ members }: { members: Dashboard['members'] }) {
  return (
    <table data-table="members">
      <thead>
        <tr>
          <th scope="col">Employee</th>
          <th scope="col">Name</th>
          <th scope="col">Archetype</th>
          <th scope="col">Level</th>
          <th scope="col">Invocations</th>
          <th scope="col">Cost</th>
        </tr>
      </thead>
      <tbody>
        {members.map((m) => (
          <tr key={m.employeeId} data-key={m.employeeId}>
            <td>{m.employeeId}</td>
            <td>{m.displayName}</td>
            <td>{m.archetype}</td>
            <td>{m.level}</td>
            <Num field="invocations" value={m.invocations} text={int(m.invocations)} />
            <Num field="totalCostUsd" value={m.totalCostUsd} text={usd(m.totalCostUsd)} />
          </tr>
        ))}
      </tbody>
    </table>
  );
}
