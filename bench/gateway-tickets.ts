/**
 * bench:gateway's tickets part: what tenant tickets cost through the whole
 * gateway, against the gateway before tickets and the old policy.
 */
import type { fork } from 'node:child_process';
import { Agent } from 'node:http';
import { Client } from 'pg';
import type { PgTestDatabase } from '../test/support/pg-harness';
import { closedLoop as loop, postGraphQL } from './closed-loop';
import { loadavg, log } from './gateway-log';
import { childCpu, startChild, stopChild } from './gateway-processes';
import { CpuMeter } from './postgres-tickets';
import { type Figure, percentile } from './report';

/**
 * The cost of tenant tickets through the whole gateway: by id and list of 50
 * at 1 connection, three sides in rounds whose order rotates: `before`, the
 * gateway as before tickets (the tenant policy on hub.outputs as it was, and
 * a second gateway child whose store plans lookups and list pages as the
 * server chooses, generic_lookups=false: the baseline); `old`, that policy through this
 * gateway (what the ticket alone costs); `ticket`, the policy as installed.
 * The policy is switched with ALTER POLICY. Latency, and CPU per request:
 * the gateway process plus its PostgreSQL backends (load only adds waiting to
 * it).
 */
export async function ticketCost(
  db: PgTestDatabase,
  current: { server: ReturnType<typeof fork>; url: string },
  secret: string,
  token: string,
  scenarios: readonly { name: string; body: (i: number) => string }[],
  seconds: number,
  rounds: number,
): Promise<Figure[]> {
  const admin = new Client({ connectionString: db.adminUri });
  await admin.connect();
  const scope = "(SELECT current_setting('app.tenant_id', true))";
  const installed = await admin.query(
    "SELECT qual FROM pg_policies WHERE schemaname = 'hub' AND tablename = 'outputs' AND policyname = 'tenant_isolation'",
  );
  const old = `tenant_id = ${scope}`;
  const ticket = String(installed.rows[0]?.qual);
  const setPolicy = (policy: string) =>
    admin.query(`ALTER POLICY tenant_isolation ON hub.outputs USING (${policy}) WITH CHECK (${policy})`);
  const beforeChild = await startChild(`${db.appUri}?generic_lookups=false`, secret, {});
  const sides = {
    before: { ...beforeChild, policy: old },
    old: { ...current, policy: old },
    ticket: { ...current, policy: ticket },
  };
  const names = ['before', 'old', 'ticket'] as const;
  const by = new Map<string, { samples: number[]; cpuMs: number; n: number }>();
  try {
    for (let round = 0; round < rounds; round++) {
      for (const side of names.map((_, i) => names[(i + round) % names.length] as (typeof names)[number])) {
        const { server, url, policy } = sides[side];
        await setPolicy(policy);
        const cpu = new CpuMeter(admin, db, async () => (await childCpu(server)) / 1000);
        const target = new URL(url);
        for (const s of scenarios) {
          const agent = new Agent({ keepAlive: true, maxSockets: 1 });
          await loop(1, 0.5, (i) => postGraphQL(agent, target, token, s.body(i))); // statements planned again after the ALTER
          const start = await cpu.read();
          const run = await loop(1, seconds, (i) => postGraphQL(agent, target, token, s.body(i)));
          const used = await cpu.since(start);
          agent.destroy();
          const key = `${side} ${s.name}`;
          const into = by.get(key) ?? { samples: [], cpuMs: 0, n: 0 };
          into.samples.push(...run.samples);
          into.cpuMs += used;
          into.n += run.samples.length;
          by.set(key, into);
          log(
            `tickets ${key}, round ${round + 1} of ${rounds}: p50 ${percentile(run.samples, 50).toFixed(3)} ms, ` +
              `${Math.round((used * 1000) / run.samples.length)} µs CPU per request (load ${loadavg()})`,
          );
        }
      }
    }
  } finally {
    await setPolicy(ticket);
    await stopChild(beforeChild.server);
    await admin.end();
  }
  const figures: Figure[] = [];
  for (const s of scenarios) {
    const mine = by.get(`ticket ${s.name}`);
    if (!mine) continue;
    for (const base of ['before', 'old'] as const) {
      const other = by.get(`${base} ${s.name}`);
      if (!other) continue;
      const vs = base === 'before' ? 'before_tickets' : 'old_policy';
      for (const p of [50, 95]) {
        figures.push({
          name: `gateway_${s.name}_c1_p${p}_ticket_vs_${vs}`,
          value: Number(percentile(mine.samples, p).toFixed(3)),
          unit: 'ms',
          baseline: Number(percentile(other.samples, p).toFixed(3)),
        });
      }
      figures.push({
        name: `gateway_${s.name}_c1_cpu_ticket_vs_${vs}`,
        value: Math.round((mine.cpuMs * 1000) / mine.n),
        unit: 'us',
        baseline: Math.round((other.cpuMs * 1000) / other.n),
      });
    }
  }
  return figures;
}
