/**
 * A local SharePoint Online REST emulator for tests: an HTTP server (node:http)
 * that answers the subset of `/_api` the SharePoint store (through @pnp/sp)
 * uses, on in-memory sites `/sites/<name>` (created on first use). See
 * README.md for exactly what it supports and what it does not.
 *
 * Fault controls: {@link SharePointEmulator.throttle} (429/503 with
 * Retry-After in seconds or as an HTTP-date, on whole requests or on parts of
 * a `$batch`), `delayMs`, `stop()` / `restart()` (same port, data kept).
 */
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { BatchFormatError, type PartResponse, formatBatchResponse, parseBatch } from './multipart';
import { type Resp, route } from './routes';
import { Site, SpError } from './site';

/** One throttling rule: the next `times` matching requests (or batch parts) are refused. */
export interface ThrottleRule {
  /** `request`: whole HTTP requests (a `$batch` POST included); `part`: sub-requests inside a `$batch`. */
  readonly scope: 'request' | 'part';
  /** 429 (default) or 503. */
  readonly status?: 429 | 503;
  /**
   * The Retry-After header: seconds (`'1'`), an HTTP-date, a function giving
   * either per response, or null for none. Default `'1'`.
   */
  readonly retryAfter?: string | (() => string) | null;
  /** How many matching requests to refuse (Infinity: until cleared). */
  times: number;
  /** Which requests the rule applies to (default: all). `path` is the URL path, decoded. */
  readonly match?: (r: { readonly method: string; readonly path: string }) => boolean;
}

/** Options of {@link SharePointEmulator.start}. */
export interface SharePointEmulatorOptions {
  /** Port (default 0: any free port). */
  readonly port?: number;
  /** The bearer token accepted (default: a random one, see `token`). */
  readonly token?: string;
  /** The list view threshold (default 5000, as SharePoint). */
  readonly listViewThreshold?: number;
  /** Optional request log. */
  readonly log?: (line: string) => void;
}

/** Counters the tests read. */
export interface EmulatorStats {
  requests: number;
  batches: number;
  batchParts: number;
  throttled: number;
}

/** See the file comment. */
export class SharePointEmulator {
  readonly token: string;
  readonly sites = new Map<string, Site>();
  readonly stats: EmulatorStats = { requests: 0, batches: 0, batchParts: 0, throttled: 0 };
  /** Every request sleeps this long first (a slow farm). */
  delayMs = 0;
  private rules: ThrottleRule[] = [];
  private lost: ThrottleRule[] = [];
  private server: http.Server;
  private readonly sockets = new Set<Socket>();
  private port = 0;

  private constructor(private readonly options: SharePointEmulatorOptions) {
    this.token = options.token ?? `emulator-${randomUUID()}`;
    this.server = this.createServer();
  }

  /** Starts an emulator. */
  static async start(options: SharePointEmulatorOptions = {}): Promise<SharePointEmulator> {
    const emulator = new SharePointEmulator(options);
    await emulator.listen(options.port ?? 0);
    return emulator;
  }

  /** Base URL, e.g. `http://127.0.0.1:PORT`. */
  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Adds a throttling rule (applied in the order added). */
  throttle(rule: ThrottleRule): ThrottleRule {
    this.rules.push(rule);
    return rule;
  }

  /** Removes every throttling and lost-response rule. */
  clearThrottles(): void {
    this.rules = [];
    this.lost = [];
  }

  /**
   * The next `times` matching requests are carried out and then the
   * connection is dropped without an answer (a response lost on the way back:
   * the client cannot know whether its write landed).
   */
  loseResponses(rule: Omit<ThrottleRule, 'scope' | 'status' | 'retryAfter'>): void {
    this.lost.push({ ...rule, scope: 'request' });
  }

  /** The site at `path` (`/sites/name`), created on first use like a pre-provisioned site collection. */
  site(path: string): Site {
    const key = path.toLowerCase();
    let site = this.sites.get(key);
    if (!site) {
      site = new Site(path, { listViewThreshold: this.options.listViewThreshold ?? 5000 });
      this.sites.set(key, site);
    }
    return site;
  }

  /** Closes the port and drops connections; data is kept (see `restart`). */
  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Listens again on the same port after `stop()`. */
  async restart(): Promise<void> {
    this.server = this.createServer();
    await this.listen(this.port);
  }

  /** Stops for good. */
  async close(): Promise<void> {
    if (this.server.listening) await this.stop();
  }

  private createServer(): http.Server {
    const server = http.createServer((req, res) => {
      // A client that gave up (deadline, reset) must not crash the emulator.
      this.handle(req, res).catch(() => res.destroy());
    });
    server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    return server;
  }

