import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // external reference suites run with `npm run test:conformance`
    exclude: ['test/conformance/**', '**/node_modules/**'],
    // installs (or names) the servers the suite starts for real
    globalSetup: ['test/setup/system-packages.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
