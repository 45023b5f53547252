/**
 * `hub db ticket-key`: installing a generated key drops the public
 * development key (a gateway still signing with it can no longer open the
 * store), rotation keeps the previous key accepted until
 * --retire-previous-key, and the key is printed once, never listed.
 */
import { randomUUID } from 'node:crypto';
import { main } from '../../src/cli';
import { isHubError } from '../../src/hub/errors';
import { parseTenantId } from '../../src/hub/tenant';
import { sealBatch } from '../../src/hub/validate';
import { openStore } from '../../src/stores';
import { type PgTestDatabase, createTestDatabase } from '../support/pg-harness';

const run = async (argv: string[]) => {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out: out.join('\n'), err: err.join('\n') };
};

const T = parseTenantId('keys');

/** Opens the store with `key` (undefined: the development key), or returns the open error. */
async function openWith(pg: PgTestDatabase, key: string | undefined): Promise<unknown> {
  const previous = process.env.HUB_PG_TICKET_KEY;
  try {
    if (key === undefined) delete process.env.HUB_PG_TICKET_KEY;
    else process.env.HUB_PG_TICKET_KEY = key;
    return await openStore(pg.appUri).catch((e: unknown) => e);
  } finally {
    if (previous === undefined) delete process.env.HUB_PG_TICKET_KEY;
    else process.env.HUB_PG_TICKET_KEY = previous;
  }
}

/** The store reads the tenant's one output (it was opened with an accepted key). */
async function readsOne(store: unknown): Promise<void> {
  const s = store as Awaited<ReturnType<typeof openStore>>;
  try {
    expect(await s.list(T, { type: 'outputs', filter: {}, limit: 10 })).toHaveLength(1);
  } finally {
    await s.close();
  }
}

describe('hub db ticket-key', () => {
  let pg: PgTestDatabase;

  beforeAll(async () => {
    pg = await createTestDatabase();
    const store = await openWith(pg, undefined);
    await (store as Awaited<ReturnType<typeof openStore>>).putBatch(
      T,
      sealBatch(T, 'outputs', [
        {
          record_id: randomUUID(),
          created_at: '2026-02-01T00:00:00.000Z',
          skill_id: 's',
          employee_id: 'e',
          status: 'SUCCEEDED',
          input_tokens: 1,
          output_tokens: 1,
          cost_usd: '0.01',
        },
      ]),
    );
    await (store as Awaited<ReturnType<typeof openStore>>).close();
  }, 60_000);

  afterAll(async () => {
    await pg?.drop();
  });

  test('install, rotate, retire', async () => {
    const owner = pg.ownerUri;
    const status = await run(['db', 'ticket-key', '--store', owner, '--status']);
    expect(status.code).toBe(0);
    expect(status.out).toMatch(/key [0-9a-f]{16}: current \(PUBLIC development key\)/);

    const first = await run(['db', 'ticket-key', '--store', owner]);
    expect(first.code).toBe(0);
    const key1 = /HUB_PG_TICKET_KEY=([0-9a-f]{64})/.exec(first.out)?.[1] as string;
    expect(key1).toBeDefined();
    // The development key is gone at once: a gateway still using it cannot open the store.
    expect(first.out).not.toMatch(/development/);
    const devErr = await openWith(pg, undefined);
    expect(isHubError(devErr, 'UNAVAILABLE')).toBe(true);
    expect((devErr as Error).message).toMatch(/does not accept this gateway's ticket key/);
    await readsOne(await openWith(pg, key1));

    // Rotation: the previous key stays accepted until retired.
    const second = await run(['db', 'ticket-key', '--store', owner]);
    const key2 = /HUB_PG_TICKET_KEY=([0-9a-f]{64})/.exec(second.out)?.[1] as string;
    expect(key2).not.toBe(key1);
    expect(second.out).toMatch(/: previous/);
    expect(second.out).toMatch(/retire-previous-key/);
    await readsOne(await openWith(pg, key1));
    await readsOne(await openWith(pg, key2));

    const retired = await run(['db', 'ticket-key', '--store', owner, '--retire-previous-key']);
    expect(retired.code).toBe(0);
    expect(retired.out).not.toMatch(/previous/);
    expect(retired.out).not.toMatch(/HUB_PG_TICKET_KEY/);
    expect(isHubError(await openWith(pg, key1), 'UNAVAILABLE')).toBe(true);
    await readsOne(await openWith(pg, key2));
    // Listing never shows a key.
    expect((await run(['db', 'ticket-key', '--store', owner, '--status'])).out).not.toContain(key2);
  }, 120_000);
});
