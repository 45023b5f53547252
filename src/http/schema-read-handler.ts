/**
 * `/graphql` for a schema-only caller (a `hub:schema` token, no tenant): the
 * operation, from the POST body or the GET query string, goes to the GraphQL
 * layer's schema read, which answers `{ _service { sdl } }` and refuses every
 * other field (403 FORBIDDEN) before anything runs. No tenant is involved,
 * so there is no admission, persisted query or tenant tag.
 */
import type { ServerResponse } from 'node:http';
import { type SchemaReadRequest, answerSchemaRead } from '../graphql';
import { HTTP_STATUS } from '../platform/public-errors';
import { sendError } from './respond';

/**
 * Answers a schema-only caller's request. `body` is the parsed POST body
 * (undefined for GET, whose operation is in `url`).
 */
export async function handleSchemaRead(
  res: ServerResponse,
  accept: string | undefined,
  url: URL,
  body: unknown,
  maxTokens: number,
): Promise<void> {
  const answer = await answerSchemaRead(requestOf(url, body), maxTokens);
  // GraphQL over HTTP: the newer media type when the client accepts it, else application/json.
  const type = (accept ?? '').includes('application/graphql-response+json')
    ? 'application/graphql-response+json'
    : 'application/json';
  if (answer.kind === 'refused') {
    // As for every /graphql request: a request error answers 200 under application/json.
    const status =
      answer.code === 'VALIDATION' && type === 'application/json' ? 200 : HTTP_STATUS[answer.code];
    return sendError(res, status, answer.code, answer.message);
  }
  res.statusCode = 200;
  res.setHeader('content-type', `${type}; charset=utf-8`);
  res.end(JSON.stringify(answer.result));
}

function requestOf(url: URL, body: unknown): SchemaReadRequest {
  if (body === undefined) {
    const variables = url.searchParams.get('variables');
    let parsed: unknown;
    try {
      parsed = variables === null ? undefined : JSON.parse(variables);
    } catch {
      parsed = undefined;
    }
    return {
      query: url.searchParams.get('query'),
      operationName: url.searchParams.get('operationName') ?? undefined,
      variables: parsed,
    };
  }
  const b = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
  return { query: b.query, operationName: b.operationName, variables: b.variables };
}
