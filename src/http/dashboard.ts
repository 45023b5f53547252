/**
 * The manager dashboard at /dashboard/, working offline like GraphiQL: the
 * page and its bundle (built by Vite into apps/dashboard/dist, found through
 * the workspace package @hub-gateway/dashboard) are served by the gateway
 * itself, under a Content-Security-Policy of 'self'. The page gets its
 * configuration (GraphQL endpoint, GraphiQL address and, in development mode,
 * the demo token) in a JSON element written into index.html.
 */
import { createReadStream, existsSync, readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { dirname, extname, join } from 'node:path';
import { sendError } from './respond';

export interface DashboardOptions {
  /** Token the page uses (development mode only); without it the page asks for one. */
  readonly devToken?: string;
  /** Tenant of `devToken`, shown on the page. */
  readonly tenant?: string;
  /** Folder of the built app (default: the workspace package's dist/). */
  readonly distDir?: string;
}

const TYPES: Readonly<Record<string, string>> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
};

const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  // ECharts and React set inline styles at run time.
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** Built asset names only: no path separators, so no request reaches outside dist/assets. */
const ASSET_RE = /^[A-Za-z0-9._-]+$/;

/**
 * The built app's folder: the workspace package's dist/ in a repository
 * checkout, else apps/dashboard/dist beside this module's tree (the packed
 * gateway ships it there), or null when neither exists.
 */
export function dashboardDist(options: DashboardOptions = {}): string | null {
  if (options.distDir) return options.distDir;
  try {
    return join(dirname(require.resolve('@hub-gateway/dashboard/package.json')), 'dist');
  } catch {
    // src/http or dist/http: the package root is two levels up.
    const shipped = join(__dirname, '..', '..', 'apps', 'dashboard', 'dist');
    return existsSync(shipped) ? shipped : null;
  }
}

const NOT_BUILT = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Dashboard not built</title></head>
<body><h1>The dashboard is not built</h1><p>Run <code>npm run build:dashboard</code> (or <code>npm ci</code>, which builds it), then reload.</p></body></html>`;

/** Serves /dashboard (a redirect), /dashboard/ (the page) and /dashboard/assets/* (its files). */
export async function handleDashboard(
  options: DashboardOptions,
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('allow', 'GET, HEAD');
    return sendError(res, 405, 'VALIDATION', 'use GET');
  }
  res.setHeader('x-content-type-options', 'nosniff');
  if (path === '/dashboard') {
    res.statusCode = 308;
    res.setHeader('location', '/dashboard/');
    return void res.end();
  }
  const dist = dashboardDist(options);
  if (path === '/dashboard/' || path === '/dashboard/index.html') return sendPage(options, dist, req, res);
  return sendAsset(dist, req, res, path);
}

/** The page, with the gateway's settings (and the development token, if any) in a JSON script element. */
function sendPage(
  options: DashboardOptions,
  dist: string | null,
  req: IncomingMessage,
  res: ServerResponse,
): void {
  const index = dist ? join(dist, 'index.html') : null;
  res.setHeader('content-type', 'text/html; charset=utf-8');
  res.setHeader('content-security-policy', CSP);
  // The page may carry a development token: never cache it.
  res.setHeader('cache-control', 'no-store');
  res.setHeader('referrer-policy', 'no-referrer');
  if (!index || !existsSync(index)) {
    res.statusCode = 503;
    return void res.end(req.method === 'HEAD' ? undefined : NOT_BUILT);
  }
  const config = {
    endpoint: '/graphql',
    graphiql: '/graphiql',
    ...(options.devToken ? { token: options.devToken } : {}),
    ...(options.tenant ? { tenant: options.tenant } : {}),
  };
  // JSON inside a non-executed script element; '<' is escaped so no text can close it.
  const json = JSON.stringify(config).replace(/</g, '\\u003c');
  const html = readFileSync(index, 'utf8').replace(
    '<!--hub-config-->',
    `<script type="application/json" id="hub-config">${json}</script>`,
  );
  res.end(req.method === 'HEAD' ? undefined : html);
}

/** A built asset (hashed names only, known types), cached for a year; 404 otherwise. */
async function sendAsset(
  dist: string | null,
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
): Promise<void> {
  const name = path.startsWith('/dashboard/assets/') ? path.slice('/dashboard/assets/'.length) : '';
  const type = TYPES[extname(name)];
  const file = dist && ASSET_RE.test(name) && type ? join(dist, 'assets', name) : null;
  if (!file || !existsSync(file))
    return sendError(res, 404, 'NOT_FOUND', `no dashboard asset ${name || path}`);
  res.setHeader('content-type', type as string);
  // Vite puts a content hash in every asset name.
  res.setHeader('cache-control', 'public, max-age=31536000, immutable');
  if (req.method === 'HEAD') return void res.end();
  await new Promise<void>((resolve) => {
    const stream = createReadStream(file);
    stream.on('error', () => {
      sendError(res, 500, 'INTERNAL', 'internal error');
      resolve();
    });
    stream.on('end', resolve);
    stream.pipe(res);
  });
}
