/**
 * The `engines` field is true for what `npm ci` installs: every package in
 * package-lock.json accepts the oldest Node the gateway declares (`>=20.19`),
 * except the few dev-only ones README.md names under "Node versions", with
 * the reason. PostGraphile (a benchmark-only peer, Node >= 22) is no part of
 * the root install: bench/peer has its own package and lockfile, installed by
 * `npm run bench:peer`.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');

/**
 * The dev-only packages `npm ci` installs that declare a newer Node than ours
 * (each warns EBADENGINE): @graphql-codegen/cli's progress output (listr2) and
 * its URL / GitHub / Apollo schema loaders, which `npm run codegen` never
 * runs (codegen.yml reads schema.graphql from disk). README.md lists them.
 */
const DOCUMENTED = [
  'listr2',
  'sync-fetch',
  '@whatwg-node/fetch',
  '@whatwg-node/node-fetch',
  '@whatwg-node/disposablestack',
  '@whatwg-node/promise-helpers',
];

type Version = readonly [number, number, number];

/** A version or a partial one (`20`, `20.19`, `10.*`, `0.8.x`): the parts given, and the bound with 0 for the rest. */
function parsePartial(text: string): { parts: number; bound: Version } {
  const m = /^v?(\d+)(?:\.(\d+|[x*]))?(?:\.(\d+|[x*]))?$/i.exec(text.trim());
  if (!m) throw new Error(`unsupported version in an engines range: ${JSON.stringify(text)}`);
  const given = [m[1], m[2], m[3]].filter((p) => p !== undefined && /^\d+$/.test(p));
  return {
    parts: given.length,
    bound: [Number(given[0] ?? 0), Number(given[1] ?? 0), Number(given[2] ?? 0)],
  };
}

function parseVersion(text: string): Version {
  return parsePartial(text).bound;
}

function compare(a: Version, b: Version): number {
  return a[0] - b[0] || a[1] - b[1] || a[2] - b[2];
}

/**
 * True when `version` satisfies the npm range `range`, in the forms engines
 * fields use (`>=x.y.z`, `^x.y`, `~x.y`, `x`, `x.*`, `*`, AND-ed by spaces,
 * OR-ed by `||`); any other form throws rather than pass unchecked.
 */
function satisfies(version: Version, range: string): boolean {
  return range.split('||').some((alternative) =>
    alternative
      .trim()
      .replace(/(>=|<=|>|<|\^|~)\s+/g, '$1')
      .split(/\s+/)
      .every((comparator) => {
        if (comparator === '*' || comparator === '') return true;
        const m = /^(>=|<=|>|<|\^|~)?(.+)$/.exec(comparator);
        const op = m?.[1] ?? '';
        const { parts, bound } = parsePartial(m?.[2] ?? '');
        const c = compare(version, bound);
        if (op === '>=') return c >= 0;
        if (op === '>') return c > 0;
        if (op === '<=') return c <= 0;
        if (op === '<') return c < 0;
        if (op === '^') return c >= 0 && version[0] === bound[0];
        if (op === '~') return c >= 0 && version[0] === bound[0] && (parts < 2 || version[1] === bound[1]);
        // A bare (partial) version: every part given must match.
        return version.slice(0, parts).every((n, i) => n === bound[i]);
      }),
  );
}

interface LockEntry {
  readonly version?: string;
  readonly dev?: boolean;
  readonly engines?: { readonly node?: string };
}

function lockPackages(file: string): Record<string, LockEntry> {
  return (JSON.parse(readFileSync(join(ROOT, file), 'utf8')) as { packages: Record<string, LockEntry> })
    .packages;
}

const nameOf = (key: string): string => key.replace(/^.*node_modules\//, '');

test('the range checker reads the forms used by engines fields', () => {
  const v = parseVersion('20.19.0');
  expect(satisfies(v, '>=20.19')).toBe(true);
  expect(satisfies(v, '>=22')).toBe(false);
  expect(satisfies(v, '^20.19.0 || >=22.12.0')).toBe(true);
  expect(satisfies(v, '18 || 20 || >=22')).toBe(true);
  expect(satisfies(v, '>=23.5.0 || ^22.13.0 || ^20.17.0')).toBe(true);
  expect(satisfies(v, '^18.14.0 || ^22.0.0')).toBe(false);
  expect(satisfies(v, '>= 16.0.0')).toBe(true);
  expect(satisfies(v, '10.* || >= 12.*')).toBe(true);
  expect(satisfies(v, '>=0.8.x')).toBe(true);
  expect(satisfies(v, '*')).toBe(true);
  expect(satisfies(v, '>=16 || 14 >=14.17')).toBe(true);
  expect(satisfies(v, '20.20.2')).toBe(false);
  expect(() => satisfies(v, '20.19.0-rc.1')).toThrow(/unsupported/);
});

test('every package npm ci installs accepts the oldest Node we declare, but the documented dev tools', () => {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { engines: { node: string } };
  const floor = parseVersion(pkg.engines.node.replace(/^>=\s*/, ''));
  expect(satisfies(floor, pkg.engines.node)).toBe(true);
  const refused = Object.entries(lockPackages('package-lock.json'))
    .filter(([key, e]) => key !== '' && e.engines?.node !== undefined && !satisfies(floor, e.engines.node))
    .map(([key, e]) => ({ name: nameOf(key), dev: e.dev === true, node: e.engines?.node }));
  // Nothing the gateway runs with (production dependencies) asks for a newer Node.
  expect(refused.filter((r) => !r.dev)).toEqual([]);
  expect(refused.filter((r) => !DOCUMENTED.includes(r.name))).toEqual([]);
  // README names each remaining one.
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  for (const name of new Set(refused.map((r) => r.name)))
    expect({ name, inReadme: readme.includes(name) }).toEqual({ name, inReadme: true });
});

test('PostGraphile is installed by bench:peer from its own lockfile, never by the root npm ci', () => {
  const root = Object.keys(lockPackages('package-lock.json')).map(nameOf);
  const peer = Object.keys(lockPackages('bench/peer/package-lock.json')).map(nameOf);
  for (const name of ['postgraphile', 'grafast', 'grafserv', 'graphile-build-pg', 'tamedevil', 'pg-sql2']) {
    expect({ name, root: root.includes(name), peer: peer.includes(name) }).toEqual({
      name,
      root: false,
      peer: true,
    });
  }
  const scripts = (
    JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> }
  ).scripts;
  expect(scripts['bench:peer']).toContain('bench/peer/install-deps.cjs');
});
