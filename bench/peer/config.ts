/**
 * The peer benchmark's settings: the only place in bench/peer that reads the
 * environment (src/ reads it only in src/config.ts). Every knob has a default
 * sized so that `npm run bench:peer` finishes in about ten minutes on a
 * two-core machine.
 */

/** Settings of one `npm run bench:peer` run. */
export interface PeerConfig {
  /** Outputs in total, spread evenly over the tenants (PEER_OUTPUTS, default 1,000,000). */
  readonly outputs: number;
  /** Tenants (PEER_TENANTS, default 10). */
  readonly tenants: number;
  /** How data is loaded: `store` (PostgresStore.putBatch, the default) or `copy` (COPY as the server admin) (PEER_LOAD). */
  readonly load: 'copy' | 'store';
  /** Seconds per timed run (PEER_DURATION_S, default 5). */
  readonly durationS: number;
  /** Seconds of warm-up per server and query before timing (PEER_WARMUP_S, default 2). */
  readonly warmupS: number;
  /** Connection counts (PEER_CONNECTIONS, comma separated, default 1,32). */
  readonly connections: readonly number[];
  /** Timed runs per server, alternating A B A B (PEER_ROUNDS, default 2). */
  readonly rounds: number;
  /** Queries to run (PEER_QUERIES, comma separated names; default all). */
  readonly queries?: readonly string[];
  /** Pool size of each server (PEER_POOL, default 10 for both). */
  readonly pool: number;
  /** Reuse a database left by an earlier run with PEER_KEEP_DB=1 (PEER_REUSE_DB=<name>). */
  readonly reuseDb?: string;
  /** Keep the database after the run (PEER_KEEP_DB=1) for PEER_REUSE_DB. */
  readonly keepDb: boolean;
  /** Extra node flags for our gateway process, e.g. `--cpu-prof` (PEER_OURS_NODE_FLAGS). */
  readonly oursNodeFlags: readonly string[];
  /**
   * Node flags for BOTH servers (PEER_NODE_FLAGS; default `--max-semi-space-size=32`,
   * the young-generation size our README recommends for production; `none` for none).
   */
  readonly nodeFlags: readonly string[];
  /** Skip PostGraphile (profiling runs of ours only) (PEER_SKIP_THEIRS=1). */
  readonly skipTheirs: boolean;
  /**
   * Our rollup result cache (PEER_ROLLUP_CACHE): `both` (default: ours with it, as deployed,
   * and a second gateway with HUB_ROLLUP_CACHE_MB=0, timed in the same alternation), `on`, `off`.
   */
  readonly rollupCache: 'both' | 'on' | 'off';
}

const int = (env: NodeJS.ProcessEnv, name: string, dflt: number, min = 1): number => {
  const raw = env[name];
  if (raw === undefined || raw === '') return dflt;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new Error(`${name} must be an integer >= ${min}, got ${raw}`);
  return n;
};

const list = (raw: string | undefined): string[] | undefined =>
  raw === undefined || raw.trim() === ''
    ? undefined
    : raw
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== '');

function rollupCacheSetting(raw: string | undefined): PeerConfig['rollupCache'] {
  const v = raw === undefined || raw === '' ? 'both' : raw;
  if (v !== 'both' && v !== 'on' && v !== 'off')
    throw new Error(`PEER_ROLLUP_CACHE must be both, on or off, got ${v}`);
  return v;
}

/** Reads the settings (default: from `process.env`). */
export function readPeerConfig(env: NodeJS.ProcessEnv = process.env): PeerConfig {
  const load = env.PEER_LOAD ?? 'store';
  if (load !== 'copy' && load !== 'store') throw new Error(`PEER_LOAD must be copy or store, got ${load}`);
  const connections = (list(env.PEER_CONNECTIONS) ?? ['1', '32']).map(Number);
  if (connections.some((c) => !Number.isInteger(c) || c < 1))
    throw new Error('PEER_CONNECTIONS must be positive integers');
  const queries = list(env.PEER_QUERIES);
  return {
    outputs: int(env, 'PEER_OUTPUTS', 1_000_000),
    tenants: int(env, 'PEER_TENANTS', 10),
    load,
    durationS: int(env, 'PEER_DURATION_S', 5),
    warmupS: int(env, 'PEER_WARMUP_S', 2, 0),
    connections,
    rounds: int(env, 'PEER_ROUNDS', 2),
    ...(queries ? { queries } : {}),
    pool: int(env, 'PEER_POOL', 10),
    ...(env.PEER_REUSE_DB ? { reuseDb: env.PEER_REUSE_DB } : {}),
    keepDb: env.PEER_KEEP_DB === '1',
    oursNodeFlags: list(env.PEER_OURS_NODE_FLAGS?.replace(/\s+/g, ',')) ?? [],
    nodeFlags:
      env.PEER_NODE_FLAGS === 'none'
        ? []
        : (list(env.PEER_NODE_FLAGS?.replace(/\s+/g, ',')) ?? ['--max-semi-space-size=32']),
    skipTheirs: env.PEER_SKIP_THEIRS === '1',
    rollupCache: rollupCacheSetting(env.PEER_ROLLUP_CACHE),
  };
}
