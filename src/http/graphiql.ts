/**
 * GraphiQL at /graphiql, working offline: the page, its bootstrap script,
 * React, ReactDOM and GraphiQL's UMD build and stylesheet are all served by
 * the gateway from node_modules (fonts are inlined in the stylesheet). A
 * Content-Security-Policy of 'self' makes the browser refuse anything else.
 * In development mode the page opens with a working token in its headers.
 */
import { createReadStream, existsSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { sendError } from './respond';

export interface GraphiQLOptions {
  /** Token put in GraphiQL's headers editor (development mode only). */
  readonly devToken?: string;
}

/** Static assets by URL name: package file and content type. */
const ASSETS: Readonly<
  Record<string, { readonly pkg: string; readonly file: string; readonly type: string }>
> = {
  'react.production.min.js': { pkg: 'react', file: 'umd/react.production.min.js', type: 'text/javascript' },
  'react-dom.production.min.js': {
    pkg: 'react-dom',
    file: 'umd/react-dom.production.min.js',
    type: 'text/javascript',
  },
  'graphiql.min.js': { pkg: 'graphiql', file: 'graphiql.min.js', type: 'text/javascript' },
  'graphiql.min.css': { pkg: 'graphiql', file: 'graphiql.min.css', type: 'text/css' },
};

const resolved = new Map<string, string | null>();

/**
 * Finds a file inside an installed package. Packages' `exports` maps hide their
 * UMD files from require.resolve, so the node_modules lookup paths are walked.
 */
function packageFile(pkg: string, file: string): string | null {
  const key = `${pkg}/${file}`;
  if (!resolved.has(key)) {
    const dirs = require.resolve.paths(pkg) ?? [];
    resolved.set(key, dirs.map((d) => join(d, pkg, file)).find((p) => existsSync(p)) ?? null);
  }
  return resolved.get(key) ?? null;
}

const CSP = [
  "default-src 'self'",
  "script-src 'self'",
  // GraphiQL and CodeMirror set inline styles at run time.
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** The example query GraphiQL opens with: recent outputs and a manager's dashboard for the last 30 days. */
export function exampleQuery(now = Date.now()): string {
  const day = 86_400_000;
  const to = new Date(Math.ceil(now / day) * day).toISOString();
  const from = new Date(Math.ceil(now / day) * day - 30 * day).toISOString();
  return `# Welcome to the Hub gateway. Press the run button (or Ctrl-Enter).
# The token in the Headers tab decides the tenant; explore the schema in the docs pane.

query Overview {
  outputs(first: 5) {
    nodes { id createdAt skillId employeeId status costUsd provenance { verified } }
    pageInfo { hasNextPage endCursor }
  }
  managerDashboard(managerId: "mgr-000", from: "${from}", to: "${to}") {
    invocations
    totalCostUsd
    decisions { acceptanceRate escalations }
    topSkills { skillId invocations totalCostUsd }
    members { employeeId displayName level invocations }
  }
}
`;
}

const BOOT = `(function () {
  var cfg = JSON.parse(document.getElementById('hub-config').textContent);
  var fetcher = GraphiQL.createFetcher({ url: cfg.endpoint });
  var props = { fetcher: fetcher, defaultQuery: cfg.query, shouldPersistHeaders: false };
  // Links from the dashboard open a panel's query: /graphiql?query=...&variables=...
  var params = new URLSearchParams(window.location.search);
  if (params.get('query')) props.query = params.get('query');
  if (params.get('variables')) props.variables = params.get('variables');
  if (cfg.headers) {
    props.headers = cfg.headers;
    props.defaultHeaders = cfg.headers;
    props.defaultEditorToolsVisibility = 'headers';
  }
  ReactDOM.createRoot(document.getElementById('graphiql')).render(React.createElement(GraphiQL, props));
})();
`;

function page(options: GraphiQLOptions): string {
  const config = {
    endpoint: '/graphql',
    query: exampleQuery(),
    ...(options.devToken
      ? { headers: JSON.stringify({ Authorization: `Bearer ${options.devToken}` }, null, 2) }
      : {}),
  };
  // JSON inside a non-executed script element; '<' is escaped so no text can close the element.
  const json = JSON.stringify(config).replace(/</g, '\\u003c');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Hub gateway · GraphiQL</title>
<link rel="stylesheet" href="/graphiql/assets/graphiql.min.css">
<style>html, body, #graphiql { height: 100%; margin: 0; }</style>
</head>
<body>
<div id="graphiql">Loading GraphiQL…</div>
<script type="application/json" id="hub-config">${json}</script>
<script src="/graphiql/assets/react.production.min.js"></script>
<script src="/graphiql/assets/react-dom.production.min.js"></script>
<script src="/graphiql/assets/graphiql.min.js"></script>
<script src="/graphiql/assets/boot.js"></script>
</body>
</html>
`;
}

/** Serves the GraphiQL page and its assets. */
export async function handleGraphiQL(
  options: GraphiQLOptions,
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('allow', 'GET, HEAD');
    return sendError(res, 405, 'VALIDATION', 'use GET');
  }
  res.setHeader('x-content-type-options', 'nosniff');
  if (path === '/graphiql' || path === '/graphiql/') {
    const html = page(options);
    res.setHeader('content-type', 'text/html; charset=utf-8');
    res.setHeader('content-security-policy', CSP);
    // The page may carry a development token: never cache it.
    res.setHeader('cache-control', 'no-store');
    res.setHeader('referrer-policy', 'no-referrer');
    res.end(req.method === 'HEAD' ? undefined : html);
    return;
  }
  const name = path.slice('/graphiql/assets/'.length);
  if (path.startsWith('/graphiql/assets/') && name === 'boot.js') {
    res.setHeader('content-type', 'text/javascript; charset=utf-8');
    res.end(req.method === 'HEAD' ? undefined : BOOT);
    return;
  }
  const asset = path.startsWith('/graphiql/assets/') ? ASSETS[name] : undefined;
  if (!asset) return sendError(res, 404, 'NOT_FOUND', `no GraphiQL asset ${name}`);
  const file = packageFile(asset.pkg, asset.file);
  if (!file) return sendError(res, 404, 'NOT_FOUND', `GraphiQL asset ${name} is not installed`);
  res.setHeader('content-type', `${asset.type}; charset=utf-8`);
  res.setHeader('cache-control', 'public, max-age=86400');
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
