// CPU per request of each process in one row: node bench/cpu.js ROW [seconds]
// ROW: bare | auth | twin-auth | multi | twin-multi | fastify-proxy
import { readFileSync } from 'node:fs';
import { startRole, stopAll, drive } from './lib/harness.js';
import { authFlow, multiplexFlow, gatewayDoc } from './lib/flows.js';

const which = process.argv[2] ?? 'auth';
const seconds = Number(process.argv[3] ?? 5);
const conns = Number(process.env.BENCH_CONNECTIONS ?? 50);
const upstream = await startRole('upstream');
const apis = await startRole('upstream');
const token = await startRole('token');
const tokenUrl = `${token.url}/auth-token`;
const plugins =
  which === 'auth' ? [{ name: 'datakit', config: authFlow(tokenUrl) }]
  : which === 'multi' ? [{ name: 'datakit', config: multiplexFlow(`${apis.url}/json`, `${apis.url}/uuid`) }]
  : which === 'jsauth' ? [{ name: 'jsauth', config: { url: tokenUrl } }]
  : which === 'jsfake' ? [{ name: 'jsfake', config: {} }]
  : which === 'rt' ? [{ name: 'request-transformer', config: { add: { headers: ['X-A:b'] } } }]
  : which === 'trivial' ? [{ name: 'datakit', config: { nodes: [{ name: 'S', type: 'static', values: { 'X-A': 'b' }, output: 'service_request.headers' }] } }]
  : [];
const path = which.includes('auth') ? '/bench/path?api_key=k1' : which.includes('multi') ? '/multi' : '/bench/path?x=1';
const gw =
  which === 'twin-auth' ? await startRole('twin-auth', { token: tokenUrl, upstream: upstream.url })
  : which === 'twin-multi' ? await startRole('twin-multi', { json: `${apis.url}/json`, uuid: `${apis.url}/uuid` })
  : which === 'fastify-proxy' ? await startRole('fastify-proxy', { upstream: upstream.url })
  : await startRole('gateway', { doc: { ...gatewayDoc(upstream.url, plugins), ...(which.startsWith('js') ? { settings: { plugins: [new URL('./tmp/plugins', import.meta.url).pathname] } } : {}) } });
const ticks = (pid) => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return Number(f[11]) + Number(f[12]);
};
const procs = { gateway: gw, upstream, apis, token, self: { pid: process.pid } };
await drive(gw.url + path, 2, conns);
const before = Object.fromEntries(Object.entries(procs).map(([k, p]) => [k, ticks(p.pid)]));
const r = await drive(gw.url + path, seconds, conns);
const after = Object.fromEntries(Object.entries(procs).map(([k, p]) => [k, ticks(p.pid)]));
const out = [`${which}: ${Math.round(r.rps)} req/s p99 ${r.p99} errors ${r.errors}`];
for (const k of Object.keys(procs)) out.push(`${k} ${(((after[k] - before[k]) * 10000) / r.requests).toFixed(1)} µs/req`);
console.log(out.join(' | '));
await stopAll();
