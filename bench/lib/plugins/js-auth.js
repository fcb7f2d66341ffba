// The seed auth flow's work as a custom JS plugin of our gateway (for
// bench/cpu.js): what the flow would cost if it were hand-written inside the
// gateway. Token call with an undici Pool, then the Authorization header.
import { Pool } from 'undici';

export const name = 'js-auth';
export const priority = 900;
export const version = '1.0.0';
export const schema = { name: 'js-auth', type: 'object', properties: { url: { type: 'string' } }, required: ['url'] };

let pool;
let path;
export async function access(kong, config) {
  if (!pool) {
    const u = new URL(config.url);
    pool = new Pool(u.origin, { keepAliveTimeout: 60_000, pipelining: 1 });
    path = u.pathname;
  }
  const auth = await pool.request({
    method: 'POST',
    path,
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-api-key': kong.request.getQuery().api_key ?? 'none' },
    body: 'grant_type=client_credentials',
  });
  const tok = await auth.body.json();
  kong.serviceRequest.setHeader('Authorization', `${tok.token_type} ${tok.access_token}`);
}