  private listen(port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, '127.0.0.1', () => {
        this.port = (this.server.address() as AddressInfo).port;
        resolve();
      });
    });
  }

  /** The first rule matching, consumed once; undefined when none applies. */
  private throttled(scope: ThrottleRule['scope'], method: string, path: string): PartResponse | undefined {
    const rule = this.rules.find(
      (r) => r.scope === scope && r.times > 0 && (!r.match || r.match({ method, path })),
    );
    if (!rule) return undefined;
    rule.times--;
    this.stats.throttled++;
    const status = rule.status ?? 429;
    const ra = rule.retryAfter === undefined ? '1' : rule.retryAfter;
    const retryAfter = typeof ra === 'function' ? ra() : ra;
    return {
      status,
      headers: {
        'Content-Type': 'application/json;odata=minimalmetadata;charset=utf-8',
        ...(retryAfter === null ? {} : { 'Retry-After': retryAfter }),
      },
      body: errorJson(
        '-2147024860, Microsoft.SharePoint.SPRequestThrottledException',
        status === 429 ? 'The request has been throttled.' : 'The server is busy.',
      ),
    };
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    this.stats.requests++;
    const method = (req.method ?? 'GET').toUpperCase();
    const url = new URL(req.url ?? '/', this.url);
    this.options.log?.(`${method} ${url.pathname}${url.search}`);
    if (this.delayMs > 0) await new Promise((r) => setTimeout(r, this.delayMs));
    let out: Resp;
    try {
      if (req.headers.authorization !== `Bearer ${this.token}`) {
        out = {
          status: 401,
          headers: {
            'WWW-Authenticate': 'Bearer realm="emulator",client_id="00000003-0000-0ff1-ce00-000000000000"',
          },
          body: JSON.stringify({ error_description: 'Invalid issuer or signature.' }),
        };
      } else {
        out =
          this.throttled('request', method, decodeURIComponent(url.pathname)) ??
          (await this.dispatch(method, url, req.headers, body));
      }
    } catch (err) {
      out = errorResp(err);
    }
    const path = decodeURIComponent(url.pathname);
    const lose = this.lost.find((r) => r.times > 0 && (!r.match || r.match({ method, path })));
    if (lose && out.status < 300) {
      lose.times--;
      req.socket.destroy();
      return;
    }
    res.writeHead(out.status, {
      'Content-Type': 'application/json;odata=minimalmetadata;charset=utf-8',
      ...out.headers,
    });
    res.end(out.body ?? '');
  }

  /** Splits `/sites/x/_api/rest` into the site and `rest`. */
  private locate(url: URL): { site: Site; api: string } {
    const path = decodeURIComponent(url.pathname);
    const m = /^((?:\/sites\/[A-Za-z0-9_-]+)?)\/_api\/(.*)$/i.exec(path);
    if (!m) throw new SpError(404, '-1, System.IO.FileNotFoundException', 'File Not Found.');
    return { site: this.site(m[1] || '/'), api: m[2] as string };
  }

  private async dispatch(
    method: string,
    url: URL,
    headers: http.IncomingHttpHeaders,
    body: Buffer,
  ): Promise<Resp> {
    const { site, api } = this.locate(url);
    const override = String(headers['x-http-method'] ?? '').toUpperCase();
    const effective = method === 'POST' && override ? override : method;
    if (api === '$batch' && method === 'POST')
      return this.batch(site, headers['content-type'], body.toString('utf8'));
    return route(site, {
      method: effective,
      api,
      params: url.searchParams,
      base: `${this.url}${site.path === '/' ? '' : site.path}`,
      headers: { accept: String(headers.accept ?? ''), ifMatch: headerValue(headers['if-match']) },
      body,
    });
  }

  private async batch(site: Site, contentType: string | undefined, text: string): Promise<Resp> {
    let parts;
    try {
      parts = parseBatch(text, contentType);
    } catch (err) {
      if (err instanceof BatchFormatError)
        throw new SpError(400, '-1, System.InvalidOperationException', err.message);
      throw err;
    }
    this.stats.batches++;
    const responses: PartResponse[] = [];
    for (const part of parts) {
      this.stats.batchParts++;
      try {
        const url = new URL(part.url, this.url);
        const { site: partSite, api } = this.locate(url);
        if (partSite !== site)
          throw new SpError(400, '-1, System.ArgumentException', 'A batch may only address its own site.');
        const limited = this.throttled('part', part.method, decodeURIComponent(url.pathname));
        if (limited) {
          responses.push(limited);
          continue;
        }
        const out = await route(site, {
          method: part.method,
          api,
          params: url.searchParams,
          base: `${this.url}${site.path === '/' ? '' : site.path}`,
          headers: { accept: part.headers.accept ?? '', ifMatch: part.headers['if-match'] },
          body: Buffer.from(part.body, 'utf8'),
        });
        responses.push({
          status: out.status,
          headers: {
            'CONTENT-TYPE': 'application/json;odata=minimalmetadata;streaming=true;charset=utf-8',
            ...out.headers,
          },
          body: Buffer.isBuffer(out.body) ? out.body.toString('utf8') : out.body,
        });
      } catch (err) {
        const r = errorResp(err);
        responses.push({
          status: r.status,
          headers: { 'CONTENT-TYPE': 'application/json;odata=minimalmetadata;charset=utf-8' },
          body: String(r.body),
        });
      }
    }
    const { body, contentType: type } = formatBatchResponse(responses);
    return { status: 200, headers: { 'Content-Type': type }, body };
  }
}

function headerValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

/** An odata.error body. */
export function errorJson(code: string, message: string): string {
  return JSON.stringify({ 'odata.error': { code, message: { lang: 'en-US', value: message } } });
}

function errorResp(err: unknown): Resp {
  if (err instanceof SpError) return { status: err.status, body: errorJson(err.code, err.message) };
  return {
    status: 500,
    body: errorJson('-2146233088, System.InvalidOperationException', `emulator error: ${String(err)}`),
  };
}
