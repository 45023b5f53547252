/**
 * The `hub` command line: dispatches to the subcommands in `src/cli/`.
 * Exit codes: 0 success, 1 failure, 2 usage error.
 */
import type { CliIO, Command } from './cli/command';
import { UsageError, parseCommandArgs } from './cli/command';
import { isHubError } from './hub/errors';
import { command as dbMigrateCommand } from './cli/db-migrate';
import { command as dbTicketKeyCommand } from './cli/db-ticket-key';
import { command as migrateCommand } from './cli/migrate';
import { command as seedCommand } from './cli/seed';
import { command as verifyCommand } from './cli/verify';
import { command as tokenCommand } from './cli/token';
import { command as serveCommand } from './cli/serve';
import { command as usageCommand } from './cli/usage';
import { listCommand, setCommand, showCommand } from './cli/tenants';
import {
  cancelCommand,
  completeCommand,
  createCommand,
  reverseCommand,
  statusCommand,
  switchCommand,
  verifyCommand as moveVerifyCommand,
} from './cli/move';

/**
 * Every subcommand, one file each under src/cli/. Command modules import
 * nothing heavy at load time (their `run` imports what it needs), so
 * `hub --help` loads no store driver, GraphQL or HTTP code; the test in
 * test/build/lazy-cli.test.ts holds them to it.
 */
const COMMANDS: readonly Command[] = [
  seedCommand,
  migrateCommand,
  verifyCommand,
  dbMigrateCommand,
  dbTicketKeyCommand,
  tokenCommand,
  serveCommand,
  usageCommand,
  listCommand,
  showCommand,
  setCommand,
  createCommand,
  statusCommand,
  moveVerifyCommand,
  switchCommand,
  reverseCommand,
  completeCommand,
  cancelCommand,
];

const defaultIO: CliIO = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};

function topHelp(commands: readonly Command[]): string {
  const width = Math.max(...commands.map((c) => c.path.join(' ').length), 4);
  return [
    'hub: the Hub gateway command line',
    '',
    'Usage: hub <command> [options]',
    '',
    'Commands:',
    ...commands.map((c) => `  ${c.path.join(' ').padEnd(width)}  ${c.summary}`),
    '',
    "Run 'hub <command> --help' for a command's options.",
  ].join('\n');
}

/**
 * Runs the CLI with `argv` (without node and script) and returns the exit code.
 * Never calls process.exit, so it can be tested in-process.
 */
export async function main(argv: readonly string[], io: CliIO = defaultIO): Promise<number> {
  const commands = COMMANDS;
  if (argv.length === 0 || argv[0] === '--help' || argv[0] === '-h' || argv[0] === 'help') {
    io.out(topHelp(commands));
    return argv.length === 0 ? 2 : 0;
  }
  // Longest matching command path wins (`db migrate` before `db`).
  const match = [...commands]
    .sort((a, b) => b.path.length - a.path.length)
    .find((c) => c.path.every((word, i) => argv[i] === word));
  if (!match) {
    io.err(`hub: unknown command '${argv[0]}'\n`);
    io.err(topHelp(commands));
    return 2;
  }
  const rest = argv.slice(match.path.length);
  try {
    const args = parseCommandArgs(match, rest);
    if (args.values.help) {
      io.out(match.help);
      return 0;
    }
    return await match.run(args, io);
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`hub ${match.path.join(' ')}: ${err.message}`);
      io.err(`Run 'hub ${match.path.join(' ')} --help' for usage.`);
      return 2;
    }
    if (isHubError(err)) {
      io.err(`hub ${match.path.join(' ')}: ${err.code}: ${err.message}`);
      return 1;
    }
    throw err;
  }
}
