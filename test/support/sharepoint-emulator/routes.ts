/**
 * The `/_api` endpoints the emulator answers (one site at a time): web, lists,
 * fields, items and files. Requests arrive here from plain HTTP and from
 * `$batch` parts alike.
 */
import { encodeInternalName, type FieldDef, type FieldType, type Site, type SpList, SpError } from './site';
import { evaluate, parseFilter } from './odata';

/** A response before it is written to HTTP or into a batch part. */
export interface Resp {
  readonly status: number;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string | Buffer;
}

/** One request to a site's `/_api`. */
export interface ApiRequest {
  /** Effective method (X-HTTP-Method applied): GET, POST, MERGE, DELETE. */
  readonly method: string;
  /** Path after `/_api/`, decoded. */
  readonly api: string;
  readonly params: URLSearchParams;
  /** Absolute URL of the site (for odata.id and nextLink). */
  readonly base: string;
  readonly headers: { readonly accept: string; readonly ifMatch?: string };
  readonly body: Buffer;
}

const Q = "'((?:[^']|'')*)'";
const unq = (s: string): string => s.replace(/''/g, "'");
const LIST = new RegExp(`^web/lists/getByTitle\\(${Q}\\)`, 'i');

function json(status: number, value: unknown, verbose = false): Resp {
  return { status, body: JSON.stringify(verbose ? { d: value } : value) };
}

