/**
 * One field of PostgreSQL's COPY text format: `\N` for a missing value, JSON for JSON columns,
 * backslash, newline, carriage return and tab escaped. Shared by the benchmarks that load their
 * datasets with COPY (bench:postgres, bench:rollups).
 */
export function copyField(value: unknown, kind: string): string {
  if (value === undefined || value === null) return '\\N';
  const text =
    kind === 'json' || kind === 'json_object'
      ? JSON.stringify(value)
      : typeof value === 'number'
        ? String(value)
        : (value as string);
  return text.replace(/[\\\n\r\t]/g, (c) =>
    c === '\\' ? '\\\\' : c === '\n' ? '\\n' : c === '\r' ? '\\r' : '\\t',
  );
}
