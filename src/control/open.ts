/**
 * Which control plane a process uses and how to open it: `HUB_CONTROL_URL`;
 * else the HUB_PG_URL database; else a file beside the embedded data
 * (`<HUB_DATA_DIR>/control.json`). `file:<path>` names a file explicitly.
 */
import { join } from 'node:path';
import type { HubConfig } from '../config';
import { HubError } from '../hub/errors';
import { schemeOf } from '../stores/driver';
import type { ControlPlane } from './control-plane';
import { FileControlPlane } from './file-control';
import { PgControlPlane } from './pg-control';

/** The control plane URI for a configuration, and whether it was set explicitly. */
export function controlUri(config: Pick<HubConfig, 'controlUrl' | 'pgUrl' | 'dataDir'>): {
  readonly uri: string;
  readonly explicit: boolean;
} {
  if (config.controlUrl !== undefined) return { uri: config.controlUrl, explicit: true };
  if (config.pgUrl !== undefined) return { uri: config.pgUrl, explicit: false };
  return { uri: `file:${join(config.dataDir, 'control.json')}`, explicit: false };
}

/**
 * Opens a control plane by URI (`postgres://`, `postgresql://` or `file:`).
 * @throws HubError VALIDATION for another scheme, UNAVAILABLE when it cannot be reached.
 */
export async function openControlPlane(
  uri: string,
  options: { pollMs?: number } = {},
): Promise<ControlPlane> {
  const scheme = schemeOf(uri);
  if (scheme === 'postgres' || scheme === 'postgresql') {
    return PgControlPlane.open(uri);
  }
  if (scheme === 'file') {
    return new FileControlPlane(uri.slice('file:'.length), options.pollMs);
  }
  throw new HubError('VALIDATION', `control plane must be postgres://... or file:<path>, got ${scheme}:`);
}
