/**
 * bench:abuse's command line, shared by its processes (the bench, the gateway
 * child and the attacker, which is forked with the bench's arguments).
 */
/** The arguments after the script's path. */
export const args = process.argv.slice(2);

/** The number after `--<name>`, or `dflt` when the flag is absent. */
export const arg = (name: string, dflt: number): number => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};

/** Progress lines, on stderr (stdout holds the report). */
export const log = (line: string): void => console.error(`[bench] ${line}`);
