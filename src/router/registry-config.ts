/**
 * The tenant registry's configuration: which store serves each tenant. Read from
 * the `HUB_CONFIG` file (YAML or JSON) or, for Mode A, built from `HUB_PG_URL`
 * alone. Parsing is pure and validates everything it can without opening a
 * store; every problem is reported at once, each naming its path
 * (`tenants[2].primary: unknown store URI ...`). See src/router/README.md for
 * the file format.
 */
import { readFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { parse as parseYaml } from 'yaml';
import type { HubConfig } from '../config';
import { type FieldIssue, HubError, validationError } from '../hub/errors';
import { type TenantId, isTenantId } from '../hub/tenant';
import { type TenantLimits, readTenantLimits } from '../platform/tenant-limits';
import { redactUri } from '../stores/driver';
import { driverFor } from '../stores/index';
import {
  type DeploymentMode,
  type FallbackPolicy,
  type TopologyOptions,
  type StoreRef,
  type WriteState,
  type TopologySpec,
  type RegistryConfig,
  DEFAULT_OPTIONS,
  storeLabel,
} from './registry-types';

export type {
  DeploymentMode,
  FallbackPolicy,
  TopologyOptions,
  StoreRef,
  WriteState,
  TopologySpec,
  RegistryConfig,
};
export { DEFAULT_OPTIONS, storeLabel };

type Raw = Record<string, unknown>;
const isObject = (v: unknown): v is Raw => typeof v === 'object' && v !== null && !Array.isArray(v);

const TOPOLOGY_KEYS = [
  'primary',
  'analytics',
  'mode',
  'freshnessSeconds',
  'fallback',
  'waitForFreshnessMs',
  'limits',
  'operations',
  'metricsLabel',
];
/** Most operation names one tenant may register (each may become a metric label value). */
const MAX_OPERATIONS = 100;
/** Most tenants whose metrics may carry a `tenant` label (each multiplies the series of a metric). */
export const MAX_LABELLED_TENANTS = 50;

/**
 * Validates a parsed configuration document.
 * @param source named in messages (e.g. the file path).
 * @throws HubError VALIDATION listing every problem with its path.
 */
export function parseRegistryConfig(
  doc: unknown,
  source: string,
  extra: { pgUrl?: string } = {},
): RegistryConfig {
  if (!isObject(doc))
    throw validationError([{ path: '(root)', message: 'must be a mapping' }], `config ${source}`);
  const reader = new ConfigReader();
  for (const key of Object.keys(doc)) {
    if (!['stores', 'defaults', 'shared', 'tenants'].includes(key))
      reader.problem(key, 'unknown key (expected stores, defaults, shared, tenants)');
  }
  reader.readStores(doc.stores);
  reader.readDefaults(doc.defaults);
  const shared = reader.readShared(doc.shared, extra.pgUrl);
  const tenants = reader.readTenants(doc.tenants);
  reader.checkDedicatedPrimaries(doc.tenants, tenants, shared);
  if (reader.issues.length === 0 && tenants.size === 0 && !shared)
    reader.problem(
      'tenants',
      'no tenants configured: list tenants, or declare shared (or set HUB_PG_URL) for Mode A',
    );
  if (reader.issues.length > 0) throw validationError(reader.issues, `config ${source}`);
  return { tenants, ...(shared ? { shared } : {}), source };
}

/** The steps of {@link parseRegistryConfig}, in document order; problems are collected, not thrown. */
class ConfigReader {
  readonly issues: FieldIssue[] = [];
  /** Store URIs by label (`stores:`). */
  private readonly names = new Map<string, string>();
  private readonly defaults = { ...DEFAULT_OPTIONS };
  private defaultLimits: Partial<TenantLimits> = {};

  readonly problem = (path: string, message: string): void => void this.issues.push({ path, message });
  private readonly issue = (i: FieldIssue): void => this.problem(i.path, i.message);

  readStores(raw: unknown): void {
    if (raw === undefined) return;
    if (!isObject(raw)) return this.problem('stores', 'must be a mapping of label -> store URI');
    for (const [name, uri] of Object.entries(raw)) {
      const path = `stores.${name}`;
      if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/.test(name))
        this.problem(path, 'label must be 1-63 of A-Z a-z 0-9 . _ -');
      else if (typeof uri !== 'string') this.problem(path, 'must be a store URI string');
      else if (checkUri(uri, path, this.problem)) this.names.set(name, uri);
    }
  }

  readDefaults(raw: unknown): void {
    if (raw === undefined) return;
    if (!isObject(raw)) return this.problem('defaults', 'must be a mapping');
    for (const key of Object.keys(raw)) {
      if (!['freshnessSeconds', 'fallback', 'waitForFreshnessMs', 'limits'].includes(key))
        this.problem(
          `defaults.${key}`,
          'unknown option (expected freshnessSeconds, fallback, waitForFreshnessMs, limits)',
        );
    }
    Object.assign(this.defaults, readOptions(raw, 'defaults', DEFAULT_OPTIONS, this.problem));
    if (raw.limits !== undefined)
      this.defaultLimits = readTenantLimits(raw.limits, 'defaults.limits', this.issue);
  }

  /** The Mode A catch-all: `shared:`, else one PostgreSQL from HUB_PG_URL. */
  readShared(raw: unknown, pgUrl: string | undefined): TopologySpec | undefined {
    if (raw !== undefined && raw !== null) {
      const shared = this.topology(raw, 'shared', 'A');
      if (shared && shared.mode !== 'A')
        this.problem('shared.mode', 'the shared catch-all is Mode A by definition');
      if (shared?.metricsLabel !== undefined)
        this.problem(
          'shared.metricsLabel',
          'only a tenant listed under tenants may have a metrics label (the catch-all serves any number of tenants)',
        );
      return shared;
    }
    if (pgUrl === undefined) return undefined;
    const shared = this.topology({ primary: pgUrl }, 'HUB_PG_URL', 'A');
    // Labels reach API clients (extensions.routing): the shared database is
    // "postgres" there, not its host and database name.
    return shared ? { ...shared, primary: { ...shared.primary, label: 'postgres' } } : undefined;
  }

  readTenants(raw: unknown): Map<TenantId, TopologySpec> {
    const tenants = new Map<TenantId, TopologySpec>();
    if (raw === undefined || raw === null) return tenants;
    if (!Array.isArray(raw)) {
      this.problem('tenants', 'must be a list');
      return tenants;
    }
    raw.forEach((entry: unknown, i) => {
      const path = `tenants[${i}]`;
      const id = isObject(entry) ? entry.id : undefined;
      const spec = this.topology(entry, path, 'B');
      if (!isTenantId(id))
        return this.problem(
          `${path}.id`,
          'must be a tenant id (1-63 of a-z 0-9 -, starting with a letter or digit)',
        );
      if (tenants.has(id)) return this.problem(`${path}.id`, `duplicate tenant id ${JSON.stringify(id)}`);
      if (spec) tenants.set(id, spec);
    });
    const labelled = [...tenants.values()].filter((s) => s.metricsLabel === true).length;
    if (labelled > MAX_LABELLED_TENANTS)
      this.problem(
        'tenants',
        `${labelled} tenants set metricsLabel: true; at most ${MAX_LABELLED_TENANTS} may (each adds series to every GraphQL metric)`,
      );
    return tenants;
  }

  /** Mode B means a dedicated primary: no other tenant (nor the catch-all) may share it. */
  checkDedicatedPrimaries(
    raw: unknown,
    tenants: ReadonlyMap<TenantId, TopologySpec>,
    shared: TopologySpec | undefined,
  ): void {
    if (!Array.isArray(raw)) return;
    const users = new Map<string, number>();
    for (const s of [...tenants.values(), ...(shared ? [shared] : [])])
      users.set(s.primary.uri, (users.get(s.primary.uri) ?? 0) + 1);
    raw.forEach((entry: unknown, i) => {
      const id = isObject(entry) ? entry.id : undefined;
      const spec = isTenantId(id) ? tenants.get(id) : undefined;
      if (spec?.mode === 'B' && (users.get(spec.primary.uri) ?? 0) > 1)
        this.problem(
          `tenants[${i}].primary`,
          'Mode B needs a dedicated primary, but another tenant uses this store',
        );
    });
  }

  private ref(value: unknown, path: string): StoreRef | undefined {
    if (typeof value !== 'string' || value === '')
      return void this.problem(path, 'must be a store URI or a label from stores');
    if (!value.includes(':')) {
      const uri = this.names.get(value);
      if (uri === undefined)
        return void this.problem(
          path,
          `unknown store label ${JSON.stringify(value)} (declare it under stores)`,
        );
      return { uri, label: value };
    }
    return checkUri(value, path, this.problem) ? { uri: value, label: storeLabel(value) } : undefined;
  }

  private topology(raw: unknown, path: string, defaultMode: DeploymentMode): TopologySpec | undefined {
    if (!isObject(raw)) return void this.problem(path, 'must be a mapping');
    for (const key of Object.keys(raw)) {
      if (key !== 'id' && !TOPOLOGY_KEYS.includes(key))
        this.problem(`${path}.${key}`, `unknown key (expected id, ${TOPOLOGY_KEYS.join(', ')})`);
    }
    const primary = this.ref(raw.primary, `${path}.primary`);
    const analytics =
      raw.analytics === undefined || raw.analytics === null
        ? undefined
        : this.ref(raw.analytics, `${path}.analytics`);
    let mode = defaultMode;
    if (raw.mode !== undefined) {
      if (raw.mode === 'A' || raw.mode === 'B' || raw.mode === 'C') mode = raw.mode;
      else this.problem(`${path}.mode`, 'must be A, B or C');
    }
    if (primary && analytics && primary.uri === analytics.uri)
      this.problem(
        `${path}.analytics`,
        'must differ from primary (omit it to serve rollups from the primary)',
      );
    const options = readOptions(raw, path, this.defaults, this.problem);
    const limits = {
      ...this.defaultLimits,
      ...(raw.limits === undefined ? {} : readTenantLimits(raw.limits, `${path}.limits`, this.issue)),
    };
    const operations =
      raw.operations === undefined ? undefined : this.readOperations(raw.operations, `${path}.operations`);
    if (raw.metricsLabel !== undefined && typeof raw.metricsLabel !== 'boolean')
      this.problem(`${path}.metricsLabel`, 'must be true or false');
    if (!primary) return undefined;
    return {
      mode,
      primary,
      ...(analytics ? { analytics } : {}),
      options,
      ...(Object.keys(limits).length > 0 ? { limits } : {}),
      ...(operations ? { operations } : {}),
      ...(typeof raw.metricsLabel === 'boolean' ? { metricsLabel: raw.metricsLabel } : {}),
    };
  }

  private readOperations(raw: unknown, path: string): string[] | undefined {
    if (!Array.isArray(raw) || raw.length > MAX_OPERATIONS)
      return void this.problem(path, `must be a list of at most ${MAX_OPERATIONS} operation names`);
    const bad = raw.findIndex((n) => typeof n !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]{0,63}$/.test(n));
    if (bad >= 0)
      return void this.problem(`${path}[${bad}]`, 'must be a GraphQL operation name (at most 64 characters)');
    return raw as string[];
  }
}

