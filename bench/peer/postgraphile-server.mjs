/* global process, console, TextEncoder */
// PostGraphile v5 over the benchmark database, in its own Node process:
//   node --import ./bench/peer/polyfill.mjs bench/peer/postgraphile-server.mjs '<settings JSON>'
// Settings come from the parent (bench/peer/config.ts is the only reader of the
// environment): { connectionString, pool, port, secret, tenantClaim }.
// Auth mirrors our gateway: an HS256 bearer token verified with jose, the
// tenant taken from the same claim and applied as pgSettings app.tenant_id, so
// PostGraphile runs every request in a transaction that sets it (RLS applies:
// it connects as the same non-owner application role).
import { Buffer } from 'node:buffer';
import { createHash, createHmac } from 'node:crypto';
import { createServer } from 'node:http';
import { jwtVerify } from 'jose';
import pg from 'pg';
import { postgraphile } from 'postgraphile';
import { makePgService } from 'postgraphile/adaptors/pg';
import { grafserv } from 'postgraphile/grafserv/node';
import { PostGraphileAmberPreset } from 'postgraphile/presets/amber';
import { PostGraphileConnectionFilterPreset } from 'postgraphile-plugin-connection-filter';

const settings = JSON.parse(process.argv[2] ?? '{}');
const key = new TextEncoder().encode(settings.secret);
const TENANT_RE = /^[a-z0-9][a-z0-9-]{0,62}$/;

// Tenant tickets as our store signs them (tenant-tickets.ts: v1.<kid>.<exp>.t.<tenant>.<hmac>,
// valid 300 s, reused for 60 s per tenant): the row-level security policies need one.
const ticketKey = Buffer.from(settings.ticketKey ?? '', 'hex');
const kid = createHash('sha256')
  .update(Buffer.concat([Buffer.from('hub-ticket-kid:'), ticketKey]))
  .digest('hex')
  .slice(0, 16);
const tickets = new Map();
function ticketFor(tenant) {
  const now = Math.floor(Date.now() / 1000);
  const hit = tickets.get(tenant);
  if (hit && now - hit.at < 60) return hit.ticket;
  const body = `v1.${kid}.${now + 300}.t.${tenant}`;
  const ticket = `${body}.${createHmac('sha256', ticketKey).update(body).digest('hex')}`;
  tickets.set(tenant, { at: now, ticket });
  return ticket;
}

const pool = new pg.Pool({ connectionString: settings.connectionString, max: settings.pool });
pool.on('error', () => undefined);

/** @type {GraphileConfig.Preset} */
const preset = {
  extends: [PostGraphileAmberPreset, PostGraphileConnectionFilterPreset],
  pgServices: [makePgService({ pool, schemas: ['hub'] })],
  grafserv: { graphqlPath: '/graphql', graphiql: false, watch: false },
  grafast: {
    explain: false,
    async context(requestContext) {
      const header = requestContext.node?.req?.headers?.authorization ?? '';
      const m = /^Bearer\s+([A-Za-z0-9._~+/=-]+)\s*$/i.exec(header);
      if (!m) throw new Error('missing bearer token');
      const { payload } = await jwtVerify(m[1], key, { algorithms: ['HS256'] });
      const tenant = payload[settings.tenantClaim];
      if (typeof tenant !== 'string' || !TENANT_RE.test(tenant)) throw new Error('token has no valid tenant');
      return { pgSettings: { 'app.tenant_id': tenant, 'app.tenant_ticket': ticketFor(tenant) } };
    },
  },
  schema: { pgForbidSetofFunctionsToReturnNull: true },
};

const pgl = postgraphile(preset);
const serv = pgl.createServ(grafserv);
const server = createServer();
server.keepAliveTimeout = 5000;
server.on('error', (err) => {
  console.error(err);
  process.exit(1);
});
await serv.addTo(server);
await pgl.getSchema();
server.listen(settings.port, '127.0.0.1', () => {
  const addr = server.address();
  console.log(`READY http://127.0.0.1:${addr.port}/graphql`);
});
const stop = () => {
  server.close();
  Promise.resolve(pgl.release()).finally(() => pool.end().finally(() => process.exit(0)));
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
