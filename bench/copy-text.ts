/**
 * One field of PostgreSQL's COPY text format for the benchmarks that load their datasets with
 * COPY (bench:postgres, bench:rollups): the store's own encoding (its column text, then COPY's
 * escapes), so a dataset loaded here holds exactly what the store's staged writes would.
 */
import type { Column } from '../src/stores/postgres/postgres-columns';
import { copyFieldOf } from '../src/stores/postgres/postgres-stage-sql';

const ENCODERS = new Map<Column['kind'], (value: unknown) => string>();

/** `value` of a column of `kind` as one COPY text field (`\N` when absent). */
export function copyField(value: unknown, kind: Column['kind']): string {
  let encode = ENCODERS.get(kind);
  if (encode === undefined) ENCODERS.set(kind, (encode = copyFieldOf(kind)));
  return encode(value);
}
