/**
 * A gateway as `npm start` runs it (the embedded store in a fresh folder,
 * following that folder's control file), beside a fresh PostgreSQL database
 * to move its tenants to: the setting of the `/admin/move` tests.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Served, serve } from '../../src/app/serve';
import { readConfig } from '../../src/config';
import type { RecordResult } from '../../src/hub/hub';
import type { TenantId } from '../../src/hub/tenant';
import { openStore } from '../../src/stores';
import { silentLogger } from '../../src/platform/log';
import { createTestDatabase, type PgTestDatabase } from '../support/pg-harness';

export interface EmbeddedGateway {
  readonly served: Served;
  readonly pg: PgTestDatabase;
  /**
   * The database's application URI with a password the server does not check
   * (trust), so answers can be checked for redaction.
   */
  readonly target: string;
  /** Stops the gateway, drops the database and removes the folder. */
  stop(): Promise<void>;
}

/** Starts the gateway (tokens signed with `secret`) and creates the database. */
export async function startEmbeddedGateway(secret: string): Promise<EmbeddedGateway> {
  const dir = await mkdtemp(join(tmpdir(), 'hub-admin-move-'));
  const pg = await createTestDatabase();
  const served = await serve({
    config: readConfig({ PORT: '0', HUB_DATA_DIR: dir, HUB_AUTH_JWT_SECRET: secret }),
    port: 0,
    host: '127.0.0.1',
    dev: false,
    seed: false,
    log: silentLogger,
    print: () => undefined,
  });
  return {
    served,
    pg,
    target: pg.appUri.replace(`//${pg.appRole}@`, `//${pg.appRole}:s3cret@`),
    stop: async () => {
      await served.stop();
      await pg.drop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * Writes the records a move test starts from: 300 telemetry events for
 * `moved` and one for `other`, through the gateway's hub.
 * @returns The acknowledgements of `moved`'s events.
 */
export async function seedBeforeMove(
  gateway: EmbeddedGateway,
  moved: TenantId,
  other: TenantId,
): Promise<RecordResult[]> {
  const hub = gateway.served.gateway.hub;
  const before = await hub.record(
    moved,
    'telemetry_events',
    Array.from({ length: 300 }, (_, i) => ({ name: `before-${i}` })),
  );
  await hub.record(other, 'telemetry_events', [{ name: 'beta' }]);
  return before;
}

/**
 * Asserts the end of a move of `moved` off the embedded store: every one of
 * its acknowledged telemetry events (`ids`) is in the PostgreSQL database,
 * and `other`, never moved, has nothing there and still reads its
 * `otherCount` events from the gateway.
 */
export async function expectMovedToPostgres(
  gateway: EmbeddedGateway,
  moved: TenantId,
  ids: readonly string[],
  other: TenantId,
  otherCount: number,
): Promise<void> {
  const pgStore = await openStore(gateway.pg.appUri);
  try {
    const found = await pgStore.getByIds(moved, 'telemetry_events', ids);
    expect(found.filter((r) => r !== null)).toHaveLength(ids.length);
    expect(await pgStore.scan(other, { type: 'telemetry_events', limit: 5 })).toEqual([]);
  } finally {
    await pgStore.close();
  }
  const page = await gateway.served.gateway.hub.list(
    other,
    'telemetry_events',
    {},
    { first: otherCount + 1 },
  );
  expect(page.records).toHaveLength(otherCount);
}
