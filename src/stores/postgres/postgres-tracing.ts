/**
 * Driver-level spans of the PostgreSQL store: one span per statement of a
 * transaction (`db.system` postgresql, `db.operation`, `db.statement` with its
 * `$n` placeholders and never its parameters), children of the active span
 * (the store call's). A transaction's statements are pipelined on one
 * connection, so each span runs from the call to the transaction's result,
 * queueing for a connection included. With tracing off when the store
 * opens (the composition root installs the tracer first), the database is
 * returned unwrapped: no proxy, no check per statement.
 */
import { errorCode, tracer } from '../../platform/tracing';
import type { Row, RunOptions, Scope, Statement, TenantDatabase } from './queryable';

/**
 * Wraps `db` so every `run` records its statements as spans; other members
 * are `db`'s own. Returns `db` itself when tracing is off.
 */
export function traceDatabase<D extends TenantDatabase>(db: D): D {
  if (!tracer().enabled) return db;
  const run = db.run.bind(db);
  const traced = (scope: Scope, statements: readonly Statement[], options?: RunOptions): Promise<Row[][]> => {
    const t = tracer();
    if (!t.enabled || !t.activeSpan().recording) return run(scope, statements, options);
    const spans = statements.map((s) => {
      const operation = operationOf(s.sql);
      const span = t.startSpan(`${operation} postgresql`, 'client');
      span.setAttributes({
        'db.system': 'postgresql',
        'db.operation': operation,
        'db.statement': s.sql,
        'hub.tenant': 'tenant' in scope ? scope.tenant : undefined,
        'db.transaction.read_only': options?.snapshot === true,
      });
      return span;
    });
    return run(scope, statements, options).then(
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
