import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import net from 'node:net';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { call, gateway, startUpstream, type Upstream } from './helpers.js';
import { buildHost, exited, freePort, serve, waitReady } from '../helpers/cli.js';
import { serverLimits, type GatewayOptions, type RunningGateway } from '../../host/gateway/index.js';
import { parseDuration, parseServeArgs } from '../../host/gateway/cli.js';
import { Metrics, processDump } from '../../host/gateway/metrics.js';
import { LimitExceeded, limitHits } from '../../host/limits.js';

let up: Upstream;
const config = () => ({
  _format_version: '3.0',
  services: [{ name: 'up', url: up.url, routes: [{ name: 'up', paths: ['/up'], strip_path: false }] }],
});

beforeAll(async () => {
  up = await startUpstream('limits-up');
});
afterAll(async () => {
  await up.close();
});

/** A pino logger whose lines the test can read. */
function capture() {
  const lines: Array<Record<string, unknown>> = [];
  return { logger: pino({ level: 'debug' }, { write: (s: string) => void lines.push(JSON.parse(s)) }), lines };
}

async function withGateway(opts: GatewayOptions, fn: (gw: RunningGateway) => Promise<void>): Promise<void> {
  const gw = await gateway(config(), opts);
  try {
    await fn(gw);
  } finally {
    await gw.close();
  }
}

interface Raw {
  socket: net.Socket;
  connected: Promise<void>;
  /** resolves with the time the server closed the connection */
  closed: Promise<number>;
  data(): string;
}

/** A raw client socket; it never closes by itself unless the server does. */
function raw(url: string): Raw {
  const { hostname, port } = new URL(url);
  const socket = net.connect(Number(port), hostname);
  let data = '';
  socket.setEncoding('latin1');
  socket.on('data', (d: string) => (data += d));
  socket.on('error', () => undefined);
  return {
    socket,
    connected: new Promise((r) => socket.once('connect', () => r())),
    closed: new Promise((r) => socket.once('close', () => r(Date.now()))),
    data: () => data,
  };
}

async function metricsText(gw: RunningGateway): Promise<string> {
  return (await call(gw.adminUrl, '/metrics')).text;
}

/** Polls until the metric has the value (exposition line `name value`). */
async function waitMetric(admin: string, line: RegExp, ms = 5000, headers: Record<string, string> = {}): Promise<string> {
  const deadline = Date.now() + ms;
  let text = '';
  while (Date.now() < deadline) {
    text = (await call(admin, '/metrics', { headers })).text;
    if (line.test(text)) return text;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`metric ${line} not seen in:\n${text.split('\n').filter((l) => l.startsWith('datakit_gateway_c')).join('\n')}`);
}

