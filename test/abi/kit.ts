/**
 * The conformance kit against any host command, outside vitest:
 *
 *   npx vite-node test/abi/kit.ts -- [--capabilities cache,jwt_decode] COMMAND [ARGS...]
 *
 * runs `COMMAND ARGS... FLOW.json --request REQ.json` for every case
 * (docs/host-abi.md, "Host conformance kit"), prints each case's verdict
 * and the first difference, and exits 1 unless all agree.
 */
import { isDeepStrictEqual } from 'node:util';
import { commandHost } from './hosts.js';
import { loadCases, runCase } from './runner.js';

const args = process.argv.slice(2).filter((a) => a !== '--');
let capabilities: string[] = [];
if (args[0] === '--capabilities') {
  capabilities = args[1].split(',').filter(Boolean);
  args.splice(0, 2);
}
if (args.length === 0) {
  process.stderr.write('usage: vite-node test/abi/kit.ts -- [--capabilities cache,jwt_decode,jwt,xml] COMMAND [ARGS...]\n');
  process.exit(2);
}
const host = commandHost(args.join(' '), args, capabilities);
let agreed = 0;
const cases = loadCases();
for (const c of cases) {
  try {
    const { actual, expected } = await runCase(host, c);
    const ok = isDeepStrictEqual(JSON.parse(JSON.stringify(actual)), expected);
    if (ok) agreed++;
    process.stdout.write(`${ok ? 'ok  ' : 'DIFF'} ${c.name}${ok ? '' : `\n     expected ${JSON.stringify(expected)}\n     got      ${JSON.stringify(actual)}`}\n`);
  } catch (e) {
    process.stdout.write(`FAIL ${c.name}: ${(e as Error).message}\n`);
  }
}
await host.close?.();
process.stdout.write(`${agreed} of ${cases.length} cases agree\n`);
process.exit(agreed === cases.length ? 0 : 1);
