// Through the gateway, on real sockets: the debug trace in Kong's shape and
// Kong's error texts, as exact fixtures. Each test names the Kong
// documentation it follows.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, gateway, startUpstream, type Res, type Upstream } from './helpers.js';
import type { RunningGateway } from '../../host/gateway/index.js';

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

let up: Upstream;
let gw: RunningGateway;
let port: number;

const flowRoute = (path: string, config: Record<string, unknown>) => ({
  name: `r${path.replace(/\//g, '-')}`,
  paths: [path],
  plugins: [{ name: 'key-auth' }, { name: 'datakit', config }],
});

beforeAll(async () => {
  up = await startUpstream('up');
  gw = await gateway({
    _format_version: '3.0',
    consumers: [{ username: 'alice', custom_id: 'c-alice', keyauth_credentials: [{ key: 'alice-key' }] }],
    services: [
      {
        name: 's',
        url: up.url,
        routes: [
          flowRoute('/fails', {
            debug: true,
            nodes: [
              { name: 'H', type: 'static', values: { headers: { 'X-Flow': 'yes' } }, outputs: { headers: 'service_request.headers' } },
              { name: 'API', type: 'call', url: `${up.url}/status/403` },
            ],
          }),
          flowRoute('/fails-quietly', { nodes: [{ name: 'API', type: 'call', url: `${up.url}/status/403` }] }),
          flowRoute('/proxied', {
            debug: true,
            nodes: [
              { name: 'H', type: 'static', values: { headers: { 'X-Flow': 'yes' } }, outputs: { headers: 'service_request.headers' } },
              { name: 'UP', type: 'jq', input: 'service_response.body', jq: '{upstream}', output: 'response.body' },
            ],
          }),
        ],
      },
    ],
  });
  port = Number(new URL(gw.proxyUrl).port);
});

afterAll(async () => {
  await gw.close();
  await up.close();
});

const traced = (path: string) => call(gw.proxyUrl, path, { headers: { apikey: 'alice-key', 'X-DataKit-Debug-Trace': 'true' } });

/** The trace with clock readings, the request id and per-connection headers made stable, after checking them. */
function stable(r: Res): Json {
  const t = r.json;
  expect(r.headers['content-type']).toBe('application/json');
  expect(t.request_id).toBe(r.headers['x-datakit-request-id']);
  expect(Math.abs(t.started_at - Date.now() / 1000)).toBeLessThan(30);
  expect(t.duration).toBeCloseTo(t.ended_at - t.started_at, 3);
  const text = JSON.stringify({ ...t, started_at: 'S', ended_at: 'S', duration: 'S', request_id: 'ID' })
    .replaceAll(`127.0.0.1:${port}`, 'GATEWAY')
    .replaceAll(new URL(up.url).host, 'UPSTREAM');
  const out = JSON.parse(text);
  for (const e of out.events) {
    expect(typeof e.at).toBe('number');
    e.at = 'S';
    if ('duration' in e) e.duration = 'S';
    for (const v of e.values ?? []) {
      if (v.key === 'headers' && v.value) for (const h of ['date', 'connection', 'keep-alive', 'content-length']) delete v.value[h];
      if (v.key === 'port') v.value = 'PORT';
    }
    if (e.value && typeof e.value === 'object' && 'port' in e.value) e.value.port = 'PORT';
    if (e.value?.headers) for (const h of ['date', 'connection', 'keep-alive', 'content-length']) delete e.value.headers[h];
  }
  return out;
}

