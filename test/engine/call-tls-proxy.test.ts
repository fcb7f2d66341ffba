// call node: ssl_verify, ssl_server_name and the proxy inputs, against a real
// HTTPS server with a self-signed certificate and a real CONNECT proxy.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import net, { type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Datakit } from '../../host/index.js';
import { bodyJson, engine } from '../helpers/engine.js';

let dk: Datakit;
let https: Server;
let httpsPort: number;
let proxy: Server;
let proxyPort: number;
const tunnels: Array<{ target: string; auth: string | undefined }> = [];
const sniSeen: string[] = [];

beforeAll(async () => {
  dk = await engine();
  const dir = mkdtempSync(join(tmpdir(), 'dk-tls-'));
  const key = join(dir, 'key.pem');
  const cert = join(dir, 'cert.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=api.internal', '-addext', 'subjectAltName=DNS:api.internal'], { stdio: 'ignore' });
  https = createHttpsServer({ key: readFileSync(key), cert: readFileSync(cert) }, (req, res) => {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ secure: true, host: req.headers.host }));
  });
  https.on('secureConnection', (s) => sniSeen.push((s as unknown as { servername?: string }).servername ?? ''));
  await new Promise<void>((r) => https.listen(0, '127.0.0.1', () => r()));
  httpsPort = (https.address() as AddressInfo).port;

  // a forward proxy: CONNECT tunnels, requiring Basic auth
  proxy = createHttpServer((_req, res) => {
    res.writeHead(405);
    res.end();
  });
  proxy.on('connect', (req, socket, head) => {
    const auth = req.headers['proxy-authorization'];
    tunnels.push({ target: req.url ?? '', auth });
    if (auth !== 'Basic ' + Buffer.from('user:pass').toString('base64')) {
      socket.end('HTTP/1.1 407 Proxy Authentication Required\r\n\r\n');
      return;
    }
    const [host, port] = (req.url ?? '').split(':');
    const upstream = net.connect(Number(port), host, () => {
      socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      upstream.write(head);
      upstream.pipe(socket);
      socket.pipe(upstream);
    });
    upstream.on('error', () => socket.destroy());
    socket.on('error', () => upstream.destroy());
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', () => r()));
  proxyPort = (proxy.address() as AddressInfo).port;
});

afterAll(async () => {
  https.closeAllConnections();
  proxy.closeAllConnections();
  await new Promise((r) => https.close(r));
  await new Promise((r) => proxy.close(r));
  await dk.close();
});

const callFlow = (extra: Record<string, unknown>, inputs?: Record<string, string>) => ({
  debug: true,
  nodes: [
    ...(inputs ? [{ name: 'P', type: 'static', values: { http: `http://127.0.0.1:${proxyPort}`, user: 'user', pass: 'pass', bad: 'wrong' } }] : []),
    { name: 'C', type: 'call', url: `https://127.0.0.1:${httpsPort}/`, ...extra, ...(inputs ? { inputs } : {}) },
    { name: 'EXIT', type: 'exit', inputs: { body: 'C.body' } },
  ],
});

describe('call over TLS', () => {
  it('ssl_verify (default true) rejects a self-signed certificate', async () => {
    const r = await dk.load(callFlow({})).run({ method: 'GET', path: '/' });
    expect(r.response.status).toBe(500);
    expect((bodyJson(r.response.body) as { error: string }).error).toMatch(/self[- ]signed|certificate/i);
  });

  it('ssl_verify: false accepts it', async () => {
    const r = await dk.load(callFlow({ ssl_verify: false })).run({ method: 'GET', path: '/' });
    expect(bodyJson(r.response.body)).toMatchObject({ secure: true });
  });

  it('ssl_server_name sets the SNI', async () => {
    const r = await dk.load(callFlow({ ssl_verify: false, ssl_server_name: 'api.internal' })).run({ method: 'GET', path: '/' });
    expect(r.response.status).toBe(200);
    expect(sniSeen.at(-1)).toBe('api.internal');
  });
});

describe('call through a proxy', () => {
  it('https_proxy with proxy_auth_username/password tunnels through the proxy', async () => {
    const before = tunnels.length;
    const r = await dk
      .load(callFlow({ ssl_verify: false }, { https_proxy: 'P.http', proxy_auth_username: 'P.user', proxy_auth_password: 'P.pass' }))
      .run({ method: 'GET', path: '/' });
    expect(r.response.status, JSON.stringify(bodyJson(r.response.body))).toBe(200);
    expect(tunnels.length).toBe(before + 1);
    expect(tunnels.at(-1)!.target).toBe(`127.0.0.1:${httpsPort}`);
  });

  it('wrong proxy credentials fail the node', async () => {
    const r = await dk
      .load(callFlow({ ssl_verify: false }, { https_proxy: 'P.http', proxy_auth_username: 'P.user', proxy_auth_password: 'P.bad' }))
      .run({ method: 'GET', path: '/' });
    expect(r.response.status).toBe(500);
    expect(tunnels.at(-1)!.auth).toBe('Basic ' + Buffer.from('user:wrong').toString('base64'));
  });
});
