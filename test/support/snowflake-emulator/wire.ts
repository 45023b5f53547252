/**
 * Snowflake REST wire shapes the emulator answers with: result bodies (inline
 * rowset plus chunks), error bodies, echoed session parameters, and request
 * body reading (gzip sniffing).
 */
import type http from 'node:http';
import { gunzipSync } from 'node:zlib';
import type { WireColumn, WireResult } from './engine';
import type { SnowflakeEmulatorError } from './translate';

/** A JSON response body. */
export type Body = Record<string, unknown>;

/** Session parameters every query response echoes (the driver reads formats from them). */
export function parametersOf(session: Readonly<Record<string, unknown>>): { name: string; value: unknown }[] {
  const base: Record<string, unknown> = {
    TIMEZONE: 'UTC',
    TIMESTAMP_OUTPUT_FORMAT: 'YYYY-MM-DD HH24:MI:SS.FF3 TZHTZM',
    TIMESTAMP_NTZ_OUTPUT_FORMAT: 'YYYY-MM-DD HH24:MI:SS.FF3',
    TIMESTAMP_LTZ_OUTPUT_FORMAT: '',
    TIMESTAMP_TZ_OUTPUT_FORMAT: '',
    DATE_OUTPUT_FORMAT: 'YYYY-MM-DD',
    TIME_OUTPUT_FORMAT: 'HH24:MI:SS',
    BINARY_OUTPUT_FORMAT: 'HEX',
    CLIENT_STAGE_ARRAY_BINDING_THRESHOLD: 2147483647,
    ...session,
  };
  return Object.entries(base).map(([name, value]) => ({ name, value }));
}

/** How {@link resultBody} splits large results and what it echoes. */
export interface ResultOptions {
  /** Rows sent inline; the rest go in chunks of this many rows. */
  readonly chunkRows: number;
  /** Absolute URL of chunk `n` (the driver fetches it with a plain GET). */
  readonly chunkUrl: (n: number) => string;
  /** Keeps chunk `n`'s body: rows as JSON arrays joined by commas, no outer brackets. */
  readonly saveChunk: (n: number, text: string) => void;
  readonly parameters: Readonly<Record<string, unknown>>;
  readonly info: Readonly<Record<string, string | null>>;
}

/** A successful query response: first rows inline, the rest as chunks; `returned` is the full count. */
export function resultBody(queryId: string, result: WireResult, o: ResultOptions): Body {
  const rows = result.rowset;
  const chunks: Body[] = [];
  for (let start = o.chunkRows, n = 0; start < rows.length; start += o.chunkRows, n++) {
    const part = rows.slice(start, start + o.chunkRows);
    const text = part.map((r) => JSON.stringify(r)).join(',');
    o.saveChunk(n, text);
    const size = Buffer.byteLength(text);
    chunks.push({ url: o.chunkUrl(n), rowCount: part.length, uncompressedSize: size, compressedSize: size });
  }
  return {
    success: true,
    code: null,
    message: null,
    data: {
      queryId,
      statementTypeId: result.statementTypeId,
      queryResultFormat: 'json',
      version: 1,
      total: rows.length,
      returned: rows.length,
      parameters: parametersOf(o.parameters),
      rowtype: result.rowtype,
      rowset: rows.slice(0, o.chunkRows),
      ...(chunks.length > 0 ? { chunks } : {}),
      finalDatabaseName: o.info.databaseName,
      finalSchemaName: o.info.schemaName,
      finalWarehouseName: o.info.warehouseName,
      finalRoleName: o.info.roleName,
    },
  };
}

/** The parent result of a multi-statement request (children are fetched by id). */
export const MULTI_STATEMENT_RESULT: WireResult = {
  statementTypeId: 0x1000,
  rowtype: [
    {
      name: 'multiple statement execution',
      type: 'text',
      nullable: false,
      length: 16777216,
      byteLength: 16777216,
      precision: null,
      scale: null,
      database: '',
      schema: '',
      table: '',
      collation: null,
    } satisfies WireColumn,
  ],
  rowset: [['Multiple statements executed successfully.']],
};

/** A failure in Snowflake's shape (always sent with HTTP 200 or 401, never 5xx). */
export function errorBody(e: SnowflakeEmulatorError, queryId: string | undefined): Body {
  return {
    success: false,
    code: e.code,
    message: e.message,
    data: { errorCode: e.code, sqlState: e.sqlState, queryId: queryId ?? null, internalError: false },
  };
}

/** Reads a request body; the driver may gzip it without saying so, so the gzip magic bytes are sniffed. */
export async function readBody(req: http.IncomingMessage): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of req) parts.push(chunk as Buffer);
  const raw = Buffer.concat(parts);
  return raw.length >= 2 && raw[0] === 0x1f && raw[1] === 0x8b ? gunzipSync(raw) : raw;
}

/** Keeps a map bounded by dropping its oldest entries. */
export function trim<K, V>(map: Map<K, V>, max: number): void {
  while (map.size > max) {
    const first = map.keys().next();
    if (first.done) return;
    map.delete(first.value);
  }
}
