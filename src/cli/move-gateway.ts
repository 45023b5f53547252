/**
 * `hub move <step> --via <gateway URL>`: a move step run by a serving gateway
 * (`POST /admin/move/<step>`, see docs/moves.md "Moving through the running
 * gateway") instead of in this process. It is how the embedded store moves
 * while `npm start` holds its folder, without curl and a hand-made token.
 *
 * The answer is NDJSON: progress lines, then one `result` or `error` line; a
 * step refused before it starts answers a plain error status. Both become a
 * {@link HubError} with the gateway's own code. The step keeps running on the
 * gateway if this process stops; running the command again resumes it.
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { ERROR_CODES, type ErrorCode, HubError } from '../hub/errors';
import { type LineItem, NdjsonReader } from '../http/ndjson-reader';
import type { ProgressEvent, ProgressSink } from '../migrate/progress';
import { UsageError } from './command';

/** Longest line of a gateway's answer this client holds (a verify result lists at most 100 differences). */
const MAX_LINE_BYTES = 4 * 1024 * 1024;
/** What to do when the answer ends early: the gateway's step does not stop with the connection. */
const STILL_RUNNING =
  "the step may still be running there: run the same command again to resume it, or 'hub move status --via' to see where it stands";
/** Lifetime of a token this client mints for one step. */
const MINTED_TTL_SECONDS = 15 * 60;

/** What a step sends and where. */
export interface GatewayStep {
  /** The gateway's base URL, e.g. `http://127.0.0.1:4000`. */
  readonly via: string;
  /** `create`, `status`, `verify`, `switch`, `reverse`, `complete` or `cancel`. */
  readonly step: string;
  /** The request's JSON object (the tenant, and `to`/`mode`/`purgeTarget` where the step takes them). */
  readonly body: Readonly<Record<string, unknown>>;
  /** Bearer token with `hub:admin` for the tenant. */
  readonly token: string;
  /** Receives each progress line's event. */
  readonly onProgress?: ProgressSink;
}

/**
 * The gateway's base URL from `--via`, checked: http or https, and no
 * credentials (a token goes in a header, never in a URL someone may log). A
 * path is kept as the prefix the gateway is served under.
 * @throws UsageError naming what is wrong.
 */
