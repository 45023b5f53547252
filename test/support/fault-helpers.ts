/**
 * Helpers shared by the stores' fault tests: numbered, sealed outputs and the
 * HubError a call fails with.
 */
import { HubError } from '../../src/hub/errors';
import type { HubRecord } from '../../src/hub/model';
import type { TenantId } from '../../src/hub/tenant';
import { sealBatch } from '../../src/hub/validate';

/** `n` sealed outputs numbered from `from` (one second apart from 2026-03-01), so batches never collide. */
export function numberedOutputs(tenant: TenantId, n: number, from = 0): HubRecord[] {
  return sealBatch(
    tenant,
    'outputs',
    Array.from({ length: n }, (_, i) => ({
      skill_id: `skill.${(from + i) % 7}`,
      employee_id: `emp-${(from + i) % 11}`,
      status: 'SUCCEEDED',
      cost_usd: `0.${String(from + i).padStart(6, '0')}`,
      created_at: new Date(Date.UTC(2026, 2, 1) + (from + i) * 1000).toISOString(),
    })),
  );
}

/** The HubError `p` rejects with; fails the test if it resolves or rejects with anything else. */
export async function failure(p: Promise<unknown>): Promise<HubError> {
  try {
    await p;
  } catch (err) {
    if (err instanceof HubError) return err;
    throw err;
  }
  throw new Error('expected the call to fail');
}