function checkUri(uri: string, path: string, problem: (path: string, message: string) => void): boolean {
  try {
    driverFor(uri);
    return true;
  } catch (err) {
    problem(
      path,
      err instanceof HubError ? err.message : `invalid store URI ${JSON.stringify(redactUri(uri))}`,
    );
    return false;
  }
}

function readOptions(
  raw: Raw,
  path: string,
  base: TopologyOptions,
  problem: (path: string, message: string) => void,
): TopologyOptions {
  const out = { ...base };
  const seconds = raw.freshnessSeconds;
  if (seconds !== undefined) {
    if (typeof seconds === 'number' && Number.isFinite(seconds) && seconds >= 0)
      out.freshnessSeconds = seconds;
    else problem(`${path}.freshnessSeconds`, 'must be a number of seconds >= 0');
  }
  const wait = raw.waitForFreshnessMs;
  if (wait !== undefined) {
    if (typeof wait === 'number' && Number.isInteger(wait) && wait >= 0 && wait <= 60_000)
      out.waitForFreshnessMs = wait;
    else problem(`${path}.waitForFreshnessMs`, 'must be an integer number of milliseconds from 0 to 60000');
  }
  if (raw.fallback !== undefined) {
    if (raw.fallback === 'primary' || raw.fallback === 'fail') out.fallback = raw.fallback;
    else problem(`${path}.fallback`, "must be 'primary' or 'fail'");
  }
  return out;
}