describe('proxy listener: client timeouts', () => {
  it('a client that trickles its headers (slow loris) gets 408 and is closed after the header timeout; one that sends nothing is closed too', async () => {
    const { logger, lines } = capture();
    await withGateway({ logger, clientHeaderTimeoutMs: 300, clientRequestTimeoutMs: 2000 }, async (gw) => {
      const loris = raw(gw.proxyUrl);
      const silent = raw(gw.proxyUrl);
      await Promise.all([loris.connected, silent.connected]);
      const t0 = Date.now();
      loris.socket.write('GET /up HTTP/1.1\r\nHost: x\r\nX-Slow: ');
      // one more header byte every 50 ms: activity alone does not keep the connection open
      const drip = setInterval(() => loris.socket.writable && loris.socket.write('a'), 50);
      try {
        const [lorisClosed, silentClosed] = await Promise.all([loris.closed, silent.closed]);
        expect(lorisClosed - t0).toBeGreaterThanOrEqual(250);
        expect(lorisClosed - t0).toBeLessThan(1500);
        expect(silentClosed - t0).toBeLessThan(1500);
      } finally {
        clearInterval(drip);
      }
      expect(loris.data()).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/);
      expect(loris.data()).toContain('{"message":"Request timeout"}');
      expect(await metricsText(gw)).toMatch(/^datakit_gateway_client_errors_total\{kind="timeout"\} 2$/m);
      expect(lines.filter((l) => l.msg === 'client error' && l.kind === 'timeout')).toHaveLength(2);
      // complete requests still work
      expect((await call(gw.proxyUrl, '/up')).status).toBe(200);
    });
  });

  it('the request timeout ends a stalled body with 408, but never a slow response', async () => {
    await withGateway({ clientHeaderTimeoutMs: 300, clientRequestTimeoutMs: 600 }, async (gw) => {
      // the upstream answers after the request timeout: only receiving the request is timed
      const slow = await call(gw.proxyUrl, '/up/slow?ms=1000');
      expect(slow.status).toBe(200);

      const c = raw(gw.proxyUrl);
      await c.connected;
      const t0 = Date.now();
      c.socket.write('POST /up HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 100\r\n\r\n0123456789');
      const closedAt = await c.closed;
      expect(closedAt - t0).toBeGreaterThanOrEqual(550);
      expect(closedAt - t0).toBeLessThan(2500);
      expect(c.data()).toMatch(/^HTTP\/1\.1 408 Request Timeout\r\n/);
    });
  });

  it('an idle keep-alive connection is closed after the keep-alive timeout, not the shorter header timeout', async () => {
    await withGateway({ clientHeaderTimeoutMs: 200, keepAliveTimeoutMs: 600 }, async (gw) => {
      const c = raw(gw.proxyUrl);
      await c.connected;
      c.socket.write('GET /up HTTP/1.1\r\nHost: x\r\n\r\n');
      const deadline = Date.now() + 5000;
      // the proxy streams the answer chunked: its last chunk ends it
      while (!c.data().endsWith('\r\n0\r\n\r\n') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
      const answered = Date.now();
      expect(c.data()).toMatch(/^HTTP\/1\.1 200 /);
      const closedAt = await c.closed;
      // Node keeps the socket up to 1 s past the advertised timeout, so a client's reuse does not race the close
      expect(closedAt - answered).toBeGreaterThanOrEqual(550);
      expect(closedAt - answered).toBeLessThan(3000);
    });
  });

  it('headers over maxHeaderSize get 431 and a closed connection, counted by kind', async () => {
    await withGateway({ maxHeaderSize: 1024 }, async (gw) => {
      const c = raw(gw.proxyUrl);
      await c.connected;
      c.socket.write(`GET /up HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(2048)}\r\n\r\n`);
      await c.closed;
      expect(c.data()).toMatch(/^HTTP\/1\.1 431 Request Header Fields Too Large\r\n/);
      expect(await metricsText(gw)).toMatch(/^datakit_gateway_client_errors_total\{kind="headers_too_large"\} 1$/m);
    });
  });

  it('options are checked: the header timeout cannot exceed the request timeout; 0 turns the request timeout off', () => {
    expect(() => serverLimits({ clientHeaderTimeoutMs: 5000, clientRequestTimeoutMs: 1000 })).toThrow(/clientHeaderTimeoutMs \(5000\) must not exceed clientRequestTimeoutMs \(1000\)/);
    expect(() => serverLimits({ maxConnections: 0 })).toThrow(/maxConnections must be an integer >= 1/);
    expect(() => serverLimits({ keepAliveTimeoutMs: 1.5 })).toThrow(/keepAliveTimeoutMs/);
    const l = serverLimits({ clientRequestTimeoutMs: 0 });
    expect(l).toMatchObject({ clientHeaderTimeoutMs: 60_000, clientRequestTimeoutMs: 0, keepAliveTimeoutMs: 75_000 });
    expect(l.maxConnections).toBeGreaterThan(0);
    expect(l.maxConnections).toBeLessThanOrEqual(10_000);
    expect(l.checkIntervalMs).toBe(1000);
  });
});

