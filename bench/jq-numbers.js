// What jq 1.7.1's exact numbers and musl's math cost: the same jq filters compiled with and
// without `exactNumbers` (every number token a LiteralNumber vs doubles), through runText as a
// host calls it, and the ported libm functions against V8's Math. Not a test.
// Run after `npm run build:ts`:  node bench/jq-numbers.js
//
// Medians of ROUNDS rounds, each timing BATCH calls after a warm-up, in one process,
// alternating the two sides so that drift hits both alike.
import { compile } from '../dist/host/jq/index.js';
import { exp, log, pow, cosh } from '../dist/host/jq/libm-exp-log.js';
import { sin, cos, tan } from '../dist/host/jq/libm-trig.js';

const ROUNDS = 9;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** ns per call of f, median of ROUNDS rounds of `batch` calls */
function timeNs(f, batch) {
  for (let i = 0; i < batch; i++) f(i);
  const rounds = [];
  for (let r = 0; r < ROUNDS; r++) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < batch; i++) f(i);
    rounds.push(Number(process.hrtime.bigint() - t0) / batch);
  }
  return median(rounds);
}

const record = (i) => ({ id: i, name: `user${i}`, score: i * 1.5, tags: ['a', 'b'], active: i % 2 === 0 });
const small = JSON.stringify({ headers: { 'x-api-key': 'k1' }, body: { user: { id: 42, roles: [1, 2, 3] }, total: 19.99 } });
const medium = JSON.stringify(Array.from({ length: 50 }, (_, i) => record(i)));
const large = JSON.stringify(Array.from({ length: 50_000 }, (_, i) => i));

const cases = [
  ['.body.user.id', small, 200_000],
  ['{total: .body.total, n: (.body.user.roles | length)}', small, 100_000],
  ['map(select(.score > 10)) | sort_by(.score) | map({id, score})', medium, 5_000],
  ['.[] |= . * 2', large, 5],
];

const rows = [];
for (const [filter, input, batch] of cases) {
  const doubles = compile(filter);
  const exact = compile(filter, { exactNumbers: true });
  const a = [];
  const b = [];
  for (let r = 0; r < 3; r++) {
    a.push(timeNs(() => doubles.runText(input), batch));
    b.push(timeNs(() => exact.runText(input), batch));
  }
  rows.push([`\`${filter.replaceAll('|', '\\|')}\` (${input.length.toLocaleString('en')} B)`, median(a), median(b)]);
}
console.log('| runText | doubles (µs) | exactNumbers (µs) | ratio |');
console.log('|---|---:|---:|---:|');
for (const [name, a, b] of rows) console.log(`| ${name} | ${(a / 1000).toFixed(2)} | ${(b / 1000).toFixed(2)} | ${(b / a).toFixed(2)} |`);

// arguments spread over the ranges a filter meets: |x| below 1, up to 10, up to 1e3
const xs = Float64Array.from({ length: 4096 }, (_, i) => ((i * 7919) % 4096) / 409.6 - 5 + (i % 3) * 0.37);
const pos = xs.map((x) => Math.abs(x) + 0.01);
const fns = [
  ['exp', (i) => exp(xs[i & 4095]), (i) => Math.exp(xs[i & 4095])],
  ['log', (i) => log(pos[i & 4095]), (i) => Math.log(pos[i & 4095])],
  ['pow', (i) => pow(pos[i & 4095], xs[i & 4095]), (i) => Math.pow(pos[i & 4095], xs[i & 4095])],
  ['cosh', (i) => cosh(xs[i & 4095]), (i) => Math.cosh(xs[i & 4095])],
  ['sin', (i) => sin(xs[i & 4095]), (i) => Math.sin(xs[i & 4095])],
  ['cos', (i) => cos(xs[i & 4095]), (i) => Math.cos(xs[i & 4095])],
  ['tan', (i) => tan(xs[i & 4095]), (i) => Math.tan(xs[i & 4095])],
];
console.log('\n| function | musl port (ns/call) | V8 Math (ns/call) | ratio |');
console.log('|---|---:|---:|---:|');
let sink = 0;
for (const [name, port, v8] of fns) {
  const a = [];
  const b = [];
  for (let r = 0; r < 3; r++) {
    a.push(timeNs((i) => (sink += port(i)), 1_000_000));
    b.push(timeNs((i) => (sink += v8(i)), 1_000_000));
  }
  console.log(`| ${name} | ${median(a).toFixed(1)} | ${median(b).toFixed(1)} | ${(median(a) / median(b)).toFixed(2)} |`);
}
if (sink === 42) console.log('');
