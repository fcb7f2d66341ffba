/**
 * Kong's Redis Partials, as the page "Partials"
 * (developer.konghq.com/gateway/entities/partial/) describes them, for
 * datakit's cache resource (`redis-ee` at `config.resources.cache.redis`,
 * Datakit's 3.12+ schema), against real redis-server processes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import net from 'node:net';
import { call, gateway } from './helpers.js';
import { startRedis, type RedisHandle } from '../helpers/redis.js';
import type { RunningGateway } from '../../host/gateway/index.js';

/** One Redis command over RESP; answers the integer of a `:n` reply. */
function redisInt(port: number, db: number, ...cmd: string[]): Promise<number> {
  const resp = (args: string[]) => `*${args.length}\r\n` + args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('');
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host: '127.0.0.1', port });
    let buf = '';
    sock.on('connect', () => sock.write(resp(['SELECT', String(db)]) + resp(cmd)));
    sock.on('data', (d) => {
      buf += d.toString();
      const m = /^\+OK\r\n:(\d+)\r\n/.exec(buf);
      if (m) {
        sock.destroy();
        resolve(Number(m[1]));
      }
    });
    sock.on('error', reject);
  });
}

/** A flow that caches the `v` query argument under the `k` one and says whether it was a hit. */
const cacheFlow = (extra: Record<string, unknown> = {}) => ({
  resources: { cache: { strategy: 'redis', ...extra } },
  nodes: [
    { name: 'KEY', type: 'jq', input: 'request.query', jq: '"partials-test:" + (.k // "none")' },
    { name: 'LOOKUP', type: 'cache', inputs: { key: 'KEY' } },
    { name: 'IS_MISS', type: 'branch', input: 'LOOKUP.miss', then: ['VALUE', 'STORE', 'MISS'], else: ['HIT'] },
    { name: 'VALUE', type: 'jq', input: 'request.query', jq: '{ v: .v }' },
    { name: 'STORE', type: 'cache', ttl: 60, inputs: { key: 'KEY', data: 'VALUE' } },
    { name: 'MARK', type: 'static', values: { miss: { 'X-Cache': 'MISS' }, hit: { 'X-Cache': 'HIT' } } },
    { name: 'MISS', type: 'exit', status: 200, inputs: { body: 'STORE.data', headers: 'MARK.miss' } },
    { name: 'HIT', type: 'exit', status: 200, inputs: { body: 'LOOKUP.data', headers: 'MARK.hit' } },
  ],
});

let redisA: RedisHandle;
let redisB: RedisHandle;
let gw: RunningGateway;

