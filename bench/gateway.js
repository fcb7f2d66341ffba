// Bare-proxy benchmark: the bundled gateway (a route with no plugins) against
// @fastify/http-proxy, on the same upstream, in the same run.
// Run after `npm run build` (imports dist/):  node bench/gateway.js
// Env: BENCH_DURATION (s, default 10), BENCH_RUNS (default 3), BENCH_CONNECTIONS (default 50)
import { fork } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { fileURLToPath } from 'node:url';

const role = process.argv[2];

function ready(port) {
  process.send?.({ port });
}

if (role === 'upstream') {
  const body = JSON.stringify({ hello: 'world', n: 42 });
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    });
  });
  server.keepAliveTimeout = 65_000;
  server.listen(0, '127.0.0.1', () => ready(server.address().port));
} else if (role === 'fastify-proxy') {
  const { default: Fastify } = await import('fastify');
  const { default: proxy } = await import('@fastify/http-proxy');
  const app = Fastify({ logger: false });
  await app.register(proxy, { upstream: process.argv[3], prefix: '/' });
  await app.listen({ host: '127.0.0.1', port: 0 });
  ready(app.server.address().port);
} else if (role === 'gateway') {
  const { startGateway } = await import('../dist/host/gateway/index.js');
  const accessLog = process.argv[4] === 'log';
  const gw = await startGateway({
    config: { _format_version: '3.0', services: [{ name: 'bench', url: process.argv[3], routes: [{ name: 'bench', paths: ['/'] }] }] },
    proxyListen: '127.0.0.1:0',
    adminListen: '127.0.0.1:0',
    logLevel: accessLog ? 'info' : 'warn',
    accessLog,
    // access log lines go to stdout; the orchestrator discards them
  });
  ready(Number(new URL(gw.proxyUrl).port));
} else {
  await main();
}

function start(r, ...args) {
  return new Promise((resolve, reject) => {
    const child = fork(fileURLToPath(import.meta.url), [r, ...args], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    child.once('message', (m) => resolve({ child, port: m.port }));
    child.once('exit', (code) => reject(new Error(`${r} exited with ${code}`)));
  });
}

async function drive(port, duration, connections) {
  const { default: autocannon } = await import('autocannon');
  const r = await autocannon({ url: `http://127.0.0.1:${port}/bench/path?x=1`, connections, duration, pipelining: 1 });
  return {
    rps: r.requests.average,
    p50: r.latency.p50,
    p99: r.latency.p99,
    errors: r.errors + r.timeouts + (r.non2xx ?? 0),
    requests: r.requests.total,
  };
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function main() {
  const duration = Number(process.env.BENCH_DURATION ?? 10);
  const runs = Number(process.env.BENCH_RUNS ?? 3);
  const connections = Number(process.env.BENCH_CONNECTIONS ?? 50);
  const upstream = await start('upstream');
  const upstreamUrl = `http://127.0.0.1:${upstream.port}`;
  const targets = [
    ['@fastify/http-proxy', await start('fastify-proxy', upstreamUrl)],
    ['datakit gateway', await start('gateway', upstreamUrl, 'nolog')],
    ['datakit gateway (access log on)', await start('gateway', upstreamUrl, 'log')],
  ];
  const results = Object.fromEntries(targets.map(([n]) => [n, []]));
  // warm up
  for (const [, t] of targets) await drive(t.port, 2, connections);
  for (let i = 0; i < runs; i++) {
    for (const [name, t] of targets) {
      const r = await drive(t.port, duration, connections);
      results[name].push(r);
      process.stderr.write(`run ${i + 1}/${runs} ${name}: ${Math.round(r.rps)} req/s p50 ${r.p50} ms p99 ${r.p99} ms errors ${r.errors}\n`);
    }
  }
  const summary = {};
  for (const [name] of targets) {
    const rs = results[name];
    summary[name] = {
      rps: Math.round(median(rs.map((r) => r.rps))),
      p50: median(rs.map((r) => r.p50)),
      p99: median(rs.map((r) => r.p99)),
      errors: rs.reduce((a, r) => a + r.errors, 0),
    };
  }
  const base = summary['@fastify/http-proxy'].rps;
  const lines = ['| target | req/s (median) | p50 ms | p99 ms | errors | ratio vs @fastify/http-proxy |', '|---|---:|---:|---:|---:|---:|'];
  for (const [name, s] of Object.entries(summary)) {
    s.ratio = Math.round((s.rps / base) * 100) / 100;
    lines.push(`| ${name} | ${s.rps} | ${s.p50} | ${s.p99} | ${s.errors} | ${s.ratio.toFixed(2)} |`);
  }
  console.log(lines.join('\n'));
  const out = {
    date: new Date().toISOString(),
    node: process.version,
    duration_s: duration,
    runs,
    connections,
    summary,
    runs_detail: results,
  };
  const dir = fileURLToPath(new URL('./results/', import.meta.url));
  mkdirSync(dir, { recursive: true });
  writeFileSync(`${dir}gateway.json`, JSON.stringify(out, null, 2) + '\n');
  for (const [, t] of [['up', upstream], ...targets]) {
    t.child.removeAllListeners('exit');
    t.child.kill('SIGKILL');
  }
  process.exit(0);
}
