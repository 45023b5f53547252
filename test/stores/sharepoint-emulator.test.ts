/**
 * The SharePoint REST emulator against the real @pnp/sp v4 fluent API (the
 * calls a SharePoint developer would write, not just the store's), plus the
 * rules the store depends on: bearer token, internal-name encoding, paging
 * with odata.nextLink, $batch with changesets, unique values, the list view
 * threshold and throttling answers.
 */
import '@pnp/sp/webs/index.js';
import '@pnp/sp/lists/index.js';
import '@pnp/sp/items/index.js';
import '@pnp/sp/fields/index.js';
import '@pnp/sp/files/index.js';
import '@pnp/sp/folders/index.js';
import '@pnp/sp/batching.js';
import { BearerToken, BrowserFetch, DefaultParse } from '@pnp/queryable';
import { DefaultHeaders, DefaultInit, spfi } from '@pnp/sp';
import { type SharePointEmulator, startSharePointEmulator } from '../support/sharepoint-emulator';

// NodeNext loses pnp's module augmentations (pnp/pnpjs#2986): this is the
// small typed surface of the fluent API these tests use.
interface Items {
  (): Promise<Record<string, unknown>[]>;
  add(props: Record<string, unknown>): Promise<Record<string, unknown>>;
  top(n: number): Items;
  select(...fields: string[]): Items;
  filter(expr: string): Items;
  orderBy(field: string, ascending?: boolean): Items;
  getById(id: number): {
    (): Promise<Record<string, unknown>>;
    select(...fields: string[]): () => Promise<Record<string, unknown>>;
  };
  [Symbol.asyncIterator](): AsyncIterator<Record<string, unknown>[]>;
}
interface List {
  (): Promise<Record<string, unknown>>;
  items: Items;
  fields: {
    (): Promise<{ InternalName: string }[]>;
    createFieldAsXml(xml: string | { SchemaXml: string; Options: number }): Promise<unknown>;
    addText(title: string, props?: Record<string, unknown>): Promise<unknown>;
  };
  rootFolder: {
    files: { addUsingPath(name: string, body: unknown, p?: { Overwrite: boolean }): Promise<unknown> };
  };
}
interface Web {
  lists: {
    ensure(title: string, desc?: string, template?: number): Promise<{ created: boolean }>;
    getByTitle(t: string): List;
  };
  getFileByServerRelativePath(path: string): { getBuffer(): Promise<ArrayBuffer> };
  batched(props?: { maxRequests?: number }): [Web, () => Promise<void>];
}
interface SP {
  web: Web;
}

let emulator: SharePointEmulator;
const SITE = '/sites/claresia-emu';

function sp(token = emulator.token): SP {
  return spfi(`${emulator.url}${SITE}`).using(
    DefaultHeaders(),
    DefaultInit(),
    BrowserFetch(),
    DefaultParse(),
    BearerToken(token),
  ) as unknown as SP;
}

async function status(p: Promise<unknown>): Promise<number | 'ok'> {
  try {
    await p;
    return 'ok';
  } catch (err) {
    return (err as { status?: number }).status ?? -1;
  }
}

beforeAll(async () => {
  emulator = await startSharePointEmulator({ listViewThreshold: 20 });
});
afterAll(() => emulator.close());

