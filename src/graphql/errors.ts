/**
 * How errors reach GraphQL clients: only `extensions.code` from the closed set
 * (src/hub/errors.ts), a message that is safe to show, and for VALIDATION the
 * list of issues. SQL, stack traces, causes and anything about another tenant
 * stay in the logs.
 */
import { type GraphQLFormattedError, GraphQLError } from 'graphql';
import { type ErrorCode, ERROR_CODES, type HubError, isHubError } from '../hub/errors';
import { HTTP_STATUS, publicMessage } from '../platform/public-errors';
import { issuePathToGraphQL } from './mapping';

/** Apollo Server's own codes, translated into the closed set. */
const APOLLO_CODES: Readonly<Record<string, ErrorCode>> = {
  GRAPHQL_PARSE_FAILED: 'VALIDATION',
  GRAPHQL_VALIDATION_FAILED: 'VALIDATION',
  BAD_USER_INPUT: 'VALIDATION',
  BAD_REQUEST: 'VALIDATION',
  OPERATION_RESOLUTION_FAILURE: 'VALIDATION',
  PERSISTED_QUERY_NOT_SUPPORTED: 'VALIDATION',
  PERSISTED_QUERY_NOT_FOUND: 'NOT_FOUND',
  INTERNAL_SERVER_ERROR: 'INTERNAL',
};

/** Issues of a VALIDATION error with paths in GraphQL names. */
export function publicIssues(err: HubError): { index?: number; path: string; message: string }[] {
  return err.issues.map((i) => ({
    ...(i.index === undefined ? {} : { index: i.index }),
    path: issuePathToGraphQL(i.path),
    message: i.message,
  }));
}

/**
 * Converts a HubError into a GraphQLError. `requestLevel` errors (auth,
 * limits) carry the HTTP status Apollo should answer with.
 */
export function toGraphQLError(err: HubError, requestLevel = false): GraphQLError {
  return new GraphQLError(publicMessage(err), {
    originalError: err,
    extensions: {
      code: err.code,
      ...(err.code === 'VALIDATION' && err.issues.length > 0 ? { issues: publicIssues(err) } : {}),
      ...(requestLevel ? { http: { status: HTTP_STATUS[err.code] } } : {}),
    },
  });
}

/**
 * Apollo's `formatError`: every error leaves with a code from the closed set,
 * a safe message, no stack trace, and (for INTERNAL) a request id to quote.
 */
export function formatError(formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError {
  const original = error instanceof GraphQLError ? (error.originalError ?? error) : error;
  if (isHubError(original)) {
    return {
      message: publicMessage(original),
      ...(formatted.locations ? { locations: formatted.locations } : {}),
      ...(formatted.path ? { path: formatted.path } : {}),
      extensions: {
        code: original.code,
        ...(original.code === 'VALIDATION' && original.issues.length > 0
          ? { issues: publicIssues(original) }
          : {}),
      },
    };
  }
  const given = formatted.extensions?.code;
  const code: ErrorCode =
    typeof given === 'string' && (ERROR_CODES as readonly string[]).includes(given)
      ? (given as ErrorCode)
      : ((typeof given === 'string' ? APOLLO_CODES[given] : undefined) ?? 'INTERNAL');
  const safe = code === 'INTERNAL' ? 'internal error' : formatted.message;
  const issues = formatted.extensions?.issues;
  return {
    message: safe,
    ...(formatted.locations ? { locations: formatted.locations } : {}),
    ...(formatted.path ? { path: formatted.path } : {}),
    extensions: { code, ...(issues !== undefined && code === 'VALIDATION' ? { issues } : {}) },
  };
}
