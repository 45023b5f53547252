import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { HubError } from '../../src/hub/errors';
import {
  loadRegistryConfig,
  parseRegistryConfig,
  parseRegistryText,
  storeLabel,
} from '../../src/router/registry-config';
import { tenant } from './support';

const EXAMPLE = `
stores:
  shared-pg: memory:shared
  warehouse: memory:warehouse
defaults:
  freshnessSeconds: 120
  fallback: primary
shared:
  primary: shared-pg
  analytics: warehouse
tenants:
  - id: acme
    mode: B
    primary: memory:acme
    analytics: warehouse
    freshnessSeconds: 5
    fallback: fail
  - id: beta
    mode: C
    primary: memory://user:secret@beta-host:5432/db?token=abc
`;

function issuesOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(HubError);
    expect((err as HubError).code).toBe('VALIDATION');
    return (err as HubError).issues.map((i) => `${i.path}: ${i.message}`);
  }
  throw new Error('expected a VALIDATION error');
}

describe('registry config', () => {
  test('parses the documented YAML example: labels, defaults, per-tenant options, Mode A catch-all', () => {
    const c = parseRegistryText(EXAMPLE, 'hub.yaml');
    const acme = c.tenants.get(tenant('acme'));
    expect(acme).toEqual({
      mode: 'B',
      primary: { uri: 'memory:acme', label: 'memory:acme' },
      analytics: { uri: 'memory:warehouse', label: 'warehouse' },
      options: { freshnessSeconds: 5, fallback: 'fail', waitForFreshnessMs: 0 },
    });
    const beta = c.tenants.get(tenant('beta'));
    expect(beta?.analytics).toBeUndefined();
    expect(beta?.options).toEqual({ freshnessSeconds: 120, fallback: 'primary', waitForFreshnessMs: 0 });
    // Labels never carry credentials or query strings.
    expect(beta?.primary.label).toBe('memory://beta-host:5432/db');
    expect(c.shared?.mode).toBe('A');
    expect(c.shared?.primary.label).toBe('shared-pg');
  });

  test('JSON files are read as JSON', () => {
    const c = parseRegistryText(JSON.stringify({ tenants: [{ id: 'a', primary: 'memory:a' }] }), 'x.json');
    expect([...c.tenants.keys()]).toEqual(['a']);
    expect(() => parseRegistryText('{ tenants: [', 'x.json')).toThrow(/x\.json: not valid JSON/);
  });

  test('every problem is reported at once, each with its path', () => {
    const issues = issuesOf(() =>
      parseRegistryConfig(
        {
          stores: { wh: 'memory:wh', 'bad label!': 'memory:x' },
          tenants: [
            { id: 'ok', primary: 'memory:ok' },
            { id: 'Not_Valid', primary: 'memory:x' },
            { id: 'c', primary: 'nosuch://host/db' },
            { id: 'ok', primary: 'memory:dup' },
            { id: 'e', primary: 'missing-label', analytics: 'wh', mode: 'Z', fallback: 'maybe' },
            { id: 'f', primary: 'memory:f', freshnessSeconds: -1, waitForFreshnessMs: 1.5, colour: 'red' },
          ],
          extra: 1,
        },
        'hub.yaml',
      ),
    );
    expect(issues).toEqual(
      expect.arrayContaining([
        'extra: unknown key (expected stores, defaults, shared, tenants)',
        'stores.bad label!: label must be 1-63 of A-Z a-z 0-9 . _ -',
        expect.stringMatching(/^tenants\[1\]\.id: must be a tenant id/),
        expect.stringMatching(
          /^tenants\[2\]\.primary: unknown store URI "nosuch:\/\/host\/db": expected one of memory:/,
        ),
        'tenants[3].id: duplicate tenant id "ok"',
        'tenants[4].primary: unknown store label "missing-label" (declare it under stores)',
        'tenants[4].mode: must be A, B or C',
        "tenants[4].fallback: must be 'primary' or 'fail'",
        'tenants[5].freshnessSeconds: must be a number of seconds >= 0',
        'tenants[5].waitForFreshnessMs: must be an integer number of milliseconds from 0 to 60000',
        expect.stringMatching(/^tenants\[5\]\.colour: unknown key/),
      ]),
    );
  });

  test('Mode B needs a dedicated primary; analytics must differ from primary', () => {
    const issues = issuesOf(() =>
      parseRegistryConfig(
        {
          shared: { primary: 'memory:pg' },
          tenants: [
            { id: 'a', mode: 'B', primary: 'memory:pg' },
            { id: 'b', mode: 'A', primary: 'memory:pg', analytics: 'memory:pg' },
          ],
        },
        't',
      ),
    );
    expect(issues).toEqual(
      expect.arrayContaining([
        'tenants[0].primary: Mode B needs a dedicated primary, but another tenant uses this store',
        'tenants[1].analytics: must differ from primary (omit it to serve rollups from the primary)',
      ]),
    );
  });

  test('an empty configuration is refused rather than serving nobody silently', () => {
    expect(issuesOf(() => parseRegistryConfig({}, 't'))).toEqual([
      'tenants: no tenants configured: list tenants, or declare shared (or set HUB_PG_URL) for Mode A',
    ]);
  });

  describe('loading', () => {
    let dir: string;
    beforeAll(async () => (dir = await mkdtemp(join(tmpdir(), 'hub-router-'))));
    afterAll(() => rm(dir, { recursive: true, force: true }));

    test('HUB_CONFIG file, with HUB_PG_URL as the Mode A catch-all unless the file declares shared', async () => {
      const file = join(dir, 'hub.yaml');
      await writeFile(file, 'tenants:\n  - id: acme\n    primary: memory:acme\n');
      const c = await loadRegistryConfig({ configFile: file, pgUrl: 'memory:everyone' });
      expect(c.source).toBe(file);
      expect(c.tenants.get(tenant('acme'))?.primary.uri).toBe('memory:acme');
      expect(c.shared?.primary.uri).toBe('memory:everyone');
    });

    test('HUB_PG_URL alone: Mode A for every valid tenant id', async () => {
      const c = await loadRegistryConfig({ pgUrl: 'memory:everyone' });
      expect(c.tenants.size).toBe(0);
      expect(c.shared).toMatchObject({ mode: 'A', primary: { uri: 'memory:everyone' } });
      // API clients see the shared database as "postgres", never its host or database name.
      const pg = await loadRegistryConfig({ pgUrl: 'postgres://app:pw@db.internal:5432/hub' });
      expect(pg.shared?.primary.label).toBe('postgres');
    });

    test('clear errors for a missing file, invalid YAML and no configuration at all', async () => {
      await expect(loadRegistryConfig({ configFile: join(dir, 'nope.yaml') })).rejects.toThrow(
        /cannot read config file .*nope\.yaml \(HUB_CONFIG\)/,
      );
      const bad = join(dir, 'bad.yaml');
      await writeFile(bad, 'tenants: [\n');
      await expect(loadRegistryConfig({ configFile: bad })).rejects.toThrow(/bad\.yaml: not valid YAML/);
      await expect(loadRegistryConfig({})).rejects.toThrow(/set HUB_CONFIG .* or HUB_PG_URL/);
    });
  });

  test('store labels drop user, password and query', () => {
    expect(storeLabel('postgres://hub:s3cret@db.internal:5432/hub?sslmode=require')).toBe(
      'postgres://db.internal:5432/hub',
    );
    expect(storeLabel('snowflake://acct/DB/SCHEMA?warehouse=WH&token=x')).toBe('snowflake://acct/DB/SCHEMA');
    expect(storeLabel('memory:')).toBe('memory:');
  });
});
