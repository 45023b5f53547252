/**
 * bench:gateway's `--baseline-tree` part: this tree's gateway against another
 * checkout's, driven in rounds of alternating order.
 */
import type { fork } from 'node:child_process';
import { Agent } from 'node:http';
import { closedLoop as loop, postGraphQL } from './closed-loop';
import type { ReadBodies } from './gateway-data';
import { loadavg, log } from './gateway-log';
import { procCpuUs } from './gateway-processes';
import { type Figure, median } from './report';

/** One side of the comparison: a running gateway child and the request bodies for its data. */
export interface Side {
  readonly server: ReturnType<typeof fork>;
  readonly url: string;
  readonly bodies: ReadBodies;
}

/**
 * This tree's gateway against the baseline tree's: by id and list of 50 at 1
 * and 32 connections, in rounds whose order alternates; median req/s and
 * median gateway CPU per request of each, baseline the other tree's.
 */
export async function compareTrees(
  current: Side,
  baseline: Side,
  token: string,
  seconds: number,
  rounds: number,
): Promise<Figure[]> {
  const figures: Figure[] = [];
  const drive = async (side: Side, name: 'byId' | 'list', connections: number, secs: number) => {
    const agent = new Agent({ keepAlive: true, maxSockets: connections });
    const target = new URL(side.url);
    try {
      const cpu0 = procCpuUs(side.server);
      const run = await loop(connections, secs, (i) =>
        postGraphQL(agent, target, token, side.bodies[name](i)),
      );
      return { perSec: run.perSec, cpuUs: (procCpuUs(side.server) - cpu0) / run.samples.length };
    } finally {
      agent.destroy();
    }
  };
  for (const connections of [1, 32]) {
    for (const [name, label] of [
      ['byId', 'by_id'],
      ['list', 'list50'],
    ] as const) {
      const got = {
        current: { rps: [] as number[], cpu: [] as number[] },
        baseline: { rps: [] as number[], cpu: [] as number[] },
      };
      for (const side of [current, baseline]) await drive(side, name, connections, 1); // warm-up
      for (let round = 0; round < rounds; round++) {
        const order =
          round % 2 === 0 ? (['current', 'baseline'] as const) : (['baseline', 'current'] as const);
        for (const which of order) {
          const r = await drive(which === 'current' ? current : baseline, name, connections, seconds);
          got[which].rps.push(r.perSec);
          got[which].cpu.push(r.cpuUs);
        }
        log(
          `trees ${label} c${connections}, round ${round + 1} of ${rounds} (load ${loadavg()}): ` +
            `this ${Math.round(got.current.rps[round] ?? NaN)} req/s ${Math.round(got.current.cpu[round] ?? NaN)} µs CPU, ` +
            `baseline ${Math.round(got.baseline.rps[round] ?? NaN)} req/s ${Math.round(got.baseline.cpu[round] ?? NaN)} µs CPU`,
        );
      }
      figures.push(
        {
          name: `gateway_${label}_c${connections}_rps_vs_baseline_tree`,
          value: Math.round(median(got.current.rps)),
          unit: 'req/s',
          baseline: Math.round(median(got.baseline.rps)),
        },
        {
          name: `gateway_${label}_c${connections}_cpu_per_request_vs_baseline_tree`,
          value: Math.round(median(got.current.cpu)),
          unit: 'us',
          baseline: Math.round(median(got.baseline.cpu)),
        },
      );
    }
  }
  return figures;
}
