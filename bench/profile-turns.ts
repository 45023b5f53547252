/**
 * Reads which code held the event loop in its longest turns: a V8 CPU profile
 * of the gateway (`bench:abuse --cpu-prof <dir>`) and the turns' times the
 * bench wrote beside it (`long-turns.json`, monotonic microseconds, the
 * profile's clock). For each turn, the samples inside it by function (self
 * time) and by the project's frames on their stacks (inclusive time).
 *
 *   node bin/run-ts.cjs bench/profile-turns.ts <dir> [turns=8]
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LongTurn } from './loop-turns';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { functionName: string; url: string; lineNumber: number };
  readonly children?: number[];
}
interface Profile {
  readonly nodes: ProfileNode[];
  readonly startTime: number;
  readonly samples: number[];
  readonly timeDeltas: number[];
}

const [dir, many] = process.argv.slice(2);
if (!dir) throw new Error('usage: profile-turns.ts <dir> [turns]');
const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
if (!file) throw new Error(`no .cpuprofile in ${dir}`);
const profile = JSON.parse(readFileSync(join(dir, file), 'utf8')) as Profile;
const turns = JSON.parse(readFileSync(join(dir, 'long-turns.json'), 'utf8')) as LongTurn[];

const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const parentOf = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parentOf.set(c, n.id);
const label = (n: ProfileNode): string => {
  const { functionName, url, lineNumber } = n.callFrame;
  const where = url.replace(/^file:\/\/.*?\/(src|bench|node_modules)\//, '$1/');
  return `${functionName || '(anonymous)'} ${where}:${lineNumber + 1}`;
};
// Sample i was taken at `at[i]` and stands for the time until the next one.
const at: number[] = [];
let t = profile.startTime;
for (const d of profile.timeDeltas) at.push((t += d));

const top = (m: Map<string, number>, k: number): [string, number][] =>
  [...m].sort((a, b) => b[1] - a[1]).slice(0, k);
for (const turn of turns.slice(0, Number(many ?? 8))) {
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const when = at[i] as number;
    if (when < turn.startUs || when >= turn.endUs) continue;
    const ms = ((at[i + 1] ?? when) - when) / 1000;
    const leaf = byId.get(profile.samples[i] as number) as ProfileNode;
    if (leaf.callFrame.functionName === '(idle)') continue;
    self.set(label(leaf), (self.get(label(leaf)) ?? 0) + ms);
    const seen = new Set<string>();
    for (let id: number | undefined = leaf.id; id !== undefined; id = parentOf.get(id)) {
      const name = label(byId.get(id) as ProfileNode);
      if (seen.has(name) || !/^\S+ (src|node_modules)\//.test(name)) continue;
      seen.add(name);
      inclusive.set(name, (inclusive.get(name) ?? 0) + ms);
    }
  }
  const wall = (turn.endUs - turn.startUs) / 1000;
  console.log(
    `\n== turn: ${turn.cpuMs.toFixed(1)} ms CPU, ${wall.toFixed(1)} ms wall, ${turn.waitMs.toFixed(1)} ms waiting for a core`,
  );
  console.log('  self:');
  for (const [k, v] of top(self, 8)) console.log(`  ${v.toFixed(1).padStart(7)}  ${k}`);
  console.log('  on the stack (src/, node_modules/):');
  for (const [k, v] of top(inclusive, 12)) console.log(`  ${v.toFixed(1).padStart(7)}  ${k}`);
}
