#!/usr/bin/env node
// `npm run fuzz:jq -- --seconds N [--seed S] [--out DIR] [--count N] [--no-shrink]`:
// the differential jq fuzzer (test/jq/fuzz/) run for longer than `npm test`
// does, through vite-node (vitest's TypeScript runner, already installed).
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const viteNode = join(dirname(require.resolve('vite-node/package.json')), 'vite-node.mjs');
const r = spawnSync(process.execPath, [viteNode, join(root, 'test/jq/fuzz/cli.ts'), '--', ...process.argv.slice(2)], {
  cwd: root,
  stdio: 'inherit',
});
process.exit(r.status ?? 1);
