/**
 * Opaque keyset cursors. A cursor carries the position of the last record of a
 * page and a MAC over (tenant, record type, filter): presented by another
 * tenant, for another type or with another filter, it is rejected with the same
 * message whatever the reason, so a cursor reveals nothing about its origin.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { HubError } from './errors';
import { canonicalJson } from './jcs';
import type { RecordType } from './model';
import type { Keyset, ListFilter } from './store';
import type { TenantId } from './tenant';
import { isUuid } from './uuid';

const CANONICAL_TS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** Encodes and decodes the cursors of one secret; see the file comment. */
export class CursorCodec {
  /** @param secret key for the cursor MAC; replicas that share it accept each other's cursors. */
  constructor(private readonly secret: string) {}

  private mac(tenant: TenantId, type: RecordType, filter: ListFilter, position: string): Buffer {
    return createHmac('sha256', this.secret)
      .update(canonicalJson({ tenant, type, filter, position }))
      .digest()
      .subarray(0, 16);
  }

  /** Encodes the position after `last` for this tenant, type and filter. */
  encode(tenant: TenantId, type: RecordType, filter: ListFilter, last: Keyset): string {
    const position = `${last.created_at}|${last.record_id}`;
    const mac = this.mac(tenant, type, filter, position).toString('base64url');
    return Buffer.from(`${position}|${mac}`).toString('base64url');
  }

  /**
   * Decodes a cursor for this tenant, type and filter.
   * @throws HubError VALIDATION `invalid cursor` (deliberately the same for every failure).
   */
  decode(tenant: TenantId, type: RecordType, filter: ListFilter, cursor: string): Keyset {
    const invalid = (): HubError =>
      new HubError('VALIDATION', 'invalid cursor: it does not belong to this list (same type and filters)', {
        issues: [{ path: 'after', message: 'invalid cursor' }],
      });
    if (typeof cursor !== 'string' || cursor.length > 512) throw invalid();
    const parts = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
    if (parts.length !== 3) throw invalid();
    const [createdAt = '', recordId = '', mac = ''] = parts;
    if (!CANONICAL_TS.test(createdAt) || !isUuid(recordId)) throw invalid();
    const expected = this.mac(tenant, type, filter, `${createdAt}|${recordId}`);
    const given = Buffer.from(mac, 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw invalid();
    return { created_at: createdAt, record_id: recordId };
  }
}
