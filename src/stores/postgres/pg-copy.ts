/**
 * `COPY ... FROM STDIN` on a pipelined `pg` client, in the same round trip as
 * the transaction's other statements. node-postgres refuses custom query
 * classes (pg-copy-streams' among them) on a pipelined connection, since one
 * that waits for the server between messages would answer the queries
 * queued behind it; this one never waits: it sends the COPY as a simple
 * Query message followed at once by all its data (one CopyData message) and
 * CopyDone. The server reads them in order. If the COPY fails, the server
 * answers the error and ReadyForQuery and, per the protocol, ignores the
 * CopyData and CopyDone that follow; the transaction is then aborted, so the
 * statements after it fail and nothing is written.
 */
import { type Connection, Query } from 'pg';

/** What pg's Connection offers for COPY (used by pg-copy-streams too; not in its typings). */
interface CopyConnection {
  query(text: string): void;
  sendCopyFromChunk(chunk: Buffer): void;
  endCopyFrom(): void;
}

/** A COPY FROM STDIN with all its data known up front; `result` settles with the command's result. */
export class CopyInQuery extends Query {
  readonly result: Promise<{ rows: Record<string, unknown>[]; command: string }>;

  constructor(text: string, data: string) {
    let settle: ((err: Error | undefined, res: unknown) => void) | undefined;
    super(text, (err: Error | undefined, res: unknown) => settle?.(err, res));
    this.result = new Promise((resolve, reject) => {
      settle = (err, res) => (err ? reject(err) : resolve(res as Awaited<CopyInQuery['result']>));
    });
    const payload = Buffer.from(data, 'utf8');
    // Declared as a property in pg's typings: replaced per instance.
    this.submit = (connection: Connection): void => {
      const c = connection as unknown as CopyConnection;
      c.query(text);
      c.sendCopyFromChunk(payload);
      c.endCopyFrom();
    };
  }

  /** The data went out with the COPY itself: nothing to do when the server asks for it. */
  handleCopyInResponse(): void {}
}
