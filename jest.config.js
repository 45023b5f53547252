/**
 * Jest runs TypeScript through SWC (fast, no type checking: `npm run typecheck`
 * does that). ESM-only dependencies are transformed too so they load under
 * Jest's CommonJS module system.
 */
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: {
    '^.+\\.(t|j|mj)sx?$': [
      '@swc/jest',
      { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' }, module: { type: 'commonjs' } },
    ],
  },
  // @opentelemetry's exporter loads node:http with import(), which Jest's CommonJS sandbox refuses.
  transformIgnorePatterns: ['/node_modules/(?!(@pnp|jose|@opentelemetry)/)'],
  moduleFileExtensions: ['ts', 'js', 'mjs', 'cjs', 'json'],
  testTimeout: 60_000,
  // Tests that run the compiled `hub` need dist/ current.
  globalSetup: '<rootDir>/test/support/build-dist.cjs',
};
