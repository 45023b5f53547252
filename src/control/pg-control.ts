/**
 * The control plane in PostgreSQL (`HUB_CONTROL_URL`, by default the
 * HUB_PG_URL database): schema `hub_control` with `tenants`, `moves` and
 * `replicas`, created on first open. Every tenant change takes the next value
 * of one sequence as its version and sends `NOTIFY hub_control` in the same
 * transaction, so a replica listening sees it as soon as it commits.
 */
import { Client, Pool, type PoolClient } from 'pg';
import { HubError } from '../hub/errors';
import type { TenantId } from '../hub/tenant';
import type { CopyCheckpoints } from '../migrate/copy';
import { redactUri } from '../stores/driver';
import type {
  ControlPlane,
  ControlSnapshot,
  MovePhase,
  MoveRecord,
  ReplicaAck,
  TenantEntry,
  TenantState,
} from './control-plane';

const CHANNEL = 'hub_control';
/** Replicas' acknowledgements (a separate channel: replicas do not wake on each other's heartbeats). */
const ACK_CHANNEL = 'hub_control_ack';

const SCHEMA = `
CREATE SCHEMA IF NOT EXISTS hub_control;
CREATE SEQUENCE IF NOT EXISTS hub_control.version_seq;
CREATE TABLE IF NOT EXISTS hub_control.tenants (
  id text PRIMARY KEY,
  config jsonb NOT NULL,
  state text NOT NULL CHECK (state IN ('active', 'read-only', 'moving')),
  version bigint NOT NULL
);
CREATE TABLE IF NOT EXISTS hub_control.moves (
  tenant text PRIMARY KEY,
  source text NOT NULL,
  target text NOT NULL,
  mode text NOT NULL,
  phase text NOT NULL,
  step text,
  primary_is text NOT NULL,
  checkpoints jsonb NOT NULL DEFAULT '{}',
  error text,
  created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  updated_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE TABLE IF NOT EXISTS hub_control.replicas (
  id text PRIMARY KEY,
  version bigint NOT NULL,
  seen_at timestamptz NOT NULL DEFAULT clock_timestamp()
);`;

type Row = Record<string, unknown>;

function wrap(err: unknown, what: string): HubError {
  if (err instanceof HubError) return err;
  return new HubError('UNAVAILABLE', `control plane: ${what} failed: ${(err as Error).message}`, {
    cause: err,
  });
}

function tenantFrom(row: Row): TenantEntry {
  const config = row.config as { primary: string; analytics?: string; fenced?: boolean; replica?: string };
  return {
    id: row.id as TenantId,
    primary: config.primary,
    ...(config.analytics ? { analytics: config.analytics } : {}),
    state: row.state as TenantState,
    ...(config.fenced ? { fenced: true } : {}),
    ...(config.replica ? { replica: config.replica } : {}),
    version: Number(row.version),
  };
}

function moveFrom(row: Row): MoveRecord {
  return {
    tenant: row.tenant as TenantId,
    source: String(row.source),
    target: String(row.target),
    mode: row.mode as MoveRecord['mode'],
    phase: row.phase as MovePhase,
    ...(row.step ? { step: String(row.step) } : {}),
    primaryIs: row.primary_is as MoveRecord['primaryIs'],
    checkpoints: (row.checkpoints ?? {}) as CopyCheckpoints,
    createdAt: new Date(row.created_at as string).toISOString(),
    updatedAt: new Date(row.updated_at as string).toISOString(),
    ...(row.error ? { error: String(row.error) } : {}),
  };
}

/** How long a move command waits for the tenant's move lock before refusing. */
const MOVE_LOCK_WAIT_MS = 10_000;

/** See the module comment. Open with {@link PgControlPlane.open}. */
export class PgControlPlane implements ControlPlane {
  readonly label: string;

  private constructor(
    private readonly url: string,
    private readonly pool: Pool,
  ) {
    this.label = redactUri(url);
  }

  /** Connects and creates the schema if needed (serialised by an advisory lock). */
  static async open(url: string): Promise<PgControlPlane> {
    const pool = new Pool({ connectionString: url, max: 4, connectionTimeoutMillis: 10_000 });
    pool.on('error', () => undefined);
    const plane = new PgControlPlane(url, pool);
    try {
      await plane.tx(async (c) => {
        await c.query("SELECT pg_advisory_xact_lock(hashtext('hub_control.schema'))");
        await c.query(SCHEMA);
      });
    } catch (err) {
      await pool.end().catch(() => undefined);
      throw wrap(err, `opening ${redactUri(url)}`);
    }
    return plane;
  }

