// Engine micro-benchmarks (no network): per-request cost of flows by node
// type, the seed's 4-node auth flow with the call answered in-process, one
// host crossing, plan compilation, and memory over many requests.
// Run after `npm run build`:  node --expose-gc bench/engine.js [--quick]
import { writeFileSync, mkdirSync } from 'node:fs';
import { cpus } from 'node:os';
import { Datakit } from '../dist/host/index.js';
import { nativeJq } from '../dist/host/engine/jq-engine.js';

const quick = process.argv.includes('--quick');
const RUNS = quick ? 3 : 5;
const N = quick ? 2000 : 20000;
const MEMORY_REQUESTS = quick ? 50_000 : 1_000_000;

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const enc = new TextEncoder();

/** Answers every call in-process with a token-service reply. */
const inProcess = {
  async send() {
    return { status: 200, headers: { 'content-type': 'application/json' }, body: enc.encode('{"token_type":"Bearer","access_token":"abc"}') };
  },
  async close() {},
};

/** A jq engine that returns precomputed results: isolates engine overhead. */
function constantJq(results) {
  return {
    compile(filter) {
      const out = results[filter.trim()] ?? [null];
      return { run: () => out };
    },
  };
}

const AUTH_FLOW = {
  nodes: [
    { name: 'STATIC_INPUTS', type: 'static', values: { headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: 'grant_type=client_credentials' } },
    { name: 'BUILD_HEADERS', type: 'jq', inputs: { headers: 'STATIC_INPUTS.headers', query: 'request.query' }, jq: '.headers * {\n  "X-Api-Key": (.query.api_key // "none")\n}' },
    { name: 'AUTH_REQUEST', type: 'call', inputs: { headers: 'BUILD_HEADERS', body: 'STATIC_INPUTS.body' }, url: 'https://my-token-service/auth-token', method: 'POST' },
    { name: 'UPSTREAM_AUTH_HEADER', type: 'jq', input: 'AUTH_REQUEST.body', output: 'service_request.headers', jq: '{\n  Authorization: (.token_type + " " + .access_token)\n}' },
  ],
};

const CONSTANT = {
  [AUTH_FLOW.nodes[1].jq]: [{ 'Content-Type': 'application/x-www-form-urlencoded', 'X-Api-Key': 'k' }],
  [AUTH_FLOW.nodes[3].jq]: [{ Authorization: 'Bearer abc' }],
};

const REQUEST = {
  method: 'GET',
  path: '/anything',
  scheme: 'http',
  host: 'localhost',
  port: 8000,
  query: { api_key: 'k' },
  headers: { Host: 'localhost:8000', 'User-Agent': 'bench', Accept: '*/*' },
};

async function perRequest(flow, n = N, options = {}) {
  const times = [];
  for (let r = 0; r < RUNS; r++) {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) {
      const run = flow.newRequest(REQUEST, undefined, options);
      await run.request();
      run.done();
    }
    times.push(((performance.now() - t0) * 1000) / n);
  }
  return median(times);
}

const results = { machine: { cpus: cpus().length, model: cpus()[0]?.model, node: process.version }, rows: [] };
const row = (name, us, note = '') => {
  results.rows.push({ name, us_per_request: Number(us.toFixed(2)), note });
  console.log(`| ${name} | ${us.toFixed(2)} | ${note} |`);
};

console.log('| case | µs per request (median) | note |\n|---|---|---|');

/** The built-in jq without its simple forms: every jq node runs in the host (jq_run). */
const hostJq = { compile: (f, v) => { const c = nativeJq.compile(f, v); return { run: (i, vars) => c.run(i, vars), inputPaths: c.inputPaths }; } };
const real = await Datakit.create({ transport: inProcess, jq: nativeJq });
const constant = await Datakit.create({ transport: inProcess, jq: constantJq(CONSTANT) });
const throughHost = await Datakit.create({ transport: inProcess, jq: hostJq });

row('seed auth flow (4 nodes), engine overhead', await perRequest(constant.load(AUTH_FLOW)), 'call answered in-process; each jq node crosses to a stub returning precomputed results');
row('seed auth flow (4 nodes), jq in the host', await perRequest(throughHost.load(AUTH_FLOW)), 'call answered in-process; the built-in jq through jq_run');
row('seed auth flow (4 nodes), with jq', await perRequest(real.load(AUTH_FLOW)), 'call answered in-process; built-in jq: the module evaluates both (simple) filters itself');
row('seed auth flow (4 nodes), with jq and per-node timings', await perRequest(real.load(AUTH_FLOW), N, { timings: true }), 'what the gateway runs (timings feed /metrics)');

const byType = {
  'static -> exit': { nodes: [{ name: 'S', type: 'static', values: { body: { a: 1 } } }, { name: 'E', type: 'exit', input: 'S' }] },
  'jq (.a.b) -> service_request.headers': { nodes: [{ name: 'J', type: 'jq', input: 'request.query', jq: '{"X-Key": .api_key}', output: 'service_request.headers' }] },
  'property get -> set ctx.shared': {
    nodes: [
      { name: 'G', type: 'property', property: 'kong.request.port' },
      { name: 'S', type: 'property', property: 'kong.ctx.shared.port', input: 'G' },
    ],
  },
  'branch on jq': {
    nodes: [
      { name: 'C', type: 'jq', input: 'request.query', jq: '.api_key != null' },
      { name: 'B', type: 'branch', input: 'C', then: ['Y'], else: ['N'] },
      { name: 'Y', type: 'static', values: { v: 1 } },
      { name: 'N', type: 'static', values: { v: 2 } },
    ],
  },
  'call (in-process answer)': { nodes: [{ name: 'C', type: 'call', url: 'http://127.0.0.1:1/x' }] },
  'empty pass-through (request only)': { nodes: [{ name: 'S', type: 'static', values: { v: 1 } }] },
};
for (const [name, cfg] of Object.entries(byType)) row(name, await perRequest(real.load(cfg)));

