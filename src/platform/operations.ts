/**
 * Operation names that may appear as metric label values. A name comes from
 * the client's text, so only names registered in advance are kept: the
 * operations of the gateway's own client package (packages/hub-client, which
 * the dashboard uses) for every tenant, plus those a tenant has registered in
 * the tenants file (`operations:`). Anything else is `other`, so a client
 * cannot add label values, and no label tells an operator's scrape which
 * unregistered names a tenant sent.
 */
import type { TenantId } from '../hub/tenant';

/**
 * Operations of packages/hub-client/operations/*.graphql (a test keeps the
 * list equal to the files).
 */
export const CLIENT_OPERATIONS: readonly string[] = [
  'Managers',
  'Skills',
  'ManagerDashboard',
  'CostPerSkill',
  'ArchetypeProgression',
  'TeamOutputs',
  'TeamDecisions',
  'TeamGovernanceEvents',
  'EmployeeWithReports',
];

/** Names a tenant registered (undefined: none beyond the client's). */
export type RegisteredOperations = (tenant: TenantId) => ReadonlySet<string> | undefined;
