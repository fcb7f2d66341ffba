// Route regexes match in linear time: a path regex that backtracks exponentially on RegExp
// (3.7 s of event loop for a 30-character path) cannot stall the proxy, and patterns that
// need backtracking (backreferences, lookahead) are rejected when the route is configured.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, echoed, gateway, startUpstream, type Upstream } from './helpers.js';
import { Router } from '../../host/gateway/router.js';
import type { RunningGateway } from '../../host/gateway/index.js';
import type { EntityRec } from '../../host/gateway/entities.js';

const router = (routes: Array<Record<string, unknown>>) =>
  new Router(routes.map((r, i) => ({ route: { id: `r${i}`, ...r } as EntityRec, target: String(r.name ?? i) })));

describe('Router regexes', () => {
  it('a nested quantifier path matches a long request path without stalling', () => {
    const r = router([{ name: 'files', paths: ['~/files/(\\w+/?)+\\.json$'] }]);
    const paths = ['/files/' + 'a'.repeat(23), '/files/' + 'ab/'.repeat(2000) + 'x', '/files/a/b/c.json'];
    const t = performance.now();
    const got = paths.map((p) => r.match('GET', p, undefined, {})?.target ?? null);
    expect(got).toEqual([null, null, 'files']);
    expect(performance.now() - t).toBeLessThan(100);
  });

  it('regex paths are anchored at the start and strip what they matched', () => {
    const r = router([
      { name: 'item', paths: ['~/items/(?<id>\\d+)'] },
      { name: 'alt', paths: ['~/a|/b'] },
    ]);
    expect(r.match('GET', '/items/42/rest', undefined, {})).toEqual({ target: 'item', stripLen: 9 });
    expect(r.match('GET', '/x/items/42', undefined, {})).toBeUndefined();
    expect(r.match('GET', '/b/c', undefined, {})).toEqual({ target: 'alt', stripLen: 2 });
    expect(r.match('GET', '/xb', undefined, {})).toBeUndefined();
  });

  it('header regexes are case-insensitive and unanchored; wildcard hosts match one label run', () => {
    const r = router([
      { name: 'hdr', paths: ['/h'], headers: { 'x-version': ['~*^v(\\d+)+$'] } },
      { name: 'wild', hosts: ['*.example.com'] },
    ]);
    expect(r.match('GET', '/h', undefined, { 'x-version': 'V12' })?.target).toBe('hdr');
    expect(r.match('GET', '/h', undefined, { 'x-version': 'v' + '1'.repeat(5000) + 'x' })).toBeUndefined();
    expect(r.match('GET', '/', 'api.example.com:8000', {})?.target).toBe('wild');
    expect(r.match('GET', '/', 'example.com', {})).toBeUndefined();
  });

  it('backreferences and lookahead are config errors', () => {
    expect(() => router([{ paths: ['~/(a)\\1'] }])).toThrow(
      "invalid regex: '/(a)\\1' (backreference; route regexes match in linear time, without lookahead or backreferences)",
    );
    expect(() => router([{ paths: ['~/x(?=y)'] }])).toThrow(/invalid regex: '\/x\(\?=y\)' \(lookahead;/);
    expect(() => router([{ paths: ['/h'], headers: { 'x-a': ['~*(?!a)b'] } }])).toThrow(/invalid regex: '\(\?!a\)b' \(lookahead;/);
  });
});

describe('gateway with regex routes', () => {
  let up: Upstream;
  let gw: RunningGateway;
  beforeAll(async () => {
    up = await startUpstream('files');
    gw = await gateway({
      _format_version: '3.0',
      services: [{ name: 'files', url: up.url, routes: [{ name: 'files', paths: ['~/files/(\\w+/?)+\\.json$'], strip_path: false }] }],
    });
  });
  afterAll(async () => {
    await gw?.close();
    await up?.close();
  });

  it('answers a path that used to take 3.7 s at once', async () => {
    const t = performance.now();
    const miss = await call(gw.proxyUrl, '/files/' + 'a'.repeat(23));
    expect(miss.status).toBe(404);
    const hit = await call(gw.proxyUrl, '/files/a/b/c.json');
    expect(hit.status).toBe(200);
    expect(echoed(hit).url).toBe('/files/a/b/c.json');
    expect(performance.now() - t).toBeLessThan(500);
  });

  it('the Admin API rejects a route regex that needs backtracking; the old routes keep serving', async () => {
    const r = await call(gw.adminUrl, '/services/files/routes', { method: 'POST', json: { name: 'bad', paths: ['~/(a+)+\\1'] } });
    expect(r.status).toBe(400);
    // Kong's shape: the error is on the route's `paths` field
    expect(r.json.fields.paths[0]).toBe("invalid regex: '/(a+)+\\1' (backreference; route regexes match in linear time, without lookahead or backreferences)");
    expect((await call(gw.adminUrl, '/routes/bad')).status).toBe(404);
    expect((await call(gw.proxyUrl, '/files/x.json')).status).toBe(200);
  });
});
