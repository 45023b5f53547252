/**
 * The records bench:move copies: sealed outputs of a tenant, the same for a
 * given count wherever they are built (the bench process and its Snowflake
 * emulator child build them alike).
 */
import type { HubRecord } from '../src/hub/model';
import type { TenantId } from '../src/hub/tenant';
import { sealBatch } from '../src/hub/validate';

/** `n` sealed outputs of `tenant`, spread over 90 days. */
export function benchOutputs(n: number, tenant: TenantId): HubRecord[] {
  const inputs = Array.from({ length: n }, (_, i) => ({
    skill_id: `skill-${i % 40}`,
    employee_id: `emp-${i % 1000}`,
    status: i % 20 === 0 ? 'FAILED' : 'SUCCEEDED',
    input_tokens: i % 4000,
    output_tokens: i % 1500,
    cost_usd: `0.${String((i * 37) % 1_000_000).padStart(6, '0')}`,
    latency_ms: (i * 13) % 30_000,
    created_at: new Date(Date.UTC(2026, 0, 1) + ((i * 7919) % (90 * 86_400_000))).toISOString(),
    attributes: { run: 'bench', i },
  }));
  return sealBatch(tenant, 'outputs', inputs);
}
