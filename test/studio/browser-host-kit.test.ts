/**
 * The host conformance kit (test/abi) against the browser host, in the
 * studio page in chromium: each case runs through the page's host
 * (`window.datakitStudio.run`), its calls going out with the page's fetch.
 * The kit's call server is another origin, so the test routes the page's
 * calls through playwright (the answer as the server gave it, plus CORS
 * headers a browser needs to read it).
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startStudio } from '../../host/cli/studio.js';
import { bodyTextOut } from '../../host/cli/run.js';
import type { RunResult } from '../../host/studio/browser-host.js';
import { loadCases, runCase, type HostAdapter, type HostInput, type HostResult } from '../abi/runner.js';

const root = join(import.meta.dirname, '..', '..');
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/**
 * What a page cannot see, as documented for fetch: a refused connection is
 * "Failed to fetch" (no socket error code), and Set-Cookie is never readable
 * from a response. For these cases the expectation is the kit's with the
 * browser's text or value in place (and the Content-Length that follows).
 */
const BROWSER_DIFFERENCES: Record<string, (expected: HostResult) => HostResult> = {
  'call-refused': (e) => JSON.parse(JSON.stringify(e).replace(/ECONNREFUSED connect ECONNREFUSED [\d.:]+/g, 'Failed to fetch')) as HostResult,
  'call-answer-headers': (e) => ({ ...e, body: { ...(e.body as Record<string, unknown>), cookies: null } }),
};

/** The expectation after a browser difference: the JSON body's length changes with it. */
function withBrowserDifference(name: string, expected: HostResult): HostResult {
  const change = BROWSER_DIFFERENCES[name];
  if (!change) return expected;
  const e = change(expected);
  const length = Object.keys(e.headers ?? {}).find((k) => k.toLowerCase() === 'content-length');
  if (length && e.body !== null && typeof e.body === 'object') e.headers = { ...e.headers, [length]: String(Buffer.byteLength(JSON.stringify(e.body))) };
  return e;
}

/** Headers the test's routing adds so the page may read answers from another origin. */
const CORS_HEADERS = new Set(['access-control-allow-origin', 'access-control-expose-headers']);

let studio: FastifyInstance;
let browser: Browser;
let page: Page;
let pageOrigin: string;

const bodyOut = bodyTextOut;

const browserHost: HostAdapter = {
  name: 'browser host (host/studio/browser-host.ts, in chromium)',
  capabilities: ['cache', 'jwt_decode'],
  async run({ flow, request, env }: HostInput): Promise<HostResult> {
    const sample = { ...request, env };
    const r = (await page.evaluate(
      ([f, s]) => (window as unknown as { datakitStudio: { run(f: unknown, s: unknown, o: unknown): Promise<unknown> } }).datakitStudio.run(f, s, { fetchCalls: true }),
      [flow, sample] as const,
    )) as RunResult | { errors: HostResult['errors'] };
    if ('errors' in r) return { errors: r.errors };
    const headers = Object.fromEntries(Object.entries(r.headers).filter(([k]) => !CORS_HEADERS.has(k.toLowerCase())));
    const out: HostResult = { status: r.status, headers, body: bodyOut(r.body, headers) };
    const s = r.service_request;
    if (s) out.service_request = { method: s.method, path: s.path, headers: s.headers, query: s.query as Record<string, unknown>, body: bodyOut(s.body, s.headers) };
    if (r.properties) out.properties = r.properties;
    if (r.failure) out.failure = r.failure as HostResult['failure'];
    return out;
  },
};

beforeAll(async () => {
  execFileSync(process.execPath, [join(root, 'scripts', 'build-studio.mjs')], { cwd: root, stdio: 'pipe' });
  const started = await startStudio({ listen: '127.0.0.1:0' });
  studio = started.app;
  pageOrigin = new URL(started.url).origin;
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  page = await browser.newPage();
  // calls to other origins: fetched outside the page, answered with CORS headers
  await page.route(
    (url) => url.origin !== pageOrigin,
    async (route) => {
      const req = route.request();
      if (req.method() === 'OPTIONS') return route.fulfill({ status: 204, headers: { 'access-control-allow-origin': '*', 'access-control-allow-methods': '*', 'access-control-allow-headers': '*' } });
      try {
        const res = await route.fetch({ maxRedirects: 0, timeout: 0 });
        await route.fulfill({ response: res, headers: { ...res.headers(), 'access-control-allow-origin': '*', 'access-control-expose-headers': '*' } });
      } catch {
        await route.abort('connectionrefused').catch(() => {});
      }
    },
  );
  await page.goto(started.url);
  await page.waitForSelector('body[data-ready="true"]', { timeout: 20_000 });
}, 60_000);

afterAll(async () => {
  await browser?.close();
  await studio?.close();
});

describe(`host conformance kit: ${browserHost.name}`, () => {
  for (const c of loadCases()) {
    it(`${c.name}: ${c.description}`, async () => {
      const { actual, expected } = await runCase(browserHost, c);
      if (BROWSER_DIFFERENCES[c.name]) {
        // the difference is real: the kit's own expectation fails here
        expect(actual).not.toEqual(expected);
        expect(actual).toEqual(withBrowserDifference(c.name, expected as HostResult));
        return;
      }
      expect(actual).toEqual(expected);
    });
  }
});
