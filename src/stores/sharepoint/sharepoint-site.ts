/**
 * One tenant's site as the store sees it: provisioning (lists, columns,
 * library; idempotent and safe to run concurrently), the item payload of a
 * record, and reads that turn items back into records (fetching artifact
 * bodies and oversized JSON from the library).
 */
import { HubError } from '../../hub/errors';
import { canonicalJson } from '../../hub/jcs';
import { BODY_NOT_READ, type HubRecord, RECORD_TYPES, type RecordType } from '../../hub/model';
import { sha256Hex } from '../../hub/provenance';
import type { TenantId } from '../../hub/tenant';
import type { ItemsPage, SpClient } from './sharepoint-client';
import { isAlreadyExists, isNotFound, toSharePointHubError } from './sharepoint-errors';
import {
  ADD_FIELD_INTERNAL_NAME_HINT,
  FILTER_COLUMNS,
  LIBRARY_TITLE,
  LIST_TITLES,
  MAX_INLINE_JSON,
  columnsOf,
  fieldXml,
  filterKeysOf,
  odataString,
} from './sharepoint-schema';

/** The columns every read selects. */
export const READ_SELECT = 'ID,HubRecordId,HubCreatedAt,HubJson';

/** SharePoint's largest page. */
export const MAX_PAGE = 5000;

/** An item as read (the selected columns). */
export interface ItemRow {
  readonly ID: number;
  readonly HubRecordId: string;
  readonly HubCreatedAt: string;
  readonly HubJson: string;
  readonly HubHash?: string;
  readonly HubWriteId?: string;
}

/** `_api` path of a type's list, or of its items. */
export function listPath(type: RecordType | 'library', suffix = ''): string {
  const title = type === 'library' ? LIBRARY_TITLE : LIST_TITLES[type];
  return `_api/web/lists/getByTitle(${odataString(title)})${suffix}`;
}

/** Name of a record's JSON file when it is too long for the Note column. */
const jsonFileName = (r: HubRecord): string =>
  `rec-${r.record_type}-${r.record_id}-${r.provenance_hash}.json`;
/** Name of an artifact body file (content-addressed: a conflicting record cannot overwrite another's body). */
const bodyFileName = (id: string, sha: string): string => `art-${id}-${sha}.bin`;

/** See the file comment. */
export class TenantSite {
  constructor(
    readonly tenant: TenantId,
    readonly client: SpClient,
  ) {}

  /**
   * Creates whatever is missing: the library, each type's list, each list's
   * columns. "Already exists" from a concurrent provisioner counts as done.
   * @returns the steps taken (empty when everything existed).
   */
  async provision(): Promise<string[]> {
    const steps: string[] = [];
    await this.ensureList('library', LIBRARY_TITLE, 101, steps);
    for (const type of RECORD_TYPES) {
      await this.ensureList(type, LIST_TITLES[type], 100, steps);
      const existing = await this.client.get<{ InternalName: string }[]>(listPath(type, '/fields'), {
        $select: 'InternalName',
      });
      const have = new Set(existing.map((f) => f.InternalName));
      for (const c of columnsOf(type)) {
        if (have.has(c.name)) continue;
        try {
          await this.client.post(
            listPath(type, '/fields/createfieldasxml'),
            JSON.stringify({ parameters: { SchemaXml: fieldXml(c), Options: ADD_FIELD_INTERNAL_NAME_HINT } }),
          );
          steps.push(`${this.tenant}: column ${LIST_TITLES[type]}.${c.name}`);
        } catch (err) {
          if (!isAlreadyExists(err)) throw err;
        }
      }
    }
    return steps;
  }

