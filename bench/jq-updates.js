// jq update benchmark: `.[] |= . * 2` and `del(.[] | select(. % 2 == 0))` on large inputs,
// our engine vs gojq and C jq in one run. Not a test.
// Run after `npm run build:ts`:  node bench/jq-updates.js
//
// Ours: one evaluation of the compiled filter on the parsed input (no budgets), median of RUNS
// after WARMUP evaluations. gojq (/usr/bin/gojq) and C jq (/usr/bin/jq: Debian's, jq 1.6, not
// 1.7.1): the whole process (`-c FILTER FILE`, output discarded) minus the median of a baseline
// run of `.` on the same file, so startup, parsing and printing are left out as fairly as
// possible; medians of RUNS. Reported as µs per record (array element / object key), as a
// Markdown table. jq 1.6's `|=` is quadratic (about 36 s for the 50,000-element array): the
// whole run takes about 4 minutes.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir, cpus } from 'node:os';
import path from 'node:path';
import { compile } from '../dist/host/jq/index.js';

const RUNS = 5;
const WARMUP = 2;
const UNLIMITED = { limits: { jq_time_ms: Infinity, jq_steps: Infinity, jq_memory_bytes: Infinity } };

const arr = (n) => Array.from({ length: n }, (_, i) => i);
const obj = (n) => Object.fromEntries(arr(n).map((i) => [`k${i}`, i]));
const inputs = {
  'object, 10,000 keys': { value: obj(10_000), n: 10_000 },
  'array, 50,000 elements': { value: arr(50_000), n: 50_000 },
};
const cases = [
  ['.[] |= . * 2', 'object, 10,000 keys'],
  ['.[] |= . * 2', 'array, 50,000 elements'],
  ['del(.[] | select(. % 2 == 0))', 'array, 50,000 elements'],
];

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};

function oursMs(filter, value) {
  const p = compile(filter, UNLIMITED);
  for (let i = 0; i < WARMUP; i++) p.run(value);
  const times = [];
  for (let i = 0; i < RUNS; i++) {
    const t = performance.now();
    p.run(value);
    times.push(performance.now() - t);
  }
  return median(times);
}

function processMs(tool, filter, file) {
  const times = [];
  for (let i = 0; i < RUNS; i++) {
    const t = performance.now();
    const r = spawnSync(tool, ['-c', filter, file], { stdio: ['ignore', 'ignore', 'pipe'] });
    times.push(performance.now() - t);
    if (r.status !== 0) throw new Error(`${tool} ${filter}: exit ${r.status}: ${r.stderr}`);
  }
  return median(times);
}

const tools = [
  ['gojq', '/usr/bin/gojq'],
  ['jq 1.6 (C)', '/usr/bin/jq'],
].filter(([, bin]) => existsSync(bin));

const dir = mkdtempSync(path.join(tmpdir(), 'jq-updates-'));
try {
  const files = {};
  for (const [name, { value }] of Object.entries(inputs)) {
    files[name] = path.join(dir, `${Object.keys(files).length}.json`);
    writeFileSync(files[name], JSON.stringify(value));
  }
  const baselines = {};
  for (const [tool, bin] of tools) for (const name of Object.keys(inputs)) baselines[`${tool}|${name}`] = processMs(bin, '.', files[name]);

  console.log(`jq updates: ${cpus()[0]?.model ?? '?'} x${cpus().length}, Node ${process.version}; median of ${RUNS}, µs per record`);
  console.log(`(external tools: whole process minus a \`.\` run on the same file; /usr/bin/jq is Debian's jq 1.6)`);
  const head = ['filter', 'input', 'ours', ...tools.map(([t]) => t)];
  const rows = [head, head.map(() => '---')];
  for (const [filter, name] of cases) {
    const { value, n } = inputs[name];
    const per = (ms) => ((ms * 1000) / n).toFixed(3);
    const row = [`\`${filter.replaceAll('|', '\\|')}\``, name, per(oursMs(filter, value))];
    for (const [tool, bin] of tools) {
      const ms = processMs(bin, filter, files[name]) - baselines[`${tool}|${name}`];
      row.push(per(Math.max(0, ms)));
    }
    rows.push(row);
  }
  for (const r of rows) console.log(`| ${r.join(' | ')} |`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
