// Who spends the server's CPU, by component, with Linux perf (Debian's
// linux-perf): node bench/perf.js SETUP [seconds]
//
// V8's --cpu-prof samples only JS, and around the wasm boundary it credits
// time to whatever JS frame it finds (builtins, wrappers and the module's own
// code land on the import being called). perf samples every thread of the
// server, kernel included, and --perf-basic-prof names the JIT code (JS and
// wasm), so each sample goes to the innermost frame that belongs to a
// component: module code called by undici is llhttp, module code called from
// the engine is the engine; a syscall is charged to the code that made it.
// Numbers are inflated by sampling (-F 4000 with call graphs): compare
// setups measured the same way, not against bench/cpu.js.
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, rmSync, mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { stopAll, drive } from './lib/harness.js';
import { SETUPS, startSetup } from './lib/setups.js';

const which = process.argv[2] ?? 'auth';
const seconds = Number(process.argv[3] ?? 5);
const HZ = Number(process.env.BENCH_PERF_HZ ?? 4000);
// BENCH_PERF_DETAIL="engine: host glue" also lists that component's functions
const detail = process.env.BENCH_PERF_DETAIL;

if (spawnSync('perf', ['--version']).status !== 0) {
  console.log('perf is not installed (apt-get install -y linux-perf); nothing measured');
  process.exit(0);
}
if (!SETUPS.includes(which)) throw new Error(`unknown setup "${which}" (one of ${SETUPS.join(', ')})`);

const dir = mkdtempSync(path.join(os.tmpdir(), 'dk-perf-'));
const data = path.join(dir, 'perf.data');
const { server, url } = await startSetup(which, { execArgv: ['--perf-basic-prof'] });
await drive(url, 2, 50);
const rec = spawn('perf', ['record', '-q', '-e', 'cpu-clock', '-F', String(HZ), '-g', '-p', String(server.pid), '-o', data], { stdio: 'ignore' });
await new Promise((r) => setTimeout(r, 300));
const r = await drive(url, seconds, 50);
rec.kill('SIGINT');
await new Promise((res) => rec.on('exit', res));
await stopAll();

const script = spawnSync('perf', ['script', '-i', data, '-F', 'tid,ip,sym,dso'], { maxBuffer: 1 << 30, encoding: 'utf8' }).stdout;
rmSync(dir, { recursive: true, force: true });
rmSync(`/tmp/perf-${server.pid}.map`, { force: true });

/** The component a JIT or native frame belongs to, or undefined. */
function component(sym) {
  if (sym.includes('/dist/host/engine/') || sym.includes('/dist/host/flow.js') || sym.includes('/dist/host/request-meta.js')) return 'engine: host glue';
  if (sym.includes('/dist/host/jq/')) return 'engine: jq';
  if (sym.includes('/dist/host/plugins/')) return 'datakit plugin';
  if (sym.includes('/dist/host/gateway/')) return 'gateway';
  if (sym.includes('/bench/lib/plugins')) return 'custom JS plugin';
  if (sym.includes('/bench/lib/servers.js')) return 'twin handler';
  if (sym.includes('/undici/')) return 'undici';
  if (/\/(fastify|find-my-way|avvio|@fastify)\//.test(sym)) return 'fastify';
  if (/node:(_http|net|internal\/streams|internal\/stream_base|internal\/http)/.test(sym)) return 'node http, net, streams';
  if (/node:(internal\/timers|internal\/process|timers|events)/.test(sym)) return 'node events, timers, ticks';
  return undefined;
}
const isWasm = (sym) => sym.startsWith('JS:wasm-function') || /^JS:(assembly|~lib)\//.test(sym);

const total = new Map();
const kernel = new Map();
const byFunction = new Map();
let samples = 0;
for (const block of script.split('\n\n')) {
  const lines = block.trim().split('\n');
  if (lines.length < 2) continue;
  const tid = Number(lines[0].trim().split(/\s+/)[0]);
  const frames = lines.slice(1).map((l) => {
    const m = /^\s*[0-9a-f]+\s+(.*?)\s+\((.*)\)$/.exec(l);
    return m ? { sym: m[1], dso: m[2] } : { sym: l.trim(), dso: '' };
  });
  if (!frames.length) continue;
  samples++;
  let owner;
  let ownerFrame = '';
  for (let i = 0; i < frames.length && !owner; i++) {
    const s = frames[i].sym;
    ownerFrame = s;
    if (isWasm(s)) {
      // wasm code belongs to its JS caller: undici's llhttp or the engine
      let caller;
      for (let j = i + 1; j < frames.length && !caller; j++) if (!isWasm(frames[j].sym) && frames[j].sym.startsWith('JS:')) caller = component(frames[j].sym);
      owner = caller === 'undici' ? 'undici' : 'engine: wasm module';
    } else owner = component(s);
  }
  if (!owner) {
    // nothing of ours on the stack: V8 and libuv on the main thread, or a helper thread
    const outer = frames.map((f) => f.sym).join(' ');
    if (tid !== server.pid) owner = /OptimizingCompile|compiler::/.test(outer) ? 'helper threads: JIT compiler' : 'helper threads: GC, other';
    else if (/Scaveng|MarkCompact|Heap::|GCTracer/.test(outer)) owner = 'main: GC';
    else owner = 'main: event loop, V8, other';
  }
  total.set(owner, (total.get(owner) ?? 0) + 1);
  if (owner === detail) {
    const f = ownerFrame.replace(/ file:\/\/\S*\/(dist|node_modules)\//, ' ');
    byFunction.set(f, (byFunction.get(f) ?? 0) + 1);
  }
  if (frames[0].dso.includes('kernel')) kernel.set(owner, (kernel.get(owner) ?? 0) + 1);
}

const us = (n) => (n * 1e6) / HZ / r.requests;
console.log(`${which}: ${Math.round(r.rps)} req/s under perf (${r.requests} requests, ${samples} samples at ${HZ} Hz)`);
console.log(`server CPU ${us(samples).toFixed(1)} µs/req (perf-inflated)\n`);
console.log('| component | µs/req | of which kernel |');
console.log('|---|---:|---:|');
for (const [k, n] of [...total].sort((a, b) => b[1] - a[1])) console.log(`| ${k} | ${us(n).toFixed(1)} | ${us(kernel.get(k) ?? 0).toFixed(1)} |`);
if (detail) {
  console.log(`\n${detail}, by function (the component's innermost frame):`);
  for (const [k, n] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, 25)) console.log(`${us(n).toFixed(2).padStart(7)} ${k}`);
}
