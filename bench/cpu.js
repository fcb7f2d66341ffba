// CPU per request of every process in one setup, from /proc/PID/stat
// (user + system ticks over one autocannon run divided by requests):
//   node bench/cpu.js SETUP [seconds]
// SETUP: bare | trivial | request-transformer | auth | js-auth | twin-auth |
//        multi | twin-multi | fastify-proxy | js-auth-engine
// js-auth-engine is js-auth plus the auth flow run through the engine with
// the token answered in-process (bench/lib/plugins-engine): what the engine
// costs inside a busy gateway (JS_AUTH_ENGINE_FLOW=static|none for less).
// Throughput on 2 shared cores depends on every process's CPU; this says
// which process spends it. js-auth is the auth flow's work as a custom JS
// plugin of our gateway (bench/lib/plugins/js-auth.js).
import { readdirSync, readFileSync } from 'node:fs';
import { stopAll, drive } from './lib/harness.js';
import { startSetup } from './lib/setups.js';

const which = process.argv[2] ?? 'auth';
const seconds = Number(process.argv[3] ?? 5);
const conns = Number(process.env.BENCH_CONNECTIONS ?? 50);
// BENCH_RATE=N caps the load at N req/s (CPU per request at the same rate for two setups)
const rate = Number(process.env.BENCH_RATE ?? 0) || undefined;
const { server: gw, url, procs: roles } = await startSetup(which);

/** user + system clock ticks (1/100 s) of a process */
const ticks = (pid) => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return Number(f[11]) + Number(f[12]);
};
const procs = { ...roles, autocannon: { pid: process.pid } };
/** the server's threads by name (main, V8 GC helpers, libuv pool): ticks each */
const threads = (pid) => {
  const out = {};
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    const name = tid === String(pid) ? 'main' : readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim();
    const f = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8').split(') ')[1].split(' ');
    out[name] = (out[name] ?? 0) + Number(f[11]) + Number(f[12]);
  }
  return out;
};
await drive(url, 2, conns);
const before = Object.fromEntries(Object.entries(procs).map(([k, p]) => [k, ticks(p.pid)]));
const threadsBefore = threads(gw.pid);
const r = await drive(url, seconds, conns, rate);
const after = Object.fromEntries(Object.entries(procs).map(([k, p]) => [k, ticks(p.pid)]));
const threadsAfter = threads(gw.pid);
const out = [`${which}: ${Math.round(r.rps)} req/s p99 ${r.p99} ms errors ${r.errors}`];
for (const k of Object.keys(procs)) {
  const us = ((after[k] - before[k]) * 10_000) / r.requests;
  if (us > 0) out.push(`${k} ${us.toFixed(1)} µs/req`);
}
console.log(out.join(' | '));
// where the server's CPU went by thread (V8's GC helper threads do not show in a --cpu-prof profile)
const byThread = Object.keys(threadsAfter)
  .map((k) => [k, ((threadsAfter[k] - (threadsBefore[k] ?? 0)) * 10_000) / r.requests])
  .filter(([, us]) => us > 0)
  .map(([k, us]) => `${k} ${us.toFixed(1)}`);
console.log(`  server threads (µs/req): ${byThread.join(', ')}`);
await stopAll();
