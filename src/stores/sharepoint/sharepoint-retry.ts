/**
 * The store's own retry policy. pnp's retrying fetch behaviors read
 * Retry-After only as seconds, have no cap and lose SharePoint's error body on
 * the last try, so the store sends every request through {@link sendWithRetry}:
 * 429, 503 and 504 answers and network failures are retried up to `retries`
 * times, waiting what Retry-After asks (seconds or an HTTP-date), capped at
 * `retryCapMs` and jittered; without Retry-After, exponential backoff.
 * Each attempt has its own deadline (`timeoutMs`); a deadline is not retried.
 *
 * Retrying a POST is safe here: every item the store writes carries its
 * record_id in an EnforceUniqueValues column, so a repeated add is refused by
 * SharePoint instead of writing twice (see sharepoint-writer.ts).
 */
import { NOOP_SPAN, type Span, inChildSpan } from '../../platform/tracing';

/** Retry settings (from the store URI). */
export interface RetryPolicy {
  readonly retries: number;
  readonly retryCapMs: number;
  readonly timeoutMs: number;
}

/** First backoff when the server gives no Retry-After (doubles per attempt). */
const BASE_BACKOFF_MS = 100;

/**
 * How long to wait before retry number `attempt` (0-based).
 * @param retryAfter the Retry-After header: delta-seconds or an HTTP-date; null when absent.
 * @param random a [0,1) source (tests pass a fixed one).
 */
export function retryDelayMs(
  retryAfter: string | null,
  attempt: number,
  policy: Pick<RetryPolicy, 'retryCapMs'>,
  now = Date.now(),
  random: () => number = Math.random,
): number {
  let base = BASE_BACKOFF_MS * 2 ** attempt;
  const asked = parseRetryAfter(retryAfter, now);
  if (asked !== undefined) base = asked;
  // Jitter upwards (up to +20%, at most +1 s): waiting less than the server asked only earns another 429,
  // and spreading retries keeps throttled writers from coming back in lockstep.
  const jitter = Math.min(base * 0.2, 1000) * random();
  return Math.round(Math.min(policy.retryCapMs, base + jitter));
}

/** Retry-After as milliseconds from `now`: `"5"` -> 5000, an HTTP-date -> its distance (>= 0). */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (value === null) return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}

const RETRY_STATUS = new Set([429, 503, 504]);

/**
 * A fetch that retries as described in the file comment, in a span of its
 * own, child of `parent`, when that one records. `log` hears each retry.
 */
export async function sendWithRetry(
  url: string,
  init: RequestInit,
  policy: RetryPolicy,
  log?: (event: string, fields?: Record<string, unknown>) => void,
  parent: Span = NOOP_SPAN,
): Promise<Response> {
  if (!parent.recording) return send(url, init, policy, NOOP_SPAN, log);
  const method = (init.method ?? 'GET').toUpperCase();
  // A span per request, retries and throttled answers as its events; the URL's
  // path only as an API shape (no query, no item ids, no quoted values).
  return inChildSpan(parent, `sharepoint ${method}`, 'client', async (span) => {
    const u = new URL(url);
    span.setAttributes({
      'http.request.method': method,
      'server.address': u.hostname,
      'sharepoint.api': apiShape(u.pathname),
    });
    const response = await send(url, init, policy, span, log);
    span.setAttribute('http.response.status_code', response.status);
    if (response.status === 429 || response.status >= 500) span.fail(String(response.status));
    return response;
  });
}

/**
 * A SharePoint REST path with what could name data replaced: quoted values
 * (other than the store's own `hub_*` list titles) by `'?'`, numbers in
 * parentheses (item ids) by `(n)`. E.g. `/sites/x/_api/web/lists/getbytitle('hub_outputs')/items(n)`.
 */
export function apiShape(path: string): string {
  return path
    .replace(/%27/gi, "'")
    .replace(/'([^']*)'/g, (_m, inner: string) => (/^hub_[a-z_]+$/.test(inner) ? `'${inner}'` : "'?'"))
    .replace(/\(\d+\)/g, '(n)');
}

async function send(
  url: string,
  init: RequestInit,
  policy: RetryPolicy,
  span: Span,
  log?: (event: string, fields?: Record<string, unknown>) => void,
): Promise<Response> {
  for (let attempt = 0; ; attempt++) {
    let response: Response;
    try {
      response = await fetch(url, { ...init, signal: AbortSignal.timeout(policy.timeoutMs) });
    } catch (err) {
      const name = (err as { name?: unknown }).name;
      if (name === 'TimeoutError' || name === 'AbortError' || attempt >= policy.retries) throw err;
      const delayMs = retryDelayMs(null, attempt, policy);
      log?.('sharepoint.retry', { reason: 'network', attempt: attempt + 1, delayMs });
      span.addEvent('sharepoint.retry', { reason: 'network', attempt: attempt + 1, delay_ms: delayMs });
      await sleep(delayMs);
      continue;
    }
    if (!RETRY_STATUS.has(response.status) || attempt >= policy.retries) return response;
    const retryAfter = response.headers.get('Retry-After');
    const delayMs = retryDelayMs(retryAfter, attempt, policy);
    log?.('sharepoint.retry', { status: response.status, retryAfter, attempt: attempt + 1, delayMs });
    span.addEvent(response.status === 429 ? 'sharepoint.throttled' : 'sharepoint.retry', {
      'http.response.status_code': response.status,
      attempt: attempt + 1,
      delay_ms: delayMs,
      retry_after: retryAfter ?? undefined,
    });
    await response.body?.cancel();
    await sleep(delayMs);
  }
}

/** Waits `ms` (a plain timer: a CLI waiting on a retry must not exit meanwhile). */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
