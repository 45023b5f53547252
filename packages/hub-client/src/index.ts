/**
 * @hub-gateway/client: typed documents for the Hub gateway's operations and a
 * small fetch-based client to run them.
 */
export {
  createHubClient,
  routingOf,
  type FieldRouting,
  type HubClient,
  type HubClientOptions,
  type HubResult,
  type RequestOptions,
  type TypedDocument,
  type VariablesArgs,
} from './client.js';
export { HubClientError, isHubErrorCode, type GraphQLErrorEntry, type HubErrorCode } from './errors.js';
export * from './generated/graphql.js';
