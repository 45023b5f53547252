/**
 * `hub db migrate` on a fresh PostgreSQL database and on PGlite: applies the
 * schema once, then reports it up to date.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../../src/cli';
import { createTestDatabase } from '../support/pg-harness';
import { MIGRATIONS } from '../../src/stores/postgres/migrations';

async function run(argv: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out, err };
}

describe('hub db migrate', () => {
  test('--help explains the command', async () => {
    const r = await run(['db', 'migrate', '--help']);
    expect(r.code).toBe(0);
    expect(r.out.join('\n')).toMatch(/Usage: hub db migrate/);
  });

  test('migrates a PostgreSQL database once, then finds it up to date', async () => {
    const pg = await createTestDatabase({ migrate: false });
    try {
      const first = await run(['db', 'migrate', '--store', pg.ownerUri]);
      expect(first.code).toBe(0);
      expect(first.out.join('\n')).toMatch(/applied 0001 .*\n(.*\n)*applied 0002 /);
      expect(first.out.join('\n')).toMatch(/installed the PUBLIC development ticket key/);
      expect(first.out.join('\n')).toMatch(/applied 0003 pre-aggregation/);
      expect(first.out.join('\n')).toMatch(new RegExp(`${MIGRATIONS.length} migration\\(s\\) applied`));
      const second = await run(['db', 'migrate', '--store', pg.ownerUri]);
      expect(second).toMatchObject({ code: 0, err: [] });
      expect(second.out.join('\n')).toMatch(/schema is up to date/);
    } finally {
      await pg.drop();
    }
  }, 60_000);

  test('migrates a PGlite directory', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'hub-migrate-'));
    try {
      expect((await run(['db', 'migrate', '--store', `pglite:${dir}`])).out.join('\n')).toMatch(
        new RegExp(`${MIGRATIONS.length} migration`),
      );
      expect((await run(['db', 'migrate', '--store', `pglite:${dir}`])).out.join('\n')).toMatch(/up to date/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);

  test('an unreachable server is reported as UNAVAILABLE, exit 1, without the password', async () => {
    const r = await run([
      'db',
      'migrate',
      '--store',
      'postgres://u:hunter2@127.0.0.1:1/x?connect_timeout=2000',
    ]);
    expect(r.code).toBe(1);
    expect(r.err.join('\n')).toMatch(/UNAVAILABLE/);
    expect(r.err.join('\n')).not.toMatch(/hunter2/);
  });
});