function parseJson(body: Buffer): Record<string, unknown> {
  const text = body.toString('utf8').trim();
  if (!text) return {};
  try {
    const v: unknown = JSON.parse(text);
    if (v && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    // fall through
  }
  throw new SpError(
    400,
    '-1, Microsoft.OData.Core.ODataException',
    'Invalid JSON. The request body is not valid JSON.',
  );
}

function pick(obj: Record<string, unknown>, select: readonly string[] | undefined): Record<string, unknown> {
  if (!select) return obj;
  const out: Record<string, unknown> = {};
  for (const s of select) out[s] = obj[s] ?? null;
  return out;
}

function selectOf(params: URLSearchParams): string[] | undefined {
  const raw = params.get('$select');
  return raw ? raw.split(',').map((s) => s.trim()) : undefined;
}

function listJson(list: SpList, select?: readonly string[]): Record<string, unknown> {
  return pick(
    {
      Id: list.id,
      Title: list.title,
      BaseTemplate: list.baseTemplate,
      ItemCount: list.baseTemplate === 101 ? list.files.size : list.items.size,
    },
    select,
  );
}

function itemJson(
  req: ApiRequest,
  site: Site,
  list: SpList,
  row: Record<string, unknown>,
  select?: readonly string[],
) {
  const id = row.ID as number;
  const edit = `Web/Lists(guid'${list.id}')/Items(${id})`;
  const etag = list.items.get(id)?.etag ?? 1;
  return {
    'odata.type': `SP.Data.${list.title.replace(/[^A-Za-z0-9]/g, '')}ListItem`,
    'odata.id': `${req.base}/_api/${edit}`,
    'odata.etag': `"${etag}"`,
    'odata.editLink': edit,
    ...pick(row, select),
  };
}

const FIELD_KINDS: Record<number, FieldType> = { 2: 'Text', 3: 'Note', 9: 'Number', 1: 'Integer' };

function fieldFromXml(xml: string, options: number): FieldDef {
  const attrs: Record<string, string> = {};
  for (const m of xml.matchAll(/(\w+)="([^"]*)"/g)) attrs[m[1] as string] = m[2] as string;
  const type = attrs.Type as FieldType | undefined;
  if (!type || !['Text', 'Note', 'Number', 'Integer'].includes(type))
    throw new SpError(400, '-1, System.ArgumentException', `unsupported field type ${String(type)}`);
  const name = attrs.Name ?? attrs.StaticName ?? attrs.DisplayName;
  if (!name) throw new SpError(400, '-1, System.ArgumentException', 'field needs a Name');
  // Option 8 (AddFieldInternalNameHint) pins the internal name; otherwise it derives from the display name.
  const internalName = options & 8 ? name : encodeInternalName(attrs.DisplayName ?? name);
  return {
    internalName,
    title: attrs.DisplayName ?? name,
    type,
    indexed: attrs.Indexed === 'TRUE',
    unique: attrs.EnforceUniqueValues === 'TRUE',
  };
}

function fieldJson(f: FieldDef): Record<string, unknown> {
  return {
    InternalName: f.internalName,
    StaticName: f.internalName,
    Title: f.title,
    TypeAsString: f.type,
    Indexed: f.indexed,
    EnforceUniqueValues: f.unique,
  };
}

/** Answers one `/_api` request of a site. @throws SpError for odata errors. */
export async function route(site: Site, req: ApiRequest): Promise<Resp> {
  const { method, api, params } = req;
  if (/^web\/?$/i.test(api) && method === 'GET')
    return json(
      200,
      pick({ Title: site.path, Url: req.base, ServerRelativeUrl: site.path }, selectOf(params)),
    );
  if (/^web\/lists\/?$/i.test(api) && method === 'POST') {
    const b = parseJson(req.body);
    if (typeof b.Title !== 'string' || !b.Title)
      throw new SpError(400, '-1, System.ArgumentException', 'Title is required');
    return json(201, listJson(site.createList(b.Title, Number(b.BaseTemplate ?? 100))));
  }
  const file = new RegExp(`^web/getFileByServerRelativePath\\(decodedUrl=${Q}\\)(/\\$value)?$`, 'i').exec(
    api,
  );
  if (file && method === 'GET') return readFile(site, unq(file[1] as string), Boolean(file[2]));
  const m = LIST.exec(api);
  if (!m)
    throw new SpError(404, '-1, System.NotSupportedException', `The emulator does not serve /_api/${api}`);
  const list = site.list(unq(m[1] as string));
  const rest = api.slice(m[0].length);
  if (rest === '' || rest === '/') {
    if (method === 'GET') return json(200, listJson(list, selectOf(params)));
    if (method === 'MERGE') return { status: 204 };
    if (method === 'DELETE') {
      site.deleteList(list.title);
      return { status: 200, body: '' };
    }
  }
  if (/^\/fields\/?$/i.test(rest)) {
    if (method === 'GET') {
      const f = params.get('$filter');
      const expr = f ? parseFilter(f) : undefined;
      const rows = [...list.fields.values()].map(fieldJson).filter((r) => !expr || evaluate(expr, r));
      return json(200, { value: rows.map((r) => pick(r, selectOf(params))) });
    }
    if (method === 'POST') {
      const b = parseJson(req.body);
      const type = FIELD_KINDS[Number(b.FieldTypeKind)];
      if (!type || typeof b.Title !== 'string')
        throw new SpError(
          400,
          '-1, System.ArgumentException',
          'Title and a supported FieldTypeKind are required',
        );
      const def = site.addField(list, {
        internalName: encodeInternalName(b.Title),
        title: b.Title,
        type,
        indexed: b.Indexed === true,
        unique: b.EnforceUniqueValues === true,
      });
      return json(201, fieldJson(def), req.headers.accept.includes('odata=verbose'));
    }
  }
  if (/^\/fields\/createfieldasxml$/i.test(rest) && method === 'POST') {
    const p = parseJson(req.body).parameters as { SchemaXml?: unknown; Options?: unknown } | undefined;
    if (typeof p?.SchemaXml !== 'string')
      throw new SpError(400, '-1, System.ArgumentException', 'parameters.SchemaXml is required');
    return json(201, fieldJson(site.addField(list, fieldFromXml(p.SchemaXml, Number(p.Options ?? 0)))));
  }
  if (/^\/items\/?$/i.test(rest)) {
    if (method === 'GET') {
      const { rows, next, select } = site.query(list, params);
      const out: Record<string, unknown> = { value: rows.map((r) => itemJson(req, site, list, r, select)) };
      if (next) {
        const p = new URLSearchParams(params);
        p.set('$skiptoken', next);
        out['odata.nextLink'] = `${req.base}/_api/${api}?${p.toString()}`;
      }
      return json(200, out);
    }
    if (method === 'POST') {
      const b = parseJson(req.body);
      delete b.__metadata;
      const item = site.addItem(list, b);
      return json(201, itemJson(req, site, list, site.row(item)));
    }
  }
  const one = /^\/items\((\d+)\)$/i.exec(rest);
  if (one) {
    const id = Number(one[1]);
    if (method === 'GET')
      return json(200, itemJson(req, site, list, site.row(site.item(list, id)), selectOf(params)));
    if (method === 'MERGE') {
      const b = parseJson(req.body);
      delete b.__metadata;
      site.updateItem(list, id, b, req.headers.ifMatch);
      return { status: 204 };
    }
    if (method === 'DELETE') {
      site.deleteItem(list, id);
      return { status: 200, body: '' };
    }
  }
  const add = new RegExp(
    `^/rootFolder/files/AddUsingPath\\(decodedurl=${Q}(?:,\\s*Overwrite=(true|false))?\\)$`,
    'i',
  ).exec(rest);
  if (add && method === 'POST') {
    if (list.baseTemplate !== 101)
      throw new SpError(400, '-1, System.ArgumentException', `'${list.title}' is not a document library`);
    const name = unq(add[1] as string);
    if (!/^[^/\\:*?"<>|#%]+$/.test(name))
      throw new SpError(400, '-2130575245, Microsoft.SharePoint.SPException', `invalid file name ${name}`);
    if (list.files.has(name) && add[2]?.toLowerCase() !== 'true')
      throw new SpError(
        400,
        '-2130575257, Microsoft.SharePoint.SPException',
        `A file with the name ${name} already exists.`,
      );
    list.files.set(name, Buffer.from(req.body));
    return json(200, {
      Name: name,
      ServerRelativeUrl: `${site.path === '/' ? '' : site.path}/${list.title}/${name}`,
      Length: String(req.body.length),
    });
  }
  throw new SpError(
    method === 'GET' ? 404 : 405,
    '-1, System.NotSupportedException',
    `The emulator does not serve ${method} /_api/${api}`,
  );
}

function readFile(site: Site, serverRelative: string, raw: boolean): Resp {
  const prefix = site.path === '/' ? '/' : `${site.path}/`;
  const rest = serverRelative.toLowerCase().startsWith(prefix.toLowerCase())
    ? serverRelative.slice(prefix.length)
    : '';
  const at = rest.indexOf('/');
  const list = at > 0 ? site.lists.get(rest.slice(0, at).toLowerCase()) : undefined;
  const bytes = list?.files.get(rest.slice(at + 1));
  if (!list || !bytes)
    throw new SpError(404, '-2130575338, System.IO.FileNotFoundException', `File Not Found.`);
  if (!raw)
    return json(200, {
      Name: rest.slice(at + 1),
      ServerRelativeUrl: serverRelative,
      Length: String(bytes.length),
    });
  return { status: 200, headers: { 'Content-Type': 'application/octet-stream' }, body: bytes };
}
