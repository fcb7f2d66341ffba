/**
 * The studio bundle: the browser host is a second host written from
 * docs/host-abi.md, so the page's import graph must not reach the library's
 * engine driver (host/engine, host/flow.ts); jq is the project's, templates
 * Handlebars' browser build; the page loads nothing from elsewhere.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '..', '..');
let dir: string;
let inputs: string[];
let html: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'dk-studio-'));
  execFileSync(process.execPath, [join(root, 'scripts', 'build-studio.mjs'), '--outdir', dir], { cwd: root, stdio: 'pipe' });
  inputs = Object.keys((JSON.parse(readFileSync(join(dir, 'meta.json'), 'utf8')) as { inputs: Record<string, unknown> }).inputs);
  html = readFileSync(join(dir, 'index.html'), 'utf8');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('studio bundle', () => {
  it('imports nothing from host/engine or host/flow.ts', () => {
    expect(inputs).toContain('host/studio/browser-host.ts');
    expect(inputs.filter((p) => p.startsWith('host/engine/') || p === 'host/flow.ts' || p.startsWith('host/gateway/') || p.startsWith('host/plugins/'))).toEqual([]);
  });

  it("bundles the project's jq, Handlebars' browser build and the graph layout", () => {
    expect(inputs).toContain('host/jq/index.ts');
    expect(inputs).toContain('node_modules/handlebars/dist/handlebars.js');
    expect(inputs).toContain('host/graph/layout.ts');
    expect(inputs.some((p) => p.startsWith('node_modules/elkjs/'))).toBe(true);
    // node:vm is replaced by the page's stand-in, Buffer by the buffer package; no Node built-in is reached
    expect(inputs).toContain('host/studio/shims/vm.ts');
    expect(inputs).toContain('node_modules/buffer/index.js');
    expect(inputs.filter((p) => p.startsWith('node:'))).toEqual([]);
  });

  it('is one self-contained page (works offline)', () => {
    expect(html).not.toMatch(/<script[^>]+src=/i);
    expect(html).not.toMatch(/<link[^>]+href=/i);
    expect(html).not.toMatch(/https?:\/\/(cdn|unpkg|fonts)\./i);
    expect(html).not.toContain('/*STUDIO_JS*/');
  });
});
