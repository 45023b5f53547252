/**
 * The manager dashboard: a manager picked from the list and a date range;
 * team KPIs, cost per skill over time, top skills, L1 -> L2 progression,
 * governance events by severity, the members, and which store answered as
 * of when (extensions.routing).
 */
import {
  ArchetypeProgressionDocument,
  type Bucket,
  CostPerSkillDocument,
  type FieldRouting,
  ManagerDashboardDocument,
  ManagersDocument,
} from '@hub-gateway/client';
import { type FormEvent, useEffect, useMemo, useState } from 'react';
import { type Loaded, makeClient, useQuery } from './api';
import { type PageConfig, storeToken, storedToken } from './config';
import { defaultRange, instants } from './format';
import { Panel } from './Panel';
import { CostPerSkill, Governance, Kpis, Members, Progression, TopSkills } from './panels';

export function App({ config }: { config: PageConfig }) {
  const [token, setToken] = useState(config.token ?? storedToken());
  if (!token) return <TokenForm onToken={(t) => (storeToken(t), setToken(t))} />;
  return <Dashboard config={config} token={token} />;
}

function TokenForm({ onToken }: { onToken: (token: string) => void }) {
  const [value, setValue] = useState('');
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (value.trim()) onToken(value.trim());
  };
  return (
    <main className="token">
      <h1>Manager dashboard</h1>
      <form onSubmit={submit}>
        <label htmlFor="token">Bearer token (hub:read)</label>
        <input
          id="token"
          type="password"
          autoComplete="off"
          value={value}
          onChange={(e) => setValue(e.target.value)}
        />
        <button type="submit">Open</button>
        <p>
          In development, <code>npm start</code> opens this page with a token; otherwise mint one with{' '}
          <code>npx hub token --tenant TENANT --scopes hub:read</code>.
        </p>
      </form>
    </main>
  );
}

const BUCKETS: Bucket[] = ['DAY', 'WEEK', 'MONTH'];

