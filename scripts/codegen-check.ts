/**
 * `npm run codegen:check`: regenerates every codegen output into a temporary
 * directory and fails (exit 1) when any committed generated file differs, so
 * CI catches a schema.graphql or operation change without `npm run codegen`.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { generate } from '@graphql-codegen/cli';
import type { Types } from '@graphql-codegen/plugin-helpers';
import { parse as parseYaml } from 'yaml';

async function main(): Promise<number> {
  const root = resolve(__dirname, '..');
  const config = parseYaml(readFileSync(join(root, 'codegen.yml'), 'utf8')) as Types.Config;
  const tmp = mkdtempSync(join(tmpdir(), 'hub-codegen-'));
  try {
    const generates: Types.Config['generates'] = {};
    const targets: [string, string][] = [];
    for (const [path, output] of Object.entries(config.generates)) {
      const rel = relative(root, resolve(root, path));
      // Same relative layout under tmp so relative imports in the output are identical.
      const out = join(tmp, rel);
      generates[out] = output;
      targets.push([join(root, rel), out]);
    }
    process.chdir(root);
    await generate({ ...config, generates, silent: true, errorsOnly: true }, true);
    let stale = 0;
    for (const [committed, fresh] of targets) {
      let current = '';
      try {
        current = readFileSync(committed, 'utf8');
      } catch {
        current = '';
      }
      if (current !== readFileSync(fresh, 'utf8')) {
        process.stderr.write(`stale: ${relative(root, committed)} (run npm run codegen)\n`);
        stale++;
      }
    }
    if (stale === 0) process.stdout.write(`codegen: ${targets.length} generated files are current\n`);
    return stale === 0 ? 0 : 1;
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
}

main().then(
  (code) => (process.exitCode = code),
  (err: unknown) => {
    process.stderr.write(`codegen check failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
