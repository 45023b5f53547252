/**
 * How control plane entries join the registry configuration: a tenant the
 * control plane knows is served as it says (primary, state, fence, move
 * replica), whatever the HUB_CONFIG file says; the file (or HUB_PG_URL's
 * catch-all) still provides its options and analytics store unless the entry
 * names one.
 */
import { type TenantId } from '../hub/tenant';
import {
  DEFAULT_OPTIONS,
  type RegistryConfig,
  type StoreRef,
  type TopologySpec,
  type WriteState,
  storeLabel,
} from '../router/registry-config';
import type { ControlSnapshot, TenantEntry } from './control-plane';

/** Write state of an entry: a fence wins over the state. */
export function writeStateOf(entry: Pick<TenantEntry, 'state' | 'fenced'>): WriteState {
  if (entry.fenced) return 'fenced';
  return entry.state === 'read-only' ? 'read-only' : 'open';
}

/** The registry configuration with the control plane's tenants applied over `base`. */
export function applyControl(base: RegistryConfig, snapshot: ControlSnapshot): RegistryConfig {
  if (snapshot.tenants.length === 0) return base;
  // Reuse the file's labels for URIs it names, so metrics and traces keep their names.
  const labels = new Map<string, string>();
  for (const spec of [...base.tenants.values(), ...(base.shared ? [base.shared] : [])]) {
    labels.set(spec.primary.uri, spec.primary.label);
    if (spec.analytics) labels.set(spec.analytics.uri, spec.analytics.label);
  }
  const ref = (uri: string): StoreRef => ({ uri, label: labels.get(uri) ?? storeLabel(uri) });
  const tenants = new Map<TenantId, TopologySpec>(base.tenants);
  for (const entry of snapshot.tenants) {
    const from = base.tenants.get(entry.id) ?? base.shared;
    const analytics = entry.analytics ? ref(entry.analytics) : from?.analytics;
    const spec: TopologySpec = {
      mode: from?.mode ?? (base.shared?.primary.uri === entry.primary ? 'A' : 'B'),
      primary: ref(entry.primary),
      ...(analytics && analytics.uri !== entry.primary ? { analytics } : {}),
      options: from?.options ?? DEFAULT_OPTIONS,
      writes: writeStateOf(entry),
      ...(entry.state === 'moving' ? { moving: true } : {}),
      ...(entry.replica ? { replica: ref(entry.replica) } : {}),
    };
    tenants.set(entry.id, spec);
  }
  return { ...base, tenants, source: `${base.source} + control plane` };
}
