// With the redis strategy, two gateway processes share one cache.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { call, startUpstream, type Upstream } from './helpers.js';
import { buildHost, exited, freePort, serve, waitReady } from '../helpers/cli.js';
import { startRedis, type RedisHandle } from '../helpers/redis.js';

let redis: RedisHandle;
let data: Upstream;
const gateways: Array<{ child: ChildProcess; proxy: string }> = [];

beforeAll(async () => {
  buildHost();
  redis = await startRedis();
  data = await startUpstream('data');
  // the gallery's cache flow, with the redis strategy and its call pointed at a local server
  const flow = parse(readFileSync(resolve(__dirname, '../../examples/flows/cache-user-profile.yaml'), 'utf8'));
  flow.resources.cache = { strategy: 'redis', redis: { host: '127.0.0.1', port: redis.port, database: 1 } };
  for (const n of flow.nodes) if (n.name === 'PROFILE_URL') n.jq = `"${data.url}/users/\\(.user // "1")"`;
  const dir = mkdtempSync(join(tmpdir(), 'dk-cache-'));
  const file = join(dir, 'gw.yaml');
  writeFileSync(
    file,
    stringify({
      _format_version: '3.0',
      services: [{ name: 'svc', url: data.url, routes: [{ name: 'cached', paths: ['/cached'] }] }],
      plugins: [{ name: 'datakit', route: 'cached', config: flow }],
    }),
  );
  for (let i = 0; i < 2; i++) {
    const proxyPort = await freePort();
    const adminPort = await freePort();
    const { child } = serve(['--config', file, '--proxy-listen', `127.0.0.1:${proxyPort}`, '--admin-listen', `127.0.0.1:${adminPort}`, '--log-level', 'warn']);
    await waitReady(`http://127.0.0.1:${adminPort}`, child);
    gateways.push({ child, proxy: `http://127.0.0.1:${proxyPort}` });
  }
}, 180_000);

afterAll(async () => {
  for (const g of gateways) {
    g.child.kill('SIGTERM');
    await exited(g.child);
  }
  await data.close();
  await redis.stop();
});

describe('cache node, redis strategy, two gateway processes', () => {
  it('the first request (gateway A) is a miss, the second (gateway B) a hit from the shared cache', async () => {
    const first = await call(gateways[0].proxy, '/cached');
    expect(first.status, first.text).toBe(200);
    expect(first.headers['x-cache']).toBe('MISS');
    const callsAfterFirst = data.seen.length;
    const second = await call(gateways[1].proxy, '/cached');
    expect(second.status, second.text).toBe(200);
    expect(second.headers['x-cache']).toBe('HIT');
    expect(second.json).toEqual(first.json);
    expect(data.seen.length).toBe(callsAfterFirst); // no data call on a hit
  });

  it('Redis killed mid-run: the node fails cleanly (500 with a request id), no hang', async () => {
    redis.kill();
    const t0 = Date.now();
    const r = await call(gateways[1].proxy, '/cached');
    expect(Date.now() - t0).toBeLessThan(10_000);
    expect(r.status).toBe(500);
    expect(r.json.request_id).toBeTruthy();
  });
});
