// Databases and clusters: what a database costs, and how fast a change
// reaches every node.
//   node bench/cluster.js [propagation|start|throughput|all]   (default all)
//
// propagation  3 gateways on one PostgreSQL server (a throw-away `postgres`,
//              test/helpers/postgres-server.js); CLUSTER_CHANGES (100) times:
//              change a datakit exit flow on one node (in turn), poll the
//              other two nodes' proxies every ~5 ms until both answer the new
//              body. Reports the Admin write time and the propagation delay
//              (write answered -> both other nodes serve it): median, p99, max.
// start        START_CONSUMERS (10000) consumers with a key-auth credential
//              each and START_ROUTES (1000) routes: time from spawn until the
//              last consumer's key on the last route is proxied, from the
//              declarative file, from PGlite and from the PostgreSQL server
//              (each database loaded once with `datakit config db_import`);
//              START_RUNS (3) runs each, median.
// throughput   one route with a datakit flow (a static node into the
//              upstream request's headers) served DB-less, from PGlite and
//              from the PostgreSQL server, the three gateways measured in
//              turn (THROUGHPUT_ROUNDS (5) rounds of BENCH_DURATION (5) s each,
//              BENCH_CONNECTIONS (50)): median req/s and gateway CPU per
//              request, and the median over rounds of each round's ratio to
//              DB-less. BENCH_RATE=N holds every mode at N req/s.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { drive, machine, median, startRole, stopAll } from './lib/harness.js';
import { gatewayDoc, staticHeaderFlow } from './lib/flows.js';
import { admin, cpuTicks, datakit, percentile, startServe, stopServes } from './lib/serve.js';
import { startPostgres } from '../test/helpers/postgres-server.js';

const which = process.argv[2] ?? 'all';
const env = (name, dflt) => Number(process.env[name] ?? dflt);
const tmp = mkdtempSync(path.join(os.tmpdir(), 'datakit-bench-cluster-'));
const postgresServers = [];

async function postgres() {
  const pg = await startPostgres({ settings: { max_connections: 200 } });
  postgresServers.push(pg);
  return pg;
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const round = (x, d = 1) => Math.round(x * 10 ** d) / 10 ** d;

/** Resolves with the time (performance.now()) at which GET url first answers `expected` (polling every ~5 ms). */
async function firstServed(url, expected, timeoutMs = 10_000) {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    try {
      const r = await fetch(url);
      const text = await r.text();
      if (text === expected) return performance.now();
    } catch {
      /* keep polling */
    }
    if (performance.now() > deadline) throw new Error(`${url} did not serve ${expected} within ${timeoutMs} ms`);
    await sleep(5);
  }
}

const exitFlow = (version) => ({
  nodes: [
    { name: 'VERSION', type: 'static', values: { version } },
    { name: 'EXIT', type: 'exit', status: 200, inputs: { body: 'VERSION' } },
  ],
});

async function propagation() {
  const changes = env('CLUSTER_CHANGES', 100);
  const pg = await postgres();
  await datakit(['migrations', 'bootstrap', '--database', pg.url]);
  const nodes = [];
  for (let i = 0; i < 3; i++) nodes.push(await startServe(['--database', pg.url]));
  await admin(nodes[0].admin, 'PUT', '/services/prop', { url: 'http://127.0.0.1:9' });
  await admin(nodes[0].admin, 'PUT', '/services/prop/routes/prop', { paths: ['/prop'] });
  const plugin = await admin(nodes[0].admin, 'POST', '/routes/prop/plugins', { name: 'datakit', config: exitFlow(0) });
  await Promise.all(nodes.map((n) => firstServed(`${n.proxy}/prop`, '{"version":0}')));

  const writes = [];
  const delays = [];
  for (let v = 1; v <= changes; v++) {
    const writer = nodes[v % 3];
    const others = nodes.filter((n) => n !== writer);
    const expected = JSON.stringify({ version: v });
    const sent = performance.now();
    await admin(writer.admin, 'PATCH', `/plugins/${plugin.id}`, { config: exitFlow(v) });
    const answered = performance.now();
    const served = await Promise.all(others.map((n) => firstServed(`${n.proxy}/prop`, expected)));
    writes.push(answered - sent);
    delays.push(Math.max(...served) - answered);
  }
  await Promise.all(nodes.map((n) => n.stop()));
  return {
    changes,
    adminWriteMs: { median: round(median(writes)), p99: round(percentile(writes, 99)) },
    propagationMs: { median: round(median(delays)), p99: round(percentile(delays, 99)), max: round(Math.max(...delays)) },
  };
}

/** 10,000 consumers with a key each, 1,000 routes (10 per service), key-auth on every route. */
function bigDoc(consumers, routes, upstreamUrl) {
  const services = [];
  for (let s = 0; s < Math.ceil(routes / 10); s++) {
    const rs = [];
    for (let r = s * 10; r < Math.min(routes, (s + 1) * 10); r++) rs.push({ name: `r${r}`, paths: [`/r${r}`] });
    services.push({ name: `s${s}`, url: upstreamUrl, routes: rs });
  }
  const cs = [];
  for (let c = 0; c < consumers; c++) cs.push({ username: `c${c}`, keyauth_credentials: [{ key: `key-${c}` }] });
  return { _format_version: '3.0', services, consumers: cs, plugins: [{ name: 'key-auth' }] };
}

