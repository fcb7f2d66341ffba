/**
 * Behaviours of Kong the gateway follows, each named after the Kong page
 * that states it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import http from 'node:http';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { call, echoed, gateway, startUpstream, type Upstream } from './helpers.js';
import type { RunningGateway } from '../../host/gateway/index.js';

/** A plugin that runs below datakit (810) and key-auth (1250) and marks every response it sees. */
function stampPlugin(): string {
  const dir = mkdtempSync(join(tmpdir(), 'dk-fidelity-'));
  writeFileSync(
    join(dir, 'resp-stamp.mjs'),
    `export const name = 'resp-stamp';
export const priority = 700;
export const version = '1.0.0';
export const schema = { name: 'resp-stamp', type: 'object', properties: { rewrite: { type: 'boolean' }, status: { type: 'integer' } } };
export async function access(kong) { kong.serviceRequest.setHeader('X-Stamp-Access', 'ran'); }
export async function response(kong, config) {
  kong.response.setHeader('X-Stamped', String(kong.response.getStatus()) + ' ' + kong.response.getSource());
  if (config.rewrite) {
    kong.response.setStatus(418);
    kong.response.setBody(JSON.stringify({ wrapped: JSON.parse(kong.response.getBody()) }));
  }
  if (config.status) kong.response.setStatus(config.status);
}
`,
  );
  return dir;
}

