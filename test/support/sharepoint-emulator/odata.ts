/**
 * The OData query subset of the SharePoint emulator: `$filter` (comparisons
 * joined by and/or/not, parentheses), `$orderby`, and `$skiptoken` positions.
 *
 * Text comparisons are case-insensitive, as SharePoint's SQL collation makes
 * them: a client that needs exact (case-sensitive) matches must check the rows
 * it gets back. Anything outside the subset (functions such as `startswith`,
 * arithmetic, lambda operators) is refused with an error, never ignored.
 */

/** A parsed `$filter` expression. */
export type FilterExpr =
  | { readonly kind: 'cmp'; readonly field: string; readonly op: CmpOp; readonly value: Literal }
  | { readonly kind: 'and' | 'or'; readonly left: FilterExpr; readonly right: FilterExpr }
  | { readonly kind: 'not'; readonly expr: FilterExpr };

export type CmpOp = 'eq' | 'ne' | 'lt' | 'le' | 'gt' | 'ge';
export type Literal = string | number | boolean | null;

/** A query the emulator cannot answer; the server turns it into an odata.error 400. */
export class ODataQueryError extends Error {}

type Token = { t: 'id' | 'str' | 'num' | 'op'; v: string };

function tokenize(text: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i] as string;
    if (/\s/.test(c)) {
      i++;
    } else if (c === '(' || c === ')') {
      out.push({ t: 'op', v: c });
      i++;
    } else if (c === "'") {
      let s = '';
      i++;
      for (;;) {
        if (i >= text.length) throw new ODataQueryError('unterminated string literal in $filter');
        if (text[i] === "'") {
          if (text[i + 1] === "'") {
            s += "'";
            i += 2;
            continue;
          }
          i++;
          break;
        }
        s += text[i];
        i++;
      }
      out.push({ t: 'str', v: s });
    } else if (/[-0-9]/.test(c)) {
      const m = /^-?\d+(\.\d+)?/.exec(text.slice(i));
      if (!m) throw new ODataQueryError(`unexpected ${JSON.stringify(c)} in $filter`);
      out.push({ t: 'num', v: m[0] });
      i += m[0].length;
    } else if (/[A-Za-z_]/.test(c)) {
      const m = /^[A-Za-z_][A-Za-z0-9_/]*/.exec(text.slice(i)) as RegExpExecArray;
      out.push({ t: 'id', v: m[0] });
      i += m[0].length;
    } else {
      throw new ODataQueryError(`unexpected ${JSON.stringify(c)} in $filter`);
    }
  }
  return out;
}

/** Parses a `$filter` value. @throws ODataQueryError outside the supported subset. */
export function parseFilter(text: string): FilterExpr {
  const tokens = tokenize(text);
  let pos = 0;
  const peek = (): Token | undefined => tokens[pos];
  const isWord = (w: string): boolean => {
    const t = peek();
    return t?.t === 'id' && t.v.toLowerCase() === w;
  };
  const orExpr = (): FilterExpr => {
    let left = andExpr();
    while (isWord('or')) {
      pos++;
      left = { kind: 'or', left, right: andExpr() };
    }
    return left;
  };
  const andExpr = (): FilterExpr => {
    let left = unary();
    while (isWord('and')) {
      pos++;
      left = { kind: 'and', left, right: unary() };
    }
    return left;
  };
  const unary = (): FilterExpr => {
    if (isWord('not')) {
      pos++;
      return { kind: 'not', expr: unary() };
    }
    const t = peek();
    if (t?.t === 'op' && t.v === '(') {
      pos++;
      const e = orExpr();
      const close = peek();
      if (close?.t !== 'op' || close.v !== ')') throw new ODataQueryError('missing ) in $filter');
      pos++;
      return e;
    }
    if (t?.t !== 'id') throw new ODataQueryError('expected a field name in $filter');
    pos++;
    const next = peek();
    if (next?.t === 'op' && next.v === '(')
      throw new ODataQueryError(`function ${t.v}() is not supported by the emulator`);
    const op = next?.t === 'id' ? next.v.toLowerCase() : '';
    if (!['eq', 'ne', 'lt', 'le', 'gt', 'ge'].includes(op))
      throw new ODataQueryError(`expected a comparison after ${t.v} in $filter`);
    pos++;
    const lit = peek();
    pos++;
    let value: Literal;
    if (lit?.t === 'str') value = lit.v;
    else if (lit?.t === 'num') value = Number(lit.v);
    else if (lit?.t === 'id' && ['null', 'true', 'false'].includes(lit.v))
      value = lit.v === 'null' ? null : lit.v === 'true';
    else throw new ODataQueryError(`expected a literal after ${t.v} ${op} in $filter`);
    return { kind: 'cmp', field: t.v, op: op as CmpOp, value };
  };
  const expr = orExpr();
  if (pos !== tokens.length) throw new ODataQueryError('unexpected text after the end of $filter');
  return expr;
}

