// The HTTP benchmark suite (`npm run bench`): the upstream alone, other
// proxies, the datakit gateway bare and with two flows, and hand-written
// Fastify + undici twins of those flows, in one sitting, with autocannon over
// keep-alive connections on 127.0.0.1. Every server runs in its own process.
// Run after `npm run build` (imports dist/).
// Env: BENCH_DURATION (s, default 10), BENCH_RUNS (default 3),
//      BENCH_CONNECTIONS (default 50), BENCH_QUICK=1 (2 s x 1 run smoke).
// Output: markdown on stdout, progress on stderr, bench/results/bench.json
// and bench/results/bench.svg.
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { startRole, startCli, startNginx, findNginx, drive, summarize, median, settings, stopAll, machine } from './lib/harness.js';
import { authFlow, multiplexFlow, gatewayDoc, TOKEN_BODY } from './lib/flows.js';
import { markdownTable, ratioTable, barChartSvg } from './lib/report.js';

const cfg = settings();
const log = (s) => process.stderr.write(s + '\n');
const t0 = Date.now();

process.on('SIGINT', async () => {
  await stopAll();
  process.exit(130);
});

async function main() {
  log(`bench: ${cfg.runs} run(s) x ${cfg.duration} s, ${cfg.connections} connections, warm-up ${cfg.warmup} s per target`);

  // --- backends (each its own process) ---
  const upstream = await startRole('upstream');
  const apis = await startRole('upstream'); // the two local API endpoints (/json, /uuid) of the multiplexing flow
  const token = await startRole('token');
  const tokenUrl = `${token.url}/auth-token`;
  const jsonUrl = `${apis.url}/json`;
  const uuidUrl = `${apis.url}/uuid`;

  const bareDoc = gatewayDoc(upstream.url);
  const authDoc = gatewayDoc(upstream.url, [{ name: 'datakit', config: authFlow(tokenUrl) }]);
  const multiDoc = gatewayDoc(upstream.url, [{ name: 'datakit', config: multiplexFlow(jsonUrl, uuidUrl) }]);

  const PLAIN = '/bench/path?x=1';
  const AUTH = '/bench/path?api_key=k1';
  const MULTI = '/multi';

  const nginxBin = findNginx();
  const rows = [
    { id: '1', kind: 'baseline', name: 'direct to upstream (the limit)', path: PLAIN, start: async () => upstream, shared: true },
    { id: '2', kind: 'peer', name: '@fastify/http-proxy', path: PLAIN, start: () => startRole('fastify-proxy', { upstream: upstream.url }) },
    {
      id: '3',
      kind: 'peer',
      name: 'nginx reverse proxy (1 worker)',
      path: PLAIN,
      start: nginxBin ? () => startNginx(nginxBin, upstream.port) : undefined,
      skipReason: nginxBin ? undefined : 'nginx not installed (apt-get install -y nginx)',
    },
    { id: '4', kind: 'ours', name: 'datakit gateway, route without plugins', path: PLAIN, start: () => startRole('gateway', { doc: bareDoc }) },
    { id: '5', kind: 'ours', name: 'datakit gateway + seed auth flow', path: AUTH, check: 'auth', start: () => startRole('gateway', { doc: authDoc }) },
    { id: '6', kind: 'twin', name: 'Fastify + undici, auth flow by hand', path: AUTH, check: 'auth', start: () => startRole('twin-auth', { token: tokenUrl, upstream: upstream.url }) },
    { id: '7', kind: 'ours', name: 'datakit gateway + two-API multiplexing flow', path: MULTI, check: 'multi', start: () => startRole('gateway', { doc: multiDoc }) },
    { id: '8', kind: 'twin', name: 'Fastify + undici, multiplexing by hand', path: MULTI, check: 'multi', start: () => startRole('twin-multi', { json: jsonUrl, uuid: uuidUrl }) },
    { id: '4w2', kind: 'ours', name: 'datakit serve --workers 2, no plugins', path: PLAIN, start: () => startCli(bareDoc, 2) },
    { id: '5w2', kind: 'ours', name: 'datakit serve --workers 2 + seed auth flow', path: AUTH, check: 'auth', start: () => startCli(authDoc, 2) },
  ];

  // BENCH_ROWS=5,6 runs only those rows (quick side-by-side checks while tuning)
  const only = process.env.BENCH_ROWS ? new Set(process.env.BENCH_ROWS.split(',')) : undefined;
  if (only) for (const r of rows) if (!only.has(r.id)) r.skipReason = 'not selected (BENCH_ROWS)';

  // --- start every target, check it does the real work ---
  for (const r of rows) {
    if (!r.start || r.skipReason) {
      r.skipped = r.skipReason;
      log(`row ${r.id} ${r.name}: skipped (${r.skipped})`);
      continue;
    }
    r.server = await r.start();
    if (r.server.version) r.version = r.server.version;
    await check(r);
    log(`row ${r.id} ${r.name}: ready on ${r.server.url} (pid ${r.server.pid}), response checked`);
  }
  const live = rows.filter((r) => !r.skipped);

  // --- warm up, then runs; the order alternates between runs to spread drift ---
  for (const r of live) await drive(r.server.url + r.path, cfg.warmup, cfg.connections);
  for (const r of live) r.runs = [];
  for (let i = 0; i < cfg.runs; i++) {
    const order = i % 2 === 0 ? live : [...live].reverse();
    for (const r of order) {
      const res = await drive(r.server.url + r.path, cfg.duration, cfg.connections);
      r.runs.push(res);
      log(`run ${i + 1}/${cfg.runs} row ${r.id} ${r.name}: ${Math.round(res.rps)} req/s p50 ${res.p50} ms p99 ${res.p99} ms errors ${res.errors}`);
    }
  }
  for (const r of live) r.summary = summarize(r.runs);

  const byId = Object.fromEntries(rows.map((r) => [r.id, r]));
  const pair = (a, b, label, target) => {
    const A = byId[a];
    const B = byId[b];
    if (A.skipped || B.skipped) return undefined;
    const per = A.runs.map((x, i) => x.rps / B.runs[i].rps);
    const ratio = median(per);
    return { a, b, label, per_run: per.map((x) => Number(x.toFixed(3))), ratio: Number(ratio.toFixed(3)), target, met: target === undefined ? undefined : ratio >= target };
  };
  const pairs = [
    pair('4', '2', 'row 4 gateway (no plugins) / row 2 @fastify/http-proxy', 0.9),
    pair('5', '6', 'row 5 gateway + auth flow / row 6 hand-written twin', 0.8),
    pair('7', '8', 'row 7 gateway + multiplexing flow / row 8 hand-written twin', 0.8),
  ].filter(Boolean);
  const extra = [pair('4', '1', 'row 4 gateway / row 1 direct'), pair('2', '1', 'row 2 @fastify/http-proxy / row 1 direct'), pair('3', '1', 'row 3 nginx / row 1 direct'), pair('4', '3', 'row 4 gateway / row 3 nginx')].filter(Boolean);
  const scaling = [pair('4w2', '4', 'no plugins: workers 2 / workers 1 (row 4)'), pair('5w2', '5', 'auth flow: workers 2 / workers 1 (row 5)')].filter(Boolean);

  // --- output ---
  const m = machine();
  const header =
    `Machine: ${m.nproc} cores (${m.model}), Node ${m.node}, ${m.platform}; load generator and servers share the cores.\n` +
    `Settings: ${cfg.runs} run(s) x ${cfg.duration} s per target, ${cfg.connections} keep-alive connections, medians over runs; ratios are medians of per-run ratios.`;
  const md = [
    header,
    '',
    markdownTable(rows),
    '',
    ratioTable(pairs, 'pair (targets)'),
    '',
    ratioTable(extra, 'other ratios'),
    '',
    ratioTable(scaling, 'workers scaling'),
  ].join('\n');
  console.log(md);

  const dir = fileURLToPath(new URL('./results/', import.meta.url));
  mkdirSync(dir, { recursive: true });
  const out = {
    date: new Date().toISOString(),
    machine: m,
    settings: { duration_s: cfg.duration, runs: cfg.runs, connections: cfg.connections, warmup_s: cfg.warmup, quick: cfg.quick },
    wall_s: Math.round((Date.now() - t0) / 1000),
    rows: rows.map((r) => ({
      id: r.id,
      name: r.name,
      kind: r.kind,
      path: r.path,
      ...(r.version ? { version: r.version } : {}),
      ...(r.skipped ? { skipped: r.skipped } : { summary: r.summary, runs: r.runs }),
    })),
    pairs,
    other_ratios: extra,
    workers_scaling: scaling,
    markdown: md,
  };
  writeFileSync(`${dir}bench.json`, JSON.stringify(out, null, 2) + '\n');
  writeFileSync(
    `${dir}bench.svg`,
    barChartSvg(rows, {
      title: 'datakit-wasm HTTP benchmark: requests per second (median)',
      subtitle: `${m.nproc} cores (${m.model}), Node ${m.node}, ${cfg.runs} x ${cfg.duration} s, ${cfg.connections} connections, ${out.date.slice(0, 10)}`,
    }),
  );
  log(`wrote bench/results/bench.json and bench/results/bench.svg (${out.wall_s} s)`);
}

