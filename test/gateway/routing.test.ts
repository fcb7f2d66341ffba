import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, echoed, gateway, startUpstream, type Upstream } from './helpers.js';
import type { RunningGateway } from '../../host/gateway/index.js';

let a: Upstream;
let b: Upstream;
let gw: RunningGateway;

beforeAll(async () => {
  a = await startUpstream('a');
  b = await startUpstream('b');
  gw = await gateway({
    _format_version: '3.0',
    services: [
      {
        name: 'svc-a',
        url: `${a.url}/base`,
        routes: [
          { name: 'prefix-short', paths: ['/api'] },
          { name: 'prefix-long', paths: ['/api/v2'], strip_path: false },
          { name: 'methods', paths: ['/m'], methods: ['POST'] },
          { name: 'host-plain', hosts: ['example.com'], paths: ['/h'] },
          { name: 'host-wild', hosts: ['*.wild.test'], paths: ['/h'] },
          { name: 'hdr', paths: ['/hdr'], headers: { 'x-version': ['v2'] } },
          { name: 'preserve', paths: ['/preserve'], preserve_host: true },
          { name: 'regex-low', paths: ['~/items/\\d+$'], regex_priority: 1 },
        ],
      },
      {
        name: 'svc-b',
        url: b.url,
        routes: [
          { name: 'methods-get', paths: ['/m'], methods: ['GET'] },
          { name: 'hdr-default', paths: ['/hdr'] },
          { name: 'regex-high', paths: ['~/items/(?<id>\\d+)$'], regex_priority: 5 },
          { name: 'items-prefix', paths: ['/items'] },
          { name: 'catch-h', paths: ['/h'] },
        ],
      },
    ],
  });
});

afterAll(async () => {
  await gw.close();
  await a.close();
  await b.close();
});

describe('router', () => {
  it('prefix match with strip_path (default true) joins the service path', async () => {
    const r = await call(gw.proxyUrl, '/api/users?x=1');
    expect(r.status).toBe(200);
    expect(echoed(r).url).toBe('/base/users?x=1');
    expect(echoed(r).upstream).toBe('a');
  });

  it('longest prefix wins; strip_path false keeps the path', async () => {
    const r = await call(gw.proxyUrl, '/api/v2/things');
    expect(echoed(r).url).toBe('/base/api/v2/things');
  });

  it('methods select the route', async () => {
    expect(echoed(await call(gw.proxyUrl, '/m', { method: 'POST', body: 'x' })).upstream).toBe('a');
    expect(echoed(await call(gw.proxyUrl, '/m')).upstream).toBe('b');
    const r = await call(gw.proxyUrl, '/m', { method: 'DELETE' });
    expect(r.status).toBe(404);
  });

  it('hosts: plain, wildcard, then a route without hosts', async () => {
    expect(echoed(await call(gw.proxyUrl, '/h', { headers: { host: 'example.com' } })).upstream).toBe('a');
    expect(echoed(await call(gw.proxyUrl, '/h', { headers: { host: 'x.wild.test:8000' } })).upstream).toBe('a');
    expect(echoed(await call(gw.proxyUrl, '/h', { headers: { host: 'other.test' } })).upstream).toBe('b');
  });

  it('headers: a route with a header condition beats one without', async () => {
    expect(echoed(await call(gw.proxyUrl, '/hdr', { headers: { 'X-Version': 'V2' } })).upstream).toBe('a');
    expect(echoed(await call(gw.proxyUrl, '/hdr', { headers: { 'X-Version': 'v1' } })).upstream).toBe('b');
  });

  it('regex paths come before prefix paths and follow regex_priority', async () => {
    expect(echoed(await call(gw.proxyUrl, '/items/42')).upstream).toBe('b');
    expect(echoed(await call(gw.proxyUrl, '/items/42')).url).toBe('/');
    const p = await call(gw.proxyUrl, '/items/abc');
    expect(echoed(p).upstream).toBe('b');
    expect(echoed(p).url).toBe('/abc');
  });

  it('preserve_host sends the client Host; otherwise the service host', async () => {
    const p = await call(gw.proxyUrl, '/preserve', { headers: { host: 'client.test' } });
    expect(echoed(p).headers.host).toBe('client.test');
    const q = await call(gw.proxyUrl, '/api', { headers: { host: 'client.test' } });
    expect(echoed(q).headers.host).toBe(`127.0.0.1:${a.port}`);
  });

  it('adds X-Forwarded-*, strips hop-by-hop, sets Via, latency and request id headers', async () => {
    const r = await call(gw.proxyUrl, '/api/x', {
      headers: { 'x-forwarded-for': '10.0.0.1', te: 'trailers', 'Proxy-Authorization': 'secret', 'X-Custom-Case': 'Kept' },
    });
    const seen = echoed(r);
    expect(seen.headers['x-forwarded-for']).toBe('10.0.0.1, 127.0.0.1');
    expect(seen.headers['x-forwarded-proto']).toBe('http');
    expect(seen.headers['x-forwarded-host']).toBe('127.0.0.1');
    expect(seen.headers['x-forwarded-port']).toBe(String(new URL(gw.proxyUrl).port));
    expect(seen.headers['x-forwarded-path']).toBe('/api/x');
    expect(seen.headers['x-forwarded-prefix']).toBe('/api');
    expect(seen.headers['te']).toBeUndefined();
    expect(seen.headers['proxy-authorization']).toBeUndefined();
    expect(seen.rawHeaders).toContain('X-Custom-Case');
    expect(r.headers['via']).toMatch(/datakit-gateway/);
    expect(r.headers['x-kong-upstream-latency']).toMatch(/^\d+$/);
    expect(r.headers['x-kong-proxy-latency']).toMatch(/^\d+$/);
    expect(r.headers['x-datakit-request-id']).toMatch(/^[0-9a-f]{32}$/);
    expect(seen.headers['x-datakit-request-id']).toBe(r.headers['x-datakit-request-id']);
  });

  it('no route: 404 JSON with a request id', async () => {
    const r = await call(gw.proxyUrl, '/nowhere');
    expect(r.status).toBe(404);
    expect(r.json.message).toBe('no Route matched with those values');
    expect(r.json.request_id).toBe(r.headers['x-datakit-request-id']);
  });

  it('streams request bodies to the upstream', async () => {
    const big = 'x'.repeat(200_000);
    const r = await call(gw.proxyUrl, '/api/upload', { method: 'POST', body: big, headers: { 'content-type': 'text/plain' } });
    expect(echoed(r).body.length).toBe(200_000);
  });
});