async function start() {
  const consumers = env('START_CONSUMERS', 10_000);
  const routes = env('START_ROUTES', 1000);
  const runs = env('START_RUNS', 3);
  const upstream = await startRole('upstream');
  const file = path.join(tmp, 'big.json');
  writeFileSync(file, JSON.stringify(bigDoc(consumers, routes, upstream.url)));
  const probe = `/r${routes - 1}`;
  const key = `key-${consumers - 1}`;

  const pglite = path.join(tmp, 'pglite');
  const pg = await postgres();
  const importMs = {};
  for (const [mode, db] of [['pglite', pglite], ['postgres', pg.url]]) {
    const t = performance.now();
    await datakit(['config', 'db_import', file, '--database', db]);
    importMs[mode] = round(performance.now() - t, 0);
  }
  const sources = { file: ['--config', file], pglite: ['--database', pglite], postgres: ['--database', pg.url] };
  const times = Object.fromEntries(Object.keys(sources).map((m) => [m, []]));
  for (let run = 0; run < runs; run++) {
    for (const [mode, args] of Object.entries(sources)) {
      const node = await startServe(args);
      // serving = the last consumer's key accepted on the last route
      for (;;) {
        const r = await fetch(node.proxy + probe, { headers: { apikey: key } });
        await r.arrayBuffer();
        if (r.status === 200) break;
        if (performance.now() - node.spawnedAt > 120_000) throw new Error(`${mode}: ${probe} still answers ${r.status}`);
        await sleep(10);
      }
      times[mode].push({ ready: node.readyMs, serving: performance.now() - node.spawnedAt });
      await node.stop();
    }
  }
  await upstream.stop();
  const out = { consumers, routes, runs, importMs };
  for (const [mode, ts] of Object.entries(times)) {
    out[mode] = { statusMs: round(median(ts.map((t) => t.ready)), 0), servingMs: round(median(ts.map((t) => t.serving)), 0) };
  }
  return out;
}

async function throughput() {
  const rounds = env('THROUGHPUT_ROUNDS', 5);
  const duration = env('BENCH_DURATION', 5);
  const connections = env('BENCH_CONNECTIONS', 50);
  // BENCH_RATE=N: every mode at the same N req/s (CPU per request at equal load)
  const rate = env('BENCH_RATE', 0) || undefined;
  const upstream = await startRole('upstream');
  const file = path.join(tmp, 'one-route.json');
  writeFileSync(file, JSON.stringify(gatewayDoc(upstream.url, [{ name: 'datakit', config: staticHeaderFlow() }])));
  const pglite = path.join(tmp, 'pglite-one');
  const pg = await postgres();
  await datakit(['config', 'db_import', file, '--database', pglite]);
  await datakit(['config', 'db_import', file, '--database', pg.url]);
  const nodes = {
    'db-less': await startServe(['--config', file]),
    pglite: await startServe(['--database', pglite]),
    postgres: await startServe(['--database', pg.url]),
  };
  const modes = Object.keys(nodes);
  const results = Object.fromEntries(modes.map((m) => [m, []]));
  for (const m of modes) await drive(`${nodes[m].proxy}/bench/path?x=1`, 2, connections); // warm-up
  for (let r = 0; r < rounds; r++) {
    // a different mode goes first each round
    const order = modes.map((_, i) => modes[(i + r) % modes.length]);
    for (const m of order) {
      const before = cpuTicks(nodes[m].pid);
      const res = await drive(`${nodes[m].proxy}/bench/path?x=1`, duration, connections, rate);
      const cpuUsPerReq = ((cpuTicks(nodes[m].pid) - before) * 10_000) / res.requests;
      if (res.errors) throw new Error(`${m}: ${res.errors} errors`);
      results[m].push({ rps: res.rps, p99: res.p99, cpuUsPerReq });
    }
  }
  const out = { rounds, duration, connections, rate: rate ?? 'unbounded' };
  // ratios are taken within a round (the same minutes of a shared machine), then their median
  const ratio = (m, key) => round(median(results[m].map((x, i) => x[key] / results['db-less'][i][key])), 3);
  for (const m of modes) {
    out[m] = {
      rps: Math.round(median(results[m].map((x) => x.rps))),
      p99: median(results[m].map((x) => x.p99)),
      cpuUsPerReq: round(median(results[m].map((x) => x.cpuUsPerReq))),
      rpsVsDbLess: ratio(m, 'rps'),
      cpuVsDbLess: ratio(m, 'cpuUsPerReq'),
      allRps: results[m].map((x) => Math.round(x.rps)),
    };
  }
  await Promise.all(Object.values(nodes).map((n) => n.stop()));
  await upstream.stop();
  return out;
}

const benches = { propagation, start, throughput };
try {
  const selected = which === 'all' ? Object.keys(benches) : [which];
  for (const name of selected) if (!benches[name]) throw new Error(`unknown benchmark "${name}" (propagation, start, throughput or all)`);
  console.log(JSON.stringify({ machine: machine() }));
  for (const name of selected) console.log(JSON.stringify({ [name]: await benches[name]() }));
} finally {
  await stopServes();
  await stopAll();
  for (const pg of postgresServers) await pg.stop();
  rmSync(tmp, { recursive: true, force: true });
}