  private async tx<T>(fn: (c: PoolClient) => Promise<T>): Promise<T> {
    const c = await this.pool.connect();
    try {
      await c.query('BEGIN');
      const out = await fn(c);
      await c.query('COMMIT');
      return out;
    } catch (err) {
      await c.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      c.release();
    }
  }

  async snapshot(): Promise<ControlSnapshot> {
    try {
      // One statement: the version and the rows are read from the same snapshot.
      const r = await this.pool.query(
        `SELECT (SELECT COALESCE(max(version), 0) FROM hub_control.tenants) AS v,
                COALESCE((SELECT json_agg(t ORDER BY t.id) FROM hub_control.tenants t), '[]') AS rows`,
      );
      const row = r.rows[0] as Row;
      return { version: Number(row.v), tenants: (row.rows as Row[]).map(tenantFrom) };
    } catch (err) {
      throw wrap(err, 'reading tenants');
    }
  }

  async getTenant(id: TenantId): Promise<TenantEntry | null> {
    try {
      const r = await this.pool.query('SELECT * FROM hub_control.tenants WHERE id = $1', [id]);
      return r.rows[0] ? tenantFrom(r.rows[0] as Row) : null;
    } catch (err) {
      throw wrap(err, 'reading a tenant');
    }
  }

  async getMove(tenant: TenantId): Promise<MoveRecord | null> {
    try {
      const r = await this.pool.query('SELECT * FROM hub_control.moves WHERE tenant = $1', [tenant]);
      return r.rows[0] ? moveFrom(r.rows[0] as Row) : null;
    } catch (err) {
      throw wrap(err, 'reading a move');
    }
  }

  async commit(change: {
    readonly tenant?: Omit<TenantEntry, 'version'>;
    readonly move?: MoveRecord;
    readonly expectMovePhase?: MovePhase | null;
  }): Promise<number> {
    try {
      return await this.tx(async (c) => {
        const tenantId = change.tenant?.id ?? change.move?.tenant;
        if (change.expectMovePhase !== undefined && tenantId) {
          const r = await c.query('SELECT phase FROM hub_control.moves WHERE tenant = $1 FOR UPDATE', [
            tenantId,
          ]);
          const phase = (r.rows[0] as Row | undefined)?.phase ?? null;
          if (phase !== change.expectMovePhase)
            throw new HubError(
              'CONFLICT',
              `the move of tenant ${tenantId} is ${phase ?? 'absent'}, expected ${change.expectMovePhase ?? 'none'}`,
            );
        }
        let version = 0;
        if (change.tenant) {
          const t = change.tenant;
          const config = {
            primary: t.primary,
            ...(t.analytics ? { analytics: t.analytics } : {}),
            ...(t.fenced ? { fenced: true } : {}),
            ...(t.replica ? { replica: t.replica } : {}),
          };
          const r = await c.query(
            `INSERT INTO hub_control.tenants (id, config, state, version)
             VALUES ($1, $2, $3, nextval('hub_control.version_seq'))
             ON CONFLICT (id) DO UPDATE SET config = EXCLUDED.config, state = EXCLUDED.state, version = EXCLUDED.version
             RETURNING version`,
            [t.id, JSON.stringify(config), t.state],
          );
          version = Number((r.rows[0] as Row).version);
          await c.query(`SELECT pg_notify('${CHANNEL}', $1)`, [String(version)]);
        }
        if (change.move) {
          const m = change.move;
          await c.query(
            `INSERT INTO hub_control.moves (tenant, source, target, mode, phase, step, primary_is, checkpoints, error, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, clock_timestamp())
             ON CONFLICT (tenant) DO UPDATE SET source = EXCLUDED.source, target = EXCLUDED.target, mode = EXCLUDED.mode,
               phase = EXCLUDED.phase, step = EXCLUDED.step, primary_is = EXCLUDED.primary_is,
               checkpoints = EXCLUDED.checkpoints, error = EXCLUDED.error, created_at = EXCLUDED.created_at,
               updated_at = clock_timestamp()`,
            [
              m.tenant,
              m.source,
              m.target,
              m.mode,
              m.phase,
              m.step ?? null,
              m.primaryIs,
              JSON.stringify(m.checkpoints),
              m.error ?? null,
              m.createdAt,
            ],
          );
        }
        return version;
      });
    } catch (err) {
      throw wrap(err, 'writing a change');
    }
  }

