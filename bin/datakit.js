#!/usr/bin/env node
// The `datakit` command; the implementation is compiled from host/cli.
import { main } from '../dist/host/cli/main.js';

main(process.argv.slice(2)).then(
  (code) => {
    if (typeof code === 'number') process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`datakit: ${err && err.message ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