const admin = async (method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> => {
  const res = await fetch(`${gw.adminUrl}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : undefined };
};

beforeAll(async () => {
  redisA = await startRedis();
  redisB = await startRedis();
  gw = await gateway({
    _format_version: '3.0',
    partials: [{ name: 'shared-redis', type: 'redis-ee', config: { host: '127.0.0.1', port: redisA.port, database: 2 } }],
    services: [
      {
        name: 'svc',
        url: 'http://127.0.0.1:9',
        routes: [
          { name: 'one', paths: ['/one'], plugins: [{ name: 'datakit', instance_name: 'cache-one', config: cacheFlow(), partials: [{ name: 'shared-redis' }] }] },
          { name: 'two', paths: ['/two'], plugins: [{ name: 'datakit', instance_name: 'cache-two', config: cacheFlow(), partials: [{ name: 'shared-redis', path: 'config.resources.cache.redis' }] }] },
        ],
      },
    ],
  });
}, 60_000);

afterAll(async () => {
  await gw?.close();
  await redisA?.stop();
  await redisB?.stop();
});

describe('Redis Partials (developer.konghq.com/gateway/entities/partial/)', () => {
  it('"Add a Partial to a plugin": both plugins use the partial\'s Redis (database 2), sharing one cache', async () => {
    const first = await call(gw.proxyUrl, '/one?k=a&v=1');
    expect(first.status, first.text).toBe(200);
    expect(first.headers['x-cache']).toBe('MISS');
    const second = await call(gw.proxyUrl, '/two?k=a&v=2');
    expect(second.headers['x-cache']).toBe('HIT');
    expect(second.json).toEqual({ v: '1' });
    expect(await redisInt(redisA.port, 2, 'DBSIZE')).toBe(1);
    expect(await redisInt(redisA.port, 0, 'DBSIZE')).toBe(0);
  });

  it('the plugin entity keeps only its own config and lists its partials with their path', async () => {
    const p = await admin('GET', '/plugins/cache-one');
    expect(p.status).toBe(200);
    expect(p.json.partials).toEqual([{ id: expect.any(String), name: 'shared-redis', path: 'config.resources.cache.redis' }]);
    expect(p.json.config.resources.cache).toEqual({ strategy: 'redis' });
  });

  it('"Check Partial usage": GET /partials, /partials/{name}, /partials/{id}/links', async () => {
    const all = await admin('GET', '/partials');
    expect(all.json.data).toHaveLength(1);
    const partial = all.json.data[0];
    // Kong fills the redis-ee defaults
    expect(partial).toMatchObject({ name: 'shared-redis', type: 'redis-ee', config: { host: '127.0.0.1', port: redisA.port, database: 2, connect_timeout: 2000, ssl: false } });
    expect((await admin('GET', '/partials/shared-redis')).json.id).toBe(partial.id);
    const links = await admin('GET', `/partials/${partial.id}/links`);
    expect(links.status).toBe(200);
    expect(links.json.count).toBe(2);
    expect(links.json.data.map((l: any) => l.instance_name).sort()).toEqual(['cache-one', 'cache-two']);
    expect(links.json.data.every((l: any) => l.name === 'datakit')).toBe(true);
  });

  it('updating the partial updates every plugin that uses it (another database, then another server)', async () => {
    let r = await admin('PATCH', '/partials/shared-redis', { config: { database: 3 } });
    expect(r.status).toBe(200);
    expect(r.json.config).toMatchObject({ database: 3, port: redisA.port });
    expect((await call(gw.proxyUrl, '/one?k=b&v=1')).headers['x-cache']).toBe('MISS');
    expect((await call(gw.proxyUrl, '/two?k=b&v=1')).headers['x-cache']).toBe('HIT');
    expect(await redisInt(redisA.port, 3, 'DBSIZE')).toBe(1);

    r = await admin('PATCH', '/partials/shared-redis', { config: { port: redisB.port, database: 0 } });
    expect(r.status).toBe(200);
    expect((await call(gw.proxyUrl, '/two?k=c&v=1')).headers['x-cache']).toBe('MISS');
    expect((await call(gw.proxyUrl, '/one?k=c&v=1')).headers['x-cache']).toBe('HIT');
    expect(await redisInt(redisB.port, 0, 'DBSIZE')).toBe(1);
    // the keys of the first server were not touched
    expect(await redisInt(redisA.port, 0, 'DBSIZE')).toBe(0);
  });

  it('a partial still linked to a plugin cannot be deleted; once unlinked it can', async () => {
    let r = await admin('DELETE', '/partials/shared-redis');
    expect(r.status).toBe(400);
    expect(r.json).toMatchObject({ code: 4, name: 'foreign key violation', message: "an existing 'plugins' entity references this 'partials' entity" });
    expect((await call(gw.proxyUrl, '/one?k=c')).headers['x-cache']).toBe('HIT');

    // "Remove a Partial from a plugin": the redis settings go back into the plugin's own config
    for (const name of ['cache-one', 'cache-two']) {
      r = await admin('PATCH', `/plugins/${name}`, { partials: null, config: { resources: { cache: { strategy: 'redis', redis: { host: '127.0.0.1', port: redisB.port } } } } });
      expect(r.status, JSON.stringify(r.json)).toBe(200);
    }
    expect((await call(gw.proxyUrl, '/two?k=c')).headers['x-cache']).toBe('HIT');
    expect((await admin('DELETE', '/partials/shared-redis')).status).toBe(204);
    expect((await admin('GET', '/partials')).json.data).toEqual([]);
  });

  it('configuration errors: unknown type, unknown field, unknown partial, unsupported plugin or type, wrong path', async () => {
    let r = await admin('POST', '/partials', { name: 'x', type: 'redis', config: {} });
    expect(r.status).toBe(400);
    expect(r.json.fields.type).toBe('expected one of: redis-ce, redis-ee');
    r = await admin('POST', '/partials', { name: 'x', type: 'redis-ee', config: { hots: 'a', port: 'x' } });
    expect(r.json.fields.config).toEqual({ hots: 'unknown field', port: 'expected an integer' });
    r = await admin('POST', '/partials', { name: 'ce', type: 'redis-ce', config: { port: redisA.port } });
    expect(r.status).toBe(201);

    r = await admin('POST', '/routes/one/plugins', { name: 'key-auth', partials: [{ name: 'ce' }] });
    expect(r.status).toBe(400);
    expect(r.json.fields.partials).toEqual({ 1: "plugin 'key-auth' does not support partials of type 'redis-ce'" });
    r = await admin('PATCH', '/plugins/cache-one', { partials: [{ name: 'ce' }] });
    expect(r.json.fields.partials).toEqual({ 1: "plugin 'datakit' does not support partials of type 'redis-ce'" });
    r = await admin('PATCH', '/plugins/cache-one', { partials: [{ name: 'nope' }] });
    expect(r.json.fields.partials).toEqual({ 1: "partial 'nope' not found" });

    r = await admin('POST', '/partials', { name: 'ee', type: 'redis-ee', config: { port: redisA.port } });
    r = await admin('PATCH', '/plugins/cache-one', { partials: [{ id: r.json.id, path: 'config.redis' }] });
    expect(r.json.fields.partials[1]).toBe("invalid path 'config.redis' for a 'redis-ee' partial of plugin 'datakit' (expected 'config.resources.cache.redis')");
  });

  it('GET /config exports partials and links; loading the export again keeps them (what --workers broadcasts)', async () => {
    const exported = (await admin('GET', '/config?format=json')).json;
    expect(exported.partials.map((p: any) => p.name).sort()).toEqual(['ce', 'ee']);
    const linked = await admin('POST', '/config', {
      ...exported,
      plugins: [...(exported.plugins ?? []), { name: 'datakit', instance_name: 'linked', route: 'two', config: cacheFlow(), partials: [{ name: 'ee' }] }].filter(
        (p: any) => p.instance_name !== 'cache-two',
      ),
    });
    expect(linked.status, JSON.stringify(linked.json)).toBe(201);
    const again = (await admin('GET', '/config?format=json')).json;
    const res = await admin('POST', '/config', again);
    expect(res.status, JSON.stringify(res.json)).toBe(201);
    const plugin = (await admin('GET', '/plugins/linked')).json;
    expect(plugin.partials).toEqual([{ id: again.partials.find((p: any) => p.name === 'ee').id, name: 'ee', path: 'config.resources.cache.redis' }]);
    expect((await call(gw.proxyUrl, '/two?k=d&v=1')).headers['x-cache']).toBe('MISS');
    // the 'ee' partial points at the first server, database 0 (its default)
    expect(await redisInt(redisA.port, 0, 'DBSIZE')).toBe(1);
  });

  it('a declarative document: partials are entities of their own, errors at their path', async () => {
    const res = await fetch(`${gw.adminUrl}/config`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        _format_version: '3.0',
        partials: [{ name: 'p', type: 'redis-ee', config: { port: 70000 } }],
        plugins: [{ name: 'datakit', config: cacheFlow(), partials: [{ name: 'missing' }] }],
      }),
    });
    expect(res.status).toBe(400);
    const body = (await res.json()) as any;
    expect(body.code).toBe(14);
    expect(body.fields['partials[0].config.port']).toBe('value should be between 0 and 65535');
    expect(body.fields['plugins[0].partials.1']).toBe("partial 'missing' not found");
  });
});
