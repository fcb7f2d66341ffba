// Bare-proxy benchmark: the bundled gateway (a route with no plugins) against
// @fastify/http-proxy, on the same upstream, in the same run (also with the
// gateway's access log on). The full suite is bench/run.js (`npm run bench`).
// Run after `npm run build` (imports dist/):  node bench/gateway.js
// Env: BENCH_DURATION (s, default 10), BENCH_RUNS (default 3), BENCH_CONNECTIONS (default 50), BENCH_QUICK=1
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { startRole, drive, summarize, settings, stopAll, machine } from './lib/harness.js';
import { gatewayDoc } from './lib/flows.js';

async function main() {
  const { duration, runs, connections, warmup } = settings();
  const upstream = await startRole('upstream');
  const doc = gatewayDoc(upstream.url);
  const targets = [
    ['@fastify/http-proxy', await startRole('fastify-proxy', { upstream: upstream.url })],
    ['datakit gateway', await startRole('gateway', { doc })],
    ['datakit gateway (access log on)', await startRole('gateway', { doc, accessLog: true })],
  ];
  const url = (t) => `${t.url}/bench/path?x=1`;
  const results = Object.fromEntries(targets.map(([n]) => [n, []]));
  for (const [, t] of targets) await drive(url(t), warmup, connections);
  for (let i = 0; i < runs; i++) {
    for (const [name, t] of targets) {
      const r = await drive(url(t), duration, connections);
      results[name].push(r);
      process.stderr.write(`run ${i + 1}/${runs} ${name}: ${Math.round(r.rps)} req/s p50 ${r.p50} ms p99 ${r.p99} ms errors ${r.errors}\n`);
    }
  }
  const summary = {};
  for (const [name] of targets) summary[name] = summarize(results[name]);
  const base = summary['@fastify/http-proxy'].rps;
  const lines = ['| target | req/s (median) | p50 ms | p99 ms | errors | ratio vs @fastify/http-proxy |', '|---|---:|---:|---:|---:|---:|'];
  for (const [name, s] of Object.entries(summary)) {
    s.ratio = Math.round((s.rps / base) * 100) / 100;
    lines.push(`| ${name} | ${s.rps} | ${s.p50} | ${s.p99} | ${s.errors} | ${s.ratio.toFixed(2)} |`);
  }
  console.log(lines.join('\n'));
  const out = { date: new Date().toISOString(), machine: machine(), node: process.version, duration_s: duration, runs, connections, summary, runs_detail: results };
  const dir = fileURLToPath(new URL('./results/', import.meta.url));
  mkdirSync(dir, { recursive: true });
  writeFileSync(`${dir}gateway.json`, JSON.stringify(out, null, 2) + '\n');
}

try {
  await main();
  await stopAll();
  process.exit(0);
} catch (e) {
  process.stderr.write(`bench failed: ${e.stack ?? e}\n`);
  await stopAll();
  process.exit(1);
}
