import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { call, echoed, gateway, startUpstream, type Upstream } from './helpers.js';
import type { RunningGateway } from '../../host/gateway/index.js';

/** A real local token service standing in for https://my-token-service/auth-token (seed 002). */
interface TokenService {
  url: string;
  seen: Array<{ headers: http.IncomingHttpHeaders; body: string; method: string }>;
  close(): Promise<void>;
}
async function startTokenService(): Promise<TokenService> {
  const seen: TokenService['seen'] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      seen.push({ headers: req.headers, body, method: req.method! });
      const out = JSON.stringify({ token_type: 'Bearer', access_token: `tok-${String(req.headers['x-api-key'])}` });
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(out);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    seen,
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }),
  };
}

/** The seed 002 flow, with the token service URL pointing at the local stand-in. */
function authFlow(tokenUrl: string) {
  return {
    nodes: [
      {
        name: 'STATIC_INPUTS',
        type: 'static',
        values: { headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: 'grant_type=client_credentials' },
      },
      {
        name: 'BUILD_HEADERS',
        type: 'jq',
        inputs: { headers: 'STATIC_INPUTS.headers', query: 'request.query' },
        jq: '.headers * {\n "X-Api-Key": (.query.api_key // "none")\n}\n',
      },
      {
        name: 'AUTH_REQUEST',
        type: 'call',
        inputs: { headers: 'BUILD_HEADERS', body: 'STATIC_INPUTS.body' },
        url: `${tokenUrl}/auth-token`,
        method: 'POST',
      },
      {
        name: 'UPSTREAM_AUTH_HEADER',
        type: 'jq',
        input: 'AUTH_REQUEST.body',
        output: 'service_request.headers',
        jq: '{\n Authorization: (.token_type + " " + .access_token)\n}\n',
      },
    ],
  };
}

let up: Upstream;
let up2: Upstream;
let tokens: TokenService;
let gw: RunningGateway;

function base(extra: Record<string, unknown> = {}) {
  return {
    _format_version: '3.0',
    consumer_groups: [{ name: 'gold' }],
    consumers: [
      { username: 'alice', keyauth_credentials: [{ key: 'alice-key' }], groups: [{ name: 'gold' }] },
      { username: 'bob', keyauth_credentials: [{ key: 'bob-key' }] },
    ],
    services: [
      { name: 'svc-a', url: up.url, routes: [{ name: 'r-a', paths: ['/a'], plugins: [{ name: 'key-auth', config: { anonymous: 'bob' } }] }] },
      { name: 'svc-b', url: up.url, routes: [{ name: 'r-b', paths: ['/b'], plugins: [{ name: 'key-auth', config: { anonymous: 'bob' } }] }] },
    ],
    ...extra,
  };
}

async function load(doc: unknown) {
  const r = await call(gw.adminUrl, '/config', { method: 'POST', json: doc });
  expect(r.status, r.text).toBe(201);
}

const auth = async (path: string, key?: string) => {
  const r = await call(gw.proxyUrl, `${path}?api_key=k42`, { headers: key ? { apikey: key } : {} });
  expect(r.status, r.text).toBe(200);
  return echoed(r).headers['authorization'];
};

beforeAll(async () => {
  up = await startUpstream('up');
  up2 = await startUpstream('up2');
  tokens = await startTokenService();
  gw = await gateway({ _format_version: '3.0' });
});
afterAll(async () => {
  await gw.close();
  await up.close();
  await up2.close();
  await tokens.close();
});

