/**
 * Provenance throughput: hashing (seal) and verifying typical records, with
 * per-record p50/p95 latency. Baseline: Node's SHA-256 over the same bytes
 * with no canonicalisation (the floor any implementation pays).
 *
 *   npm run bench            (or: node bin/run-ts.cjs bench/provenance.bench.ts)
 */
import { createHash } from 'node:crypto';
import type { HubRecord } from '../src/hub/model';
import { computeProvenanceHash, provenanceCanonicalJson, verifyRecord } from '../src/hub/provenance';
import { parseTenantId } from '../src/hub/tenant';
import { sealBatch } from '../src/hub/validate';
import { generateDataset } from '../src/seed/generator';
import { type Figure, percentile, report } from './report';

const tenant = parseTenantId('bench');
const data = generateDataset({ seed: 1, days: 60, outputsPerDay: 60, artifacts: false });
const inputs = [...data.outputs, ...data.decisions, ...data.telemetry_events, ...data.governance_events];
const records: HubRecord[] = [
  ...sealBatch(tenant, 'outputs', data.outputs),
  ...sealBatch(tenant, 'decisions', data.decisions),
  ...sealBatch(tenant, 'telemetry_events', data.telemetry_events),
  ...sealBatch(tenant, 'governance_events', data.governance_events),
];
const canonical = records.map((r) => provenanceCanonicalJson(r as unknown as Record<string, unknown>));
const avgBytes = canonical.reduce((s, c) => s + Buffer.byteLength(c), 0) / canonical.length;

/** Times `fn` once per item with hrtime; returns per-item ns samples and the wall-clock rate. */
function timeEach<T>(
  items: readonly T[],
  fn: (item: T) => unknown,
  rounds: number,
): { samples: number[]; perSec: number } {
  const samples: number[] = [];
  let sink = 0;
  const t0 = process.hrtime.bigint();
  for (let r = 0; r < rounds; r++) {
    for (const item of items) {
      const s = process.hrtime.bigint();
      sink ^= fn(item) ? 1 : 0;
      samples.push(Number(process.hrtime.bigint() - s));
    }
  }
  const total = Number(process.hrtime.bigint() - t0);
  if (sink === 2) console.log(''); // keeps results alive
  return { samples, perSec: (items.length * rounds * 1e9) / total };
}

// Warm-up so the JIT has compiled the hot paths before measuring.
timeEach(records.slice(0, 2000), (r) => verifyRecord(r).verified, 3);

const rounds = 3;
const verify = timeEach(records, (r) => verifyRecord(r).verified, rounds);
const hash = timeEach(records, (r) => computeProvenanceHash(r as unknown as Record<string, unknown>), rounds);
const floor = timeEach(canonical, (c) => createHash('sha256').update(c).digest('hex'), rounds);
const sealStart = process.hrtime.bigint();
sealBatch(tenant, 'outputs', data.outputs);
const sealPerSec = (data.outputs.length * 1e9) / Number(process.hrtime.bigint() - sealStart);

const us = (ns: number): number => ns / 1000;
const figures: Figure[] = [
  {
    name: 'provenance_verify_p50',
    value: us(percentile(verify.samples, 50)),
    unit: 'us',
    baseline: us(percentile(floor.samples, 50)),
  },
  {
    name: 'provenance_verify_p95',
    value: us(percentile(verify.samples, 95)),
    unit: 'us',
    baseline: us(percentile(floor.samples, 95)),
  },
  {
    name: 'provenance_verify_throughput',
    value: Math.round(verify.perSec),
    unit: 'records/s',
    baseline: Math.round(floor.perSec),
  },
  {
    name: 'provenance_hash_p50',
    value: us(percentile(hash.samples, 50)),
    unit: 'us',
    baseline: us(percentile(floor.samples, 50)),
  },
  {
    name: 'provenance_hash_p95',
    value: us(percentile(hash.samples, 95)),
    unit: 'us',
    baseline: us(percentile(floor.samples, 95)),
  },
  {
    name: 'provenance_hash_throughput',
    value: Math.round(hash.perSec),
    unit: 'records/s',
    baseline: Math.round(floor.perSec),
  },
  { name: 'seal_outputs_throughput', value: Math.round(sealPerSec), unit: 'records/s' },
];
report(
  `Provenance hub-sha256-jcs-v1 on ${records.length} generated records (${inputs.length} inputs, avg ${avgBytes.toFixed(0)} B canonical), ${rounds} rounds. Baseline: SHA-256 of the pre-built canonical bytes only.`,
  figures,
);