describe('proxy listener: connection cap', () => {
  it('with 20 connections open the next is closed at once, counted and logged; once they close, requests work again', async () => {
    const { logger, lines } = capture();
    const gw = await gateway(config(), { logger, maxConnections: 20, clientHeaderTimeoutMs: 10_000 });
    const held: Raw[] = [];
    try {
      for (let i = 0; i < 20; i++) held.push(raw(gw.proxyUrl));
      await Promise.all(held.map((h) => h.connected));
      await waitMetric(gw.adminUrl, /^datakit_gateway_connections_open 20$/m);
      expect(await metricsText(gw)).toMatch(/^datakit_gateway_connections_dropped_total 0$/m);

      const extra = [raw(gw.proxyUrl), raw(gw.proxyUrl)];
      const t0 = Date.now();
      const closed = await Promise.all(extra.map((e) => e.closed));
      for (const at of closed) expect(at - t0).toBeLessThan(1000);
      for (const e of extra) expect(e.data()).toBe('');
      await waitMetric(gw.adminUrl, /^datakit_gateway_connections_dropped_total 2$/m);
      const deadline = Date.now() + 2000;
      while (!lines.some((l) => l.level === 40 && l.max_connections === 20) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      const warn = lines.find((l) => l.level === 40 && l.max_connections === 20)!;
      expect(warn.msg).toMatch(/proxy connections refused: max_connections are open/);
      expect(warn.open).toBe(20);
      // the held connections are untouched
      for (const h of held) expect(h.socket.destroyed).toBe(false);

      for (const h of held) h.socket.destroy();
      await waitMetric(gw.adminUrl, /^datakit_gateway_connections_open 0$/m);
      expect((await call(gw.proxyUrl, '/up')).status).toBe(200);
    } finally {
      for (const h of held) h.socket.destroy();
      await gw.close();
    }
    // one line per 10 s at most: the second drop was summarized when the gateway closed, if not in the first line
    const drops = lines.filter((l) => l.level === 40 && l.max_connections === 20);
    expect(drops.length).toBeLessThanOrEqual(2);
    expect(drops.reduce((n, l) => n + (l.dropped as number), 0)).toBe(2);
  });
});

describe('limit metric', () => {
  it('/metrics shows datakit_limit_exceeded_total by limit, with HELP and TYPE', async () => {
    await withGateway({}, async (gw) => {
      new LimitExceeded('jq_time_ms', 'jq: evaluation exceeded its 50 ms budget');
      new LimitExceeded('jq_time_ms', 'jq: evaluation exceeded its 50 ms budget');
      new LimitExceeded('template_output_bytes', 'template: output too large');
      const hits = limitHits();
      const text = await metricsText(gw);
      expect(text).toContain('# HELP datakit_limit_exceeded_total ');
      expect(text).toContain('# TYPE datakit_limit_exceeded_total counter');
      expect(text).toMatch(new RegExp(`^datakit_limit_exceeded_total\\{limit="jq_time_ms"\\} ${hits.jq_time_ms}$`, 'm'));
      expect(text).toMatch(new RegExp(`^datakit_limit_exceeded_total\\{limit="template_output_bytes"\\} ${hits.template_output_bytes}$`, 'm'));
      expect(hits.jq_time_ms).toBeGreaterThanOrEqual(2);
    });
  });

  it('merged like the other counters (cluster: one dump per process, summed)', () => {
    new LimitExceeded('value_bytes', 'value too large');
    const n = limitHits().value_bytes;
    const worker = new Metrics();
    worker.gauge('datakit_gateway_connections_open').v = 3;
    const all = new Metrics();
    all.merge(processDump(worker));
    all.merge(processDump(worker));
    const text = Metrics.render(all.dump());
    expect(text).toMatch(new RegExp(`^datakit_limit_exceeded_total\\{limit="value_bytes"\\} ${2 * n}$`, 'm'));
    expect(text).toMatch(/^datakit_gateway_connections_open 6$/m);
    expect(text).toContain('# TYPE datakit_gateway_connections_open gauge');
  });
});

describe('datakit serve: server limit flags', () => {
  it('flags and env: durations, counts, flags over env', () => {
    expect(parseDuration('500ms', 'x')).toBe(500);
    expect(parseDuration('60s', 'x')).toBe(60_000);
    expect(parseDuration('5m', 'x')).toBe(300_000);
    expect(parseDuration('75', 'x')).toBe(75_000);
    expect(() => parseDuration('soon', '--keepalive-timeout')).toThrow(/--keepalive-timeout: invalid duration "soon"/);
    const env = { DATAKIT_MAX_CONNECTIONS: '500', DATAKIT_CLIENT_HEADER_TIMEOUT: '10s', DATAKIT_CLIENT_REQUEST_TIMEOUT: '0', DATAKIT_KEEPALIVE_TIMEOUT: '30s' };
    expect(parseServeArgs([], env)).toMatchObject({ maxConnections: 500, clientHeaderTimeoutMs: 10_000, clientRequestTimeoutMs: 0, keepAliveTimeoutMs: 30_000 });
    expect(parseServeArgs(['--max-connections', '20', '--client-header-timeout=2s', '--client-request-timeout', '1m', '--keepalive-timeout', '500ms'], env)).toMatchObject({
      maxConnections: 20,
      clientHeaderTimeoutMs: 2000,
      clientRequestTimeoutMs: 60_000,
      keepAliveTimeoutMs: 500,
    });
    expect(() => parseServeArgs(['--max-connections', '0'], {})).toThrow(/--max-connections must be a positive integer/);
  });

  it('--workers 2: each worker caps its connections and times out headers; /metrics sums them', async () => {
    buildHost();
    const dir = mkdtempSync(join(tmpdir(), 'dk-limits-'));
    writeFileSync(join(dir, 'gw.yaml'), `_format_version: "3.0"\nservices:\n  - name: up\n    url: ${up.url}\n    routes:\n      - name: up\n        paths: [/up]\n`);
    const proxy = await freePort();
    const adminPort = await freePort();
    const admin = `http://127.0.0.1:${adminPort}`;
    const { child, output } = serve([
      '--config', join(dir, 'gw.yaml'),
      '--proxy-listen', `127.0.0.1:${proxy}`,
      '--admin-listen', `127.0.0.1:${adminPort}`,
      '--workers', '2',
      '--max-connections', '3',
      '--client-header-timeout', '1s',
      '--log-level', 'warn',
    ]);
    try {
      await waitReady(admin, child);
      // 8 silent connections against 2 workers x 3: those over a worker's cap close at once with
      // nothing written, the others get 408 when their header timeout ends
      const socks = Array.from({ length: 8 }, () => raw(`http://127.0.0.1:${proxy}`));
      const t0 = Date.now();
      await Promise.all(socks.map((s) => s.closed));
      expect(Date.now() - t0).toBeLessThan(5000);
      const dropped = socks.filter((s) => s.data() === '').length;
      const timedOut = socks.filter((s) => /^HTTP\/1\.1 408 /.test(s.data())).length;
      expect(dropped).toBeGreaterThanOrEqual(2);
      expect(dropped + timedOut).toBe(8);
      await waitMetric(admin, new RegExp(`^datakit_gateway_connections_dropped_total ${dropped}$`, 'm'));
      const text = await waitMetric(admin, new RegExp(`^datakit_gateway_client_errors_total\\{kind="timeout"\\} ${timedOut}$`, 'm'));
      expect(text).toMatch(/^datakit_gateway_connections_open 0$/m);
      expect(output()).toMatch(/proxy connections refused: max_connections are open/);
      const r = await call(`http://127.0.0.1:${proxy}`, '/up');
      expect(r.status).toBe(200);
    } finally {
      child.kill('SIGTERM');
      expect(await exited(child)).toBe(0);
    }
    expect(output()).not.toMatch(/"level":50/);
  }, 90_000);
});
