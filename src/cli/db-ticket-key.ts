import type { Command } from './command';
import { UsageError } from './command';
import { defaultStoreUri } from './open';

/** `hub db ticket-key`: generates, installs, rotates and retires the database's tenant-ticket keys. */
export const command: Command = {
  path: ['db', 'ticket-key'],
  summary: 'install or rotate the key the database checks tenant tickets with',
  help: `Usage: hub db ticket-key [--store <owner uri>] [--use-env | --status] [--retire-previous-key]

The gateway signs a short-lived ticket for every tenant-scoped transaction;
PostgreSQL checks it (row-level security) with a key only the schema owner can
read. Run this as the owner (the role that ran hub db migrate).

With no option, generates a new random key, installs it as the current key and
prints it ONCE as HUB_PG_TICKET_KEY=<64 hex digits>: give that to every
gateway. The previous key stays accepted, so gateways still running with it
keep working; once all run with the new key, retire the old one with
--retire-previous-key. Installing a key also drops the public development key.

Options:
  --store <uri>             owner's store URI (default: HUB_PG_URL)
  --use-env                 install HUB_PG_TICKET_KEY instead of generating a key
  --retire-previous-key     stop accepting the previous key (alone, or after installing)
  --status                  only list the accepted keys (ids, never the keys)

Examples:
  hub db ticket-key --store 'postgres://hub_owner@db.internal:5432/hub'
  hub db ticket-key --store 'postgres://hub_owner@db.internal:5432/hub' --retire-previous-key`,
  options: {
    store: { type: 'string' },
    'use-env': { type: 'boolean' },
    'retire-previous-key': { type: 'boolean' },
    status: { type: 'boolean' },
  },
  async run({ values }, io) {
    const uri = typeof values.store === 'string' && values.store !== '' ? values.store : defaultStoreUri();
    const { driverFor } = require('../stores') as typeof import('../stores');
    const { redactUri } = require('../stores/driver') as typeof import('../stores/driver');
    const driver = driverFor(uri);
    if (!driver.ticketKeys) {
      io.out(`${redactUri(uri)}: this store does not check tenant tickets in the database`);
      return 0;
    }
    const retire = values['retire-previous-key'] === true;
    const useEnv = values['use-env'] === true;
    if (values.status === true && (retire || useEnv))
      throw new UsageError('--status only lists keys; use it alone');
    const install =
      values.status === true || (retire && !useEnv) ? undefined : useEnv ? 'configured' : 'generate';
    const report = await driver.ticketKeys(uri, { ...(install ? { install } : {}), retirePrevious: retire });
    if (report.installed) {
      io.out(`${redactUri(uri)}: installed ticket key ${report.installed.kid} as the current key`);
      if (report.installed.key !== undefined) {
        io.out('Give every gateway this key (shown once; keep it secret):');
        io.out(`HUB_PG_TICKET_KEY=${report.installed.key}`);
      }
    }
    for (const k of report.keys) {
      io.out(`key ${k.kid}: ${k.state}${k.development ? ' (PUBLIC development key)' : ''}`);
    }
    if (report.keys.some((k) => k.state === 'previous'))
      io.out("the previous key is still accepted: retire it with 'hub db ticket-key --retire-previous-key'");
    return 0;
  },
};
