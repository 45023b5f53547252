/** A dashboard panel: title, link to its query in GraphiQL, and loading / error / empty / data states. */
import type { ReactNode } from 'react';
import type { Loaded } from './api';
import { graphiqlLink } from './format';

export interface PanelProps<T> {
  readonly id: string;
  readonly title: string;
  readonly loaded: Loaded<T>;
  /** The GraphQL behind the panel, for the GraphiQL link. */
  readonly query: string;
  readonly variables: unknown;
  readonly graphiql: string;
  readonly isEmpty: (data: T) => boolean;
  readonly children: (data: T) => ReactNode;
  readonly wide?: boolean;
}

export function Panel<T>(p: PanelProps<T>) {
  const state = p.loaded.state === 'ok' ? (p.isEmpty(p.loaded.data) ? 'empty' : 'ok') : p.loaded.state;
  return (
    <section
      className={p.wide ? 'panel wide' : 'panel'}
      aria-labelledby={`${p.id}-title`}
      data-panel={p.id}
      data-state={state}
      data-variables={p.loaded.state === 'ok' ? p.loaded.variables : undefined}
      aria-busy={state === 'loading'}
    >
      <header>
        <h2 id={`${p.id}-title`}>{p.title}</h2>
        <a
          className="graphiql"
          href={graphiqlLink(p.graphiql, p.query, p.variables)}
          target="_blank"
          rel="noreferrer"
        >
          Query in GraphiQL<span aria-hidden="true"> ↗</span>
        </a>
      </header>
      {p.loaded.state === 'loading' && (
        <p className="status" role="status">
          Loading…
        </p>
      )}
      {p.loaded.state === 'error' && (
        <p className="error" role="alert">
          Could not load this panel: {p.loaded.message} <code>{p.loaded.code}</code>
        </p>
      )}
      {state === 'empty' && <p className="status">No data for this team and range.</p>}
      {p.loaded.state === 'ok' && state === 'ok' && p.children(p.loaded.data)}
    </section>
  );
}
