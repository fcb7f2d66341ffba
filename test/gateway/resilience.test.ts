import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import net from 'node:net';
import { call, echoed, gateway, startUpstream, type Upstream } from './helpers.js';
import type { RunningGateway } from '../../host/gateway/index.js';

let up: Upstream;
let gw: RunningGateway;
let deadPort: number;

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const p = (s.address() as net.AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return p;
}

beforeAll(async () => {
  up = await startUpstream('up');
  deadPort = await freePort();
  gw = await gateway(
    {
      _format_version: '3.0',
      services: [
        { name: 'ok', url: up.url, routes: [{ name: 'ok', paths: ['/ok'] }] },
        { name: 'down', url: `http://127.0.0.1:${deadPort}`, routes: [{ name: 'down', paths: ['/down'] }] },
        { name: 'slow', url: up.url, read_timeout: 150, routes: [{ name: 'slow', paths: ['/slow'], strip_path: false }] },
      ],
    },
    { maxBodySize: 64 * 1024, maxHeaderSize: 8 * 1024 },
  );
});
afterAll(async () => {
  await gw.close();
  await up.close();
});

describe('upstream failures', () => {
  it('connection refused: 502 JSON with request id', async () => {
    const r = await call(gw.proxyUrl, '/down');
    expect(r.status).toBe(502);
    expect(r.json).toEqual({ message: 'An invalid response was received from the upstream server', request_id: r.headers['x-datakit-request-id'] });
  });

  it('read timeout: 504', async () => {
    const r = await call(gw.proxyUrl, '/slow?ms=600');
    expect(r.status).toBe(504);
    expect(r.json.message).toBe('The upstream server is timing out');
    expect((await call(gw.proxyUrl, '/slow?ms=10')).status).toBe(200);
  });
});

describe('limits', () => {
  it('oversized headers: 431, and the gateway keeps serving', async () => {
    const r = await call(gw.proxyUrl, '/ok', { headers: { 'x-big': 'a'.repeat(20_000) } }).catch((e) => ({ status: -1, error: e }));
    expect(r.status).toBe(431);
    expect((await call(gw.proxyUrl, '/ok')).status).toBe(200);
  });

  it('oversized body (Content-Length): 413', async () => {
    const r = await call(gw.proxyUrl, '/ok', { method: 'POST', body: Buffer.alloc(100_000, 'a') });
    expect(r.status).toBe(413);
    expect(r.json.message).toBe('Request size limit exceeded');
    expect((await call(gw.proxyUrl, '/ok', { method: 'POST', body: 'small' })).status).toBe(200);
  });
});

describe('runtime reconfiguration', () => {
  it('changes under load never fail a request', async () => {
    const admin = gw.adminUrl;
    let stop = false;
    let failures = 0;
    let total = 0;
    const worker = async () => {
      while (!stop) {
        const r = await call(gw.proxyUrl, '/ok/load');
        total++;
        if (r.status !== 200) failures++;
      }
    };
    const load = Promise.all([worker(), worker(), worker(), worker()]);
    for (let i = 0; i < 20; i++) {
      const s = await call(admin, `/services/tmp-${i}`, { method: 'PUT', json: { url: up.url } });
      expect(s.status).toBe(200);
      await call(admin, `/services/tmp-${i}/routes`, { method: 'POST', json: { name: `tmp-${i}`, paths: [`/tmp-${i}`] } });
      await call(admin, '/routes/ok', { method: 'PATCH', json: { tags: [`v${i}`] } });
      await call(admin, '/plugins', { method: 'POST', json: { name: 'request-transformer', route: `tmp-${i}`, config: { add: { headers: [`x-i:${i}`] } } } });
      if (i % 2 === 1) await call(admin, `/routes/tmp-${i - 1}`, { method: 'DELETE' });
    }
    stop = true;
    await load;
    expect(total).toBeGreaterThan(20);
    expect(failures).toBe(0);
    expect(echoed(await call(gw.proxyUrl, '/tmp-19')).headers['x-i']).toBe('19');
  });
});

describe('metrics', () => {
  it('GET /metrics: Prometheus text format with requests by route and status, latency histograms', async () => {
    await call(gw.proxyUrl, '/ok');
    const r = await call(gw.adminUrl, '/metrics');
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
    expect(r.text).toMatch(/# TYPE datakit_gateway_requests_total counter/);
    expect(r.text).toMatch(/datakit_gateway_requests_total\{route="ok",status="200"\} \d+/);
    expect(r.text).toMatch(/datakit_gateway_requests_total\{route="down",status="502"\} 1/);
    expect(r.text).toMatch(/datakit_gateway_request_latency_seconds_bucket\{route="ok",le="\+Inf"\} \d+/);
    expect(r.text).toMatch(/datakit_gateway_upstream_errors_total\{route="slow",kind="timeout"\} 1/);
    expect(r.text).toMatch(/# TYPE datakit_node_failures_total counter/);
    for (const line of r.text.trim().split('\n')) {
      expect(line).toMatch(/^(# (HELP|TYPE) [a-z_]+ .+|[a-z_]+(\{[^}]*\})? -?[0-9.e+-]+)$/);
    }
  });
});

describe('chunked uploads', () => {
  it('a chunked body over the limit is cut off with 413; under the limit it streams', async () => {
    const { request } = await import('undici');
    const { Readable } = await import('node:stream');
    const big = Readable.from((function* () {
      for (let i = 0; i < 20; i++) yield Buffer.alloc(8 * 1024, 'b');
    })());
    const r = await request(`${gw.proxyUrl}/ok/chunked`, { method: 'POST', body: big }).catch((e: Error) => e);
    if (r instanceof Error) {
      // the gateway may close the connection while the client is still sending
      expect(r.message).toMatch(/socket|closed|reset|EPIPE/i);
    } else {
      expect(r.statusCode).toBe(413);
      await r.body.text();
    }
    const small = Readable.from([Buffer.from('abc'), Buffer.from('def')]);
    const ok = await request(`${gw.proxyUrl}/ok/chunked`, { method: 'POST', body: small });
    expect(ok.statusCode).toBe(200);
    expect(JSON.parse(await ok.body.text()).body).toBe('abcdef');
  });
});