export function parseGatewayUrl(via: string): URL {
  let url: URL;
  try {
    url = new URL(via);
  } catch {
    throw new UsageError(
      `--via must be the gateway's URL, e.g. http://127.0.0.1:4000 (got ${JSON.stringify(via)})`,
    );
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new UsageError(`--via must be an http:// or https:// URL (got ${url.protocol})`);
  if (url.username !== '' || url.password !== '')
    throw new UsageError('--via must not carry credentials: the token goes in HUB_TOKEN');
  return url;
}

/** Where {@link tokenFor} finds a token. */
export interface TokenSource {
  /** HUB_TOKEN when set. */
  readonly env?: string;
  /** Mints a token (tenant, hub:admin); undefined when no signing secret is configured. */
  readonly mint: (tenant: string, ttlSeconds: number) => Promise<string | undefined>;
}

/**
 * The bearer token for a step on `tenant`: HUB_TOKEN when set, else one minted
 * for the tenant with `hub:admin` for 15 minutes from the signing secret this
 * machine's configuration names (as `hub token` does).
 * @throws UsageError when there is neither.
 */
export async function tokenFor(tenant: string, source: TokenSource): Promise<string> {
  if (source.env !== undefined && source.env !== '') return source.env;
  const minted = await source.mint(tenant, MINTED_TTL_SECONDS);
  if (minted === undefined)
    throw new UsageError(
      'no token for the gateway: set HUB_TOKEN to a bearer token with hub:admin for the tenant ' +
        "(e.g. from your identity provider), or HUB_AUTH_JWT_SECRET to the gateway's signing secret",
    );
  return minted;
}

/**
 * Runs one move step on the gateway and resolves with its `result` object.
 * @throws HubError with the gateway's code (UNAUTHENTICATED, FORBIDDEN,
 *   CONFLICT while another admin action runs there, the step's own errors),
 *   UNAVAILABLE when the gateway cannot be reached or its answer ends without
 *   a result (the step may still be running there: re-run to resume it).
 */
export async function runOnGateway(step: GatewayStep): Promise<Record<string, unknown>> {
  const base = parseGatewayUrl(step.via);
  const url = new URL(`admin/move/${step.step}`, base.href.endsWith('/') ? base : `${base.href}/`);
  const body = Buffer.from(JSON.stringify(step.body));
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  const res = await new Promise<IncomingMessage>((resolve, reject) => {
    const req = send(url, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${step.token}`,
        'content-type': 'application/json',
        'content-length': body.length,
        accept: 'application/x-ndjson, application/json',
      },
    });
    req.once('response', resolve);
    // `on`, not `once`: a socket error after the answer began must not go unhandled (readAnswer reports it).
    req.on('error', (err) =>
      reject(
        new HubError('UNAVAILABLE', `cannot reach the gateway at ${base.origin}: ${err.message}`, {
          cause: err,
        }),
      ),
    );
    req.end(body);
  });
  if (res.statusCode !== 200) throw await refusal(res, base.origin);
  return readAnswer(res, step.onProgress, base.origin);
}

/** A plain error answer (the step refused before it started) as a HubError. */
async function refusal(res: IncomingMessage, origin: string): Promise<HubError> {
  const text = (await readAll(res, 64 * 1024)).toString('utf8');
  let code: ErrorCode = res.statusCode === 404 ? 'NOT_FOUND' : 'INTERNAL';
  let message = `the gateway at ${origin} answered HTTP ${res.statusCode}`;
  try {
    const first = (JSON.parse(text) as { errors?: { message?: unknown; extensions?: { code?: unknown } }[] })
      .errors?.[0];
    if (first && typeof first.message === 'string') message = first.message;
    const named = first?.extensions?.code;
    if (typeof named === 'string' && (ERROR_CODES as readonly string[]).includes(named))
      code = named as ErrorCode;
  } catch {
    // Not the gateway's JSON (a proxy's page, another server): the status says enough.
  }
  if (res.statusCode === 404 && code === 'NOT_FOUND' && !text.includes('admin action'))
    message = `${message}: is ${origin} a Hub gateway, and does it serve /admin?`;
  return new HubError(code, message);
}

/** Reads the NDJSON answer line by line; resolves with the result, rejects with the error line. */
async function readAnswer(
  res: IncomingMessage,
  onProgress: ProgressSink | undefined,
  origin: string,
): Promise<Record<string, unknown>> {
  // The gateway's lines are read as /ingest reads a client's: bounded, one line held at a time.
  const reader = new NdjsonReader({ maxLineBytes: MAX_LINE_BYTES, maxTextBytes: MAX_LINE_BYTES });
  let outcome: { result: Record<string, unknown> } | { error: HubError } | undefined;
  const take = (item: LineItem): void => {
    if (item.kind === 'blank') return;
    const value = item.kind === 'record' ? item.value : undefined;
    if (!isObject(value))
      throw new HubError(
        'INTERNAL',
        `the gateway at ${origin} answered a line that is not a JSON object${item.kind === 'invalid' ? ` (${item.message})` : ''}`,
      );
    if (value.progress !== undefined) onProgress?.(value.progress as ProgressEvent);
    else if (value.error !== undefined) outcome = { error: gatewayError(value.error) };
    else if (value.result !== undefined) {
      if (!isObject(value.result))
        throw new HubError(
          'INTERNAL',
          `the gateway at ${origin} answered a result that is not a JSON object`,
        );
      outcome = { result: value.result };
    }
  };
  try {
    for await (const chunk of res as AsyncIterable<Buffer>) for (const item of reader.push(chunk)) take(item);
  } catch (err) {
    res.destroy();
    if (err instanceof HubError) throw err;
    throw new HubError(
      'UNAVAILABLE',
      `the gateway at ${origin} dropped its answer (${(err as Error).message}); ${STILL_RUNNING}`,
      {
        cause: err,
      },
    );
  }
  for (const item of reader.end()) take(item);
  if (outcome === undefined)
    throw new HubError(
      'UNAVAILABLE',
      `the gateway at ${origin} closed its answer before the step's result; ${STILL_RUNNING}`,
    );
  if ('error' in outcome) throw outcome.error;
  return outcome.result;
}

function gatewayError(raw: unknown): HubError {
  const e = (raw ?? {}) as { code?: unknown; message?: unknown };
  const code =
    typeof e.code === 'string' && (ERROR_CODES as readonly string[]).includes(e.code)
      ? (e.code as ErrorCode)
      : 'INTERNAL';
  return new HubError(code, typeof e.message === 'string' ? e.message : 'the step failed on the gateway');
}

async function readAll(res: IncomingMessage, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of res as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) {
      res.destroy();
      break;
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/**
 * The object `key` of a step's result (`move`, `report`...), for an answer
 * read as JSON from another process, which may run another version.
 * @throws HubError INTERNAL naming the step and the key when it is absent or not an object.
 */
export function resultObject<T>(result: Readonly<Record<string, unknown>>, step: string, key: string): T {
  const value = result[key];
  if (!isObject(value))
    throw new HubError('INTERNAL', `the gateway's answer to move/${step} has no "${key}" object`);
  return value as T;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