/** Parses configuration text: JSON when the name ends in `.json`, else YAML (a superset of JSON). */
export function parseRegistryText(
  text: string,
  source: string,
  extra: { pgUrl?: string } = {},
): RegistryConfig {
  let doc: unknown;
  try {
    doc = extname(source).toLowerCase() === '.json' ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    const message = err instanceof Error ? err.message.split('\n')[0] : String(err);
    throw new HubError(
      'VALIDATION',
      `config ${source}: not valid ${extname(source) === '.json' ? 'JSON' : 'YAML'}: ${message}`,
      {
        cause: err,
      },
    );
  }
  return parseRegistryConfig(doc, source, extra);
}

/**
 * Loads the registry configuration for a process: the `HUB_CONFIG` file when
 * set (with `HUB_PG_URL` as the Mode A catch-all unless the file declares
 * `shared`), else Mode A on `HUB_PG_URL` for every valid tenant id.
 * @throws HubError VALIDATION when neither is set, the file cannot be read, or it is invalid.
 */
export async function loadRegistryConfig(
  config: Pick<HubConfig, 'configFile' | 'pgUrl'>,
): Promise<RegistryConfig> {
  const extra = config.pgUrl !== undefined ? { pgUrl: config.pgUrl } : {};
  if (config.configFile !== undefined) {
    let text: string;
    try {
      text = await readFile(config.configFile, 'utf8');
    } catch (err) {
      throw new HubError(
        'VALIDATION',
        `cannot read config file ${config.configFile} (HUB_CONFIG): ${(err as Error).message}`,
        {
          cause: err,
        },
      );
    }
    return parseRegistryText(text, config.configFile, extra);
  }
  if (config.pgUrl !== undefined) return parseRegistryConfig({}, 'HUB_PG_URL', extra);
  throw new HubError(
    'VALIDATION',
    'no tenant topology configured: set HUB_CONFIG (a tenants file) or HUB_PG_URL (Mode A)',
  );
}