describe('seed 002: third-party auth flow in all five scopings', () => {
  it('global', async () => {
    await load(base({ plugins: [{ name: 'datakit', config: authFlow(tokens.url) }] }));
    const before = tokens.seen.length;
    expect(await auth('/a')).toBe('Bearer tok-k42');
    expect(await auth('/b')).toBe('Bearer tok-k42');
    const t = tokens.seen[before];
    expect(t.method).toBe('POST');
    expect(t.body).toBe('grant_type=client_credentials');
    expect(t.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(t.headers['x-api-key']).toBe('k42');
  });

  it('service', async () => {
    await load(base({ plugins: [{ name: 'datakit', service: 'svc-a', config: authFlow(tokens.url) }] }));
    expect(await auth('/a')).toBe('Bearer tok-k42');
    expect(await auth('/b')).toBeUndefined();
  });

  it('route', async () => {
    await load(base({ plugins: [{ name: 'datakit', route: 'r-b', config: authFlow(tokens.url) }] }));
    expect(await auth('/a')).toBeUndefined();
    expect(await auth('/b')).toBe('Bearer tok-k42');
  });

  it('consumer', async () => {
    await load(base({ plugins: [{ name: 'datakit', consumer: 'alice', config: authFlow(tokens.url) }] }));
    expect(await auth('/a', 'alice-key')).toBe('Bearer tok-k42');
    expect(await auth('/a', 'bob-key')).toBeUndefined();
    expect(await auth('/b')).toBeUndefined();
  });

  it('consumer_group', async () => {
    await load(base({ plugins: [{ name: 'datakit', consumer_group: 'gold', config: authFlow(tokens.url) }] }));
    expect(await auth('/b', 'alice-key')).toBe('Bearer tok-k42');
    expect(await auth('/b', 'bob-key')).toBeUndefined();
  });

  it('Admin API nested form: POST /routes/{name}/plugins with the seed body', async () => {
    await load(base());
    const r = await call(gw.adminUrl, '/routes/r-a/plugins', { method: 'POST', json: { name: 'datakit', config: authFlow(tokens.url) } });
    expect(r.status, r.text).toBe(201);
    expect(await auth('/a')).toBe('Bearer tok-k42');
    expect((await call(gw.adminUrl, `/plugins/${r.json.id}`, { method: 'DELETE' })).status).toBe(204);
    expect(await auth('/a')).toBeUndefined();
  });
});

describe('datakit plugin adapter', () => {
  it('without jq: a call result feeds service_request.headers; kong.service.target; a route property as exit body', async () => {
    await load({
      _format_version: '3.0',
      consumers: [{ username: 'alice', keyauth_credentials: [{ key: 'alice-key' }] }],
      services: [{ name: 's', url: up.url, routes: [{ name: 'c', paths: ['/c'], plugins: [{ name: 'key-auth' }] }, { name: 'd', paths: ['/d'] }] }],
      plugins: [
        {
          name: 'datakit',
          route: 'c',
          config: {
            nodes: [
              { name: 'H', type: 'static', values: { headers: { 'X-Api-Key': 'abc' } } },
              { name: 'AUTH', type: 'call', url: `${tokens.url}/auth-token`, method: 'POST', inputs: { headers: 'H.headers' } },
              { name: 'PICK', type: 'static', values: { t: `127.0.0.1:${up2.port}` } },
              { name: 'SET_TARGET', type: 'property', property: 'kong.service.target', input: 'PICK.t' },
              { name: 'STATUS', type: 'property', property: 'kong.ctx.shared.auth_status', input: 'AUTH.status' },
            ],
          },
        },
        {
          name: 'datakit',
          route: 'd',
          config: { nodes: [{ name: 'R', type: 'property', property: 'kong.router.route' }, { name: 'X', type: 'exit', inputs: { body: 'R' }, status: 200 }] },
        },
      ],
    });
    const c = await call(gw.proxyUrl, '/c', { headers: { apikey: 'alice-key' } });
    expect(c.status, c.text).toBe(200);
    expect(echoed(c).upstream).toBe('up2');
    expect(echoed(c).headers['x-consumer-username']).toBe('alice');
    const d = await call(gw.proxyUrl, '/d');
    expect(d.status).toBe(200);
    expect(d.json).toMatchObject({ name: 'd', paths: ['/d'], strip_path: true });
  });

  it('rejects an invalid flow with 400 and the engine validation message; old config keeps serving', async () => {
    await load(base({ plugins: [{ name: 'datakit', route: 'r-a', config: authFlow(tokens.url) }] }));
    const bad = await call(gw.adminUrl, '/plugins', {
      method: 'POST',
      json: { name: 'datakit', route: 'r-b', config: { nodes: [{ name: 'X', type: 'no-such-type' }] } },
    });
    expect(bad.status).toBe(400);
    expect(bad.json.code).toBe(2);
    expect(bad.json.name).toBe('schema violation');
    expect(typeof bad.json.fields.config === 'string' || Array.isArray(bad.json.fields.config)).toBe(true);
    expect(bad.json.message).toMatch(/no-such-type|type/);
    const decl = await call(gw.adminUrl, '/config', {
      method: 'POST',
      json: base({ plugins: [{ name: 'datakit', config: { nodes: [{ name: 'X', type: 'exit', status: 99 }] } }] }),
    });
    expect(decl.status).toBe(400);
    expect(decl.json.flattened_errors[0].path).toMatch(/^plugins\[0\]\.config/);
    expect(await auth('/a')).toBe('Bearer tok-k42');
  });

  it('exit flow answers by itself (no upstream call); 3.10 filter_chains shape with a JSON string config', async () => {
    const exitFlow = {
      nodes: [
        { name: 'BODY', type: 'jq', input: 'request.query', jq: '{ hello: (.who // "world") }' },
        { name: 'DONE', type: 'exit', inputs: { body: 'BODY' }, status: 201 },
      ],
    };
    await load({
      _format_version: '3.0',
      routes: [{ name: 'exit', paths: ['/exit'] }],
      plugins: [{ name: 'datakit', route: 'exit', config: exitFlow }],
      services: [{ name: 'chained', url: up.url, routes: [{ name: 'chained', paths: ['/chained'] }], filter_chains: [{ filters: [{ name: 'datakit', config: JSON.stringify(exitFlow) }] }] }],
    });
    const r = await call(gw.proxyUrl, '/exit?who=dk');
    expect(r.status).toBe(201);
    expect(r.json).toEqual({ hello: 'dk' });
    expect(r.headers['x-datakit-request-id']).toMatch(/^[0-9a-f]{32}$/);
    const c = await call(gw.proxyUrl, '/chained');
    expect(c.status).toBe(201);
    expect(c.json).toEqual({ hello: 'world' });
  });

  it('response phase: a flow rewrites the upstream response body', async () => {
    await load({
      _format_version: '3.0',
      services: [{ name: 's', url: up.url, routes: [{ name: 'resp', paths: ['/resp'] }] }],
      plugins: [
        {
          name: 'datakit',
          route: 'resp',
          config: {
            nodes: [
              { name: 'SHAPE', type: 'jq', input: 'service_response.body', output: 'response.body', jq: '{ seen_by_upstream: .url, upstream: .upstream }' },
            ],
          },
        },
      ],
    });
    const r = await call(gw.proxyUrl, '/resp/x');
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ seen_by_upstream: '/x', upstream: 'up' });
    expect(Number(r.headers['content-length'])).toBe(Buffer.byteLength(r.text));
  });

  it('properties: consumer from key-auth, kong.service.target redirects the proxied request, ctx.shared', async () => {
    await load({
      _format_version: '3.0',
      consumers: [{ username: 'alice', keyauth_credentials: [{ key: 'alice-key' }] }],
      services: [{ name: 's', url: up.url, routes: [{ name: 'props', paths: ['/props'], plugins: [{ name: 'key-auth' }] }] }],
      plugins: [
        {
          name: 'datakit',
          route: 'props',
          config: {
            nodes: [
              { name: 'CONSUMER', type: 'property', property: 'kong.client.consumer' },
              { name: 'ROUTE', type: 'property', property: 'kong.route_name' },
              { name: 'HDRS', type: 'jq', inputs: { c: 'CONSUMER', r: 'ROUTE' }, output: 'service_request.headers', jq: '{ "X-Who": .c.username, "X-Route": .r }' },
              { name: 'TARGET', type: 'static', values: { target: `127.0.0.1:${up2.port}` } },
              { name: 'SET_TARGET', type: 'property', property: 'kong.service.target', input: 'TARGET.target' },
            ],
          },
        },
      ],
    });
    const r = await call(gw.proxyUrl, '/props', { headers: { apikey: 'alice-key' } });
    expect(r.status, r.text).toBe(200);
    const seen = echoed(r);
    expect(seen.upstream).toBe('up2');
    expect(seen.headers['x-who']).toBe('alice');
    expect(seen.headers['x-route']).toBe('props');
  });

  it('a failing node answers 500 with a request id and is counted by node in /metrics', async () => {
    await load({
      _format_version: '3.0',
      services: [{ name: 's', url: up.url, routes: [{ name: 'fail', paths: ['/fail'] }] }],
      plugins: [
        {
          name: 'datakit',
          route: 'fail',
          config: { nodes: [{ name: 'BROKEN_CALL', type: 'call', url: `${up.url}/status/503`, outputs: { body: 'service_request.body' } }] },
        },
      ],
    });
    const r = await call(gw.proxyUrl, '/fail');
    expect(r.status).toBe(500);
    expect(r.json.message).toBe('An unexpected error occurred');
    expect(r.json.request_id).toBeTruthy();
    const m = await call(gw.adminUrl, '/metrics');
    // node series are labelled by route and plugin (instance name or id) too
    expect(m.text).toMatch(/datakit_node_failures_total\{route="fail",plugin="[^"]+",node="BROKEN_CALL",type="call"\} 1/);
    expect(m.text).toMatch(/datakit_plugin_runs_total\{plugin_id="[^"]+",route="fail",result="failure"\} 1/);
    // per-node runs and durations come from the engine's timings
    expect(m.text).toMatch(/datakit_node_runs_total\{route="fail",plugin="[^"]+",node="BROKEN_CALL",type="call",result="failure"\} 1/);
    expect(m.text).toMatch(/datakit_node_run_seconds_count\{route="fail",plugin="[^"]+",node="BROKEN_CALL",type="call"\} 1/);
  });
});