  private async ensureList(
    type: RecordType | 'library',
    title: string,
    template: number,
    steps: string[],
  ): Promise<void> {
    try {
      await this.client.get(listPath(type), { $select: 'Title' });
      return;
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
    try {
      await this.client.post('_api/web/lists', JSON.stringify({ BaseTemplate: template, Title: title }));
      steps.push(`${this.tenant}: ${template === 101 ? 'library' : 'list'} ${title}`);
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
    }
  }

  /** Uploads a file to the library (overwriting: names are content-addressed). */
  async upload(name: string, body: Uint8Array | string): Promise<void> {
    await this.client.post(
      listPath('library', `/rootFolder/files/AddUsingPath(decodedurl=${odataString(name)},Overwrite=true)`),
      body,
    );
  }

  private readFile(name: string): Promise<Buffer> {
    const path = `${new URL(this.client.siteUrl).pathname}/${LIBRARY_TITLE}/${name}`;
    return this.client.getBytes(
      `_api/web/getFileByServerRelativePath(decodedUrl=${odataString(path)})/$value`,
    );
  }

  /**
   * Stores what an item needs outside the list (artifact body, oversized JSON)
   * and returns the item's column values. Files go first, so an item that
   * exists always has its files.
   */
  async itemFor(record: HubRecord, writeId: string): Promise<Record<string, string>> {
    const { body, ...rest } = record as HubRecord & { body?: Uint8Array };
    if (record.record_type === 'artifacts' && body)
      await this.upload(bodyFileName(record.record_id, record.content_sha256), body);
    // Canonical (JCS) text: the same record always gives the same stored bytes.
    let json = canonicalJson(rest);
    if (json.length > MAX_INLINE_JSON) {
      const name = jsonFileName(record);
      await this.upload(name, json);
      json = JSON.stringify({ $file: name });
    }
    const item: Record<string, string> = {
      Title: record.record_id,
      HubRecordId: record.record_id,
      HubCreatedAt: record.created_at,
      HubHash: record.provenance_hash,
      HubWriteId: writeId,
      HubJson: json,
    };
    const fields = record as unknown as Record<string, unknown>;
    for (const key of filterKeysOf(record.record_type)) {
      const { column, field } = FILTER_COLUMNS[key];
      const v = fields[field];
      if (typeof v === 'string') item[column] = v;
    }
    return item;
  }

  /**
   * Turns an item back into the record (files fetched and checked); without
   * `withBody` an artifact's body file is not downloaded (BODY_NOT_READ).
   */
  async recordOf(type: RecordType, row: ItemRow, withBody = true): Promise<HubRecord> {
    let parsed = JSON.parse(row.HubJson) as Record<string, unknown>;
    if (typeof parsed.$file === 'string')
      parsed = JSON.parse((await this.readFile(parsed.$file)).toString('utf8')) as Record<string, unknown>;
    const record = parsed as unknown as HubRecord;
    // Defence in depth: a site only ever holds its own tenant's records of its list's type.
    if (
      record.tenant_id !== this.tenant ||
      record.record_type !== type ||
      record.record_id !== row.HubRecordId
    )
      throw new HubError(
        'INTERNAL',
        `sharepoint item ${row.ID} of ${LIST_TITLES[type]} does not hold the expected record`,
      );
    if (record.record_type === 'artifacts' && !withBody) record.body = BODY_NOT_READ;
    else if (record.record_type === 'artifacts') {
      const body = await this.readFile(bodyFileName(record.record_id, record.content_sha256));
      if (sha256Hex(body) !== record.content_sha256)
        throw new HubError(
          'INTERNAL',
          `artifact ${record.record_id}: stored body does not match content_sha256`,
        );
      record.body = body;
    }
    return record;
  }

  /**
   * Reads a type's items for a query, following `odata.nextLink` until
   * `limit` rows (or the end). A missing list reads as empty.
   */
  async items(
    type: RecordType,
    query: Readonly<Record<string, string>>,
    limit = Infinity,
    what = 'read',
  ): Promise<ItemRow[]> {
    const out: ItemRow[] = [];
    try {
      let page: ItemsPage<ItemRow> = await this.client.getPage<ItemRow>(listPath(type, '/items'), query);
      for (;;) {
        out.push(...page.value);
        const next = page['odata.nextLink'];
        if (!next || out.length >= limit) break;
        page = await this.client.getNext<ItemRow>(next);
      }
    } catch (err) {
      if (isNotFound(err)) return [];
      throw toSharePointHubError(err, what);
    }
    return out;
  }

  /**
   * Records for rows, artifact bodies (unless `withBody` is false) fetched a
   * few at a time. Failures are HubErrors (a driver's error mapped as a read's).
   */
  async records(type: RecordType, rows: readonly ItemRow[], withBody = true): Promise<HubRecord[]> {
    try {
      if (type !== 'artifacts' || !withBody)
        return await Promise.all(rows.map((r) => this.recordOf(type, r, withBody)));
      const out: HubRecord[] = [];
      for (let at = 0; at < rows.length; at += 8)
        out.push(...(await Promise.all(rows.slice(at, at + 8).map((r) => this.recordOf(type, r)))));
      return out;
    } catch (err) {
      throw toSharePointHubError(err, 'read');
    }
  }
}
