// The proxy under hostile or broken traffic: bodies over their limits,
// Expect: 100-continue uploads, clients that go away, header values a flow
// cannot send, upstreams that drip. Real servers on 127.0.0.1 throughout;
// the memory checks run the gateway as a child process with a small heap.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import http from 'node:http';
import net from 'node:net';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import pino from 'pino';
import { call, gateway } from './helpers.js';
import { buildHost, exited, freePort, root, waitReady } from '../helpers/cli.js';
import type { RunningGateway } from '../../host/gateway/index.js';
import { limitHits } from '../../host/limits.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Upstream {
  url: string;
  /** path of every request as it arrived */
  arrived: string[];
  /** path -> ms from arrival to its connection closing before the answer ended */
  cut: Map<string, number>;
  close(): Promise<void>;
}

/**
 * /count: answers the byte count of the request body; /big?size=N answers
 * N bytes (with Content-Length, or chunked with &chunked); /slow?ms=N waits;
 * /drip: headers, then one byte every 100 ms.
 */
async function startUpstream(): Promise<Upstream> {
  const arrived: string[] = [];
  const cut = new Map<string, number>();
  const server = http.createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://x');
    const t0 = Date.now();
    arrived.push(u.pathname);
    res.on('close', () => {
      if (!res.writableEnded) cut.set(u.pathname, Date.now() - t0);
    });
    let bytes = 0;
    req.on('data', (c: Buffer) => (bytes += c.length));
    req.on('end', () => {
      if (u.pathname === '/count') {
        const text = JSON.stringify({ bytes, expect: req.headers.expect ?? null });
        res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
        res.end(text);
      } else if (u.pathname === '/big') {
        const size = Number(u.searchParams.get('size'));
        const chunked = u.searchParams.has('chunked');
        res.writeHead(200, chunked ? { 'Content-Type': 'text/plain' } : { 'Content-Type': 'text/plain', 'Content-Length': size });
        const chunk = Buffer.alloc(64 * 1024, 'b');
        let sent = 0;
        const pump = () => {
          while (sent < size && !res.destroyed) {
            const n = Math.min(chunk.length, size - sent);
            sent += n;
            if (!res.write(n === chunk.length ? chunk : chunk.subarray(0, n))) return void res.once('drain', pump);
          }
          if (!res.destroyed) res.end();
        };
        pump();
      } else if (u.pathname === '/slow') {
        setTimeout(() => res.end('slow'), Number(u.searchParams.get('ms') ?? 5000));
      } else if (u.pathname === '/drip') {
        res.writeHead(200, { 'Content-Type': 'text/plain' });
        const t = setInterval(() => res.write('.'), 100);
        res.on('close', () => clearInterval(t));
      } else {
        res.end('ok');
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    arrived,
    cut,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** Waits for `cond`, polling. */
async function until(cond: () => boolean, ms = 3000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(10);
  }
}

/** A raw HTTP/1.1 exchange: the head, then the body once the server said 100 Continue. */
function expectContinue(base: string, path: string, body: Buffer, contentType = 'application/octet-stream'): Promise<{ continued: boolean; status: number; text: string }> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    const s = net.connect(Number(port), hostname);
    let buf = '';
    let continued = false;
    s.setEncoding('latin1');
    s.on('error', reject);
    s.on('connect', () =>
      s.write(`POST ${path} HTTP/1.1\r\nHost: ${hostname}\r\nContent-Type: ${contentType}\r\nContent-Length: ${body.length}\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n`),
    );
    s.on('data', (d: string) => {
      buf += d;
      if (!continued && buf.startsWith('HTTP/1.1 100 Continue\r\n\r\n')) {
        continued = true;
        buf = buf.slice('HTTP/1.1 100 Continue\r\n\r\n'.length);
        s.write(body);
      }
    });
    s.on('end', () => {
      const [head, text] = [buf.slice(0, buf.indexOf('\r\n\r\n')), buf.slice(buf.indexOf('\r\n\r\n') + 4)];
      resolve({ continued, status: Number(head.split(' ')[1]), text });
    });
  });
}

/** Sends a request on a raw socket; `abort()` destroys it (a client going away). */
function rawRequest(base: string, path: string): { abort(): void } {
  const { hostname, port } = new URL(base);
  const s = net.connect(Number(port), hostname, () => s.write(`GET ${path} HTTP/1.1\r\nHost: ${hostname}\r\n\r\n`));
  s.on('error', () => undefined);
  return { abort: () => s.destroy() };
}

function capture() {
  const lines: Array<Record<string, unknown>> = [];
  return { logger: pino({ level: 'debug' }, { write: (s: string) => void lines.push(JSON.parse(s)) }), lines };
}

