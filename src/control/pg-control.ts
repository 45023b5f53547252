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

/**
 * A change in one statement: the move's expected phase checked under a row
 * lock (`go` false: nothing written), the tenant written with the next
 * version and announced (NOTIFY, sent at commit), the move written.
 * Parameters: tenant, check?, expected phase, tenant config (null: no tenant
 * change), state, then the move's fields (source null: no move change).
 */
const COMMIT_SQL = `
WITH cur AS (
  SELECT phase FROM hub_control.moves WHERE tenant = $1 FOR UPDATE
), ok AS (
  SELECT (NOT $2::boolean) OR (SELECT phase FROM cur) IS NOT DISTINCT FROM $3::text AS go
), t AS (
  INSERT INTO hub_control.tenants (id, config, state, version)
  SELECT $1, $4::jsonb, $5::text, nextval('hub_control.version_seq') FROM ok WHERE go AND $4::jsonb IS NOT NULL
  ON CONFLICT (id) DO UPDATE SET config = EXCLUDED.config, state = EXCLUDED.state, version = EXCLUDED.version
  RETURNING version
), n AS (
  SELECT pg_notify('${CHANNEL}', version::text) FROM t
), m AS (
  INSERT INTO hub_control.moves (tenant, source, target, mode, phase, step, primary_is, checkpoints, error, created_at, updated_at)
  SELECT $1, $6::text, $7::text, $8::text, $9::text, $10::text, $11::text, $12::jsonb, $13::text, $14::timestamptz, clock_timestamp()
  FROM ok WHERE go AND $6::text IS NOT NULL
  ON CONFLICT (tenant) DO UPDATE SET source = EXCLUDED.source, target = EXCLUDED.target, mode = EXCLUDED.mode,
    phase = EXCLUDED.phase, step = EXCLUDED.step, primary_is = EXCLUDED.primary_is,
    checkpoints = EXCLUDED.checkpoints, error = EXCLUDED.error, created_at = EXCLUDED.created_at,
    updated_at = clock_timestamp()
  RETURNING 1
)
SELECT (SELECT go FROM ok) AS go, (SELECT phase FROM cur) AS phase, (SELECT version FROM t) AS version,
       (SELECT count(*) FROM n) AS notified, (SELECT count(*) FROM m) AS moved`;

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
    const tenantId = change.tenant?.id ?? change.move?.tenant;
    if (!tenantId) return 0;
    const t = change.tenant;
    const m = change.move;
    const config = t
      ? JSON.stringify({
          primary: t.primary,
          ...(t.analytics ? { analytics: t.analytics } : {}),
          ...(t.fenced ? { fenced: true } : {}),
          ...(t.replica ? { replica: t.replica } : {}),
        })
      : null;
    let row: Row;
    try {
      // One statement, so one round trip: a switch commits twice while the tenant's writes are held.
      const r = await this.pool.query(COMMIT_SQL, [
        tenantId,
        change.expectMovePhase !== undefined,
        change.expectMovePhase ?? null,
        config,
        t?.state ?? null,
        m?.source ?? null,
        m?.target ?? null,
        m?.mode ?? null,
        m?.phase ?? null,
        m?.step ?? null,
        m?.primaryIs ?? null,
        m ? JSON.stringify(m.checkpoints) : null,
        m?.error ?? null,
        m?.createdAt ?? null,
      ]);
      row = r.rows[0] as Row;
    } catch (err) {
      throw wrap(err, 'writing a change');
    }
    if (row.go !== true)
      throw new HubError(
        'CONFLICT',
        `the move of tenant ${tenantId} is ${(row.phase as string | null) ?? 'absent'}, expected ${change.expectMovePhase ?? 'none'}`,
      );
    return row.version === null || row.version === undefined ? 0 : Number(row.version);
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
         SELECT pg_notify('${ACK_CHANNEL}', json_build_object('id', $1::text, 'version', $2::bigint)::text) FROM up
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

  listen(onChange: (version?: number) => void): Promise<() => Promise<void>> {
    return this.listenOn(CHANNEL, (payload) => {
      const version = Number(payload);
      onChange(Number.isSafeInteger(version) && version > 0 ? version : undefined);
    });
  }

  listenAcks(onAck: (ack?: { id: string; version: number }) => void): Promise<() => Promise<void>> {
    return this.listenOn(ACK_CHANNEL, (payload) => {
      try {
        const ack = JSON.parse(payload ?? '') as { id?: unknown; version?: unknown };
        if (typeof ack.id === 'string' && typeof ack.version === 'number')
          return onAck({ id: ack.id, version: ack.version });
      } catch {
        // Not ours to parse: the listener re-reads the replicas.
      }
      onAck();
    });
  }

  private async listenOn(
    channel: string,
    onChange: (payload: string | undefined) => void,
  ): Promise<() => Promise<void>> {
    const client = new Client({ connectionString: this.url, connectionTimeoutMillis: 10_000 });
    // A lost LISTEN connection only delays changes until the next poll (the backstop).
    client.on('error', () => undefined);
    client.on('notification', (n) => onChange(n.payload));
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
