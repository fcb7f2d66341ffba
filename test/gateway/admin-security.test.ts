import { describe, expect, it } from 'vitest';
import net from 'node:net';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { call, gateway } from './helpers.js';
import { buildHost, exited, freePort, serve } from '../helpers/cli.js';
import { isLoopback, startGateway, type GatewayOptions, type RunningGateway } from '../../host/gateway/index.js';
import { parseServeArgs } from '../../host/gateway/cli.js';

const INVALID = { message: 'Invalid credentials. Token or User credentials required' };

function capture() {
  const lines: Array<Record<string, unknown>> = [];
  return { logger: pino({ level: 'info' }, { write: (s: string) => void lines.push(JSON.parse(s)) }), lines };
}

/** The admin URL to use: bound to 0.0.0.0, the test still only talks to 127.0.0.1. */
const local = (gw: RunningGateway) => `http://127.0.0.1:${new URL(gw.adminUrl).port}`;

async function withGateway(opts: GatewayOptions, fn: (gw: RunningGateway) => Promise<void>): Promise<void> {
  const gw = await gateway({ _format_version: '3.0' }, opts);
  try {
    await fn(gw);
  } finally {
    await gw.close();
  }
}

const exposureWarnings = (lines: Array<Record<string, unknown>>) =>
  lines.filter((l) => l.level === 40 && /Admin API .* reachable from the network/.test(String(l.msg)));

describe('Admin API exposure', () => {
  it('bound beyond loopback without a token: a warning says so and how to protect it', async () => {
    const { logger, lines } = capture();
    await withGateway({ logger, adminListen: '0.0.0.0:0' }, async (gw) => {
      expect((await call(local(gw), '/status')).status).toBe(200);
    });
    const w = exposureWarnings(lines);
    expect(w).toHaveLength(1);
    expect(w[0].msg).toMatch(/without authentication/);
    expect(w[0].msg).toMatch(/--admin-listen 127\.0\.0\.1:8001/);
    expect(w[0].msg).toMatch(/DATAKIT_ADMIN_TOKEN/);
    expect(w[0]).toMatchObject({ token: false });
  });

  it('bound to 127.0.0.1: no warning', async () => {
    const { logger, lines } = capture();
    await withGateway({ logger, adminListen: '127.0.0.1:0' }, async () => undefined);
    expect(lines.some((l) => l.msg === 'admin API listening')).toBe(true);
    expect(lines.filter((l) => (l.level as number) >= 40)).toEqual([]);
  });

  it('the admin listener closes connections that do not finish their headers in time too', async () => {
    await withGateway({ clientHeaderTimeoutMs: 300 }, async (gw) => {
      const { port } = new URL(gw.adminUrl);
      const socket = net.connect(Number(port), '127.0.0.1');
      let data = '';
      socket.on('data', (d) => (data += d));
      socket.on('error', () => undefined);
      await new Promise((r) => socket.once('connect', r));
      const t0 = Date.now();
      socket.write('GET /status HTTP/1.1\r\nHost: x\r\n');
      await new Promise((r) => socket.once('close', r));
      expect(Date.now() - t0).toBeLessThan(1500);
      expect(data).toMatch(/^HTTP\/1\.1 408 /);
    });
  });

  it('loopback addresses', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', '::1', '[::1]', 'localhost', '::ffff:127.0.0.1']) expect(isLoopback(h), h).toBe(true);
    for (const h of ['0.0.0.0', '::', '10.0.0.5', '192.168.1.1', '::ffff:10.0.0.1', 'example.com', '128.0.0.1']) expect(isLoopback(h), h).toBe(false);
  });
});

