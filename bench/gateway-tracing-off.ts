/**
 * bench:gateway's tracing-off part: what tracing off costs beside code
 * without tracing, from the tracer and span calls a by-id request makes and
 * the time of each on the no-op tracer.
 */
import { Agent } from 'node:http';
import { NOOP_SPAN, NOOP_TRACER, installTracer } from '../src/platform/tracing';
import { countingTracer } from '../test/support/counting-tracer';
import { createGateway } from '../src/http/server';
import { silentLogger } from '../src/platform/log';
import { openStore } from '../src/stores';
import { postGraphQL } from './closed-loop';
import { log } from './gateway-log';
import type { Figure } from './report';

/**
 * What tracing off costs beside code without tracing: the tracer and span
 * calls a by-id request makes (counted by a no-op tracer that counts), each
 * timed on {@link NOOP_TRACER}; baseline: the gateway's CPU time per by-id
 * request with tracing off (from `tracingCost`'s figures).
 */
export async function tracingOffCost(
  uri: string,
  secret: string,
  token: string,
  body: (i: number) => string,
  measured: readonly Figure[],
): Promise<Figure[]> {
  const { tracer: counting, counts } = countingTracer(false);
  const previous = installTracer(counting);
  const N = 2000;
  try {
    const store = await openStore(`${uri}?max=4`);
    const gateway = await createGateway({
      store,
      auth: { jwtSecret: secret },
      log: silentLogger,
      tenantLimits: { maxInFlight: 1024, maxStoreCalls: 1024, costPerSecond: 1e12, burst: 1e12 },
    });
    const target = new URL(await gateway.listen(0));
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    // A loaded machine can fail a request (a timeout): counted and left out, not fatal.
    let failed = 0;
    const once = (i: number) => postGraphQL(agent, target, token, body(i)).catch(() => void failed++);
    for (let i = 0; i < 100; i++) await once(i); // warm-up
    counts.clear();
    failed = 0;
    for (let i = 0; i < N; i++) await once(i);
    if (failed > 0)
      log(`tracing off: ${failed} of ${N} requests failed (counted calls are per request sent)`);
    agent.destroy();
    await gateway.close(1000);
    await store.close();
  } finally {
    installTracer(previous);
  }
  const perCall = timeNoopCalls();
  let calls = 0;
  let ns = 0;
  for (const [what, n] of counts) {
    calls += n / N;
    ns += (n / N) * (perCall.get(what) ?? perCall.get('max') ?? 0);
  }
  log(
    `tracing off, per by-id request: ${[...counts].map(([k, n]) => `${k} ${(n / N).toFixed(2)}`).join(', ')}; ` +
      `no-op call times (ns): ${[...perCall].map(([k, t]) => `${k} ${t.toFixed(1)}`).join(', ')}`,
  );
  const cpuOff = measured.find((f) => f.name === 'gateway_by_id_cpu_per_request_tracing_off')?.value;
  return [
    { name: 'tracing_off_calls_per_by_id_request', value: Number(calls.toFixed(2)), unit: 'calls' },
    {
      name: 'tracing_off_ns_per_by_id_request',
      value: Number(ns.toFixed(1)),
      unit: 'ns',
      ...(cpuOff !== undefined ? { baseline: cpuOff * 1000 } : {}),
    },
  ];
}

/** ns per call of each no-op tracer and span call (a million calls each); `max`: the slowest. */
function timeNoopCalls(): Map<string, number> {
  const t = NOOP_TRACER;
  const s = NOOP_SPAN;
  let keep = 0;
  const calls: [string, () => void][] = [
    ['startServerSpan', () => (keep += t.startServerSpan('x', {}).recording ? 1 : 0)],
    ['startRoot', () => (keep += t.startRoot('x', 'internal').recording ? 1 : 0)],
    ['span.child', () => (keep += s.child('x', 'internal').recording ? 1 : 0)],
    ['span.ids', () => (keep += s.ids() === undefined ? 1 : 0)],
    ['span.setName', () => s.setName('x')],
    ['span.setAttribute', () => s.setAttribute('k', 1)],
    ['span.setAttributes', () => s.setAttributes({ k: 1 })],
    ['span.addEvent', () => s.addEvent('x')],
    ['span.fail', () => s.fail('x')],
    ['span.end', () => s.end()],
  ];
  const out = new Map<string, number>();
  const M = 1_000_000;
  for (const [name, call] of calls) {
    for (let i = 0; i < 10_000; i++) call(); // optimised before it is timed
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < M; i++) call();
    out.set(name, Number(process.hrtime.bigint() - t0) / M);
  }
  out.set('max', Math.max(...out.values()));
  if (keep < 0) log('unreachable'); // keeps `keep` alive
  return out;
}
