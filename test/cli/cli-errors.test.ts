/**
 * The CLI names what is wrong and what to run, where it printed bare
 * SQLSTATEs (issue 12, defect 8): a database that does not exist (3D000), an
 * application role that does not exist (22023), a login the server refuses
 * (28000), a server nobody answers on; `hub verify` of an unknown tenant
 * fails; `hub migrate` names every record the final comparison finds
 * different. Against the test PostgreSQL server, in throwaway databases.
 */
import { randomBytes } from 'node:crypto';
import { main } from '../../src/cli';
import { type PgTestDatabase, createTestDatabase, testServerUrl, withDatabase } from '../support/pg-harness';

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return {
    io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l) },
    out,
    err,
    text: () => [...out, ...err].join('\n'),
  };
}

async function hub(argv: string[]): Promise<{ code: number; out: string[]; text: string }> {
  const c = capture();
  const code = await main(argv, c.io);
  return { code, out: c.out, text: c.text() };
}

const suffix = randomBytes(4).toString('hex');

describe('hub CLI errors from PostgreSQL', () => {
  let pg: PgTestDatabase;

  beforeAll(async () => {
    pg = await createTestDatabase();
  }, 60_000);

  afterAll(async () => {
    await pg?.drop();
  });

  test('a database that does not exist: named, with what to run (3D000)', async () => {
    const uri = withDatabase(testServerUrl(), `hub_missing_${suffix}`);
    for (const argv of [
      ['verify', '--tenant', 'acme', '--store', uri],
      ['db', 'migrate', '--store', uri],
    ]) {
      const r = await hub(argv);
      expect(r.code).toBe(1);
      expect(r.text).toMatch(
        new RegExp(
          `UNAVAILABLE: .*database "hub_missing_${suffix}" does not exist on .*createdb .*hub db migrate`,
        ),
      );
    }
  });

  test('an application role that does not exist: named, with what to run (22023)', async () => {
    const url = new URL(pg.ownerUri);
    url.searchParams.set('app_role', `hub_norole_${suffix}`);
    const r = await hub(['verify', '--tenant', 'acme', '--store', url.toString()]);
    expect(r.code).toBe(1);
    expect(r.text).toMatch(
      new RegExp(`UNAVAILABLE: .*application role "hub_norole_${suffix}" does not exist .*'hub db migrate`),
    );
  });

  test('a login the server refuses, and a server nothing answers on', async () => {
    const refused = await hub([
      'verify',
      '--tenant',
      'acme',
      '--store',
      withDatabase(testServerUrl(), pg.database, `hub_nologin_${suffix}`),
    ]);
    expect(refused.code).toBe(1);
    expect(refused.text).toMatch(new RegExp(`UNAVAILABLE: .*refused the login "hub_nologin_${suffix}"`));
    const down = await hub(['verify', '--tenant', 'acme', '--store', 'postgres://postgres@127.0.0.1:1/test']);
    expect(down.code).toBe(1);
    expect(down.text).toMatch(/UNAVAILABLE: .*nothing accepts connections on 127\.0\.0\.1:1/);
  });

  test('hub verify of an unknown tenant fails and says so; a seeded one passes', async () => {
    const unknown = await hub(['verify', '--tenant', `nobody-${suffix}`, '--store', pg.appUri]);
    expect(unknown.code).toBe(1);
    expect(unknown.text).toMatch(new RegExp(`tenant nobody-${suffix} has no records in .*unknown tenant`));
    expect(unknown.text).not.toContain('password');
    const seeded = await hub([
      'seed',
      '--tenant',
      'known',
      '--store',
      pg.appUri,
      '--days',
      '1',
      '--per-day',
      '2',
    ]);
    expect(seeded.code).toBe(0);
    expect((await hub(['verify', '--tenant', 'known', '--store', pg.appUri])).code).toBe(0);
  });

  test('hub migrate names every record that differs when the final comparison fails', async () => {
    const to = await createTestDatabase();
    try {
      const days = ['--days', '1', '--per-day', '2', '--start', '2026-01-05T00:00:00.000Z'];
      expect((await hub(['seed', '--tenant', 'moved', '--store', pg.appUri, ...days])).code).toBe(0);
      // The target already holds records of the tenant the source does not have.
      expect(
        (await hub(['seed', '--tenant', 'moved', '--store', to.appUri, '--seed', '7', ...days])).code,
      ).toBe(0);
      const r = await hub(['migrate', '--tenant', 'moved', '--from', pg.appUri, '--to', to.appUri]);
      expect(r.code).toBe(1);
      expect(r.text).toMatch(/migration verification failed/);
      const named = r.out.filter((l) => l.startsWith('missing in --from: '));
      expect(named.length).toBeGreaterThan(0);
      for (const line of named) expect(line).toMatch(/^missing in --from: [a-z_]+\/\S+$/);
    } finally {
      await to.drop();
    }
  }, 120_000);
});
