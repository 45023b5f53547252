import { readConfig } from '../config';
import type { Command } from './command';
import { UsageError } from './command';

export const command: Command = {
  path: ['serve'],
  summary: 'run the GraphQL gateway (GraphiQL, health, metrics, ingest)',
  help: `Usage: hub serve [--port <n>] [--host <addr>] [--store <uri>] [--dev] [--no-seed] [--tenant <id>] [--create]

Serves /graphql, /graphiql, /healthz, /readyz, /metrics and /ingest/<recordType>.
Store: --store, else the router over HUB_CONFIG / HUB_PG_URL, else PGlite in
HUB_DATA_DIR (./.hub-data), else memory (with a note). Stops gracefully on
SIGINT/SIGTERM (in-flight requests finish).

Development mode (--dev, used by npm start): without HUB_AUTH_JWT_SECRET a random
secret is created once in HUB_DATA_DIR; a demo tenant is seeded on first start;
the banner prints a 12-hour token that GraphiQL also opens with.

Rollup cache: cost per skill and the skills picker (without a team) are kept
and served again while the store confirms, per request, that their data is
unchanged (exact; stores without data versions are not cached).
HUB_ROLLUP_CACHE_MB (default 64; 0 turns it off) bounds it in all,
HUB_ROLLUP_CACHE_TENANT_MB (default 8) per tenant.

Options:
  --port <n>       port (default PORT, else 4000)
  --host <addr>    listen address (default 127.0.0.1; 0.0.0.0 in containers)
  --store <uri>    one store for every tenant (memory:, pglite:<dir>, postgres://...)
  --dev            development mode (see above)
  --no-seed        do not seed the demo tenant in development mode
  --tenant <id>    demo tenant (default demo)
  --create         create the --store folder if it does not exist (PGlite; the
                   default HUB_DATA_DIR is always created)

Examples:
  npm start
  HUB_AUTH_JWT_SECRET=... hub serve --host 0.0.0.0 --port 8080`,
  options: {
    port: { type: 'string' },
    host: { type: 'string' },
    store: { type: 'string' },
    dev: { type: 'boolean' },
    'no-seed': { type: 'boolean' },
    tenant: { type: 'string' },
    create: { type: 'boolean' },
  },
  async run({ values }, io) {
    const config = readConfig();
    const port = values.port === undefined ? config.port : Number(values.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError('--port must be 0-65535');
    const { serve } = require('../app/serve') as typeof import('../app/serve');
    const { createLogger } = require('../platform/log') as typeof import('../platform/log');
    const served = await serve({
      config,
      ...(typeof values.store === 'string' ? { storeUri: values.store } : {}),
      createStore: values.create === true,
      port,
      host: typeof values.host === 'string' ? values.host : '127.0.0.1',
      dev: values.dev === true,
      seed: values['no-seed'] !== true,
      ...(typeof values.tenant === 'string' ? { demoTenant: values.tenant } : {}),
      log: createLogger(config.logLevel, (line) => process.stderr.write(`${line}\n`)),
      print: io.out,
    });
    await new Promise<void>((resolve) => {
      const stop = (signal: string) => {
        io.out(`${signal}: finishing in-flight requests...`);
        served.stop().then(resolve, (err: unknown) => {
          io.err(`shutdown error: ${err instanceof Error ? err.message : String(err)}`);
          resolve();
        });
      };
      process.once('SIGINT', () => stop('SIGINT'));
      process.once('SIGTERM', () => stop('SIGTERM'));
    });
    return 0;
  },
};
