/**
 * In-memory SharePoint sites for the emulator: lists (generic lists and
 * document libraries), fields, items and files, with the rules the store
 * depends on: internal names, indexed columns, EnforceUniqueValues, the list
 * view threshold, `$top` limits and `$skiptoken` paging.
 */
import { randomUUID } from 'node:crypto';
import {
  type FilterExpr,
  ODataQueryError,
  evaluate,
  filterFields,
  parseFilter,
  parseOrderBy,
  parseSkipToken,
  rowComparator,
  skipToken,
} from './odata';

/** An error answered as `{"odata.error": ...}` with an HTTP status. */
export class SpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export type FieldType = 'Text' | 'Note' | 'Number' | 'Integer' | 'Counter' | 'DateTime';

export interface FieldDef {
  readonly internalName: string;
  readonly title: string;
  readonly type: FieldType;
  readonly indexed: boolean;
  readonly unique: boolean;
}

export interface Item {
  readonly ID: number;
  readonly values: Record<string, unknown>;
  etag: number;
}

export interface SpList {
  readonly id: string;
  title: string;
  readonly baseTemplate: number;
  readonly fields: Map<string, FieldDef>;
  readonly items: Map<number, Item>;
  nextId: number;
  /** Document libraries: file name -> bytes. */
  readonly files: Map<string, Buffer>;
  /** EnforceUniqueValues columns: field -> lower-cased value -> item ID. */
  readonly unique: Map<string, Map<string, number>>;
}

const BUILTIN: readonly FieldDef[] = [
  { internalName: 'ID', title: 'ID', type: 'Counter', indexed: true, unique: true },
  { internalName: 'Title', title: 'Title', type: 'Text', indexed: false, unique: false },
  { internalName: 'Created', title: 'Created', type: 'DateTime', indexed: false, unique: false },
  { internalName: 'Modified', title: 'Modified', type: 'DateTime', indexed: false, unique: false },
];

/** SharePoint's internal-name encoding: every non-alphanumeric becomes `_xHHHH_` (`a_b` -> `a_x005f_b`). */
export function encodeInternalName(title: string): string {
  return title.replace(
    /[^A-Za-z0-9]/g,
    (c) => `_x${(c.codePointAt(0) as number).toString(16).padStart(4, '0')}_`,
  );
}

/** Largest `$top` SharePoint accepts for items. */
export const MAX_PAGE = 5000;

/** Options that shape how a site answers queries. */
export interface SiteRules {
  /** Items above which filtering or ordering on unindexed columns is refused (SharePoint: 5000). */
  readonly listViewThreshold: number;
}

/** One site collection (`/sites/<name>`). */
export class Site {
  readonly lists = new Map<string, SpList>();

  constructor(
    readonly path: string,
    private readonly rules: SiteRules,
  ) {}

  list(title: string): SpList {
    const list = this.lists.get(title.toLowerCase());
    if (!list)
      throw new SpError(
        404,
        '-1, System.ArgumentException',
        `List '${title}' does not exist at site with URL '${this.path}'.`,
      );
    return list;
  }

  createList(title: string, baseTemplate: number): SpList {
    if (this.lists.has(title.toLowerCase()))
      throw new SpError(
        500,
        '-2130575342, Microsoft.SharePoint.SPException',
        `A list, survey, discussion board, or document library with the specified title already exists in this Web site.  Please choose another title.`,
      );
    const list: SpList = {
      id: randomUUID(),
      title,
      baseTemplate,
      fields: new Map(BUILTIN.map((f) => [f.internalName, f])),
      items: new Map(),
      nextId: 1,
      files: new Map(),
      unique: new Map(),
    };
    this.lists.set(title.toLowerCase(), list);
    return list;
  }

  deleteList(title: string): void {
    this.list(title);
    this.lists.delete(title.toLowerCase());
  }

  addField(list: SpList, def: FieldDef): FieldDef {
    if (list.fields.has(def.internalName) || [...list.fields.values()].some((f) => f.title === def.title))
      throw new SpError(
        500,
        '-2130575245, Microsoft.SharePoint.SPException',
        `A duplicate field name "${def.internalName}" was found.`,
      );
    if (def.unique && !def.indexed)
      throw new SpError(
        400,
        '-2146232832, Microsoft.SharePoint.SPException',
        'You must first index this column before enforcing unique values.',
      );
    list.fields.set(def.internalName, def);
    if (def.unique) {
      const index = new Map<string, number>();
      for (const item of list.items.values()) {
        const v = item.values[def.internalName];
        if (v !== null && v !== undefined) index.set(String(v).toLowerCase(), item.ID);
      }
      list.unique.set(def.internalName, index);
    }
    return def;
  }

  private field(list: SpList, name: string): FieldDef {
    const f = list.fields.get(name === 'Id' ? 'ID' : name);
    if (!f)
      throw new SpError(
        400,
        '-1, Microsoft.SharePoint.Client.InvalidClientQueryException',
        `The property '${name}' does not exist on type 'SP.Data.${list.title}ListItem'. Make sure to only use property names that are defined by the type.`,
      );
    return f;
  }

