/**
 * The custom scalars. Decimal and DateTime are strings on the wire; inputs are
 * checked and normalised here so a bad literal fails as a VALIDATION error
 * before any resolver runs.
 */
import { GraphQLError, GraphQLScalarType, Kind, type ValueNode } from 'graphql';
import { parseDecimal } from '../hub/decimal';
import { unreachable } from '../hub/errors';
import { formatTimestamp, parseTimestamp } from '../hub/time';

function bad(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: 'VALIDATION' } });
}

function parseDecimalInput(value: unknown): string {
  if (typeof value !== 'string') throw bad('Decimal must be a string, e.g. "0.0125"');
  const d = parseDecimal(value);
  if (!d.ok) throw bad(`Decimal ${d.message}`);
  return d.value;
}

function parseDateTimeInput(value: unknown): string {
  const t = parseTimestamp(value);
  if (!t.ok) throw bad(`DateTime ${t.message}`);
  return formatTimestamp(t.ms);
}

/** Exact decimal as a canonical string. */
export const DecimalScalar = new GraphQLScalarType({
  name: 'Decimal',
  description: 'An exact decimal number as a canonical string.',
  serialize: (v) => String(v),
  parseValue: parseDecimalInput,
  parseLiteral: (ast) => {
    if (ast.kind !== Kind.STRING) throw bad('Decimal must be a string literal, e.g. "0.0125"');
    return parseDecimalInput(ast.value);
  },
});

/** RFC 3339 UTC instant with milliseconds. */
export const DateTimeScalar = new GraphQLScalarType({
  name: 'DateTime',
  description: 'An RFC 3339 instant; output in UTC with milliseconds.',
  serialize: (v) => (v instanceof Date ? formatTimestamp(v.getTime()) : String(v)),
  parseValue: parseDateTimeInput,
  parseLiteral: (ast) => {
    if (ast.kind !== Kind.STRING) throw bad('DateTime must be a string literal');
    return parseDateTimeInput(ast.value);
  },
});

function literalToJson(ast: ValueNode, variables: Record<string, unknown> | null | undefined): unknown {
  switch (ast.kind) {
    case Kind.STRING:
    case Kind.BOOLEAN:
      return ast.value;
    case Kind.INT:
    case Kind.FLOAT:
      return Number(ast.value);
    case Kind.NULL:
      return null;
    case Kind.LIST:
      return ast.values.map((v) => literalToJson(v, variables));
    case Kind.OBJECT:
      return Object.fromEntries(ast.fields.map((f) => [f.name.value, literalToJson(f.value, variables)]));
    case Kind.VARIABLE:
      return variables?.[ast.name.value];
    case Kind.ENUM:
      return ast.value;
    default:
      return unreachable(ast, 'value node');
  }
}

/** Any JSON value; the Hub validates it further (objects only where required). */
export const JSONScalar = new GraphQLScalarType({
  name: 'JSON',
  description: 'Any JSON value.',
  serialize: (v) => v,
  parseValue: (v) => v,
  parseLiteral: (ast, variables) => literalToJson(ast, variables),
});
