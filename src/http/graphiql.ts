/** GraphiQL at /graphiql (placeholder until the offline bundle lands). */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendError } from './respond';

export interface GraphiQLOptions {
  /** Development token put in GraphiQL's headers. */
  readonly devToken?: string;
}

/** Serves the GraphiQL page and its assets. */
export async function handleGraphiQL(
  _options: GraphiQLOptions,
  _req: IncomingMessage,
  res: ServerResponse,
  _path: string,
): Promise<void> {
  sendError(res, 404, 'NOT_FOUND', 'GraphiQL is not available yet');
}
