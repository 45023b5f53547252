/**
 * The optional `tenant` label of the GraphQL metrics: only a tenant the
 * tenants file lists with `metricsLabel: true` gets one; every other tenant
 * (listed without it, or served by the shared catch-all) adds no label value,
 * so Prometheus's cardinality stays bounded by configuration.
 */
import { HubError } from '../../src/hub/errors';
import { parseTenantId } from '../../src/hub/tenant';
import { MAX_LABELLED_TENANTS, parseRegistryConfig } from '../../src/router/registry-config';
import { registryPolicy } from '../../src/router/tenant-policy';
import { startGateway } from '../graphql/harness';

function configError(doc: unknown): HubError {
  try {
    parseRegistryConfig(doc, 'test');
  } catch (err) {
    if (err instanceof HubError) return err;
    throw err;
  }
  throw new Error('expected a validation error');
}

/** The lines of a metric family (samples only). */
function samples(text: string, family: string): string[] {
  return text.split('\n').filter((l) => l.startsWith(family));
}

describe('metricsLabel in the tenants file', () => {
  test('a listed tenant may turn it on; it is off by default', () => {
    const config = parseRegistryConfig(
      {
        tenants: [
          { id: 'acme', primary: 'memory:a', metricsLabel: true },
          { id: 'beta', primary: 'memory:b' },
        ],
      },
      'test',
    );
    expect(config.tenants.get(parseTenantId('acme'))?.metricsLabel).toBe(true);
    expect(config.tenants.get(parseTenantId('beta'))?.metricsLabel).toBeUndefined();
  });

  test('refused on the shared catch-all, when not a boolean, and past the bound, naming the field', () => {
    const shared = configError({ shared: { primary: 'memory:p', metricsLabel: true } });
    expect(shared.code).toBe('VALIDATION');
    expect(shared.message).toMatch(/shared\.metricsLabel: only a tenant listed under tenants/);
    const notBoolean = configError({ tenants: [{ id: 'acme', primary: 'memory:a', metricsLabel: 'yes' }] });
    expect(notBoolean.message).toMatch(/tenants\[0\]\.metricsLabel: must be true or false/);
    const many = configError({
      tenants: Array.from({ length: MAX_LABELLED_TENANTS + 1 }, (_, i) => ({
        id: `t${i}`,
        primary: `memory:t${i}`,
        metricsLabel: true,
      })),
    });
    expect(many.message).toMatch(new RegExp(`tenants: ${MAX_LABELLED_TENANTS + 1} tenants set metricsLabel`));
  });
});

describe('over HTTP: the tenant label on /metrics', () => {
  test('only the opted-in tenant gets a label; a listed tenant without it and a catch-all tenant do not', async () => {
    const config = parseRegistryConfig(
      {
        shared: { primary: 'memory:p' },
        tenants: [
          { id: 'acme', primary: 'memory:a', metricsLabel: true },
          { id: 'beta', primary: 'memory:b', metricsLabel: false },
        ],
      },
      'test',
    );
    const policy = registryPolicy({ specOf: (t) => config.tenants.get(t) ?? config.shared });
    const gw = await startGateway({ tenantPolicy: policy });
    try {
      for (const tenant of ['acme', 'beta', 'gamma']) {
        const token = await gw.token(tenant);
        expect((await gw.gql(token, '{ outputs(first: 1) { nodes { id } } }')).status).toBe(200);
        // An unknown field: a VALIDATION error, counted by code.
        await gw.gql(token, '{ nope }');
      }
      const text = await gw.metrics();
      const durations = samples(text, 'hub_graphql_request_duration_seconds_count');
      expect(durations).toContainEqual(
        expect.stringMatching(/\{operation="anonymous",type="query",outcome="ok",tenant="acme"\} 1$/),
      );
      // beta and gamma share the unlabelled series.
      expect(durations).toContainEqual(
        expect.stringMatching(/\{operation="anonymous",type="query",outcome="ok"\} 2$/),
      );
      const errors = samples(text, 'hub_graphql_errors_total');
      expect(errors).toContainEqual(expect.stringMatching(/\{code="VALIDATION",tenant="acme"\} 1$/));
      expect(errors).toContainEqual(expect.stringMatching(/\{code="VALIDATION"\} 2$/));
      // No other tenant's id appears anywhere in the scrape.
      expect(text).not.toMatch(/beta|gamma/);
      expect(new Set([...text.matchAll(/tenant="([^"]*)"/g)].map((m) => m[1]))).toEqual(new Set(['acme']));
    } finally {
      await gw.close();
    }
  });
});