function Dashboard({ config, token }: { config: PageConfig; token: string }) {
  const client = useMemo(() => makeClient(config.endpoint, token), [config.endpoint, token]);
  const initial = useMemo(() => {
    const p = new URLSearchParams(window.location.search);
    const d = defaultRange();
    const bucket = p.get('bucket') as Bucket | null;
    return {
      manager: p.get('manager') ?? '',
      from: p.get('from') ?? d.from,
      to: p.get('to') ?? d.to,
      bucket: bucket && BUCKETS.includes(bucket) ? bucket : ('WEEK' as Bucket),
    };
  }, []);
  const [managerId, setManagerId] = useState(initial.manager);
  const [range, setRange] = useState({ from: initial.from, to: initial.to });
  const [bucket, setBucket] = useState<Bucket>(initial.bucket);
  const validRange =
    /^\d{4}-\d{2}-\d{2}$/.test(range.from) && /^\d{4}-\d{2}-\d{2}$/.test(range.to) && range.from <= range.to;
  const { from, to } = validRange ? instants(range.from, range.to) : { from: '', to: '' };

  const managers = useQuery(client, ManagersDocument, validRange ? { asOf: to, first: 1000 } : null);
  useEffect(() => {
    if (managers.state === 'ok' && !managerId && managers.data.managers[0])
      setManagerId(managers.data.managers[0].managerId);
  }, [managers, managerId]);
  useEffect(() => {
    const p = new URLSearchParams({ manager: managerId, from: range.from, to: range.to, bucket });
    window.history.replaceState(null, '', `${window.location.pathname}?${p.toString()}`);
  }, [managerId, range, bucket]);

  const ready = validRange && managerId !== '';
  const team = { managerId };
  const dashVars = ready ? { managerId, from, to } : null;
  const costVars = ready ? { from, to, bucket, team } : null;
  const progVars = ready ? { from, to, team } : null;
  const dash = useQuery(client, ManagerDashboardDocument, dashVars);
  const cost = useQuery(client, CostPerSkillDocument, costVars);
  const prog = useQuery(client, ArchetypeProgressionDocument, progVars);
  const common = { graphiql: config.graphiql };
  const dashQuery = ManagerDashboardDocument.toString();

  return (
    <div className="app">
      <header className="top">
        <h1>Manager dashboard</h1>
        <form className="controls" onSubmit={(e) => e.preventDefault()} aria-label="Team and range">
          <label>
            Manager
            <select
              name="manager"
              value={managerId}
              onChange={(e) => setManagerId(e.target.value)}
              disabled={managers.state !== 'ok'}
            >
              {managers.state === 'ok' && managers.data.managers.length === 0 && (
                <option value="">no managers</option>
              )}
              {managers.state === 'ok' &&
                managers.data.managers.map((m) => (
                  <option key={m.managerId} value={m.managerId}>
                    {m.displayName ? `${m.displayName} (${m.managerId})` : m.managerId} · {m.teamSize} people
                  </option>
                ))}
            </select>
          </label>
          <label>
            From
            <input
              type="date"
              name="from"
              value={range.from}
              onChange={(e) => setRange({ ...range, from: e.target.value })}
            />
          </label>
          <label>
            To (inclusive)
            <input
              type="date"
              name="to"
              value={range.to}
              onChange={(e) => setRange({ ...range, to: e.target.value })}
            />
          </label>
          <label>
            Buckets
            <select name="bucket" value={bucket} onChange={(e) => setBucket(e.target.value as Bucket)}>
              {BUCKETS.map((b) => (
                <option key={b} value={b}>
                  {b.toLowerCase()}
                </option>
              ))}
            </select>
          </label>
        </form>
        <Freshness results={[dash, cost, prog]} />
      </header>
      {!validRange && (
        <p className="error" role="alert">
          Pick a valid date range (from on or before to).
        </p>
      )}
      {managers.state === 'error' && (
        <p className="error" role="alert">
          Could not load the managers: {managers.message} <code>{managers.code}</code>
        </p>
      )}
      {managers.state === 'ok' && managers.data.managers.length === 0 && (
        <p className="status" data-state="empty">
          No employee profile names a manager as of this range's end: nothing to show.
        </p>
      )}
      <main className="grid">
        <Panel
          id="kpis"
          title="Team KPIs"
          loaded={dash}
          query={dashQuery}
          variables={dashVars}
          {...common}
          wide
          isEmpty={(d) => d.managerDashboard.members.length === 0}
        >
          {(d) => <Kpis d={d.managerDashboard} />}
        </Panel>
        <Panel
          id="cost"
          title="Cost per skill over time"
          loaded={cost}
          query={CostPerSkillDocument.toString()}
          variables={costVars}
          {...common}
          wide
          isEmpty={(d) => d.costPerSkill.length === 0}
        >
          {(d) => <CostPerSkill rows={d.costPerSkill} />}
        </Panel>
        <Panel
          id="top-skills"
          title="Top skills"
          loaded={dash}
          query={dashQuery}
          variables={dashVars}
          {...common}
          isEmpty={(d) => d.managerDashboard.topSkills.length === 0}
        >
          {(d) => <TopSkills skills={d.managerDashboard.topSkills} />}
        </Panel>
        <Panel
          id="progression"
          title="Level progression (L1 → L2 first)"
          loaded={prog}
          query={ArchetypeProgressionDocument.toString()}
          variables={progVars}
          {...common}
          isEmpty={(d) => d.archetypeProgression.length === 0}
        >
          {(d) => <Progression rows={d.archetypeProgression} />}
        </Panel>
        <Panel
          id="governance"
          title="Governance events by severity"
          loaded={dash}
          query={dashQuery}
          variables={dashVars}
          {...common}
          isEmpty={(d) => d.managerDashboard.members.length === 0}
        >
          {(d) => <Governance counts={d.managerDashboard.governanceBySeverity} />}
        </Panel>
        <Panel
          id="members"
          title="Members"
          loaded={dash}
          query={dashQuery}
          variables={dashVars}
          {...common}
          wide
          isEmpty={(d) => d.managerDashboard.members.length === 0}
        >
          {(d) => <Members members={d.managerDashboard.members} />}
        </Panel>
      </main>
    </div>
  );
}

/** Which store answered and as of when, from extensions.routing of the panels' queries. */
function Freshness({ results }: { results: Loaded<unknown>[] }) {
  const routings: FieldRouting[] = results.flatMap((r) => (r.state === 'ok' ? Object.values(r.routing) : []));
  const done = results.every((r) => r.state !== 'loading');
  if (!done)
    return (
      <p className="freshness" data-freshness="loading">
        …
      </p>
    );
  if (routings.length === 0)
    return (
      <p className="freshness" data-freshness="none">
        Live store (the gateway reports no routing)
      </p>
    );
  const stores = [...new Set(routings.flatMap((r) => r.stores.map((s) => `${s.store} (${s.role})`)))];
  const marks = routings
    .map((r) => r.watermark)
    .filter((w): w is string => w !== undefined)
    .sort();
  const asOf = marks[0];
  return (
    <p
      className="freshness"
      data-freshness="routed"
      data-stores={stores.join(',')}
      data-watermark={asOf ?? ''}
    >
      Store: <strong>{stores.join(', ')}</strong>
      {asOf && (
        <>
          {' '}
          · as of <time dateTime={asOf}>{asOf.replace('T', ' ').replace(/\.\d+Z$/, ' UTC')}</time>
        </>
      )}
    </p>
  );
}