// the request node's outputs for GET PATH through key-auth: the consumer's identity is masked
const requestComplete = (path: string) => {
  const headers = {
    host: 'GATEWAY',
    apikey: '********',
    'X-DataKit-Debug-Trace': 'true',
    'X-Consumer-ID': '********',
    'X-Consumer-Username': '********',
    'X-Consumer-Custom-ID': '********',
    'X-Credential-Identifier': '********',
  };
  return {
    name: 'request',
    type: 'request',
    action: 'complete',
    at: 'S',
    values: [
      { key: 'body', type: 'any' },
      { key: 'headers', type: 'map', value: headers },
      { key: 'query', type: 'map', value: {} },
      { key: 'path', type: 'string', value: path },
      { key: 'raw_path', type: 'string', value: path },
      { key: 'port', type: 'number', value: 'PORT' },
      { key: 'method', type: 'string', value: 'GET' },
      { key: 'scheme', type: 'string', value: 'http' },
      { key: 'version', type: 'number', value: 1.1 },
    ],
    value: { headers, query: {}, path, raw_path: path, port: 'PORT', method: 'GET', scheme: 'http', version: 1.1 },
  };
};

const staticH = [
  { name: 'H', type: 'static', action: 'run', at: 'S', values: [] },
  { name: 'H', type: 'static', action: 'complete', at: 'S', values: [{ key: 'headers', type: 'map', value: { 'X-Flow': 'yes' } }], value: { headers: { 'X-Flow': 'yes' } } },
];

describe('Datakit plugin docs, "Debugging > Execution debug tracing", through the gateway', () => {
  it('a call answered 403: status 500, the PLAN_ERROR trace exactly', async () => {
    const r = await traced('/fails');
    expect(r.status).toBe(500);
    expect(stable(r)).toEqual({
      started_at: 'S',
      ended_at: 'S',
      duration: 'S',
      status: 'PLAN_ERROR',
      request_id: 'ID',
      nodes: [
        { name: 'H', type: 'static', status: 'NODE_COMPLETE' },
        { name: 'API', type: 'call', status: 'NODE_ERROR', error: 'non-2XX response code: 403' },
        { name: 'request', type: 'request', status: 'NODE_COMPLETE' },
        { name: 'response', type: 'response', status: 'NODE_SKIPPED' },
      ],
      events: [
        { name: 'request', type: 'request', action: 'run', at: 'S', values: [] },
        requestComplete('/fails'),
        ...staticH,
        { name: 'API', type: 'call', action: 'run', at: 'S', values: [] },
        { name: 'API', type: 'call', action: 'dispatch', at: 'S' },
        { name: 'API', type: 'call', action: 'resume', at: 'S', duration: 'S' },
        {
          name: 'API',
          type: 'call',
          action: 'fail',
          at: 'S',
          error: 'non-2XX response code: 403',
          values: [
            { type: 'error', value: 'non-2XX response code: 403' },
            {
              key: 'body',
              type: 'any',
              value: {
                upstream: 'up',
                method: 'GET',
                url: '/status/403',
                headers: { host: 'UPSTREAM', connection: 'keep-alive' },
                rawHeaders: ['host', 'UPSTREAM', 'connection', 'keep-alive'],
                body: '',
              },
            },
            { key: 'headers', type: 'map', value: { 'content-type': 'application/json', 'x-upstream': 'up', 'transfer-encoding': 'chunked' } },
            { key: 'status', type: 'number', value: 403 },
          ],
          value: {
            body: {
              upstream: 'up',
              method: 'GET',
              url: '/status/403',
              headers: { host: 'UPSTREAM', connection: 'keep-alive' },
              rawHeaders: ['host', 'UPSTREAM', 'connection', 'keep-alive'],
              body: '',
            },
            headers: { 'content-type': 'application/json', 'x-upstream': 'up', 'transfer-encoding': 'chunked' },
            status: 403,
          },
        },
      ],
    });
  });

  it('a proxied request: service_request and service_response in nodes, the response node NODE_SKIPPED, exactly', async () => {
    const r = await traced('/proxied');
    expect(r.status).toBe(200);
    const t = stable(r);
    expect(t.status).toBe('PLAN_COMPLETE');
    expect(t.nodes).toEqual([
      { name: 'H', type: 'static', status: 'NODE_COMPLETE' },
      { name: 'UP', type: 'jq', status: 'NODE_COMPLETE' },
      { name: 'request', type: 'request', status: 'NODE_COMPLETE' },
      { name: 'service_request', type: 'service_request', status: 'NODE_COMPLETE' },
      { name: 'service_response', type: 'service_response', status: 'NODE_COMPLETE' },
      { name: 'response', type: 'response', status: 'NODE_SKIPPED' },
    ]);
    const sr = { headers: { 'X-Flow': 'yes' } };
    expect(t.events.slice(0, 6)).toEqual([
      { name: 'request', type: 'request', action: 'run', at: 'S', values: [] },
      requestComplete('/proxied'),
      ...staticH,
      { name: 'service_request', type: 'service_request', action: 'run', at: 'S', values: [{ key: 'headers', type: 'map', value: sr.headers }], value: sr },
      { name: 'service_request', type: 'service_request', action: 'complete', at: 'S', values: [] },
    ]);
    expect(t.events.slice(6).map((e: Json) => `${e.name} ${e.action}`)).toEqual(['service_response complete', 'UP run', 'UP complete', 'response skip']);
    expect(t.events.find((e: Json) => e.name === 'UP' && e.action === 'complete')).toEqual({
      name: 'UP',
      type: 'jq',
      action: 'complete',
      at: 'S',
      values: [{ type: 'any', value: { upstream: 'up' } }],
      value: { upstream: 'up' },
    });
    // the upstream really got the flow's header
    expect(up.seen.at(-1)!.headers['x-flow']).toBe('yes');
  });
});

