/**
 * Starts the two servers under test, each in its own Node process, and stops
 * them: our gateway (`node bin/hub.cjs serve`) and PostGraphile v5
 * (postgraphile-server.mjs with the Promise.withResolvers polyfill).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configuredTicketKey } from '../../src/stores/postgres/tenant-tickets';

const ROOT = join(__dirname, '..', '..');

/** A server process and the URL of its /graphql endpoint. */
export interface RunningServer {
  readonly name: string;
  readonly url: string;
  readonly child: ChildProcess;
  /** Stops the process (SIGTERM, then SIGKILL after 10 s); resolves when it has exited. */
  stop(): Promise<void>;
}

function start(
  name: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  ready: RegExp,
  log: (line: string) => void,
): Promise<RunningServer> {
  const child = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      void stop();
      reject(new Error(`${name} did not start within 120 s:\n${out.slice(-4000)}`));
    }, 120_000);
    const onData = (chunk: Buffer): void => {
      const text = chunk.toString('utf8');
      out += text;
      const m = ready.exec(out);
      if (m) {
        clearTimeout(timer);
        child.stdout?.off('data', onData);
        log(`${name} ready at ${m[1]} (pid ${child.pid})`);
        resolve({ name, url: m[1] as string, child, stop });
      }
    };
    child.stdout?.on('data', onData);
    // Keep draining both pipes so a chatty process never blocks on a full pipe.
    child.stderr?.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8');
      if (out.length > 100_000) out = out.slice(-20_000);
    });
    child.stdout?.on('data', () => {
      if (out.length > 100_000) out = out.slice(-20_000);
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited (${code ?? signal}) before it was ready:\n${out.slice(-4000)}`));
    });
  });
}

/**
 * Our gateway: `hub serve` over HUB_PG_URL (the app role) with a fixed HS256 secret.
 * The tenants file gives the one tenant the whole gateway (no fair-share caps):
 * PostGraphile has none, and bench:abuse measures the shares.
 */
export function startOurs(options: {
  readonly pgUrl: string;
  readonly secret: string;
  readonly nodeFlags: readonly string[];
  readonly log: (line: string) => void;
  /** False: the rollup result cache off (HUB_ROLLUP_CACHE_MB=0); the server is then named `ours-nocache`. */
  readonly rollupCache?: boolean;
}): Promise<RunningServer> {
  const cache = options.rollupCache !== false;
  return start(
    cache ? 'ours' : 'ours-nocache',
    [...options.nodeFlags, 'bin/hub.cjs', 'serve', '--port', '0'],
    {
      ...process.env,
      HUB_PG_URL: options.pgUrl,
      HUB_AUTH_JWT_SECRET: options.secret,
      HUB_CURSOR_SECRET: 'peer-bench-cursor-secret',
      // No access line per request: PostGraphile writes none either.
      HUB_LOG_LEVEL: 'warn',
      HUB_CONFIG: wholeGatewayConfig(options.pgUrl),
      NODE_ENV: 'production',
      ...(cache ? {} : { HUB_ROLLUP_CACHE_MB: '0' }),
    },
    /Hub gateway on (http:\/\/[^\s]+\/graphql)/,
    options.log,
  );
}

/** PostGraphile v5 with pgSettings from the same JWT claim, as the same app role. */
export function startTheirs(options: {
  readonly connectionString: string;
  readonly pool: number;
  readonly secret: string;
  readonly nodeFlags: readonly string[];
  readonly log: (line: string) => void;
}): Promise<RunningServer> {
  const settings = {
    connectionString: options.connectionString,
    pool: options.pool,
    port: 0,
    secret: options.secret,
    tenantClaim: 'tenant_id',
    // The key our gateway signs tenant tickets with: the policies admit a
    // tenant only with a ticket, so PostGraphile presents one too.
    ticketKey: configuredTicketKey().toString('hex'),
  };
  return start(
    'postgraphile',
    [
      ...options.nodeFlags,
      '--import',
      './bench/peer/polyfill.mjs',
      'bench/peer/postgraphile-server.mjs',
      JSON.stringify(settings),
    ],
    { ...process.env, NODE_ENV: 'production', GRAPHILE_ENV: 'production' },
    /READY (http:\/\/[^\s]+\/graphql)/,
    options.log,
  );
}

/** A tenants file serving every tenant from `pgUrl` with limits high enough never to apply. */
function wholeGatewayConfig(pgUrl: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'peer-bench-')), 'tenants.json');
  const limits = { maxInFlight: 100_000, maxStoreCalls: 100_000, costPerSecond: 1e12, burst: 1e12 };
  writeFileSync(file, JSON.stringify({ shared: { primary: pgUrl, limits } }));
  return file;
}