  async saveCheckpoints(tenant: TenantId, checkpoints: CopyCheckpoints): Promise<void> {
    try {
      await this.pool.query(
        'UPDATE hub_control.moves SET checkpoints = $2, updated_at = clock_timestamp() WHERE tenant = $1',
        [tenant, JSON.stringify(checkpoints)],
      );
    } catch (err) {
      throw wrap(err, 'saving a checkpoint');
    }
  }

  async ack(id: string, version: number): Promise<void> {
    try {
      // Only a new version is announced: heartbeats wake no one.
      await this.pool.query(
        `WITH prev AS (SELECT version FROM hub_control.replicas WHERE id = $1),
         up AS (
           INSERT INTO hub_control.replicas (id, version, seen_at) VALUES ($1, $2, clock_timestamp())
           ON CONFLICT (id) DO UPDATE SET version = EXCLUDED.version, seen_at = EXCLUDED.seen_at
           RETURNING 1
         )
         SELECT pg_notify('${ACK_CHANNEL}', $2::text) FROM up
         WHERE NOT EXISTS (SELECT 1 FROM prev WHERE version = $2::bigint)`,
        [id, version],
      );
    } catch (err) {
      throw wrap(err, 'acknowledging a version');
    }
  }

  async replicas(liveSeconds: number): Promise<ReplicaAck[]> {
    try {
      const r = await this.pool.query(
        `SELECT id, version, seen_at, EXTRACT(EPOCH FROM clock_timestamp() - seen_at) AS age
         FROM hub_control.replicas WHERE seen_at > clock_timestamp() - make_interval(secs => $1) ORDER BY id`,
        [liveSeconds],
      );
      return (r.rows as Row[]).map((row) => ({
        id: String(row.id),
        version: Number(row.version),
        seenAt: new Date(row.seen_at as string).toISOString(),
        ageSeconds: Number(row.age),
      }));
    } catch (err) {
      throw wrap(err, 'reading replicas');
    }
  }

  listen(onChange: () => void): Promise<() => Promise<void>> {
    return this.listenOn(CHANNEL, onChange);
  }

  listenAcks(onAck: () => void): Promise<() => Promise<void>> {
    return this.listenOn(ACK_CHANNEL, onAck);
  }

  private async listenOn(channel: string, onChange: () => void): Promise<() => Promise<void>> {
    const client = new Client({ connectionString: this.url, connectionTimeoutMillis: 10_000 });
    // A lost LISTEN connection only delays changes until the next poll (the backstop).
    client.on('error', () => undefined);
    client.on('notification', () => onChange());
    try {
      await client.connect();
      await client.query(`LISTEN ${channel}`);
    } catch (err) {
      await client.end().catch(() => undefined);
      throw wrap(err, 'LISTEN');
    }
    return async () => {
      await client.end().catch(() => undefined);
    };
  }

  async lockMove(tenant: TenantId): Promise<() => Promise<void>> {
    const client = new Client({ connectionString: this.url, connectionTimeoutMillis: 10_000 });
    client.on('error', () => undefined);
    try {
      await client.connect();
      // A command killed a moment ago still holds the lock until its backend
      // notices the closed connection: wait a little for that rather than
      // refusing the re-run an operator makes right after a crash.
      await client.query(`SET lock_timeout = '${MOVE_LOCK_WAIT_MS}ms'`);
      try {
        await client.query("SELECT pg_advisory_lock(hashtext('hub_control.move'), hashtext($1))", [tenant]);
      } catch (err) {
        if ((err as { code?: unknown }).code !== '55P03') throw err;
        throw new HubError('CONFLICT', `another 'hub move' command is running for tenant ${tenant}`);
      }
    } catch (err) {
      await client.end().catch(() => undefined);
      throw wrap(err, 'taking the move lock');
    }
    // The session holds the lock; ending it (or the process dying) releases it.
    return async () => {
      await client.end().catch(() => undefined);
    };
  }

  async close(): Promise<void> {
    await this.pool.end().catch(() => undefined);
  }
}
