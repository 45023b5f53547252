/**
 * The shape of one `hub` subcommand. Each lives in its own file under
 * `src/cli/` and is listed in `src/cli.ts`.
 */
import { type ParseArgsConfig, parseArgs } from 'node:util';

export interface CliIO {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
}

export interface Command {
  /** Words that select the command, e.g. `['db', 'migrate']`. */
  readonly path: readonly string[];
  /** One line for `hub --help`. */
  readonly summary: string;
  /** Full help text for `hub <command> --help` (usage, options, examples). */
  readonly help: string;
  /** Options in `node:util` parseArgs form; `--help` is added for every command. */
  readonly options: NonNullable<ParseArgsConfig['options']>;
  /** Whether positional arguments are accepted. */
  readonly positionals?: boolean;
  /** Runs the command; resolves to the process exit code. */
  run(args: { values: Record<string, unknown>; positionals: string[] }, io: CliIO): Promise<number>;
}

/** Usage error: printed with the command's help hint, exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** Parses argv for a command; throws UsageError on unknown or malformed options. */
export function parseCommandArgs(
  command: Command,
  argv: readonly string[],
): { values: Record<string, unknown>; positionals: string[] } {
  try {
    const { values, positionals } = parseArgs({
      args: [...argv],
      options: { ...command.options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: command.positionals ?? false,
      strict: true,
    });
    return { values: values as Record<string, unknown>, positionals };
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
}
