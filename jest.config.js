/** Jest runs TypeScript through swc (fast, no type-check: `npm run typecheck` does that). */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2022' } }] },
  // Server start plus workflow bundling takes far longer than jest's 5 s default.
  testTimeout: 60_000,
  globalSetup: '<rootDir>/test/setup/global-setup.ts',
  // A suite that times out can leave its worker or server running after its teardown gave up;
  // the verdict is in by then, so jest exits instead of waiting on them (CI has a hard limit).
  forceExit: true,
};
