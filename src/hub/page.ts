/**
 * A page of a list as the Hub hands it out: its records, whether more follow,
 * and its cursors (each an HMAC, computed only when read), with the page
 * size rule every list call shares.
 */
import type { CursorCodec } from './cursor';
import { validationError } from './errors';
import { type HubRecord, LIMITS } from './model';
import type { ListQuery } from './store';
import type { TenantId } from './tenant';

export interface Page {
  readonly records: HubRecord[];
  readonly hasNextPage: boolean;
  /** Cursor after the last record of this page; null on an empty page. */
  readonly endCursor: string | null;
  /**
   * Cursor after `records[index]`, bound like every cursor of this list to
   * its tenant, type and filter (a GraphQL edge's cursor). Computed when
   * asked: an HMAC each.
   * @throws RangeError when `index` is not a position of this page.
   */
  cursorAt(index: number): string;
}

export interface PageArgs {
  /** Page size, 1..500 (default 50). */
  readonly first?: number | null;
  /** Cursor from a previous page of the same list. */
  readonly after?: string | null;
}

/**
 * Whether `value` is a page size `Hub.list` accepts (absent means the
 * default): an integer from 1 to {@link LIMITS.maxPageSize}. Callers that
 * plan ahead (look-ahead of nested lists) use it to leave an invalid one to
 * the call that reports it.
 */
export function isPageSize(value: number | null | undefined): boolean {
  const first = value ?? LIMITS.defaultPageSize;
  return Number.isInteger(first) && first >= 1 && first <= LIMITS.maxPageSize;
}

/**
 * A page size argument: default 50, else an integer 1..500.
 * @throws HubError VALIDATION naming `what` when it is out of bounds.
 */
export function pageSize(value: number | null | undefined, what: string): number {
  const first = value ?? LIMITS.defaultPageSize;
  if (!isPageSize(first)) {
    throw validationError(
      [{ path: 'first', message: `must be an integer from 1 to ${LIMITS.maxPageSize}` }],
      what,
    );
  }
  return first;
}

/**
 * A page whose cursors (an HMAC each) are computed on first read: a page
 * nobody pages on costs none. The one place list cursors are encoded.
 */
export class LazyCursorPage implements Page {
  private cursor: string | null | undefined;

  constructor(
    private readonly cursors: CursorCodec,
    private readonly tenant: TenantId,
    private readonly query: ListQuery,
    readonly records: HubRecord[],
    readonly hasNextPage: boolean,
  ) {}

  get endCursor(): string | null {
    if (this.cursor === undefined) {
      this.cursor = this.records.length > 0 ? this.cursorAt(this.records.length - 1) : null;
    }
    return this.cursor;
  }

  cursorAt(index: number): string {
    const record = this.records[index];
    if (record === undefined)
      throw new RangeError(`no record at ${index} of a page of ${this.records.length}`);
    return this.cursors.encode(this.tenant, this.query.type, this.query.filter, record);
  }
}