  private checkValues(list: SpList, values: Record<string, unknown>, exceptId?: number): void {
    for (const [name, value] of Object.entries(values)) {
      const f = this.field(list, name);
      if (f.type === 'Counter')
        throw new SpError(400, '-1, System.ArgumentException', `${name} is read-only`);
      if (f.type === 'Text' && typeof value === 'string' && value.length > 255)
        throw new SpError(
          400,
          '-2130575155, Microsoft.SharePoint.SPFieldValidationException',
          `The value of field ${name} is longer than 255 characters.`,
        );
      if (!f.unique || value === null || value === undefined) continue;
      // Unique values compare case-insensitively, like every text comparison in SharePoint.
      const holder = list.unique.get(name)?.get(String(value).toLowerCase());
      if (holder !== undefined && holder !== exceptId)
        throw new SpError(
          500,
          '-2130575169, Microsoft.SharePoint.SPDuplicateValuesFoundException',
          'The list item could not be added or updated because duplicate values were found in one or more fields in the list.',
        );
    }
  }

  private index(list: SpList, item: Item, add: boolean): void {
    for (const [name, index] of list.unique) {
      const v = item.values[name];
      if (v === null || v === undefined) continue;
      if (add) index.set(String(v).toLowerCase(), item.ID);
      else index.delete(String(v).toLowerCase());
    }
  }

  addItem(list: SpList, values: Record<string, unknown>): Item {
    this.checkValues(list, values);
    const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
    const item: Item = { ID: list.nextId++, values: { ...values, Created: now, Modified: now }, etag: 1 };
    list.items.set(item.ID, item);
    this.index(list, item, true);
    return item;
  }

  item(list: SpList, id: number): Item {
    const item = list.items.get(id);
    if (!item)
      throw new SpError(
        404,
        '-2130575338, System.ArgumentException',
        'Item does not exist. It may have been deleted by another user.',
      );
    return item;
  }

  updateItem(list: SpList, id: number, values: Record<string, unknown>, ifMatch: string | undefined): void {
    const item = this.item(list, id);
    if (ifMatch && ifMatch !== '*' && ifMatch.replace(/"/g, '') !== String(item.etag))
      throw new SpError(412, '-1, Microsoft.SharePoint.Client.ClientServiceException', 'Version conflict.');
    this.checkValues(list, values, id);
    this.index(list, item, false);
    Object.assign(item.values, values, { Modified: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z') });
    this.index(list, item, true);
    item.etag++;
  }

  deleteItem(list: SpList, id: number): void {
    this.index(list, this.item(list, id), false);
    list.items.delete(id);
  }

  /** The row a query sees: values plus ID/Id. */
  row(item: Item): Record<string, unknown> {
    return { ...item.values, ID: item.ID, Id: item.ID };
  }

  /**
   * Runs an items query. Over the list view threshold, a filter or order on an
   * unindexed column is refused (SPQueryThrottledException), as SharePoint does.
   * @returns the page's rows and the `$skiptoken` of the next page, if any.
   */
  query(
    list: SpList,
    params: URLSearchParams,
  ): { rows: Record<string, unknown>[]; next?: string; select: string[] | undefined } {
    let filter: FilterExpr | undefined;
    let keys;
    try {
      const f = params.get('$filter');
      filter = f ? parseFilter(f) : undefined;
      keys = parseOrderBy(params.get('$orderby'));
    } catch (err) {
      if (err instanceof ODataQueryError)
        throw new SpError(400, '-1, Microsoft.SharePoint.Client.InvalidClientQueryException', err.message);
      throw err;
    }
    const used = [...(filter ? filterFields(filter) : []), ...keys.map((k) => k.field)];
    for (const name of used) {
      const f = this.field(list, name);
      if (!f.indexed && list.items.size > this.rules.listViewThreshold)
        throw new SpError(
          500,
          '-2147024860, Microsoft.SharePoint.SPQueryThrottledException',
          'The attempted operation is prohibited because it exceeds the list view threshold.',
        );
    }
    const topRaw = params.get('$top');
    const top = topRaw === null ? 100 : Number(topRaw);
    if (!Number.isInteger(top) || top < 1 || top > MAX_PAGE)
      throw new SpError(
        400,
        '-1, Microsoft.SharePoint.Client.InvalidClientQueryException',
        `The $top value must be between 1 and ${MAX_PAGE}.`,
      );
    const cmp = rowComparator(keys);
    let rows = [...list.items.values()].map((i) => this.row(i));
    if (filter) rows = rows.filter((r) => evaluate(filter, r));
    rows.sort(cmp);
    const token = params.get('$skiptoken');
    if (token) {
      let after;
      try {
        after = parseSkipToken(token, keys);
      } catch (err) {
        throw new SpError(400, '-1, System.ArgumentException', (err as Error).message);
      }
      rows = rows.filter((r) => cmp(r, after) > 0);
    }
    const page = rows.slice(0, top);
    const last = page[page.length - 1];
    const selectRaw = params.get('$select');
    const select = selectRaw ? selectRaw.split(',').map((s) => s.trim()) : undefined;
    for (const s of select ?? []) this.field(list, s);
    return { rows: page, next: rows.length > top && last ? skipToken(keys, last) : undefined, select };
  }
}
