// jq engine benchmark: our closure-compiled engine vs jq-wasm, side by side in one run.
// Run after `npm run build` (or `npx tsc -p tsconfig.json`):  node bench/jq.js
// For each jq filter of ../shared/flows plus `.a.b` and a 50-element map/select/sort_by transform,
// reports the median per-evaluation time (median of RUNS runs) and the ratio.
import { readFileSync, readdirSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { parse } from 'yaml';
import { compile } from '../dist/host/jq/index.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const shared = path.resolve(root, '../shared');
const require = createRequire(import.meta.url);
const jqFactory = require('jq-wasm/dist/build/jq.js');

const RUNS = 5;
const RECYCLE = 250; // a jq-wasm instance aborts after ~314 evaluations
const WASM_CALLS_PER_RUN = 120;
const OURS_MIN_MS = 60;

// ---- cases ----
const norm = (s) => s.replace(/\s+/g, ' ').trim();
const INPUTS = {
  [norm('(.Authorization // .authorization) != null')]: { host: 'example.com', authorization: 'Bearer abc' },
  [norm('.Authorization // .authorization')]: { host: 'example.com', authorization: 'Bearer abc' },
  [norm('(.Authorization2 // .authorization2) != null')]: { host: 'example.com', Authorization2: 'Bearer 2' },
  [norm('.Authorization2 // .authorization2')]: { host: 'example.com', Authorization2: 'Bearer 2' },
  [norm('{ "username": .sub }')]: { sub: 'alice', iss: 'expected-issuer-1', exp: 1900000000 },
  [norm('.headers * { "X-Api-Key": (.query.api_key // "none") }')]: {
    headers: { 'Content-Type': 'application/json', Accept: '*/*' },
    query: { api_key: 'k1', page: '2' },
  },
  [norm('"https://my-token-service/" + .path + "/auth-token"')]: { host: 'example.com', path: 'tenant-1' },
  [norm('{ Authorization: (.token_type + " " + .access_token) }')]: { token_type: 'Bearer', access_token: 'tok', expires_in: 3600 },
  [norm('.headers * { "X-Api-Key": .apikey }')]: { headers: { Accept: '*/*' }, apikey: 's3cr3t' },
  [norm('{ author: .input1.slideshow.author, uuid: .input2.uuid, }')]: {
    input1: { slideshow: { author: 'Yours Truly', date: 'date of publication', title: 'Sample Slide Show' } },
    input2: { uuid: '3fa85f64-5717-4562-b3fc-2c963f66afa6' },
  },
  [norm('.static * (.request | with_entries(.key = "X-Request-" + .key))')]: {
    static: { 'X-Static': 'yes' },
    request: { host: 'example.com', 'user-agent': 'curl/8.0', accept: '*/*' },
  },
  [norm('.target')]: { target: 'backend-a.example:443', scheme: 'https' },
  [norm('.scheme')]: { target: 'backend-a.example:443', scheme: 'https' },
  [norm('{ "sub": .id }')]: { id: 'c0ffee', username: 'bob' },
  [norm('{ "X-Consumer-JWT": . }')]: 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJjMGZmZWUifQ.sig',
};
function inputFor(filter) {
  const n = norm(filter);
  if (INPUTS[n] !== undefined) return INPUTS[n];
  if (n.includes('[.id]')) return { id: 'caller-b' };
  return {};
}

function collectJq(node, out) {
  if (Array.isArray(node)) node.forEach((n) => collectJq(n, out));
  else if (node && typeof node === 'object') {
    if (node.type === 'jq' && typeof node.jq === 'string') out.push(node.jq);
    for (const v of Object.values(node)) collectJq(v, out);
  }
}

const cases = [];
const seen = new Set();
for (const f of readdirSync(path.join(shared, 'flows')).filter((f) => f.endsWith('.yaml')).sort()) {
  const found = [];
  collectJq(parse(readFileSync(path.join(shared, 'flows', f), 'utf8')), found);
  for (const jq of found) {
    if (seen.has(norm(jq))) continue;
    seen.add(norm(jq));
    cases.push({ name: `${f.replace('.yaml', '')}: ${norm(jq)}`, filter: jq, input: inputFor(jq) });
  }
}
cases.push({ name: '.a.b', filter: '.a.b', input: { a: { b: 42, c: 'x' }, d: [1, 2] } });
const items = Array.from({ length: 50 }, (_, i) => ({
  id: i,
  name: `item-${i}`,
  active: i % 3 !== 0,
  score: (i * 37) % 101,
  tags: ['t' + (i % 4)],
}));
cases.push({
  name: '50-element map/select/sort_by transform',
  filter: 'map(select(.active and .score > 10)) | sort_by(.score, .name) | map({id, name, score, tag: .tags[0]})',
  input: items,
});

// ---- timing ----
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

function benchOurs(c) {
  const prog = compile(c.filter);
  // warm up
  for (let i = 0; i < 2000; i++) prog.run(c.input);
  const runs = [];
  for (let r = 0; r < RUNS; r++) {
    let n = 0;
    const t0 = performance.now();
    let t1 = t0;
    while (t1 - t0 < OURS_MIN_MS) {
      for (let i = 0; i < 500; i++) prog.run(c.input);
      n += 500;
      t1 = performance.now();
    }
    runs.push(((t1 - t0) * 1000) / n); // µs per evaluation
  }
  return { median: median(runs), runs, output: prog.run(c.input) };
}

let wasm = null;
let wasmCalls = 0;
let recycles = 0;
let recycleMs = 0;
async function wasmInstance() {
  if (!wasm || wasmCalls >= RECYCLE) {
    const t = performance.now();
    wasm = await jqFactory();
    recycleMs += performance.now() - t;
    recycles++;
    wasmCalls = 0;
  }
  return wasm;
}

async function benchWasm(c) {
  const runs = [];
  let output = null;
  for (let r = 0; r < RUNS; r++) {
    let total = 0;
    for (let i = 0; i < WASM_CALLS_PER_RUN; i++) {
      const inst = await wasmInstance(); // recycling happens here, outside the timed region
      wasmCalls++;
      const t0 = performance.now();
      const raw = await inst.raw(JSON.stringify(c.input), c.filter, ['-c']);
      const out = raw.trim() === '' ? [] : raw.trim().split('\n').map((l) => JSON.parse(l));
      total += performance.now() - t0;
      output = out;
    }
    runs.push((total * 1000) / WASM_CALLS_PER_RUN);
  }
  return { median: median(runs), runs, output };
}

const results = [];
for (const c of cases) {
  const ours = benchOurs(c);
  const ref = await benchWasm(c);
  const same = JSON.stringify(ours.output) === JSON.stringify(ref.output);
  results.push({
    case: c.name,
    filter: c.filter,
    oursMedianUs: +ours.median.toFixed(3),
    jqWasmMedianUs: +ref.median.toFixed(1),
    ratio: +(ref.median / ours.median).toFixed(0),
    sameOutput: same,
    oursRunsUs: ours.runs.map((x) => +x.toFixed(3)),
    jqWasmRunsUs: ref.runs.map((x) => +x.toFixed(1)),
  });
}

const lines = [
  '| case | ours (µs/eval) | jq-wasm (µs/eval) | speed-up | same output |',
  '|---|---:|---:|---:|:---:|',
  ...results.map(
    (r) =>
      `| ${r.case.replace(/\|/g, '\\|')} | ${r.oursMedianUs.toFixed(2)} | ${r.jqWasmMedianUs.toFixed(0)} | ${r.ratio}x | ${r.sameOutput ? 'yes' : 'NO'} |`,
  ),
];
console.log(lines.join('\n'));
console.log(
  `\nmedian of ${RUNS} runs each; jq-wasm recycled ${recycles} times (every ${RECYCLE} calls, ${recycleMs.toFixed(0)} ms excluded); ` +
    `jq-wasm time includes JSON.stringify of the input and JSON.parse of the output lines (needed to use it).`,
);
const minRatio = Math.min(...results.map((r) => r.ratio));
console.log(`minimum speed-up: ${minRatio}x`);

mkdirSync(path.join(here, 'results'), { recursive: true });
writeFileSync(
  path.join(here, 'results', 'jq.json'),
  JSON.stringify(
    {
      date: new Date().toISOString(),
      node: process.version,
      runs: RUNS,
      recycleEvery: RECYCLE,
      jqWasmRecycles: recycles,
      jqWasmRecycleMsExcluded: +recycleMs.toFixed(1),
      minimumSpeedup: minRatio,
      results,
    },
    null,
    2,
  ) + '\n',
);