/** One request through the target before loading it: the flows must do their real work. */
async function check(r) {
  const url = r.server.url;
  if (r.check === 'auth') {
    // the upstream's /echo returns the headers it received
    const res = await fetch(`${url}/echo?api_key=k1`);
    const body = await res.json();
    const tok = JSON.parse(TOKEN_BODY);
    if (res.status !== 200 || body.headers?.authorization !== `${tok.token_type} ${tok.access_token}`) {
      throw new Error(`row ${r.id}: upstream did not get the Authorization header: ${res.status} ${JSON.stringify(body)}`);
    }
    const bad = await fetch(`${url}/echo`);
    await bad.arrayBuffer();
    if (bad.status < 400) throw new Error(`row ${r.id}: a request without api_key should fail (token service says 401), got ${bad.status}`);
    return;
  }
  if (r.check === 'multi') {
    const res = await fetch(url + r.path);
    const body = await res.json();
    if (res.status !== 200 || body.author !== 'Yours Truly' || typeof body.uuid !== 'string') {
      throw new Error(`row ${r.id}: unexpected join: ${res.status} ${JSON.stringify(body)}`);
    }
    return;
  }
  const res = await fetch(url + r.path);
  const body = await res.json();
  if (res.status !== 200 || body.hello !== 'world') throw new Error(`row ${r.id}: unexpected answer ${res.status} ${JSON.stringify(body)}`);
}

try {
  await main();
  await stopAll();
  process.exit(0);
} catch (e) {
  log(`bench failed: ${e.stack ?? e}`);
  await stopAll();
  process.exit(1);
}
