/**
 * The flow studio in a real browser (Debian's chromium through
 * playwright-core): the gateway serves /studio on its Admin listener; the
 * page loads a gateway plugin's flow, pins an engine error to its node and
 * line, runs the flow with a canned call answer (every node's status and
 * time), and overlays a trace captured from the gateway. Screenshots go to
 * test-artifacts/studio/.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningGateway } from '../../host/gateway/index.js';
import { call, gateway, startUpstream, type Upstream } from '../gateway/helpers.js';

const root = join(import.meta.dirname, '..', '..');
const ARTIFACTS = join(root, 'test-artifacts', 'studio');
const TOKEN = 'studio-admin-token';
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

let up: Upstream;
let gw: RunningGateway;
let browser: Browser;
let page: Page;

const flow = (upstream: string) => ({
  debug: true,
  nodes: [
    { name: 'USER', type: 'call', url: `${upstream}/users/1` },
    { name: 'HEADERS', type: 'jq', inputs: { user: 'USER.body', client: 'request.headers' }, jq: '{"X-Who": .user.upstream}', output: 'service_request.headers' },
    { name: 'WRAP', type: 'jq', input: 'service_response.body', jq: '{wrapped: ., by: "studio"}', output: 'response.body' },
  ],
});

const status = (name: string) => page.locator(`#graph g.node[data-name="${name}"]`).getAttribute('data-status');
const shot = (name: string) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`) });

beforeAll(async () => {
  // the page from the current sources
  execFileSync(process.execPath, [join(root, 'scripts', 'build-studio.mjs')], { cwd: root, stdio: 'pipe' });
  mkdirSync(ARTIFACTS, { recursive: true });
  up = await startUpstream('echo');
  gw = await gateway(
    {
      _format_version: '3.0',
      services: [{ name: 'svc', url: up.url, routes: [{ name: 'r', paths: ['/flow'], plugins: [{ name: 'datakit', config: flow(up.url) }] }] }],
    },
    { adminToken: TOKEN },
  );
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install Debian's chromium (apt-get install chromium), as .ci/run does`);
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  page = await browser.newPage({ viewport: { width: 1600, height: 900 } });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await gw?.close();
  await up?.close();
});

describe('flow studio page', () => {
  it('is behind the admin token', async () => {
    expect((await call(gw.adminUrl, '/studio')).status).toBe(401);
    expect((await call(gw.adminUrl, '/studio?token=wrong')).status).toBe(401);
    expect((await call(gw.adminUrl, '/studio/datakit.wasm')).status).toBe(401);
    const ok = await call(gw.adminUrl, '/studio', { headers: { 'Kong-Admin-Token': TOKEN } });
    expect(ok.status).toBe(200);
    expect(ok.headers['content-type']).toMatch(/text\/html/);
  });

  it("loads a gateway plugin's flow and draws it", async () => {
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${gw.adminUrl}/studio?token=${TOKEN}`);
    await page.waitForSelector('body[data-ready="true"]', { timeout: 20_000 });
    // the gateway's datakit plugins, through the Admin API
    const plugins = page.locator('#plugins');
    await expect.poll(() => plugins.locator('option').count()).toBe(2);
    await plugins.selectOption({ index: 1 });
    await expect.poll(() => page.inputValue('#editor')).toContain('name: USER');
    await expect.poll(() => page.locator('#graph g.node').count()).toBe(3 + 4);
    // declared and implicit nodes, the two phases apart, field-level and node-wise edges
    for (const n of ['USER', 'HEADERS', 'WRAP', 'request', 'service_request', 'service_response', 'response']) expect(await page.locator(`#graph g.node[data-name="${n}"]`).count()).toBe(1);
    expect(await page.locator('#graph g.node[data-name="WRAP"]').getAttribute('data-phase')).toBe('response');
    expect(await page.locator('#graph g.node[data-name="USER"]').getAttribute('data-phase')).toBe('request');
    expect(await page.locator('#graph rect.phase').count()).toBe(2);
    expect(await page.locator('#graph path.edge.field').count()).toBeGreaterThan(0);
    expect(await page.locator('#graph path.edge.node').count()).toBeGreaterThan(0);
    expect(await page.textContent('#status')).toBe('valid');
    // a canned answer to fill in for each call node
    expect(Object.keys(JSON.parse(await page.inputValue('#calls')))).toEqual(['USER']);
    expect(errors).toEqual([]);
    await shot('1-loaded');
  });

  it('pins an engine error to its node and line', async () => {
    const valid = await page.inputValue('#editor');
    const broken = valid.replace('{wrapped: ., by: "studio"}', '{wrapped: ., by: }');
    expect(broken).not.toBe(valid);
    await page.fill('#editor', broken);
    const error = page.locator('#errors li[data-node="WRAP"]');
    await error.waitFor({ timeout: 10_000 });
    expect(await error.textContent()).toMatch(/^line \d+: .*WRAP.*jq: syntax error/);
    await page.locator('#graph g.node.has-error[data-name="WRAP"]').waitFor({ timeout: 10_000 });
    expect(await page.locator('#graph g.node.has-error').count()).toBe(1);
    expect(await page.locator('#graph g.node[data-name="WRAP"] .error-badge').count()).toBe(1);
    // the gutter marks the line of WRAP's jq field
    const line = Number(/^line (\d+)/.exec((await error.textContent())!)![1]);
    expect(broken.split('\n')[line - 1]).toMatch(/jq:/);
    expect(await page.locator('#gutter .error-line').textContent()).toBe(String(line));
    expect(await page.textContent('#status')).toBe('1 error');
    await shot('2-invalid');
    await page.fill('#editor', valid);
    await expect.poll(() => page.textContent('#status')).toBe('valid');
    expect(await page.locator('#graph g.node.has-error').count()).toBe(0);
  });

  it('runs the flow with a canned call answer: every node has its status and time', async () => {
    await page.fill('#calls', JSON.stringify({ USER: { status: 200, headers: { 'Content-Type': 'application/json' }, body: { upstream: 'canned' } } }));
    await page.fill('#sample', JSON.stringify({ method: 'GET', path: '/flow', headers: { Authorization: 'Bearer s3cret' }, upstream: { status: 200, headers: { 'Content-Type': 'application/json' }, body: { from: 'upstream' } } }));
    await page.click('#run');
    await expect.poll(() => page.textContent('#status')).toBe('ran: 200');
    for (const n of ['USER', 'HEADERS', 'WRAP']) {
      expect(await status(n)).toBe('complete');
      expect(await page.locator(`#graph g.node[data-name="${n}"] .status-badge`).textContent()).toMatch(/^complete · \d+\.\d+ ms$/);
    }
    const response = (await page.textContent('#response'))!;
    expect(response).toContain('{"wrapped":{"from":"upstream"},"by":"studio"}');
    expect(response).toContain('"X-Who":"canned"');
    expect(response).toMatch(/USER GET http:\/\/127\.0\.0\.1:\d+\/users\/1 -> 200 \(canned\)/);
    // a node's values from the traced run; the sensitive header is masked
    await page.locator('#graph g.node[data-name="request"]').click();
    expect(await page.textContent('#details')).toContain('********');
    expect(await page.textContent('#details')).not.toContain('s3cret');
    await page.locator('#graph g.node[data-name="HEADERS"]').click();
    const details = (await page.textContent('#details'))!;
    expect(details).toContain('status: complete');
    expect(details).toMatch(/"X-Who": "canned"/);
    await shot('3-run');
  });

  it('shows a failing call: error on the node, the rest canceled or pending', async () => {
    await page.fill('#calls', JSON.stringify({ USER: { status: 503, body: 'down' } }));
    await page.click('#run');
    await expect.poll(() => page.textContent('#status')).toMatch(/^failed: non-2XX response code: 503/);
    expect(await status('USER')).toBe('error');
    expect(['canceled', 'pending', 'skipped']).toContain(await status('HEADERS'));
    expect(await status('WRAP')).toBe('pending');
    await shot('4-failed-run');
  });

  it('overlays a trace captured from the gateway', async () => {
    const traced = await call(gw.proxyUrl, '/flow', { headers: { 'X-DataKit-Debug-Trace': 'true' } });
    expect(traced.status).toBe(200);
    expect(traced.json.status).toBe('PLAN_COMPLETE');
    await page.click('#clear-overlay');
    await expect.poll(() => page.textContent('#status')).toBe('overlay cleared');
    expect(await status('USER')).toBe('');
    await page.fill('#trace', traced.text);
    await page.click('#overlay-trace');
    await expect.poll(() => page.textContent('#status')).toMatch(/^trace loaded/);
    for (const n of ['USER', 'HEADERS', 'WRAP', 'request']) expect(await status(n)).toBe('complete');
    expect(await status('response')).toBe('skipped');
    expect(await page.locator('#graph g.node[data-name="USER"] .status-badge').textContent()).toMatch(/^complete · \d+\.\d+ ms$/);
    // the real call's answer, from the echo upstream, is the node's output
    await page.locator('#graph g.node[data-name="USER"]').click();
    expect(await page.textContent('#details')).toContain('"upstream": "echo"');
    await shot('5-trace');
  });

  it('fetches a trace from a route and overlays it', async () => {
    await page.click('#clear-overlay');
    await expect.poll(() => page.textContent('#status')).toBe('overlay cleared');
    await page.fill('#trace', '');
    await page.fill('#trace-url', `${gw.proxyUrl}/flow`);
    await page.click('#fetch-trace');
    await expect.poll(() => page.textContent('#status')).toMatch(/^trace loaded/);
    expect(JSON.parse(await page.inputValue('#trace')).status).toBe('PLAN_COMPLETE');
    for (const n of ['USER', 'HEADERS', 'WRAP']) expect(await status(n)).toBe('complete');
    // a URL that is not http(s) is refused by the server, and the page says so
    await page.fill('#trace-url', 'file:///etc/passwd');
    await page.click('#fetch-trace');
    await expect.poll(() => page.textContent('#status')).toBe('could not fetch the trace: url must be an http(s) URL');
  });
});
