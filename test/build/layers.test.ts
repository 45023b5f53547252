/**
 * The layer rule (eslint.config.mjs, `no-restricted-imports` per folder of
 * src/) fires on imports that go the wrong way and stays quiet on the ones
 * that go the right way. Each case lints one line of source as if it were a
 * file of that folder, with the project's real configuration (in a child
 * process: the configuration is an ES module, which Jest's module system
 * cannot load), type-aware rules off (they are not what is tested here).
 */
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';

const root = resolve(__dirname, '..', '..');

interface Case {
  readonly file: string;
  readonly code: string;
}

/** Lints each case; returns the `no-restricted-imports` messages of each. */
function lint(cases: readonly Case[]): string[][] {
  const script = `
    import { ESLint } from 'eslint';
    const cases = JSON.parse(process.argv[1]);
    const eslint = new ESLint({
      cwd: ${JSON.stringify(root)},
      overrideConfig: [{
        files: ['**/*.ts'],
        languageOptions: { parserOptions: { projectService: false, project: null } },
        rules: { '@typescript-eslint/no-floating-promises': 'off' },
      }],
    });
    const out = [];
    for (const c of cases) {
      const [result] = await eslint.lintText(c.code, { filePath: c.file });
      out.push(result.messages.filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message));
    }
    process.stdout.write(JSON.stringify(out));
  `;
  const stdout = execFileSync(
    process.execPath,
    ['--input-type=module', '-e', script, JSON.stringify(cases)],
    { cwd: root, encoding: 'utf8' },
  );
  return JSON.parse(stdout) as string[][];
}

const wrongWay: Case[] = [
  { file: 'src/graphql/mapping.ts', code: "export { createGateway } from '../http/server';\n" },
  {
    file: 'src/graphql/resolvers/query.ts',
    code: "export type { RoutingStore } from '../../router/routing-store';\n",
  },
  { file: 'src/http/respond.ts', code: "export { buildSchema } from '../graphql/schema';\n" },
  { file: 'src/http/respond.ts', code: "export { openStore } from '../stores';\n" },
  { file: 'src/hub/model.ts', code: "export { createLogger } from '../platform/log';\n" },
  { file: 'src/hub/rollups/math.ts', code: "export { readConfig } from '../../config';\n" },
  { file: 'src/router/route-x.ts', code: "export { createGraphQLServer } from '../graphql';\n" },
  { file: 'src/platform/log.ts', code: "export { RoutingStore } from '../router/routing-store';\n" },
  { file: 'src/stores/memory/memory-store.ts', code: "export { Hub } from '../../graphql';\n" },
  { file: 'src/app/serve.ts', code: "export { main } from '../cli';\n" },
];

const rightWay: Case[] = [
  { file: 'src/http/respond.ts', code: "export { createGraphQLServer } from '../graphql';\n" },
  { file: 'src/http/respond.ts', code: "export { createLogger } from '../platform/log';\n" },
  { file: 'src/graphql/mapping.ts', code: "export { Hub } from '../hub/hub';\n" },
  { file: 'src/router/route-x.ts', code: "export { recordRoute } from '../platform/route-trace';\n" },
  { file: 'src/app/serve.ts', code: "export { RoutingStore } from '../router/routing-store';\n" },
  { file: 'src/cli/serve.ts', code: "export { serve } from '../app/serve';\n" },
];

test('imports that go the wrong way fail the lint, each with the layer message; the right way passes', () => {
  const results = lint([...wrongWay, ...rightWay]);
  const wrong = results.slice(0, wrongWay.length);
  const right = results.slice(wrongWay.length);
  wrong.forEach((messages, i) => {
    expect({ case: wrongWay[i], fired: messages.length }).toEqual({ case: wrongWay[i], fired: 1 });
    expect(messages[0]).toMatch(/may not import this layer|only through its index/);
  });
  right.forEach((messages, i) =>
    expect({ case: rightWay[i], messages }).toEqual({ case: rightWay[i], messages: [] }),
  );
});
