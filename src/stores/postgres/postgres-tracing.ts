/**
 * Driver-level spans of the PostgreSQL store: one span per statement of a
 * transaction (`db.system` postgresql, `db.operation`, `db.statement` with its
 * `$n` placeholders and never its parameters), children of the span the
 * store's traced view was made for (the store call's). A transaction's
 * statements are pipelined on one connection, so each span runs from the call
 * to the transaction's result, queueing for a connection included. Only the
 * traced view's database is wrapped: ordinary calls run on the database as is.
 */
import { type Span, errorCode } from '../../platform/tracing';
import type { Row, RunOptions, Scope, Statement, TenantDatabase } from './queryable';

/** `db` whose `run` records its statements as spans, children of `parent`; other members are `db`'s own. */
export function traceDatabase<D extends TenantDatabase>(db: D, parent: Span): D {
  const traced = (scope: Scope, statements: readonly Statement[], options?: RunOptions): Promise<Row[][]> => {
    const spans = statements.map((s) => {
      const operation = operationOf(s.sql);
      const span = parent.child(`${operation} postgresql`, 'client');
      span.setAttributes({
        'db.system': 'postgresql',
        'db.operation': operation,
        'db.statement': s.sql,
        'hub.tenant': 'tenant' in scope ? scope.tenant : undefined,
        'db.transaction.read_only': options?.snapshot === true,
      });
      return span;
    });
    return db.run(scope, statements, options).then(
      (results) => {
        results.forEach((rows, i) => spans[i]?.setAttribute('db.response.returned_rows', rows.length));
        for (const span of spans) span.end();
        return results;
      },
      (err: unknown) => {
        const code = errorCode(err);
        for (const span of spans) {
          span.fail(code);
          span.end();
        }
        throw err;
      },
    );
  };
  return new Proxy(db, {
    get(target, prop, receiver) {
      return prop === 'run' ? traced : Reflect.get(target, prop, receiver);
    },
  });
}

/** The statement's first keyword (SELECT, INSERT, WITH, ...), upper-cased. */
export function operationOf(sql: string): string {
  const m = /^\s*([A-Za-z]+)/.exec(sql);
  return m ? (m[1] as string).toUpperCase() : 'SQL';
}
