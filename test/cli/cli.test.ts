import { main } from '../../src/cli';

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l) }, out, err };
}

describe('hub CLI', () => {
  it('lists the commands with --help and fails with usage on none', async () => {
    const c = capture();
    expect(await main(['--help'], c.io)).toBe(0);
    for (const name of ['seed', 'migrate', 'verify']) expect(c.out.join('\n')).toContain(name);
    expect(await main([], capture().io)).toBe(2);
  });

  it('every command has help text with a usage line', async () => {
    for (const name of ['seed', 'migrate', 'verify']) {
      const c = capture();
      expect(await main([name, '--help'], c.io)).toBe(0);
      expect(c.out.join('\n')).toMatch(/^Usage: hub /);
    }
  });

  it('reports unknown commands, unknown options and missing arguments as usage errors (exit 2)', async () => {
    const unknown = capture();
    expect(await main(['frobnicate'], unknown.io)).toBe(2);
    expect(unknown.err[0]).toContain("unknown command 'frobnicate'");
    const badOption = capture();
    expect(await main(['seed', '--tenant', 'a', '--colour', 'red'], badOption.io)).toBe(2);
    expect(badOption.err.join('\n')).toMatch(/colour/);
    const missing = capture();
    expect(await main(['migrate', '--tenant', 'a'], missing.io)).toBe(2);
    expect(missing.err[0]).toContain('--from and --to are required');
  });

  it('rejects a bad tenant id with a clear message (exit 1)', async () => {
    const c = capture();
    expect(await main(['seed', '--tenant', 'Bad Tenant', '--store', 'memory:'], c.io)).toBe(1);
    expect(c.err[0]).toMatch(/VALIDATION: invalid tenant id/);
  });

  it('seeds a tenant deterministically into a store', async () => {
    const c = capture();
    expect(
      await main(['seed', '--tenant', 'demo', '--store', 'memory:', '--days', '3', '--per-day', '5'], c.io),
    ).toBe(0);
    expect(c.out[c.out.length - 1]).toMatch(/seeded tenant demo: \d+ created, 0 already present/);
  });
});
