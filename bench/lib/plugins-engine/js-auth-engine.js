// Diagnostic for bench/cpu.js: the js-auth plugin's work, plus the auth flow
// run through the engine with the token call answered in-process (no
// network, result unused). The difference to js-auth is what the engine
// costs inside a busy gateway, as against bench/engine.js's tight loop.
// JS_AUTH_ENGINE_FLOW: auth (default) | static (one static node) | none |
// client (no flow; the token call goes through the engine's HttpClient);
// JS_AUTH_ENGINE_REPEAT=N runs the flow N times per request.
import { access as jsAuth } from '../plugins/js-auth.js';
import { Datakit } from '../../../dist/host/index.js';
import { HttpClient, CallCancel } from '../../../dist/host/engine/http-client.js';
import { authFlow, staticHeaderFlow } from '../flows.js';

export const name = 'js-auth-engine';
export const priority = 900;
export const version = '1.0.0';
export const schema = { name: 'js-auth-engine', type: 'object', properties: { url: { type: 'string' } }, required: ['url'] };

const TOKEN = Buffer.from('{"token_type":"Bearer","access_token":"bench-access-token-0123456789","expires_in":3600}');
const which = process.env.JS_AUTH_ENGINE_FLOW ?? 'auth';
const dk = await Datakit.create({
  transport: { send: () => Promise.resolve({ status: 200, headers: { 'content-type': 'application/json' }, body: TOKEN }), close: async () => {} },
});
const client = which === 'client' ? new HttpClient() : undefined;
const flow = which === 'none' || which === 'client' ? undefined : dk.load(which === 'static' ? staticHeaderFlow() : authFlow('http://127.0.0.1:1/auth-token'));

const repeat = Number(process.env.JS_AUTH_ENGINE_REPEAT ?? 1);

export async function access(kong, config) {
  for (let k = 0; flow && k < repeat; k++) {
    const run = flow.newRequest({ method: 'GET', path: '/bench/path', headers: { host: 'x' }, query: 'api_key=k1' }, undefined, { timings: true });
    const out = await run.request();
    run.done();
    if (out.action !== 'continue') throw new Error('flow failed');
  }
  if (client) {
    const res = await client.send(
      { method: 'POST', url: config.url, headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-api-key': kong.request.getQuery().api_key ?? 'none' } },
      Buffer.from('grant_type=client_credentials'),
      new CallCancel(),
    );
    const tok = JSON.parse(Buffer.from(res.body).toString());
    kong.serviceRequest.setHeader('Authorization', `${tok.token_type} ${tok.access_token}`);
    return;
  }
  // the token call and the header, exactly as the js-auth plugin does them
  return jsAuth(kong, config);
}
