/**
 * `datakit studio [FLOW]`: the page on its own server, opened on FLOW, the
 * engine it runs, and the command's usage errors.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { startStudio, studioCli } from '../../host/cli/studio.js';
import { studioToken } from '../../host/studio/serve.js';

const closers: Array<() => Promise<unknown>> = [];
afterAll(async () => {
  for (const close of closers) await close();
});

function capture(): { stream: PassThrough; text(): string } {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (c: Buffer) => (text += c.toString()));
  return { stream, text: () => text };
}

describe('datakit studio', () => {
  it('serves the page, the engine and the flow it was given', async () => {
    const flow = join(mkdtempSync(join(tmpdir(), 'dk-studio-')), 'flow.yaml');
    writeFileSync(flow, 'nodes:\n  - name: HELLO\n    type: static\n    values: {a: 1}\n');
    const { app, url } = await startStudio({ flowFile: flow, listen: '127.0.0.1:0' });
    closers.push(() => app.close());
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/studio$/);
    const page = await fetch(url);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(await page.text()).toContain('datakit flow studio');
    // the file is read on every load: an edit on disk shows up on reload
    expect(await (await fetch(`${url}/flow`)).text()).toContain('name: HELLO');
    writeFileSync(flow, 'nodes:\n  - name: CHANGED\n    type: static\n    values: {a: 1}\n');
    expect(await (await fetch(`${url}/flow`)).text()).toContain('name: CHANGED');
    const wasm = await fetch(`${url}/datakit.wasm`);
    expect(wasm.headers.get('content-type')).toBe('application/wasm');
    const module = await WebAssembly.compile(await wasm.arrayBuffer());
    expect(WebAssembly.Module.customSections(module, 'datakit_abi').length).toBe(1);
  });

  it('without a flow, /studio/flow is 404 (the page opens its starter flow)', async () => {
    const { app, url } = await startStudio({ listen: '127.0.0.1:0' });
    closers.push(() => app.close());
    expect((await fetch(`${url}/flow`)).status).toBe(404);
  });

  it("/studio/trace fetches a route's trace only for the page (its header), only over http(s)", async () => {
    const { app, url } = await startStudio({ listen: '127.0.0.1:0' });
    closers.push(() => app.close());
    const target = `${url}/flow`; // any http URL: here the studio's own 404
    // what another site could make a browser send: a plain GET, without the header
    expect((await fetch(`${url}/trace?url=${encodeURIComponent(target)}`)).status).toBe(403);
    const page = { headers: { 'X-DataKit-Studio': '1' } };
    const ok = await fetch(`${url}/trace?url=${encodeURIComponent(target)}`, page);
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ status: 404, body: '{"message":"no flow given"}' });
    expect((await fetch(`${url}/trace?url=${encodeURIComponent('file:///etc/passwd')}`, page)).status).toBe(400);
    const refused = await fetch(`${url}/trace?url=${encodeURIComponent('http://127.0.0.1:1/x')}`, page);
    expect(refused.status).toBe(502);
    expect(((await refused.json()) as { message: string }).message).toMatch(/^could not fetch http:\/\/127\.0\.0\.1:1\/x: /);
  });

  it('/studio/trace reads at most 16 MiB of the answer (a route answering without end cannot fill the process)', async () => {
    const { app, url } = await startStudio({ listen: '127.0.0.1:0' });
    closers.push(() => app.close());
    const http = await import('node:http');
    const chunk = Buffer.alloc(1024 * 1024, 0x61);
    const endless = http.createServer((_req, res) => {
      res.writeHead(200);
      const write = () => {
        while (res.write(chunk)) if (res.writableLength > 4 * chunk.length) break;
      };
      res.on('drain', write);
      res.on('close', () => res.off('drain', write));
      write();
    });
    await new Promise<void>((r) => endless.listen(0, '127.0.0.1', () => r()));
    closers.push(() => new Promise((r) => { endless.closeAllConnections(); endless.close(() => r(undefined)); }));
    const target = `http://127.0.0.1:${(endless.address() as { port: number }).port}/big`;
    const r = await fetch(`${url}/trace?url=${encodeURIComponent(target)}`, { headers: { 'X-DataKit-Studio': '1' } });
    expect(r.status).toBe(502);
    expect(((await r.json()) as { message: string }).message).toMatch(/larger than 16777216 bytes/);
  });

  it('prints the URL, and refuses a bad --listen or a missing flow file', async () => {
    const out = capture();
    const err = capture();
    expect(await studioCli(['--listen', '127.0.0.1:0'], out.stream, err.stream, (app) => closers.push(() => app.close()))).toBeUndefined();
    const url = /flow studio: (http:\/\/\S+)/.exec(out.text())![1];
    expect((await fetch(url)).status).toBe(200);
    expect(err.text()).toBe('');
    const bad = capture();
    expect(await studioCli(['--listen', 'nowhere'], capture().stream, bad.stream)).toBe(2);
    expect(bad.text()).toContain('--listen must be HOST:PORT');
    const missing = capture();
    expect(await studioCli(['/nonexistent/flow.yaml', '--listen', '127.0.0.1:0'], capture().stream, missing.stream)).toBe(1);
    expect(missing.text()).toContain('ENOENT');
  });

  it('takes the admin token from ?token= on the studio paths only', () => {
    expect(studioToken('/studio?token=abc')).toBe('abc');
    expect(studioToken('/studio/datakit.wasm?token=abc')).toBe('abc');
    expect(studioToken('/studio')).toBeUndefined();
    expect(studioToken('/routes?token=abc')).toBeUndefined();
    expect(studioToken('/studioX?token=abc')).toBeUndefined();
  });
});
