// Micro-benchmark: the metric recording one flow request costs, the gateway's
// hand-written registry (host/gateway/metrics.ts) against prom-client doing
// the same series. One "request" records what the proxy and a datakit plugin
// record for a flow route: requests_total{route,status}, the request and
// upstream latency histograms, plugin_runs_total and plugin_run_seconds, and
// per node (NODES, default 4, as the auth flow) node_runs_total and the
// node_run_seconds histogram through a series handle resolved once.
// Run after `npm run build:ts` (imports dist/):  node bench/metrics.js
// Env: BENCH_ITER (requests per run, default 500000), BENCH_RUNS (default 7), NODES (default 4)
import { Metrics } from '../dist/host/gateway/metrics.js';
import { createRequire } from 'node:module';
import client from 'prom-client';

const promClientVersion = createRequire(import.meta.url)('prom-client/package.json').version;

const ITER = Number(process.env.BENCH_ITER ?? 500_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 7);
const NODES = Number(process.env.NODES ?? 4);
const ROUTES = ['auth', 'multiplex', 'bench', 'other'];
const BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const PLUGIN_ID = '0b9c3c3e-6a0e-5d6f-9a51-6f1d2b0c7e11';
const nodeNames = Array.from({ length: NODES }, (_, i) => [`NODE_${i}`, i % 2 ? 'jq' : 'call']);

/** the current registry, used as the gateway uses it */
function handWritten() {
  const m = new Metrics();
  // per flow and route: node series handles, resolved once (as host/plugins/datakit.ts)
  const series = new Map(ROUTES.map((r) => [r, nodeNames.map(([n, t]) => m.nodeSeries(n, t, { route: r, plugin: PLUGIN_ID }))]));
  return {
    name: 'hand-written registry (host/gateway/metrics.ts)',
    request(route, status, seconds) {
      const s = series.get(route);
      for (let i = 0; i < s.length; i++) s[i].record(seconds / 8, true);
      m.datakitRun(PLUGIN_ID, route, true, seconds / 4);
      m.request(route, status, seconds * 1000, seconds * 500);
    },
    render: () => Metrics.render(m.dump()),
  };
}

/** The gateway's metric families as prom-client objects in a fresh registry. */
function promFamilies() {
  const registry = new client.Registry();
  const c = (name, labelNames) => new client.Counter({ name, help: name, labelNames, registers: [registry] });
  const h = (name, labelNames) => new client.Histogram({ name, help: name, labelNames, buckets: BUCKETS, registers: [registry] });
  return {
    registry,
    requests: c('datakit_gateway_requests_total', ['route', 'status']),
    latency: h('datakit_gateway_request_latency_seconds', ['route']),
    upstream: h('datakit_gateway_upstream_latency_seconds', ['route']),
    runs: c('datakit_plugin_runs_total', ['plugin_id', 'route', 'result']),
    runSeconds: h('datakit_plugin_run_seconds', ['plugin_id']),
    nodeRuns: c('datakit_node_runs_total', ['route', 'plugin', 'node', 'type', 'result']),
    nodeSeconds: h('datakit_node_run_seconds', ['route', 'plugin', 'node', 'type']),
  };
}

/** prom-client with the same families; node children resolved once per route, the rest by label values per request (as one would write it) */
function promClient() {
  const { registry, requests, latency, upstream, runs, runSeconds, nodeRuns, nodeSeconds } = promFamilies();
  const series = new Map(
    ROUTES.map((r) => [r, nodeNames.map(([n, t]) => ({ ok: nodeRuns.labels(r, PLUGIN_ID, n, t, 'ok'), seconds: nodeSeconds.labels(r, PLUGIN_ID, n, t) }))]),
  );
  return {
    name: 'prom-client',
    request(route, status, seconds) {
      const s = series.get(route);
      for (let i = 0; i < s.length; i++) {
        s[i].ok.inc();
        s[i].seconds.observe(seconds / 8);
      }
      runs.inc({ plugin_id: PLUGIN_ID, route, result: 'ok' });
      runSeconds.observe({ plugin_id: PLUGIN_ID }, seconds / 4);
      requests.inc({ route, status });
      latency.observe({ route }, seconds);
      upstream.observe({ route }, seconds / 2);
    },
    render: () => registry.metrics(),
  };
}

/** prom-client at its cheapest: every child (labels) resolved once and kept, as the hand-written registry's handles */
function promClientChildren() {
  const { registry, requests, latency, upstream, runs, runSeconds, nodeRuns, nodeSeconds } = promFamilies();
  const perRoute = new Map(
    ROUTES.map((r) => [
      r,
      {
        nodes: nodeNames.map(([n, t]) => ({ ok: nodeRuns.labels(r, PLUGIN_ID, n, t, 'ok'), seconds: nodeSeconds.labels(r, PLUGIN_ID, n, t) })),
        run: runs.labels(PLUGIN_ID, r, 'ok'),
        status: new Map([200, 502].map((st) => [st, requests.labels(r, String(st))])),
        latency: latency.labels(r),
        upstream: upstream.labels(r),
      },
    ]),
  );
  const runSecondsChild = runSeconds.labels(PLUGIN_ID);
  return {
    name: 'prom-client, children resolved once',
    request(route, status, seconds) {
      const p = perRoute.get(route);
      for (let i = 0; i < p.nodes.length; i++) {
        p.nodes[i].ok.inc();
        p.nodes[i].seconds.observe(seconds / 8);
      }
      p.run.inc();
      runSecondsChild.observe(seconds / 4);
      p.status.get(status).inc();
      p.latency.observe(seconds);
      p.upstream.observe(seconds / 2);
    },
    render: () => registry.metrics(),
  };
}

function time(target) {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < ITER; i++) target.request(ROUTES[i & 3], i % 97 === 0 ? 502 : 200, ((i % 1000) + 1) / 20_000);
  return Number(process.hrtime.bigint() - t0) / ITER; // ns per request
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main() {
  const targets = [handWritten(), promClient(), promClientChildren()];
  for (const t of targets) time(t); // warm-up (JIT, series created)
  const ns = targets.map(() => []);
  for (let r = 0; r < RUNS; r++) targets.forEach((t, i) => ns[i].push(time(t))); // alternating
  const out = {};
  for (const [i, t] of targets.entries()) {
    const t0 = process.hrtime.bigint();
    const text = await t.render();
    const renderMs = Number(process.hrtime.bigint() - t0) / 1e6;
    out[t.name] = { ns_per_request: Math.round(median(ns[i]) * 10) / 10, runs: ns[i].map((x) => Math.round(x)), render_ms: Math.round(renderMs * 100) / 100, render_bytes: text.length };
  }
  const [a, ...others] = Object.values(out);
  const flowCpuUs = Number(process.env.FLOW_CPU_US ?? 80); // gateway CPU per flow request (docs/PERFORMANCE.md, auth flow)
  const extra = {};
  for (const [name, r] of Object.entries(out).slice(1)) {
    const d = r.ns_per_request - a.ns_per_request;
    extra[name] = { extra_ns_per_request: Math.round(d * 10) / 10, share_of_flow_request_cpu: `${((d / (flowCpuUs * 1000)) * 100).toFixed(2)}% of ${flowCpuUs} us` };
  }
  void others;
  console.log(JSON.stringify({ node: process.version, prom_client: promClientVersion, iterations: ITER, runs: RUNS, nodes: NODES, results: out, against_hand_written: extra }, null, 2));
}

main();
