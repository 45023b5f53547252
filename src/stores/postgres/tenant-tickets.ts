/**
 * Tenant tickets: the credential that lets a transaction choose its tenant.
 *
 * The gateway signs `v1.<kid>.<expiry>.<purpose>.<subject>.<mac>` with
 * HMAC-SHA256 under a key the application role cannot read (it lives in
 * `hub_private.ticket_keys`, owned by the schema owner). The database
 * verifies it in SECURITY DEFINER functions (migrations 0002, 0006, 0009, 0011:
 * `tenant-tickets*.sql`), and the row-level security policies read
 * `tenant_id = (SELECT hub.scoped_tenant())`: `app.tenant_id` when the
 * ticket is valid for it, else NULL. A session that sets `app.tenant_id`
 * without a ticket signed for that tenant reads nothing.
 *
 * Purposes: `t` opens a tenant (set in `app.tenant_ticket` with
 * `app.tenant_id`), `p` authorises `hub.purge_tenant` for one tenant (passed
 * as its argument, never left in a setting), `r` opens the outbox of every
 * tenant to the relay role (subject `*`).
 *
 * The key: 32 bytes as 64 hex digits in HUB_PG_TICKET_KEY. Without it a
 * server store uses {@link DEV_TICKET_KEY}, which is public (it is in this
 * file): fine for a laptop, never for production (the driver logs it).
 */
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { HubError } from '../../hub/errors';

/** What a ticket authorises. */
export type TicketPurpose = 't' | 'p' | 'r';

/** The subject of relay tickets (no tenant id can be `*`). */
export const RELAY_SUBJECT = '*';

/** Seconds a ticket is valid for: the database refuses it after that. */
export const TICKET_TTL_SECONDS = 300;
/**
 * A cached ticket is re-signed once it is this old, so a ticket in use has at
 * least TTL - this left: room for the clocks of gateway and database to differ.
 */
const TICKET_REUSE_SECONDS = 60;

/**
 * The development key used when HUB_PG_TICKET_KEY is not set. Public: any
 * holder of the application role's credentials can forge tickets under it.
 */
export const DEV_TICKET_KEY: Buffer = createHash('sha256')
  .update('hub development ticket key; public, never for production')
  .digest();

/** The key id: the first 16 hex digits of sha256('hub-ticket-kid:' || key), as migration 0002 computes it. */
export function ticketKeyId(key: Buffer): string {
  return createHash('sha256')
    .update(Buffer.concat([Buffer.from('hub-ticket-kid:'), key]))
    .digest('hex')
    .slice(0, 16);
}

/**
 * Parses a ticket key given as 64 hex digits (32 bytes).
 * @throws HubError VALIDATION naming the variable, never echoing the value.
 */
export function parseTicketKey(hex: string, source = 'HUB_PG_TICKET_KEY'): Buffer {
  const trimmed = hex.trim();
  if (!/^[0-9a-fA-F]{64}$/.test(trimmed))
    throw new HubError(
      'VALIDATION',
      `${source} must be 64 hex digits (32 bytes); generate one with 'hub db ticket-key'`,
    );
  return Buffer.from(trimmed, 'hex');
}

/** A new random 32-byte key. */
export function generateTicketKey(): Buffer {
  return randomBytes(32);
}

/** Signs tickets under one key, caching one per purpose and subject for a minute. */
export class TicketSigner {
  /** The key id the database looks the key up by. */
  readonly kid: string;
  /** True when signing with the public development key. */
  readonly development: boolean;
  private readonly cache = new Map<string, { ticket: string; signedAt: number }>();

  constructor(
    private readonly key: Buffer,
    /** Seconds since the epoch (injected by tests). */
    private readonly now: () => number = () => Date.now() / 1000,
  ) {
    if (key.length !== 32) throw new HubError('VALIDATION', 'a ticket key is 32 bytes');
    this.kid = ticketKeyId(key);
    this.development = key.equals(DEV_TICKET_KEY);
  }

  /** A ticket for `purpose` and `subject` (a tenant id, or `*` for the relay), valid for TTL seconds. */
  ticket(purpose: TicketPurpose, subject: string): string {
    const now = this.now();
    const cacheKey = `${purpose}.${subject}`;
    const hit = this.cache.get(cacheKey);
    if (hit && now - hit.signedAt < TICKET_REUSE_SECONDS && now >= hit.signedAt) return hit.ticket;
    const ticket = signTicket(this.key, purpose, subject, Math.floor(now) + TICKET_TTL_SECONDS);
    // Bounded: one entry per tenant served; dropped wholesale if a process serves very many.
    if (this.cache.size >= 10_000) this.cache.clear();
    if (purpose !== 'p') this.cache.set(cacheKey, { ticket, signedAt: now });
    return ticket;
  }
}

/** Signs one ticket expiring at `expiresAt` (seconds since the epoch). Exported for tests. */
export function signTicket(key: Buffer, purpose: TicketPurpose, subject: string, expiresAt: number): string {
  const body = `v1.${ticketKeyId(key)}.${expiresAt}.${purpose}.${subject}`;
  return `${body}.${createHmac('sha256', key).update(body).digest('hex')}`;
}

/** What a database needs to open scopes: the signer, and the role relay transactions switch to. */
export interface ScopeCredentials {
  readonly signer: TicketSigner;
  /** The outbox relay's role (`SET LOCAL ROLE` in relay transactions). */
  readonly relayRole: string;
}

/**
 * The ticket key this process signs with: `explicit` (64 hex digits) if
 * given, else HUB_PG_TICKET_KEY, else the public development key. Read here,
 * not in src/config.ts, so that the secret reaches every PostgreSQL store
 * (opened by the router, the CLI or `serve`) without passing through layers
 * that have no use for it.
 */
export function configuredTicketKey(explicit?: string): Buffer {
  return (explicit ? parseTicketKey(explicit, 'ticketKey') : environmentTicketKey()) ?? DEV_TICKET_KEY;
}

/** HUB_PG_TICKET_KEY parsed, or undefined when it is not set. */
export function environmentTicketKey(): Buffer | undefined {
  const raw = process.env.HUB_PG_TICKET_KEY;
  return raw === undefined || raw === '' ? undefined : parseTicketKey(raw);
}
