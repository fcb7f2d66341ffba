// Hostile inputs through flows on a running gateway, on real sockets: each
// used to hang, stall or leak before the hardening (docs/SECURITY.md).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningGateway } from '../../host/gateway/index.js';
import { call, gateway } from './helpers.js';

let gw: RunningGateway;

/** A route whose datakit flow answers the jq filter's result on the request's query. */
function jqRoute(name: string, jq: string, limits?: Record<string, number>) {
  return {
    route: { name, paths: [`/${name}`] },
    plugin: {
      name: 'datakit',
      route: name,
      config: { limits, nodes: [{ name: 'J', type: 'jq', input: 'request.query', jq }, { name: 'EXIT', type: 'exit', status: 200, inputs: { body: 'J' } }] },
    },
  };
}

const routes = [
  jqRoute('subnormal', '[5e-324, 2.2250738585072014e-308] | [map(significand), map(logb), map(frexp)]'),
  jqRoute('regex', '.s | test("^(a+)+$")'),
  jqRoute('env', '[$ENV, env]'),
  // an 800 KB program and 400,000 values to build: this flow's own limits give it room (the point here is parsing)
  jqRoute('flat', `[${'0,'.repeat(400_000)}0] | length`, { jq_time_ms: 5_000, jq_source_bytes: 1_000_000 }),
];

beforeAll(async () => {
  process.env.DK_HARDENING_SECRET = 'must-not-leak';
  gw = await gateway({
    _format_version: '3.0',
    routes: routes.map((r) => r.route),
    plugins: routes.map((r) => r.plugin),
  });
}, 60_000);

afterAll(async () => {
  delete process.env.DK_HARDENING_SECRET;
  await gw.close();
});

describe('hostile inputs through flows', () => {
  it('subnormal numbers: significand, logb and frexp answer as jq 1.7.1 does instead of looping', async () => {
    const r = await call(gw.proxyUrl, '/subnormal');
    expect(r.status).toBe(200);
    expect(r.json).toEqual([
      [1, 1],
      [-1074, -1022],
      [
        [0.5, -1073],
        [0.5, -1021],
      ],
    ]);
  });

  it('a backtracking-prone jq regex on a hostile query answers at once', async () => {
    const t = performance.now();
    const r = await call(gw.proxyUrl, `/regex?s=${'a'.repeat(28)}b`);
    expect(r.status).toBe(200);
    expect(r.json).toBe(false);
    expect((await call(gw.proxyUrl, `/regex?s=${'a'.repeat(28)}`)).json).toBe(true);
    expect(performance.now() - t).toBeLessThan(500); // used to take 1.7 s of event loop
  });

  it('$ENV and env are empty in flows: the process environment never reaches a filter', async () => {
    const r = await call(gw.proxyUrl, '/env');
    expect(r.status).toBe(200);
    expect(r.json).toEqual([{}, {}]);
    expect(r.text).not.toContain('must-not-leak');
  });

  it('a jq program over jq_source_bytes is refused when configured, naming the limit, without stalling traffic', async () => {
    const t = performance.now();
    const r = await call(gw.adminUrl, '/plugins', {
      method: 'POST',
      json: { name: 'datakit', config: { nodes: [{ name: 'BIG', type: 'jq', jq: '{' + Array.from({ length: 20_000 }, (_, i) => `k${i}: .x${i}`).join(', ') + '}' }] } },
    });
    expect(r.status).toBe(400);
    expect(r.text).toContain('(limits.jq_source_bytes)');
    expect(performance.now() - t).toBeLessThan(500); // compiling it took ~0.9 s of event loop
  });

  it('a flat 400,000-element literal loads and runs (it is long, not deep)', async () => {
    const r = await call(gw.proxyUrl, '/flat');
    expect(r.status, r.text).toBe(200);
    expect(r.json).toBe(400_001);
  });
});