describe('SharePoint REST emulator with the real @pnp/sp', () => {
  test('lists.ensure, fields (encoded and pinned internal names), items.add and get', async () => {
    const web = sp().web;
    expect((await web.lists.ensure('Things')).created).toBe(true);
    expect((await web.lists.ensure('Things')).created).toBe(false); // GET then MERGE
    const list = web.lists.getByTitle('Things');
    await list.fields.addText('provenance_hash', { Indexed: true });
    await list.fields.createFieldAsXml({
      SchemaXml:
        '<Field Type="Text" Name="Amount" DisplayName="amount_x" Indexed="TRUE" EnforceUniqueValues="TRUE" />',
      Options: 8,
    });
    const names = (await list.fields()).map((f) => f.InternalName);
    expect(names).toEqual(expect.arrayContaining(['provenance_x005f_hash', 'Amount']));
    const added = await list.items.add({ Title: 'a', Amount: '7', provenance_x005f_hash: 'h' });
    expect(added).toMatchObject({ Id: 1, ID: 1, Title: 'a', Amount: '7', 'odata.etag': '"1"' });
    expect(await list.items.getById(1).select('Amount')()).toMatchObject({ Amount: '7' });
    // EnforceUniqueValues: a second item with the same value is refused (case-insensitively).
    expect(await status(list.items.add({ Title: 'b', Amount: '7' }))).toBe(500);
    // Unknown columns are refused, not ignored.
    expect(await status(list.items.add({ Title: 'c', Nope: 1 }))).toBe(400);
  });

  test('filter, orderBy, top and async paging through odata.nextLink', async () => {
    const list = sp().web.lists.getByTitle('Paged');
    await sp().web.lists.ensure('Paged');
    await list.fields.createFieldAsXml({
      SchemaXml: '<Field Type="Text" Name="K" Indexed="TRUE" />',
      Options: 8,
    });
    for (let i = 0; i < 7; i++) await list.items.add({ Title: `t${i}`, K: `k${i % 3}` });
    const pages: string[][] = [];
    for await (const page of list.items
      .select('Title', 'K')
      .filter("K eq 'K1' or K eq 'k2'")
      .orderBy('K', false)
      .top(2))
      pages.push(page.map((r) => r.Title as string));
    // Case-insensitive comparison ('K1' matches 'k1'), K descending then ID ascending, two per page.
    expect(pages).toEqual([
      ['t2', 't5'],
      ['t1', 't4'],
    ]);
  });

  test('batched(): reads and a changeset of writes in one $batch, one response per part', async () => {
    await sp().web.lists.ensure('Batch');
    const [web, execute] = sp().web.batched();
    const list = web.lists.getByTitle('Batch');
    const results: Record<string, unknown> = {};
    const before = emulator.stats.batches;
    const x = list.items.add({ Title: 'x' }).then((r) => (results.x = r));
    const y = list.items.add({ Title: 'y' }).then((r) => (results.y = r));
    const all = list.items
      .select('Title')()
      .then((r) => (results.all = r));
    // Never await a batched request before execute(): it settles only then.
    await execute();
    await Promise.all([x, y, all]);
    expect(emulator.stats.batches).toBe(before + 1);
    expect(results.x).toMatchObject({ Title: 'x', 'odata.type': 'SP.Data.BatchListItem' });
    expect(results.y).toMatchObject({ Title: 'y' });
    // The read part runs after the changeset, so it sees both writes.
    expect((results.all as { Title: string }[]).map((r) => r.Title)).toEqual(['x', 'y']);
  });

  test('files: AddUsingPath and getFileByServerRelativePath/$value round-trip bytes', async () => {
    const web = sp().web;
    await web.lists.ensure('Docs', '', 101);
    const bytes = Buffer.from([0, 1, 2, 250, 255, 10, 13]);
    await web.lists.getByTitle('Docs').rootFolder.files.addUsingPath('a b.bin', bytes, { Overwrite: true });
    const got = await web.getFileByServerRelativePath(`${SITE}/Docs/a b.bin`).getBuffer();
    expect(Buffer.from(got).equals(bytes)).toBe(true);
    expect(await status(web.getFileByServerRelativePath(`${SITE}/Docs/none`).getBuffer())).toBe(404);
  });

  test('a wrong bearer token is answered 401', async () => {
    expect(await status(sp('wrong').web.lists.ensure('X'))).toBe(401);
  });

  test('list view threshold: over it, filtering on an unindexed column is refused', async () => {
    const web = sp().web;
    await web.lists.ensure('Big');
    const list = web.lists.getByTitle('Big');
    await list.fields.createFieldAsXml({
      SchemaXml: '<Field Type="Text" Name="Ix" Indexed="TRUE" />',
      Options: 8,
    });
    await list.fields.createFieldAsXml({ SchemaXml: '<Field Type="Text" Name="Plain" />', Options: 8 });
    for (let i = 0; i < 21; i++) await list.items.add({ Title: `t${i}`, Ix: `v${i}`, Plain: `v${i}` });
    expect(await status(list.items.filter("Plain eq 'v1'")())).toBe(500);
    expect(await status(list.items.orderBy('Plain')())).toBe(500);
    expect((await list.items.filter("Ix eq 'v1'")()).map((r) => r.Title)).toEqual(['t1']);
  });

  test('throttling: 429 with Retry-After on requests and on single $batch parts', async () => {
    await sp().web.lists.ensure('Throttled');
    const date = new Date(Date.now() + 2000).toUTCString();
    emulator.throttle({ scope: 'request', times: 1, retryAfter: date });
    const res = await fetch(`${emulator.url}${SITE}/_api/web`, {
      headers: { Authorization: `Bearer ${emulator.token}` },
    });
    expect(res.status).toBe(429);
    expect(res.headers.get('retry-after')).toBe(date);
    expect((await res.json()) as unknown).toHaveProperty(['odata.error', 'code']);

    emulator.throttle({ scope: 'part', times: 1, retryAfter: '3', match: (r) => r.method === 'POST' });
    const [web, execute] = sp().web.batched();
    const list = web.lists.getByTitle('Throttled');
    const outcomes: (string | number)[] = [];
    const a = list.items.add({ Title: 'a' }).then(
      () => outcomes.push('ok'),
      (e: { status: number; response: Response }) =>
        outcomes.push(e.status, e.response.headers.get('Retry-After') ?? ''),
    );
    const b = list.items.add({ Title: 'b' }).then(
      () => outcomes.push('ok'),
      (e: { status: number }) => outcomes.push(e.status),
    );
    await execute();
    await Promise.all([a, b]);
    // pnp does not retry per-part 429s: the first add fails, the second lands.
    expect(outcomes).toEqual([429, '3', 'ok']);

    // pnp's batch parser keeps only header lines with exactly one ':', so a
    // per-part Retry-After given as an HTTP-date is lost (the store then backs off on its own).
    emulator.throttle({ scope: 'part', times: 1, retryAfter: date, match: (r) => r.method === 'POST' });
    const [web2, execute2] = sp().web.batched();
    const lost = web2.lists
      .getByTitle('Throttled')
      .items.add({ Title: 'c' })
      .then(
        () => 'ok',
        (e: { status: number; response: Response }) => [e.status, e.response.headers.get('Retry-After')],
      );
    await execute2();
    expect(await lost).toEqual([429, null]);
  });
});