describe('Datakit plugin docs, "Making node execution errors visible", through the gateway', () => {
  it('debug: the node, its index and "non-2XX response code: 403"', async () => {
    const r = await call(gw.proxyUrl, '/fails', { headers: { apikey: 'alice-key' } });
    expect(r.status).toBe(500);
    expect(r.text).toBe(
      JSON.stringify({
        message: 'node execution error',
        request_id: r.headers['x-datakit-request-id'],
        error: 'non-2XX response code: 403',
        node: { index: 2, name: 'API', type: 'call' },
      }),
    );
  });

  it('without debug: only "An unexpected error occurred" and the request id', async () => {
    const r = await call(gw.proxyUrl, '/fails-quietly', { headers: { apikey: 'alice-key', 'X-DataKit-Debug-Trace': 'true' } });
    expect(r.status).toBe(500);
    expect(r.text).toBe(JSON.stringify({ message: 'An unexpected error occurred', request_id: r.headers['x-datakit-request-id'] }));
  });
});

describe("Kong's published datakit schema, at the Admin API", () => {
  it('a conflicting connection names both fields; schema checks in Kong wording', async () => {
    const doc = {
      _format_version: '3.0',
      services: [
        {
          name: 's2',
          url: up.url,
          routes: [
            {
              name: 'r2',
              paths: ['/x'],
              plugins: [
                {
                  name: 'datakit',
                  config: {
                    nodes: [
                      { name: 'get-foo', type: 'call', url: `${up.url}/foo`, outputs: { body: 'response.body' } },
                      { name: 'get-bar', type: 'call', url: `${up.url}/bar`, outputs: { body: 'response.body' } },
                    ],
                  },
                },
              ],
            },
          ],
        },
      ],
    };
    const r = await call(gw.adminUrl, '/config', { method: 'POST', json: doc });
    expect(r.status).toBe(400);
    expect(r.json.fields).toEqual({
      'services[0].routes[0].plugins[0].config': 'invalid connection ("get-bar.body" -> "response.body"): conflicts with existing connection ("get-foo.body" -> "response.body")',
    });
    const p = await call(gw.adminUrl, '/plugins', {
      method: 'POST',
      json: { name: 'datakit', config: { nodes: [{ name: 'S', type: 'jwt_sign' }, { name: 'P', type: 'property', property: 'kong.ctx.shared.a', content_type: 'text/html' }] } },
    });
    expect(p.status).toBe(400);
    expect(p.json.fields).toEqual({
      config: ['node #1 (S): algorithm: required field missing', 'node #2 (P): content_type: expected one of: application/json, application/octet-stream, text/plain'],
    });
  });
});
