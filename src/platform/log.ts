/**
 * Structured JSON logs: one object per line with `time`, `level`, `msg` and
 * fields (the request id among them). A sampled request's loggers carry its
 * `trace_id`/`span_id` as fields of their own (`traceFields` in tracing.ts,
 * added where the span is made). Never logs tokens or request bodies.
 */

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  /** A logger that adds `fields` to every line. */
  child(fields: Record<string, unknown>): Logger;
}

/**
 * Creates a logger writing lines at or above `level` to `sink` (default stdout).
 * An unknown level name means `info`.
 */
export function createLogger(
  level: string = 'info',
  sink: (line: string) => void = (line) => process.stdout.write(`${line}\n`),
  base: Record<string, unknown> = {},
): Logger {
  return new JsonLogger(ORDER[level as LogLevel] ?? ORDER.info, sink, base);
}

// A class rather than closures: every request makes child loggers, and a
// child is then one small object, not five fresh functions. A child keeps its
// parent and its own fields, merged on its first line: most children of a
// request (request id, tenant) never write one below the logger's level.
class JsonLogger implements Logger {
  private merged: Record<string, unknown> | undefined;

  constructor(
    private readonly min: number,
    private readonly sink: (line: string) => void,
    private readonly parent: JsonLogger | Record<string, unknown>,
    private readonly own?: Record<string, unknown>,
  ) {}

  /** The fields of every line: the parent's, then this logger's own. */
  private get base(): Record<string, unknown> {
    if (this.merged === undefined) {
      const above = this.parent instanceof JsonLogger ? this.parent.base : this.parent;
      this.merged = this.own === undefined ? above : { ...above, ...this.own };
    }
    return this.merged;
  }

  debug(msg: string, fields?: Record<string, unknown>): void {
    this.write('debug', msg, fields);
  }
  info(msg: string, fields?: Record<string, unknown>): void {
    this.write('info', msg, fields);
  }
  warn(msg: string, fields?: Record<string, unknown>): void {
    this.write('warn', msg, fields);
  }
  error(msg: string, fields?: Record<string, unknown>): void {
    this.write('error', msg, fields);
  }
  child(fields: Record<string, unknown>): Logger {
    return new JsonLogger(this.min, this.sink, this, fields);
  }

  private write(lvl: LogLevel, msg: string, fields?: Record<string, unknown>): void {
    if (ORDER[lvl] < this.min) return;
    let line: string;
    try {
      line = JSON.stringify({
        time: new Date().toISOString(),
        level: lvl,
        msg,
        ...this.base,
        ...fields,
      });
    } catch {
      line = JSON.stringify({ time: new Date().toISOString(), level: lvl, msg, ...this.base });
    }
    this.sink(line);
  }
}

/** A logger that drops everything (tests). */
export const silentLogger: Logger = createLogger('error', () => undefined);

/** Describes an error for a log line: code, message and the cause chain (never sent to clients). */
export function errorFields(err: unknown): Record<string, unknown> {
  if (!(err instanceof Error)) return { error: String(err) };
  const out: Record<string, unknown> = { error: err.message, errorName: err.name };
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string') out.code = code;
  if (err.cause !== undefined) {
    out.cause = err.cause instanceof Error ? `${err.cause.name}: ${err.cause.message}` : String(err.cause);
  }
  if (err.stack) out.stack = err.stack.split('\n').slice(0, 6).join('\n');
  return out;
}
