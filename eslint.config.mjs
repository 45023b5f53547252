// Lint rules: typescript-eslint's recommended set, plus the few rules that catch
// real bugs in async store code (floating promises are the main one), and the
// layer rule: imports inside src/ go one way.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

/**
 * The layers of src/ and what each MAY import besides itself (README, "Layers").
 * Imports go one way: cli -> app (the composition root) -> http -> graphql ->
 * hub; the router and the stores sit below the hub's port (src/hub/store.ts)
 * and only app wires them in; platform (logging, auth, metrics, health, route
 * traces) is shared by every layer above the hub and imports only the hub.
 * src/cli (and src/cli.ts) is the top: it may import anything.
 * test/build/layers.test.ts lints wrong-way imports to prove the rule fires.
 */
export const MAY_IMPORT = {
  hub: [],
  platform: ['hub'],
  stores: ['hub', 'platform'],
  router: ['hub', 'platform', 'stores', 'config'],
  seed: ['hub'],
  migrate: ['hub'],
  control: ['hub', 'platform', 'stores', 'router', 'migrate', 'config'],
  move: ['hub', 'platform', 'stores', 'router', 'control', 'migrate', 'config'],
  graphql: ['hub', 'platform'],
  http: ['hub', 'platform', 'graphql'],
  app: [
    'hub',
    'platform',
    'stores',
    'router',
    'seed',
    'migrate',
    'control',
    'move',
    'graphql',
    'http',
    'config',
  ],
};
const TOP_LEVEL = [...Object.keys(MAY_IMPORT), 'cli', 'config'];

const layerRules = Object.entries(MAY_IMPORT).map(([layer, allowed]) => ({
  files: [`src/${layer}/**/*.ts`],
  rules: {
    'no-restricted-imports': [
      'error',
      {
        patterns: [
          {
            regex: `^(\\.\\./)+(${TOP_LEVEL.filter((l) => l !== layer && !allowed.includes(l)).join('|')})(/|$)`,
            message: `src/${layer} may not import this layer: imports go one way (README, "Layers").`,
          },
          // The HTTP layer knows the GraphQL layer only through its entry point (createGraphQLServer).
          ...(layer === 'http'
            ? [
                {
                  regex: '^(\\.\\./)+graphql/',
                  message: 'src/http uses src/graphql only through its index (createGraphQLServer).',
                },
              ]
            : []),
        ],
      },
    ],
  },
}));

export default tseslint.config(
  {
    ignores: [
      '**/node_modules/',
      '**/dist/',
      'coverage/',
      '.hub-data/',
      '**/generated/**',
      'test-artifacts/',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts', '**/*.tsx'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      eqeqeq: ['error', 'always', { null: 'ignore' }],
    },
  },
  {
    files: ['packages/**/*.mjs'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
  },
  {
    files: ['**/*.cjs', '**/*.js'],
    languageOptions: {
      sourceType: 'commonjs',
      globals: {
        require: 'readonly',
        module: 'writable',
        process: 'readonly',
        __dirname: 'readonly',
        console: 'readonly',
      },
    },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  ...layerRules,
  {
    // No function over 60 lines (blank and comment lines aside): a longer one is split into
    // named steps, or says why it is not next to a disable comment.
    files: ['src/**/*.ts'],
    rules: {
      'max-lines-per-function': ['error', { max: 60, skipBlankLines: true, skipComments: true }],
    },
  },
  {
    // Commands load what they run with require() inside `run` (typed by `typeof import`),
    // so `hub --help` loads no store driver, GraphQL or HTTP code.
    files: ['src/cli/**/*.ts'],
    rules: {
      '@typescript-eslint/no-require-imports': 'off',
      '@typescript-eslint/consistent-type-imports': ['error', { disallowTypeAnnotations: false }],
    },
  },
);
