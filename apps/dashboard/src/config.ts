/**
 * What the gateway tells the page (a JSON element it writes into
 * index.html): the GraphQL endpoint, GraphiQL's address and, in development
 * mode only, a token for the demo tenant.
 */
export interface PageConfig {
  readonly endpoint: string;
  readonly graphiql: string;
  readonly token?: string;
  readonly tenant?: string;
}

const TOKEN_KEY = 'hub-dashboard-token';

/** Reads the page's configuration (defaults when opened without the gateway). */
export function pageConfig(): PageConfig {
  const el = document.getElementById('hub-config');
  const parsed = el?.textContent ? (JSON.parse(el.textContent) as Partial<PageConfig>) : {};
  return { endpoint: parsed.endpoint ?? '/graphql', graphiql: parsed.graphiql ?? '/graphiql', ...parsed };
}

/** A token the user pasted earlier in this tab (never persisted beyond the session). */
export function storedToken(): string | undefined {
  return sessionStorage.getItem(TOKEN_KEY) ?? undefined;
}

export function storeToken(token: string): void {
  sessionStorage.setItem(TOKEN_KEY, token);
}