// a jq node reading two fields of a large call answer: the module evaluates
// the (simple) filter itself; the second row sends it to the host's jq, which
// gets only the paths the filter reads (host/jq/paths.ts); the third turns
// that off too (a jq engine that reports neither)
{
  const items = Array.from({ length: 200 }, (_, i) => ({ id: i, name: `item-${i}`, tags: ['a', 'b', 'c'], price: i * 1.5 }));
  const big = enc.encode(JSON.stringify({ meta: { total: 200, page: 1 }, items }));
  const bigAnswer = { async send() { return { status: 200, headers: { 'content-type': 'application/json' }, body: big }; }, async close() {} };
  const wholeJq = { compile: (f, v) => { const c = nativeJq.compile(f, v); return { run: (i, vars) => c.run(i, vars) }; } };
  const inModule = await Datakit.create({ transport: bigAnswer, jq: nativeJq });
  const withPaths = await Datakit.create({ transport: bigAnswer, jq: hostJq });
  const withoutPaths = await Datakit.create({ transport: bigAnswer, jq: wholeJq });
  const cfg = {
    nodes: [
      { name: 'C', type: 'call', url: 'http://127.0.0.1:1/items' },
      { name: 'J', type: 'jq', input: 'C.body', jq: '{total: .meta.total, page: .meta.page}', output: 'service_request.headers' },
    ],
  };
  const note = `call answer of ${(big.byteLength / 1024).toFixed(0)} KiB JSON`;
  row('call (large JSON answer) -> jq reads 2 fields', await perRequest(inModule.load(cfg), N / 10), `${note}; the module evaluates the filter`);
  row('the same, jq in the host on the projected input', await perRequest(withPaths.load(cfg), N / 10), `${note}; jq gets only .meta.total and .meta.page`);
  row('the same, jq in the host given the whole answer', await perRequest(withoutPaths.load(cfg), N / 10), `${note}; input path analysis off`);
}

// one host crossing
{
  const ex = real.runtime.exports;
  const n = 5_000_000;
  const ts = [];
  for (let r = 0; r < RUNS; r++) {
    const t0 = performance.now();
    ex.dk_ping(n);
    ts.push(((performance.now() - t0) * 1e6) / n);
  }
  const tj = [];
  for (let r = 0; r < RUNS; r++) {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) ex.dk_abi_version();
    tj.push(((performance.now() - t0) * 1e6) / n);
  }
  results.crossing_ns = { module_to_host: Number(median(ts).toFixed(1)), host_to_module: Number(median(tj).toFixed(1)) };
  console.log(`\none host crossing: module->host import ${median(ts).toFixed(1)} ns, host->module export ${median(tj).toFixed(1)} ns`);
}

// plan compilation, 50 nodes
{
  const nodes = [];
  for (let i = 0; i < 25; i++) {
    nodes.push({ name: `S${i}`, type: 'static', values: { v: i, headers: { 'X-N': String(i) } } });
    nodes.push({ name: `J${i}`, type: 'jq', inputs: { v: `S${i}.v`, prev: i > 0 ? `J${i - 1}` : 'request.query' }, jq: '{v: .v, prev: .prev}' });
  }
  const cfg = { nodes };
  const ts = [];
  for (let r = 0; r < RUNS; r++) {
    const t0 = performance.now();
    for (let i = 0; i < 50; i++) real.load(cfg).close();
    ts.push((performance.now() - t0) / 50);
  }
  results.plan_compile_50_nodes_ms = Number(median(ts).toFixed(3));
  console.log(`plan compilation, 50 nodes: ${median(ts).toFixed(3)} ms`);
}

// memory over many requests
{
  const flow = real.load(AUTH_FLOW);
  const gc = globalThis.gc ?? (() => {});
  for (let i = 0; i < 10000; i++) {
    const run = flow.newRequest(REQUEST);
    await run.request();
    run.done();
  }
  gc();
  const before = { wasm: real.stats().memory_bytes, heap: process.memoryUsage().heapUsed };
  const t0 = performance.now();
  for (let i = 0; i < MEMORY_REQUESTS; i++) {
    const run = flow.newRequest({ ...REQUEST, query: { api_key: String(i) } });
    await run.request();
    run.done();
  }
  const seconds = (performance.now() - t0) / 1000;
  gc();
  const after = { wasm: real.stats().memory_bytes, heap: process.memoryUsage().heapUsed, contexts: real.stats().contexts };
  results.memory = { requests: MEMORY_REQUESTS, before, after, seconds: Number(seconds.toFixed(1)) };
  console.log(
    `memory over ${MEMORY_REQUESTS} requests (${seconds.toFixed(1)} s): wasm ${(before.wasm / 1048576).toFixed(2)} -> ${(after.wasm / 1048576).toFixed(2)} MiB, ` +
      `JS heap ${(before.heap / 1048576).toFixed(1)} -> ${(after.heap / 1048576).toFixed(1)} MiB, live contexts ${after.contexts}`,
  );
}

mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
writeFileSync(new URL('./results/engine.json', import.meta.url), JSON.stringify(results, null, 2) + '\n');
await real.close();
await constant.close();
await throughHost.close();
