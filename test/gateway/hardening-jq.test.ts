// A jq node cannot take the gateway down or stall it: a real gateway process
// with a 128 MB heap, one route whose flow allocates exponentially, one whose
// flow never ends, and a plain route that must keep answering.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { call, startUpstream, type Upstream } from './helpers.js';
import { buildHost, exited, root } from '../helpers/cli.js';

const BOMB = '[range(40) | reduce range(23) as $j ([0]; . + .)]';
const ENDLESS = 'until(false; .)';
// the bomb reaches 64 MiB in about 40 ms on an idle machine: a loaded one must not let the 50 ms time budget end it first
const BOMB_LIMITS = `      limits:
        jq_time_ms: 5000
`;

function flowRoute(route: string, filter: string, limits = '') {
  return `  - name: datakit
    route: ${route}
    config:
      debug: true
${limits}      nodes:
        - name: JQ
          type: jq
          jq: '${filter}'
        - name: EXIT
          type: exit
          inputs:
            body: JQ
`;
}

let up: Upstream;
let child: ChildProcess;
let output = '';
let proxy = '';
let admin = '';

/** Starts `node --max-old-space-size=128 bin/datakit.js serve` and reads its listening addresses from its log. */
async function startGateway(config: string): Promise<void> {
  child = spawn(
    process.execPath,
    ['--max-old-space-size=128', 'bin/datakit.js', 'serve', '--config', config, '--proxy-listen', '127.0.0.1:0', '--admin-listen', '127.0.0.1:0'],
    { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.stdout!.on('data', (d) => (output += d));
  child.stderr!.on('data', (d) => (output += d));
  const deadline = Date.now() + 20_000;
  while (Date.now() < deadline && (!proxy || !admin)) {
    if (child.exitCode !== null) throw new Error(`gateway exited with ${child.exitCode}: ${output}`);
    proxy = /"listen":"(http:\/\/[^"]+)"[^\n]*"msg":"proxy listening"/.exec(output)?.[1] ?? '';
    admin = /"listen":"(http:\/\/[^"]+)"[^\n]*"msg":"admin API listening"/.exec(output)?.[1] ?? '';
    await new Promise((r) => setTimeout(r, 50));
  }
  if (!proxy || !admin) throw new Error(`gateway not ready: ${output}`);
}

beforeAll(async () => {
  buildHost();
  up = await startUpstream('plain-up');
  const dir = mkdtempSync(join(tmpdir(), 'dk-hardening-jq-'));
  const config = join(dir, 'gw.yaml');
  writeFileSync(
    config,
    `_format_version: "3.0"
services:
  - name: up
    url: ${up.url}
    routes:
      - name: bomb
        paths: [/bomb]
      - name: endless
        paths: [/endless]
      - name: plain
        paths: [/plain]
plugins:
${flowRoute('bomb', BOMB, BOMB_LIMITS)}${flowRoute('endless', ENDLESS)}`,
  );
  await startGateway(config);
}, 150_000);

afterAll(async () => {
  if (child && child.exitCode === null) {
    child.kill('SIGTERM');
    await exited(child);
  }
  await up?.close();
});

describe('jq budgets in a running gateway', () => {
  it('an exponentially allocating filter fails its request with the memory budget error; the process lives on', async () => {
    const t0 = performance.now();
    const r = await call(proxy, '/bomb');
    expect(performance.now() - t0).toBeLessThan(5000);
    expect(r.status).toBe(500);
    const body = r.json as { request_id?: string; error?: string; node?: { name: string } };
    expect(body.request_id).toMatch(/\S/);
    expect(body.error).toBe('jq: evaluation exceeded its 64 MiB memory budget');
    expect(body.node?.name).toBe('JQ');

    const plain = await call(proxy, '/plain');
    expect(plain.status).toBe(200);
    expect((plain.json as { upstream: string }).upstream).toBe('plain-up');
    expect(child.exitCode).toBeNull();

    const m = await call(admin, '/metrics');
    expect(m.text).toMatch(/datakit_limit_exceeded_total\{limit="jq_memory_bytes"\} 1\b/);
    expect(output).not.toMatch(/heap out of memory/i);
  }, 30_000);

  it('four concurrent endless filters each stop at the time budget while a plain route keeps answering', async () => {
    const endless = Array.from({ length: 4 }, () => call(proxy, '/endless'));
    const plainMs: number[] = [];
    for (let i = 0; i < 8; i++) {
      const t0 = performance.now();
      const r = await call(proxy, '/plain');
      plainMs.push(performance.now() - t0);
      expect(r.status).toBe(200);
    }
    const answers = await Promise.all(endless);
    for (const r of answers) {
      expect(r.status).toBe(500);
      expect((r.json as { error?: string }).error).toBe('jq: evaluation exceeded its 50 ms budget');
    }
    // each endless run holds the event loop for about its 50 ms budget, never much more
    for (const ms of plainMs) expect(ms).toBeLessThan(1000);
    expect(child.exitCode).toBeNull();
    const m = await call(admin, '/metrics');
    expect(m.text).toMatch(/datakit_limit_exceeded_total\{limit="jq_time_ms"\} 4\b/);
  }, 30_000);
});
