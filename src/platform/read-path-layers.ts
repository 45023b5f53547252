/**
 * The read path's batching layers (docs/read-path.md), each of which a
 * benchmark may turn off to measure what it gains: bench/read-path.bench.ts
 * starts gateways with `HUB_BENCH_READ_PATH_OFF` set to a comma-separated list
 * of layer names. Not an operator setting: nothing else sets it, and a layer
 * turned off changes how many calls, transactions and writes a request takes,
 * never its answer (the benchmark checks the answers are equal).
 */

/** The layers, top to bottom. */
export const READ_PATH_LAYERS = ['dataloader', 'lookahead', 'listbatcher', 'flush', 'cork'] as const;
export type ReadPathLayer = (typeof READ_PATH_LAYERS)[number];

/** The layers named in `value` (comma-separated); throws on a name that is not a layer. */
export function parseReadPathLayers(value: string | undefined): ReadonlySet<ReadPathLayer> {
  const names = (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  for (const n of names)
    if (!(READ_PATH_LAYERS as readonly string[]).includes(n))
      throw new Error(`HUB_BENCH_READ_PATH_OFF: unknown layer ${n} (one of ${READ_PATH_LAYERS.join(', ')})`);
  return new Set(names as ReadPathLayer[]);
}

// Read once: the layers consult it on every call, and the benchmark sets it before the process starts.
const off = parseReadPathLayers(process.env.HUB_BENCH_READ_PATH_OFF);

/** Whether `layer` was turned off for this process (by the read-path benchmark only). */
export function readPathLayerOff(layer: ReadPathLayer): boolean {
  return off.has(layer);
}
