// The server setups the diagnostic tools (cpu.js, profile.js, perf.js) load:
// each starts its backends and one server process, and says which path to load.
import { fileURLToPath } from 'node:url';
import { startRole } from './harness.js';
import { authFlow, multiplexFlow, gatewayDoc, staticHeaderFlow } from './flows.js';

export const SETUPS = [
  'bare', 'trivial', 'request-transformer', 'auth', 'js-auth', 'js-auth-engine',
  'twin-auth', 'multi', 'twin-multi', 'fastify-proxy',
];

/**
 * Starts the backends (upstream, API, token service) and the server of one
 * setup. `execArgv` goes to the server process only.
 * Returns { server, url, procs } where procs maps role -> { pid }.
 */
export async function startSetup(which, { execArgv } = {}) {
  if (!SETUPS.includes(which)) throw new Error(`unknown setup "${which}" (one of ${SETUPS.join(', ')})`);
  const upstream = await startRole('upstream');
  const apis = await startRole('upstream');
  const token = await startRole('token');
  const tokenUrl = `${token.url}/auth-token`;
  const plugins = {
    auth: [{ name: 'datakit', config: authFlow(tokenUrl) }],
    'js-auth': [{ name: 'js-auth', config: { url: tokenUrl } }],
    'js-auth-engine': [{ name: 'js-auth-engine', config: { url: tokenUrl } }],
    multi: [{ name: 'datakit', config: multiplexFlow(`${apis.url}/json`, `${apis.url}/uuid`) }],
    trivial: [{ name: 'datakit', config: staticHeaderFlow() }],
    'request-transformer': [{ name: 'request-transformer', config: { add: { headers: ['X-A:b'] } } }],
  }[which] ?? [];
  const doc = gatewayDoc(upstream.url, plugins);
  // the custom JS plugins of the diagnostics (bench/lib/plugins*/)
  if (which === 'js-auth') doc.settings = { plugins: [fileURLToPath(new URL('./plugins', import.meta.url))] };
  if (which === 'js-auth-engine') doc.settings = { plugins: [fileURLToPath(new URL('./plugins-engine', import.meta.url))] };
  const opts = execArgv ? { execArgv } : {};
  const server =
    which === 'twin-auth' ? await startRole('twin-auth', { token: tokenUrl, upstream: upstream.url }, opts)
    : which === 'twin-multi' ? await startRole('twin-multi', { json: `${apis.url}/json`, uuid: `${apis.url}/uuid` }, opts)
    : which === 'fastify-proxy' ? await startRole('fastify-proxy', { upstream: upstream.url }, opts)
    : await startRole('gateway', { doc }, opts);
  const path = which.includes('auth') ? '/bench/path?api_key=k1' : which.includes('multi') ? '/multi' : '/bench/path?x=1';
  return { server, url: server.url + path, procs: { server, upstream, apis, token } };
}
