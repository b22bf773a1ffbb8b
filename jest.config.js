/** Jest runs TypeScript through swc (fast, no type-check: `npm run typecheck` does that). */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2022' } }] },
  // Server start plus workflow bundling takes far longer than jest's 5 s default.
  testTimeout: 60_000,
  globalSetup: '<rootDir>/test/setup/global-setup.ts',
};
