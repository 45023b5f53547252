/**
 * `hub --help` (and a command's `--help`) stays fast because it loads no
 * dependency and none of the gateway: the command modules require what they
 * run inside `run`. Checked on the compiled CLI (dist/, built by the global
 * setup) by listing every module the process loaded.
 */
import { execFileSync } from 'node:child_process';
import { relative, resolve } from 'node:path';

const root = resolve(__dirname, '..', '..');

/** The modules (paths relative to the repository) loaded by running the CLI with `argv`. */
function modulesLoadedBy(argv: string[]): string[] {
  const script = `
    const { main } = require('./dist/cli.js');
    main(${JSON.stringify(argv)}, { out() {}, err() {} }).then((code) => {
      if (code !== 0) throw new Error('exit code ' + code);
      process.stdout.write(JSON.stringify(Object.keys(require.cache)));
    });
  `;
  const out = execFileSync(process.execPath, ['-e', script], { cwd: root, encoding: 'utf8' });
  return (JSON.parse(out) as string[]).map((p) => relative(root, p));
}

test.each([[['--help']], [['serve', '--help']], [['db', 'migrate', '--help']], [['token', '--help']]])(
  'hub %j loads no dependency and only the CLI',
  (argv) => {
    const loaded = modulesLoadedBy(argv);
    expect(loaded.filter((p) => p.includes('node_modules'))).toEqual([]);
    expect(
      loaded.filter((p) => !/^dist\/(cli\.js|cli\/|config\.js|hub\/(errors|tenant)\.js)/.test(p)),
    ).toEqual([]);
  },
);
