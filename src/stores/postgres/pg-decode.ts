/**
 * A `pg` query whose rows are decoded as they arrive by a {@link RowDecoder}
 * (see Statement.decode), from the column texts pg's protocol parser has
 * already cut out of each DataRow message: no row object keyed by column
 * name, no type parser per value, and each row's texts are garbage as soon
 * as its record is made (a page of 10,000 rows no longer keeps 10,000 row
 * objects alive until the page ends). It extends pg's own Query, so it runs
 * on a pipelined client like any other statement (named, so kept prepared,
 * when the config says so).
 */
import { Query, type QueryConfig } from 'pg';
import type { Row, RowDecoder } from './queryable';

/** pg's internals this class relies on (not in its typings). */
interface QueryInternals {
  _canceledDueToError: unknown;
  _result: { rows: Row[] };
}

/** A query whose `result` settles with its decoded rows (and pg's command tag). */
export class DecodingQuery extends Query {
  readonly result: Promise<{ rows: Row[]; command: string }>;
  private readonly decode: RowDecoder;

  constructor(config: QueryConfig, decode: RowDecoder) {
    let settle: ((err: Error | undefined, res: unknown) => void) | undefined;
    super(config, undefined, (err: Error | undefined, res: unknown) => settle?.(err, res));
    this.result = new Promise((resolve, reject) => {
      settle = (err, res) => (err ? reject(err) : resolve(res as Awaited<DecodingQuery['result']>));
    });
    this.decode = decode;
  }

  /**
   * One DataRow: its texts (null for NULL) decoded and kept. A decoder error
   * cancels the query as a type parser's does in pg: the error is reported
   * once the server has finished answering, and no later row is decoded.
   */
  handleDataRow(msg: { fields: (string | null)[] }): void {
    const self = this as unknown as QueryInternals;
    if (self._canceledDueToError) return;
    try {
      self._result.rows.push(this.decode(msg.fields));
    } catch (err) {
      self._canceledDueToError = err;
    }
  }
}
