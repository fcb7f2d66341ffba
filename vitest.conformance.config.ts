import { defineConfig } from 'vitest/config';
import base from './vitest.config.js';

// `npm run test:conformance`: the external reference suites (jq 1.7.1's own
// tests, Kong's published flows) from $DATAKIT_SHARED or ../shared.
export default defineConfig({
  test: { ...base.test, include: ['test/conformance/**/*.test.ts'], exclude: ['**/node_modules/**'] },
});
