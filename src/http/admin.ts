/**
 * `/admin/<action path>`: operator actions the composition root provides
 * (tenant moves run inside the serving process, which is how a tenant moves
 * off the embedded store while `npm start` holds its folder). The route
 * knows nothing of moves: it checks the caller, bounds the request and
 * streams what the action reports.
 *
 * - POST only, `Authorization: Bearer` with the `hub:admin` scope (401, 403).
 * - The action acts on the caller's own tenant: a body naming another tenant
 *   is refused (403) by the action, which is given the verified identity.
 * - Body: one JSON object of at most 8 KiB (413, 400).
 * - One admin action at a time per gateway (409 while another runs).
 * - Answer: NDJSON, `{"progress":{...}}` lines (at most four a second) then
 *   one `{"result":...}` or `{"error":{"code","message"}}` line. An action
 *   that fails before reporting anything gets a plain error status instead.
 * - Every call is logged (`admin.action` with tenant, action, subject;
 *   `admin.action_done` with the outcome and duration).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { HubError, isHubError } from '../hub/errors';
import { type Identity, requireScope } from '../platform/auth';
import type { Logger } from '../platform/log';
import { HTTP_STATUS } from '../platform/public-errors';
import { BodyTooLargeError, readBody, refuseUnreadBody, sendError } from './respond';

/** Largest admin request body. */
export const ADMIN_MAX_BODY_BYTES = 8 * 1024;

/** One admin call as the action sees it. */
export interface AdminCall {
  readonly identity: Identity;
  /** The path after `/admin/`, e.g. `move/create`. */
  readonly action: string;
  /** The request's JSON object. */
  readonly body: Readonly<Record<string, unknown>>;
  /** Reports progress (streamed to the caller, throttled). */
  progress(event: unknown): void;
}

/**
 * Runs an admin call; resolves the result to answer.
 * @throws HubError NOT_FOUND for an unknown action, FORBIDDEN for another
 *   tenant, VALIDATION for a bad body, or the action's own errors.
 */
export type AdminActions = (call: AdminCall) => Promise<unknown>;

/** State shared by a gateway's admin calls. */
export interface AdminRoute {
  readonly actions: AdminActions;
  readonly authenticate: (authorization: string | undefined) => Promise<Identity>;
  busy: boolean;
}

/** Handles one `/admin/...` request; see the module comment. */
export async function handleAdmin(
  route: AdminRoute,
  req: IncomingMessage,
  res: ServerResponse,
  action: string,
  log: Logger,
): Promise<void> {
  if (req.method !== 'POST') {
    res.setHeader('allow', 'POST');
    refuseUnreadBody(req, res);
    return sendError(res, 405, 'VALIDATION', 'use POST with a JSON body');
  }
  let identity: Identity;
  try {
    identity = await route.authenticate(req.headers.authorization);
    requireScope(identity, 'hub:admin');
  } catch (err) {
    const code = isHubError(err) ? err.code : 'INTERNAL';
    if (code === 'UNAUTHENTICATED') res.setHeader('www-authenticate', 'Bearer');
    refuseUnreadBody(req, res);
    return sendError(res, HTTP_STATUS[code], code, isHubError(err) ? err.message : 'internal error');
  }
  let body: Record<string, unknown>;
  try {
    body = parseObject(await readBody(req, ADMIN_MAX_BODY_BYTES));
  } catch (err) {
    if (err instanceof BodyTooLargeError)
      return sendError(res, 413, 'VALIDATION', `admin requests are at most ${ADMIN_MAX_BODY_BYTES} bytes`);
    return sendError(res, 400, 'VALIDATION', (err as Error).message);
  }
  if (route.busy)
    return sendError(
      res,
      409,
      'CONFLICT',
      'another admin action is running on this gateway; retry when it ends',
    );
  route.busy = true;
  try {
    await runAction(route, res, { identity, action, body }, log);
  } finally {
    route.busy = false;
  }
}

/** Runs the action, answering its result (or error) at once or after its progress lines; logs it. */
async function runAction(
  route: AdminRoute,
  res: ServerResponse,
  call: Omit<AdminCall, 'progress'>,
  log: Logger,
): Promise<void> {
  const { identity, action } = call;
  const started = Date.now();
  const fields = { tenant: identity.tenant, action, subject: identity.subject ?? null };
  log.info('admin.action', fields);
  const stream = new NdjsonAnswer(res);
  try {
    const result = await route.actions({ ...call, progress: (e) => stream.progress(e) });
    stream.finish({ result });
    log.info('admin.action_done', { ...fields, ok: true, ms: Date.now() - started });
  } catch (err) {
    const failure = isHubError(err) ? err : new HubError('INTERNAL', 'internal error', { cause: err });
    log.info('admin.action_done', {
      ...fields,
      ok: false,
      code: failure.code,
      error: failure.message,
      ms: Date.now() - started,
    });
    if (!stream.started) sendError(res, HTTP_STATUS[failure.code], failure.code, failure.message);
    else stream.finish({ error: { code: failure.code, message: failure.message } });
  }
}

function parseObject(raw: Buffer): Record<string, unknown> {
  if (raw.length === 0) return {};
  let value: unknown;
  try {
    value = JSON.parse(raw.toString('utf8'));
  } catch {
    throw new Error('the body is not JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new Error('the body must be a JSON object');
  return value as Record<string, unknown>;
}

/** An NDJSON answer started at the first progress line; progress throttled to four lines a second. */
class NdjsonAnswer {
  started = false;
  private last = 0;

  constructor(private readonly res: ServerResponse) {}

  private line(value: unknown): void {
    if (!this.started) {
      this.started = true;
      this.res.statusCode = 200;
      this.res.setHeader('content-type', 'application/x-ndjson; charset=utf-8');
    }
    if (!this.res.writableEnded && !this.res.destroyed) this.res.write(`${JSON.stringify(value)}\n`);
  }

  progress(event: unknown): void {
    const now = Date.now();
    const final = (event as { final?: unknown } | null)?.final === true;
    if (!final && now - this.last < 250) return;
    this.last = now;
    this.line({ progress: event });
  }

  finish(value: unknown): void {
    this.line(value);
    if (!this.res.writableEnded) this.res.end();
  }
}