let up: Upstream;
let api: Upstream;
let gw: RunningGateway;
let log: ReturnType<typeof capture>;

const flowRoute = (name: string, nodes: unknown[]) => ({
  name,
  service: 'up',
  paths: [`/${name}`],
  plugins: [{ name: 'datakit', config: { nodes } }],
});

beforeAll(async () => {
  up = await startUpstream();
  api = await startUpstream();
  log = capture();
  gw = await gateway(
    {
      _format_version: '3.0',
      settings: { limits: { service_response_body_bytes: 100_000 } },
      services: [{ name: 'up', url: up.url, routes: [{ name: 'bare', paths: ['/bare'] }] }],
      routes: [
        flowRoute('reqbody', [{ name: 'B', type: 'jq', input: 'request.body', output: 'service_request.body', jq: '.' }]),
        flowRoute('resbody', [{ name: 'J', type: 'jq', input: 'service_response.body', output: 'response.body', jq: '{n: length}' }]),
        flowRoute('callnode', [
          { name: 'CALL', type: 'call', url: `${api.url}/slow?ms=5000` },
          { name: 'E', type: 'exit', inputs: { body: 'CALL.body' } },
        ]),
        flowRoute('badreq', [{ name: 'SET', type: 'jq', output: 'service_request.headers', jq: '{"x-foo": "a\\r\\nx-injected: 1"}' }]),
        flowRoute('badresp', [{ name: 'HDR', type: 'jq', input: 'service_response.headers', output: 'response.headers', jq: '{"x-bar": "\\u0000"}' }]),
      ],
    },
    { logger: log.logger },
  );
}, 30_000);

afterAll(async () => {
  await gw.close();
  await up.close();
  await api.close();
});

describe('Expect: 100-continue uploads', () => {
  const body = Buffer.alloc(2 * 1024 * 1024, 'u');

  it('the client gets 100 Continue from the gateway and the 2 MB body reaches the upstream', async () => {
    const r = await expectContinue(gw.proxyUrl, '/bare/count', body);
    expect(r.continued).toBe(true);
    expect(r.status).toBe(200);
    // the gateway answered the expectation itself: the upstream never sees the header
    expect(JSON.parse(r.text)).toEqual({ bytes: body.length, expect: null });
  });

  it('also when a flow reads the request body', async () => {
    const r = await expectContinue(gw.proxyUrl, '/reqbody/count', body, 'text/plain');
    expect(r.continued).toBe(true);
    expect(r.status).toBe(200);
    expect(JSON.parse(r.text)).toEqual({ bytes: body.length, expect: null });
  });
});

describe('service_response_body_bytes (100 kB here)', () => {
  it('a declared length over the limit: 502 JSON with the request id, the upstream connection dropped, counted', async () => {
    const before = limitHits().service_response_body_bytes ?? 0;
    up.cut.delete('/big');
    const r = await call(gw.proxyUrl, '/resbody/big?size=50000000');
    expect(r.status).toBe(502);
    expect(r.json).toEqual({ message: 'An invalid response was received from the upstream server', request_id: r.headers['x-datakit-request-id'] });
    await until(() => up.cut.has('/big'));
    expect(limitHits().service_response_body_bytes).toBe(before + 1);
    const m = (await call(gw.adminUrl, '/metrics')).text;
    expect(m).toMatch(/datakit_gateway_upstream_errors_total\{route="resbody",kind="response_too_large"\} 1/);
    expect(m).toMatch(/datakit_limit_exceeded_total\{limit="service_response_body_bytes"\} [1-9]/);
    const line = log.lines.find((l) => l.request_id === r.json.request_id && l.limit === 'service_response_body_bytes');
    expect(line).toMatchObject({ level: 40, msg: 'upstream response body exceeds the service_response_body_bytes limit (100000 bytes)', limit_bytes: 100_000 });
  });

  it('a chunked answer is cut off at the limit', async () => {
    up.cut.delete('/big');
    const r = await call(gw.proxyUrl, '/resbody/big?size=50000000&chunked');
    expect(r.status).toBe(502);
    await until(() => up.cut.has('/big'));
  });

  it('under the limit the flow gets the body; routes without a body-reading flow stream any size', async () => {
    const ok = await call(gw.proxyUrl, '/resbody/big?size=90000');
    expect(ok.json).toEqual({ n: 90_000 });
    const streamed = await call(gw.proxyUrl, '/bare/big?size=3000000');
    expect(streamed.text.length).toBe(3_000_000);
  });
});

