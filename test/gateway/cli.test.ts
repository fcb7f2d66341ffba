import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { call, startUpstream, type Upstream } from './helpers.js';
import { buildHost, exited, freePort, serve, waitReady } from '../helpers/cli.js';

let up: Upstream;
let dir: string;

beforeAll(async () => {
  // the CLI runs the compiled gateway
  buildHost();
  up = await startUpstream('cli-up');
  dir = mkdtempSync(join(tmpdir(), 'dk-gw-'));
  writeFileSync(
    join(dir, 'gw.yaml'),
    `_format_version: "3.0"\nservices:\n  - name: up\n    url: ${up.url}\n    routes:\n      - name: up\n        paths: [/up]\n        strip_path: false\n`,
  );
}, 150_000);
afterAll(async () => {
  await up.close();
});

describe('datakit serve (CLI)', () => {
  it('--workers 2: two processes share the proxy port; admin changes reach every worker', async () => {
    const proxy = await freePort();
    const adminPort = await freePort();
    const admin = `http://127.0.0.1:${adminPort}`;
    const { child, output } = serve(['--config', join(dir, 'gw.yaml'), '--proxy-listen', `127.0.0.1:${proxy}`, '--admin-listen', `127.0.0.1:${adminPort}`, '--workers', '2', '--admin-writes', 'memory', '--log-level', 'warn']);
    try {
      await waitReady(admin, child);
      const kids = readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
      expect(kids).toHaveLength(2);
      const r = await call(admin, '/services/up/routes', { method: 'POST', json: { name: 'added', paths: ['/added'] } });
      expect(r.status).toBe(201);
      await new Promise((res) => setTimeout(res, 300));
      for (let i = 0; i < 12; i++) {
        const res = await request(`http://127.0.0.1:${proxy}/added`, { headers: { connection: 'close' }, reset: true } as never);
        await res.body.text();
        expect(res.statusCode).toBe(200);
      }
      const m = await call(admin, '/metrics');
      expect(m.text).toMatch(/datakit_gateway_requests_total\{route="added",status="200"\} 12/);
    } finally {
      child.kill('SIGTERM');
      expect(await exited(child)).toBe(0);
    }
    expect(output()).not.toMatch(/"level":50/);
  }, 60_000);

  it('SIGTERM drains a slow request in flight, then exits 0', async () => {
    const proxy = await freePort();
    const adminPort = await freePort();
    const admin = `http://127.0.0.1:${adminPort}`;
    const { child } = serve(['--config', join(dir, 'gw.yaml'), '--proxy-listen', `127.0.0.1:${proxy}`, '--admin-listen', `127.0.0.1:${adminPort}`, '--log-level', 'warn']);
    await waitReady(admin, child);
    const slow = call(`http://127.0.0.1:${proxy}`, '/up/slow?ms=800');
    await new Promise((r) => setTimeout(r, 250));
    child.kill('SIGTERM');
    const r = await slow;
    expect(r.status).toBe(200);
    expect(JSON.parse(r.text).url).toBe('/up/slow?ms=800');
    expect(await exited(child)).toBe(0);
    await expect(call(`http://127.0.0.1:${proxy}`, '/up')).rejects.toThrow();
  }, 60_000);

  it('rejects a bad config file with the path of the bad field', async () => {
    writeFileSync(join(dir, 'bad.yaml'), '_format_version: "3.0"\nservices:\n  - name: x\n    url: http://127.0.0.1:1\n    routes:\n      - paths: [nope]\n');
    const { child, output } = serve(['--config', join(dir, 'bad.yaml'), '--proxy-listen', '127.0.0.1:0', '--admin-listen', '127.0.0.1:0']);
    expect(await exited(child)).not.toBe(0);
    expect(output()).toMatch(/services\[0\]\.routes\[0\]\.paths/);
  }, 30_000);
});