/** Every field name a filter reads. */
export function filterFields(expr: FilterExpr): string[] {
  switch (expr.kind) {
    case 'cmp':
      return [expr.field];
    case 'not':
      return filterFields(expr.expr);
    default:
      return [...filterFields(expr.left), ...filterFields(expr.right)];
  }
}

/** Compares like SharePoint: nulls first, text case-insensitively, numbers numerically. */
export function compareValues(a: unknown, b: unknown): number {
  if (a === b) return 0;
  if (a === null || a === undefined) return b === null || b === undefined ? 0 : -1;
  if (b === null || b === undefined) return 1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  const x = String(a).toLowerCase();
  const y = String(b).toLowerCase();
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Evaluates a filter on one row (field -> value). */
export function evaluate(expr: FilterExpr, row: Readonly<Record<string, unknown>>): boolean {
  switch (expr.kind) {
    case 'and':
      return evaluate(expr.left, row) && evaluate(expr.right, row);
    case 'or':
      return evaluate(expr.left, row) || evaluate(expr.right, row);
    case 'not':
      return !evaluate(expr.expr, row);
    case 'cmp': {
      const v = row[expr.field];
      if (expr.value === null) {
        const isNull = v === null || v === undefined;
        return expr.op === 'eq' ? isNull : expr.op === 'ne' ? !isNull : false;
      }
      if (v === null || v === undefined) return expr.op === 'ne';
      const c = compareValues(v, expr.value);
      switch (expr.op) {
        case 'eq':
          return c === 0;
        case 'ne':
          return c !== 0;
        case 'lt':
          return c < 0;
        case 'le':
          return c <= 0;
        case 'gt':
          return c > 0;
        case 'ge':
          return c >= 0;
      }
    }
  }
}

/** One `$orderby` key. */
export interface OrderKey {
  readonly field: string;
  readonly desc: boolean;
}

/** Parses `$orderby` (`A desc,B asc`); ID is appended as the final tie-break, as SharePoint does. */
export function parseOrderBy(text: string | null): OrderKey[] {
  const keys: OrderKey[] = [];
  for (const part of (text ?? '').split(',')) {
    const m = /^\s*([A-Za-z_][A-Za-z0-9_]*)(?:\s+(asc|desc))?\s*$/i.exec(part);
    if (!part.trim()) continue;
    if (!m) throw new ODataQueryError(`unsupported $orderby ${JSON.stringify(part)}`);
    keys.push({ field: m[1] as string, desc: (m[2] ?? '').toLowerCase() === 'desc' });
  }
  if (!keys.some((k) => k.field === 'ID' || k.field === 'Id')) keys.push({ field: 'ID', desc: false });
  return keys;
}

/** Row comparator for `keys`. */
export function rowComparator(
  keys: readonly OrderKey[],
): (a: Readonly<Record<string, unknown>>, b: Readonly<Record<string, unknown>>) => number {
  return (a, b) => {
    for (const k of keys) {
      const c = compareValues(a[k.field], b[k.field]);
      if (c !== 0) return k.desc ? -c : c;
    }
    return 0;
  };
}

/** The `$skiptoken` for the position after `row`: `Paged=TRUE&p_<field>=<value>...&p_ID=<id>`. */
export function skipToken(keys: readonly OrderKey[], row: Readonly<Record<string, unknown>>): string {
  const p = new URLSearchParams({ Paged: 'TRUE' });
  for (const k of keys) p.set(`p_${k.field}`, String(row[k.field] ?? ''));
  return p.toString();
}

/** Decodes a `$skiptoken` into a position row for {@link rowComparator}. */
export function parseSkipToken(token: string, keys: readonly OrderKey[]): Record<string, unknown> {
  const p = new URLSearchParams(token);
  if (p.get('Paged') !== 'TRUE') throw new ODataQueryError('invalid $skiptoken');
  const row: Record<string, unknown> = {};
  for (const k of keys) {
    const v = p.get(`p_${k.field}`);
    if (v === null) throw new ODataQueryError('invalid $skiptoken');
    row[k.field] = k.field === 'ID' ? Number(v) : v;
  }
  return row;
}