/** GET with the request-target exactly as given (no client-side normalization). */
function rawGet(base: string, target: string): Promise<{ status: number; body: string }> {
  const u = new URL(base);
  return new Promise((resolve, reject) => {
    const req = http.request({ host: u.hostname, port: u.port, path: target, method: 'GET' }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', reject);
    req.end();
  });
}

/**
 * A forward proxy that records what it receives: absolute-form requests are
 * forwarded, CONNECT is recorded and refused (an http:// target must never
 * be tunnelled).
 */
interface Forwarded {
  method: string;
  target: string;
  host: string | undefined;
  auth: string | undefined;
}
async function startForwardProxy(): Promise<{ url: string; seen: Forwarded[]; connects: string[]; close(): Promise<void> }> {
  const seen: Forwarded[] = [];
  const connects: string[] = [];
  const server = http.createServer((req, res) => {
    seen.push({ method: req.method!, target: req.url!, host: req.headers.host, auth: req.headers['proxy-authorization'] });
    if (!/^http:\/\//.test(req.url!)) {
      res.writeHead(400);
      res.end('absolute-form expected');
      return;
    }
    const headers = { ...req.headers };
    delete headers['proxy-authorization'];
    const out = http.request(req.url!, { method: req.method, headers }, (upRes) => {
      res.writeHead(upRes.statusCode!, { ...upRes.headers, 'x-via-forward-proxy': '1' });
      upRes.pipe(res);
    });
    out.on('error', () => {
      res.writeHead(502);
      res.end();
    });
    req.pipe(out);
  });
  server.on('connect', (req, socket) => {
    connects.push(req.url ?? '');
    socket.end('HTTP/1.1 405 Method Not Allowed\r\n\r\n');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    connects,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

let up: Upstream;
let gw: RunningGateway;
let fwd: Awaited<ReturnType<typeof startForwardProxy>>;

beforeAll(async () => {
  up = await startUpstream('up');
  fwd = await startForwardProxy();
  const proxiedCall = (auth: boolean) => ({
    nodes: [
      { name: 'P', type: 'static', values: { proxy: fwd.url, user: 'u', pass: 'p w' } },
      {
        name: 'CALL',
        type: 'call',
        url: `${up.url}/called?x=1`,
        inputs: auth ? { http_proxy: 'P.proxy', proxy_auth_username: 'P.user', proxy_auth_password: 'P.pass' } : { http_proxy: 'P.proxy' },
      },
      { name: 'OUT', type: 'exit', status: 200, inputs: { body: 'CALL.body' } },
    ],
  });
  const exitFlow = { nodes: [{ name: 'EXIT', type: 'exit', status: 202, inputs: { body: 'BODY' } }, { name: 'BODY', type: 'jq', jq: '{ "from": "flow" }' }] };
  gw = await gateway(
    {
      _format_version: '3.0',
      consumers: [{ username: 'alice', keyauth_credentials: [{ key: 'alice-key' }] }],
      services: [
        {
          name: 'svc',
          url: up.url,
          routes: [
            { name: 'exit', paths: ['/exit'], plugins: [{ name: 'datakit', config: exitFlow }, { name: 'resp-stamp' }] },
            { name: 'exit-rewrite', paths: ['/exit-rewrite'], plugins: [{ name: 'datakit', config: exitFlow }, { name: 'resp-stamp', config: { rewrite: true } }] },
            { name: 'exit-1xx', paths: ['/exit-1xx'], plugins: [{ name: 'datakit', config: exitFlow }, { name: 'resp-stamp', config: { status: 101 } }] },
            { name: 'auth', paths: ['/auth'], plugins: [{ name: 'key-auth' }, { name: 'resp-stamp' }] },
            { name: 'proxied', paths: ['/proxied'], plugins: [{ name: 'resp-stamp' }] },
            { name: 'via-proxy', paths: ['/via-proxy'], plugins: [{ name: 'datakit', config: proxiedCall(false) }] },
            { name: 'via-proxy-auth', paths: ['/via-proxy-auth'], plugins: [{ name: 'datakit', config: proxiedCall(true) }] },
            {
              name: 'raw',
              paths: ['/raw'],
              plugins: [
                {
                  name: 'datakit',
                  config: {
                    nodes: [
                      { name: 'PATHS', type: 'jq', inputs: { path: 'request.path', raw_path: 'request.raw_path' }, jq: '.' },
                      { name: 'OUT', type: 'exit', status: 200, inputs: { body: 'PATHS' } },
                    ],
                  },
                },
              ],
            },
          ],
        },
      ],
    },
    { pluginsDir: stampPlugin() },
  );
});

afterAll(async () => {
  await gw?.close();
  await up?.close();
  await fwd?.close();
});

describe('Plugins: header_filter runs on every response, exits included (developer.konghq.com/gateway/entities/plugin/#plugin-contexts)', () => {
  it('after a datakit exit, a lower-priority plugin that never ran its access phase still runs its response phase', async () => {
    const before = up.seen.length;
    const r = await call(gw.proxyUrl, '/exit');
    expect(r.status).toBe(202);
    expect(r.json).toEqual({ from: 'flow' });
    expect(r.headers['x-stamped']).toBe('202 exit');
    expect(up.seen.length).toBe(before);
  });

  it('the response phase may change the exit: status and body (Content-Length follows)', async () => {
    const r = await call(gw.proxyUrl, '/exit-rewrite');
    expect(r.status).toBe(418);
    expect(r.json).toEqual({ wrapped: { from: 'flow' } });
    expect(Number(r.headers['content-length'])).toBe(Buffer.byteLength(r.text));
  });

  it('a 1xx status set by a plugin is not sent as the final answer (the client would wait forever): 500 with the request id', async () => {
    const r = await call(gw.proxyUrl, '/exit-1xx');
    expect(r.status).toBe(500);
    expect(r.json).toMatchObject({ message: 'An unexpected error occurred' });
    expect(typeof (r.json as { request_id?: unknown }).request_id).toBe('string');
  });

  it("key-auth's 401 gets the response phase too (as response-transformer headers on Kong's auth errors)", async () => {
    const r = await call(gw.proxyUrl, '/auth');
    expect(r.status).toBe(401);
    expect(r.headers['x-stamped']).toBe('401 exit');
    expect(r.headers['www-authenticate']).toBe('Key');
    const ok = await call(gw.proxyUrl, '/auth', { headers: { apikey: 'alice-key' } });
    expect(ok.status).toBe(200);
    expect(ok.headers['x-stamped']).toBe('200 service');
  });
});

describe('request.raw_path: kong.request.get_raw_path() (developer.konghq.com/plugins/datakit/ "request" node outputs; PDK kong.request)', () => {
  it('raw_path is the path as received (percent-encodings, // and dot segments kept), path is normalized', async () => {
    const r = await rawGet(gw.proxyUrl, '/raw//a/%7Euser/./b/../c%2Fd');
    expect(r.status).toBe(200);
    const body = JSON.parse(r.body);
    expect(body.raw_path).toBe('/raw//a/%7Euser/./b/../c%2Fd');
    expect(body.path).toBe('/raw/a/~user/c%2Fd');
  });

  it('raw_path carries no query string, as get_raw_path()', async () => {
    const r = await rawGet(gw.proxyUrl, '/raw/x%20y?a=1&b=%20');
    const body = JSON.parse(r.body);
    expect(body.raw_path).toBe('/raw/x%20y');
    expect(body.path).toBe('/raw/x%20y');
  });
});

describe('proxied responses keep their response phase', () => {
  it('a plugin with a response phase sees the service response', async () => {
    const r = await call(gw.proxyUrl, '/proxied');
    expect(r.status).toBe(200);
    expect(r.headers['x-stamped']).toBe('200 service');
    expect(echoed(r).headers['x-stamp-access']).toBe('ran');
  });
});

describe('call node http_proxy (developer.konghq.com/plugins/datakit/ "call" node inputs: http_proxy, proxy_auth_username, proxy_auth_password)', () => {
  it('an http:// url goes to the proxy as an absolute-form request, never a CONNECT tunnel', async () => {
    const before = fwd.seen.length;
    const r = await call(gw.proxyUrl, '/via-proxy');
    expect(r.status, r.text).toBe(200);
    expect(r.json.url).toBe('/called?x=1');
    expect(fwd.seen.length).toBe(before + 1);
    const got = fwd.seen.at(-1)!;
    expect(got.method).toBe('GET');
    expect(got.target).toBe(`${up.url}/called?x=1`);
    expect(got.host).toBe(new URL(up.url).host);
    expect(got.auth).toBeUndefined();
    expect(fwd.connects).toEqual([]);
  });

  it('proxy credentials travel in Proxy-Authorization to the proxy only', async () => {
    const r = await call(gw.proxyUrl, '/via-proxy-auth');
    expect(r.status, r.text).toBe(200);
    expect(fwd.seen.at(-1)!.auth).toBe('Basic ' + Buffer.from('u:p w').toString('base64'));
    // the proxy removed it: the target never sees the proxy's credentials
    expect(up.seen.at(-1)!.headers['proxy-authorization']).toBeUndefined();
    expect(fwd.connects).toEqual([]);
  });
});