describe('clients that go away', () => {
  it('cancel their upstream request: the upstream sees its connection closed within a second', async () => {
    up.cut.delete('/slow');
    const c = rawRequest(gw.proxyUrl, '/bare/slow?ms=5000');
    await until(() => up.arrived.includes('/slow'));
    const t0 = Date.now();
    c.abort();
    await until(() => up.cut.has('/slow'), 1000);
    expect(Date.now() - t0).toBeLessThan(1000);
  });

  it('cancel the call nodes of their flow, and nothing goes upstream', async () => {
    api.cut.delete('/slow');
    const upstreamSeen = up.arrived.length;
    const c = rawRequest(gw.proxyUrl, '/callnode');
    await until(() => api.arrived.includes('/slow'));
    const t0 = Date.now();
    c.abort();
    await until(() => api.cut.has('/slow'), 1000);
    expect(Date.now() - t0).toBeLessThan(1000);
    await sleep(100);
    expect(up.arrived.length).toBe(upstreamSeen);
    expect(log.lines.some((l) => l.msg === 'datakit flow error')).toBe(false);
  });
});

describe('header values a flow cannot send', () => {
  it('in the service request: 500 JSON with the request id, the node named in the log, not an upstream error', async () => {
    const seen = up.arrived.length;
    const r = await call(gw.proxyUrl, '/badreq');
    expect(r.status).toBe(500);
    expect(r.json).toEqual({ message: 'An unexpected error occurred', request_id: r.headers['x-datakit-request-id'] });
    expect(up.arrived.length).toBe(seen);
    const line = log.lines.find((l) => l.msg === 'node execution error' && l.request_id === r.json.request_id);
    expect(line).toMatchObject({ error: 'invalid header value for "x-foo" set by node "SET"', node: { name: 'service_request' } });
    const m = (await call(gw.adminUrl, '/metrics')).text;
    expect(m).not.toMatch(/upstream_errors_total\{route="badreq"/);
  });

  it('in the client response: 500 JSON with the request id', async () => {
    const r = await call(gw.proxyUrl, '/badresp');
    expect(r.status).toBe(500);
    expect(r.json.request_id).toBe(r.headers['x-datakit-request-id']);
    const line = log.lines.find((l) => l.msg === 'node execution error' && l.request_id === r.json.request_id);
    expect(line).toMatchObject({ error: 'invalid header value for "x-bar" set by node "HDR"', node: { name: 'response' } });
  });
});

describe('header values another plugin cannot send', () => {
  it('500 JSON with the request id and the header named in the log, for the service request and the client response', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dk-badhdr-'));
    writeFileSync(
      join(dir, 'bad-headers.mjs'),
      `export const name = 'bad-headers';
export const priority = 700;
export const version = '1.0.0';
export const schema = { name: 'bad-headers', type: 'object', properties: { where: { type: 'string' } } };
export function access(kong, config) { if (config.where === 'request') kong.serviceRequest.setHeader('X-Evil', 'a\\r\\nInjected: 1'); }
export function response(kong, config) { if (config.where === 'response') kong.response.setHeader('X-Evil', 'nul\\u0000'); }
`,
    );
    const own = capture();
    const g = await gateway(
      {
        _format_version: '3.0',
        services: [{ name: 'up', url: up.url, routes: [{ name: 'req', paths: ['/req'] }, { name: 'res', paths: ['/res'] }] }],
        plugins: [
          { name: 'bad-headers', route: 'req', config: { where: 'request' } },
          { name: 'bad-headers', route: 'res', config: { where: 'response' } },
        ],
      },
      { logger: own.logger, pluginsDir: dir },
    );
    try {
      for (const [path, msg] of [['/req', 'invalid service request (set by a plugin)'], ['/res', 'invalid response header (set by a plugin)']]) {
        const r = await call(g.proxyUrl, path);
        expect(r.status).toBe(500);
        expect(r.json).toEqual({ message: 'An unexpected error occurred', request_id: r.headers['x-datakit-request-id'] });
        expect(r.headers['x-evil']).toBeUndefined();
        const line = own.lines.find((l) => l.msg === msg && l.request_id === r.json.request_id);
        expect(String(line?.err)).toMatch(/x-evil/i);
      }
      expect((await call(g.adminUrl, '/metrics')).text).not.toMatch(/upstream_errors_total\{/);
    } finally {
      await g.close();
    }
  });
});

describe('upstream_response_timeout_ms', () => {
  it('an upstream dripping its answer gets 504 where the body is buffered, a closed connection where it streams', async () => {
    const own = capture();
    const g = await gateway(
      {
        _format_version: '3.0',
        settings: { limits: { upstream_response_timeout_ms: 600 } },
        services: [{ name: 'up', url: up.url, read_timeout: 60_000, routes: [{ name: 'bare', paths: ['/bare'] }] }],
        routes: [
          flowRoute('resbody', [{ name: 'J', type: 'jq', input: 'service_response.body', output: 'response.body', jq: '{n: length}' }]),
          flowRoute('reqbody', [{ name: 'J', type: 'jq', input: 'request.body', output: 'service_request.body', jq: '{n: length}' }]),
        ],
      },
      { logger: own.logger },
    );
    try {
      up.cut.delete('/drip');
      const t0 = Date.now();
      const r = await call(g.proxyUrl, '/resbody/drip');
      expect(r.status).toBe(504);
      expect(r.json).toEqual({ message: 'The upstream server is timing out', request_id: r.headers['x-datakit-request-id'] });
      expect(Date.now() - t0).toBeLessThan(2000);
      await until(() => up.cut.has('/drip'));

      // streamed: the status line went out with the first byte; the connection is closed at the deadline
      const t1 = Date.now();
      await expect(call(g.proxyUrl, '/bare/drip')).rejects.toThrow();
      expect(Date.now() - t1).toBeLessThan(2000);
      const m = (await call(g.adminUrl, '/metrics')).text;
      expect(m).toMatch(/datakit_gateway_upstream_errors_total\{route="resbody",kind="timeout"\} 1/);
      expect(m).toMatch(/datakit_gateway_upstream_errors_total\{route="bare",kind="timeout"\} 1/);
    } finally {
      await g.close();
    }
  });
});

describe('memory: the gateway as a child process with a 96 MB heap', () => {
  let child: ChildProcess | undefined;
  let proxy = '';
  let admin = '';
  const hwm = () => Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${child!.pid}/status`, 'utf8'))![1]) / 1024;

  beforeAll(async () => {
    buildHost();
    const dir = mkdtempSync(join(tmpdir(), 'dk-hardening-'));
    const file = join(dir, 'gw.yaml');
    writeFileSync(
      file,
      JSON.stringify({
        _format_version: '3.0',
        services: [{ name: 'up', url: up.url, routes: [{ name: 'bare', paths: ['/bare'] }] }],
        routes: [
          flowRoute('resbody', [{ name: 'J', type: 'jq', input: 'service_response.body', output: 'response.body', jq: '{n: length}' }]),
          flowRoute('reqbody', [{ name: 'J', type: 'jq', input: 'request.body', output: 'service_request.body', jq: '{n: length}' }]),
        ],
      }),
    );
    const [p, a] = [await freePort(), await freePort()];
    proxy = `http://127.0.0.1:${p}`;
    admin = `http://127.0.0.1:${a}`;
    child = spawn(
      process.execPath,
      ['--max-old-space-size=96', 'bin/datakit.js', 'serve', '--config', file, '--proxy-listen', `127.0.0.1:${p}`, '--admin-listen', `127.0.0.1:${a}`, '--log-level', 'error', '--no-access-log'],
      { cwd: root, stdio: 'ignore' },
    );
    await waitReady(admin, child);
  }, 150_000);

  afterAll(async () => {
    if (child && child.exitCode === null) {
      child.kill('SIGTERM');
      await exited(child);
    }
  });

  it('100 MB and 1 GB answers to a body-reading flow: 502, memory stays small, other routes keep working', async () => {
    // a request on another route in flight the whole time
    const other = call(proxy, '/bare/slow?ms=1500');
    await sleep(100);
    // start the peak over from here (Linux: 5 > clear_refs resets VmHWM)
    writeFileSync(`/proc/${child!.pid}/clear_refs`, '5');
    const base = hwm();
    const r100 = await call(proxy, '/resbody/big?size=100000000');
    expect(r100.status).toBe(502);
    const r1g = await call(proxy, '/resbody/big?size=1000000000&chunked');
    expect(r1g.status).toBe(502);
    // at the limit (10 MiB by default) the flow gets it
    const atLimit = await call(proxy, '/resbody/big?size=10000000');
    expect(atLimit.json).toEqual({ n: 10_000_000 });
    expect((await other).text).toBe('slow');
    expect(child!.exitCode).toBeNull();
    expect(hwm() - base).toBeLessThan(150);
  }, 60_000);

  it('clients that declare large request bodies and send nothing reserve no memory for them', async () => {
    writeFileSync(`/proc/${child!.pid}/clear_refs`, '5');
    const base = hwm();
    const port = Number(new URL(proxy).port);
    const sockets = await Promise.all(
      Array.from({ length: 40 }, () => new Promise<net.Socket>((resolve, reject) => {
        const s = net.connect(port, '127.0.0.1', () => {
          s.write(`POST /reqbody HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 9000000\r\n\r\n[`);
          resolve(s);
        });
        s.on('error', reject);
      })),
    );
    await sleep(500);
    // 40 x 9 MB would be 360 MB if declared lengths were allocated up front
    expect(hwm() - base).toBeLessThan(100);
    for (const s of sockets) s.destroy();
    expect((await call(proxy, '/bare/x')).status).toBe(200);
  }, 30_000);
});
