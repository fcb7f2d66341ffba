// Profiles one server under load: node bench/profile.js [auth|js-auth|js-auth-engine|twin-auth|multi|twin-multi|trivial|request-transformer|bare] [seconds]
// Writes a .cpuprofile to bench/results/profile/ and prints the top self-time
// functions and files (share of samples and µs per request).
import { readdirSync, readFileSync, rmSync, mkdirSync } from 'node:fs';
import { stopAll, drive } from './lib/harness.js';
import { startSetup } from './lib/setups.js';

const which = process.argv[2] ?? 'multi';
const seconds = Number(process.argv[3] ?? 5);
// BENCH_PROFILE_DIR keeps profiles of several setups apart (default bench/results/profile/)
const dir = process.env.BENCH_PROFILE_DIR ? `${process.env.BENCH_PROFILE_DIR}/${which}/` : new URL('./results/profile/', import.meta.url).pathname;
rmSync(dir, { recursive: true, force: true });
mkdirSync(dir, { recursive: true });
// BENCH_PROFILE_INTERVAL (µs, default 1000): finer sampling for short functions
const prof = { execArgv: ['--cpu-prof', `--cpu-prof-dir=${dir}`, `--cpu-prof-interval=${process.env.BENCH_PROFILE_INTERVAL ?? 1000}`] };
const { url } = await startSetup(which, prof);
const warm = await drive(url, 1, 50);
const r = await drive(url, seconds, 50);
console.log(`${which}: ${Math.round(r.rps)} req/s, p99 ${r.p99} ms, errors ${r.errors}`);
await stopAll();
await new Promise((res) => setTimeout(res, 500));
const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
const p = JSON.parse(readFileSync(dir + file, 'utf8'));
const byId = new Map(p.nodes.map((n) => [n.id, n]));
const self = new Map();
for (let i = 0; i < p.samples.length; i++) {
  const n = byId.get(p.samples[i]);
  const k = `${n.callFrame.functionName || '(anon)'} ${n.callFrame.url.split('/').slice(-2).join('/')}:${n.callFrame.lineNumber}`;
  self.set(k, (self.get(k) ?? 0) + p.timeDeltas[i]);
}
const total = [...self.values()].reduce((a, b) => a + b, 0);
// µs of CPU per request (profile time over every request served, warm-up included)
const requests = warm.requests + r.requests;
const fmt = (v) => `${((v / total) * 100).toFixed(1)}% ${(v / requests).toFixed(2)}µs`;
console.log(`${dir}${file}: ${requests} requests`);
console.log(`busy ${((total - (self.get('(idle) :-1') ?? 0)) / requests).toFixed(1)} µs/req`);
for (const [k, v] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 35)) console.log(fmt(v), k);

// self time by file, to see where a request's CPU goes
const byFile = new Map();
for (let i = 0; i < p.samples.length; i++) {
  const n = byId.get(p.samples[i]);
  const url = n.callFrame.url;
  const k = url.includes('/undici/') ? 'undici' : url.includes('wasm') ? 'wasm' : url.startsWith('node:') ? 'node:' + url.split(':')[1].split('/')[1] : url ? url.split('/').slice(-2).join('/') : n.callFrame.functionName;
  byFile.set(k, (byFile.get(k) ?? 0) + p.timeDeltas[i]);
}
console.log('\nby file:');
for (const [k, v] of [...byFile].sort((a, b) => b[1] - a[1]).slice(0, 25)) console.log(fmt(v), k);