describe('Admin API token (Kong-Admin-Token)', () => {
  it('every route answers 401 without the token or with a wrong one, and works with it', async () => {
    const { logger, lines } = capture();
    await withGateway({ logger, adminListen: '0.0.0.0:0', adminToken: 's3cret-token' }, async (gw) => {
      const admin = local(gw);
      const paths: Array<[string, string, unknown?]> = [
        ['GET', '/'],
        ['GET', '/status'],
        ['GET', '/metrics'],
        ['GET', '/config'],
        ['GET', '/services'],
        ['POST', '/services', { name: 'x', url: 'http://127.0.0.1:9' }],
        ['DELETE', '/services/x'],
        ['GET', '/no-such-path'],
      ];
      for (const [method, path, json] of paths) {
        for (const headers of [{}, { 'kong-admin-token': 'wrong' }, { 'kong-admin-token': 's3cret-token-' }, { 'Kong-Admin-Token': '' }]) {
          const r = await call(admin, path, { method, headers, json });
          expect(r.status, `${method} ${path} ${JSON.stringify(headers)}`).toBe(401);
          expect(r.json).toEqual(INVALID);
        }
      }
      // the rejected POST created nothing
      const auth = { 'Kong-Admin-Token': 's3cret-token' };
      expect((await call(admin, '/services', { headers: auth })).json.data).toEqual([]);
      // two tokens are not one
      expect((await call(admin, '/status', { headers: { 'kong-admin-token': ['s3cret-token', 's3cret-token'] } })).status).toBe(401);

      expect((await call(admin, '/status', { headers: auth })).status).toBe(200);
      expect((await call(admin, '/metrics', { headers: auth })).text).toContain('# TYPE datakit_gateway_requests_total counter');
      expect((await call(admin, '/services', { method: 'POST', headers: auth, json: { name: 'x', url: 'http://127.0.0.1:9' } })).status).toBe(201);
      expect((await call(admin, '/no-such-path', { headers: auth })).status).toBe(404);
      expect((await call(admin, '/services/x', { method: 'DELETE', headers: auth })).status).toBe(204);
      // the proxy listener does not ask for it
      expect((await call(gw.proxyUrl, '/anything')).status).toBe(404);
    });
    const w = exposureWarnings(lines);
    expect(w).toHaveLength(1);
    expect(w[0].msg).toMatch(/Kong-Admin-Token header, which travels in clear text/);
    expect(JSON.stringify(lines)).not.toContain('s3cret-token');
  });

  it('an empty token is refused at start', async () => {
    await expect(startGateway({ adminToken: '', proxyListen: '127.0.0.1:0', adminListen: '127.0.0.1:0', logLevel: 'silent' })).rejects.toThrow(/adminToken must be a non-empty string/);
  });

  it('CLI: --admin-token flag, DATAKIT_ADMIN_TOKEN env (flag wins)', () => {
    expect(parseServeArgs([], { DATAKIT_ADMIN_TOKEN: 'from-env' }).adminToken).toBe('from-env');
    expect(parseServeArgs(['--admin-token', 'from-flag'], { DATAKIT_ADMIN_TOKEN: 'from-env' }).adminToken).toBe('from-flag');
    expect(parseServeArgs([], { DATAKIT_ADMIN_TOKEN: '' }).adminToken).toBeUndefined();
    expect(() => parseServeArgs(['--admin-token='], {})).toThrow(/--admin-token must not be empty/);
  });

  it('datakit serve --admin-token: the Admin API of the real process asks for it', async () => {
    buildHost();
    const dir = mkdtempSync(join(tmpdir(), 'dk-admin-'));
    writeFileSync(join(dir, 'gw.yaml'), '_format_version: "3.0"\n');
    const adminPort = await freePort();
    const admin = `http://127.0.0.1:${adminPort}`;
    const { child, output } = serve(['--config', join(dir, 'gw.yaml'), '--proxy-listen', '127.0.0.1:0', '--admin-listen', `127.0.0.1:${adminPort}`, '--admin-token', 'cli-token', '--log-level', 'info']);
    try {
      const auth = { 'kong-admin-token': 'cli-token' };
      const deadline = Date.now() + 20_000;
      let ready = false;
      while (!ready && Date.now() < deadline && child.exitCode === null) {
        ready = await call(admin, '/status', { headers: auth }).then((r) => r.status === 200, () => false);
        if (!ready) await new Promise((r) => setTimeout(r, 100));
      }
      expect(ready).toBe(true);
      const denied = await call(admin, '/status');
      expect(denied.status).toBe(401);
      expect(denied.json).toEqual(INVALID);
      expect((await call(admin, '/services', { headers: { 'kong-admin-token': 'nope' } })).status).toBe(401);
      expect((await call(admin, '/services', { headers: auth })).status).toBe(200);
    } finally {
      child.kill('SIGTERM');
      expect(await exited(child)).toBe(0);
    }
    const listening = output().split('\n').find((l) => l.includes('"msg":"admin API listening"'));
    expect(JSON.parse(listening!)).toMatchObject({ token: true });
    expect(output()).not.toContain('cli-token');
    expect(output()).not.toMatch(/reachable from the network/);
  }, 60_000);
});
