import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import {
  CacheError,
  clearMemoryCache,
  createCacheBackend,
  memoryCacheSize,
  redisClientCount,
  validateCacheResource,
  type CacheBackend,
} from '../../host/capabilities/cache.js';
import { freePort, startRedis, type RedisHandle } from '../helpers/redis.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('validateCacheResource', () => {
  it('accepts the shapes used by real flows', () => {
    expect(validateCacheResource({ strategy: 'memory' })).toEqual([]);
    expect(validateCacheResource({ strategy: 'memory', memory: { dictionary_name: 'kong_db_cache' } })).toEqual([]);
    expect(
      validateCacheResource({
        strategy: 'redis',
        redis: { host: '127.0.0.1', port: 6379, database: 0, password: 'x', timeout: 2000, ssl: false, ssl_verify: false },
      }),
    ).toEqual([]);
    expect(
      validateCacheResource({
        strategy: 'redis',
        redis: { sentinel_master: 'mymaster', sentinel_role: 'any', sentinel_nodes: [{ host: 'a', port: 26379 }] },
      }),
    ).toEqual([]);
    expect(
      validateCacheResource({ strategy: 'redis', redis: { cluster_nodes: [{ ip: '10.0.0.1', port: 7000 }], cluster_max_redirections: 3 } }),
    ).toEqual([]);
  });

  it('reports bad values', () => {
    expect(validateCacheResource({ strategy: 'disk' })).toEqual(['strategy must be one of: memory, redis']);
    expect(validateCacheResource(null)).toEqual(['cache resource must be an object']);
    expect(validateCacheResource({ strategy: 'memory', memory: { max_entries: 0 } })).toEqual([
      'memory.max_entries must be a positive integer',
    ]);
    expect(validateCacheResource({ strategy: 'redis', redis: { port: 'x' } })).toEqual([
      'redis.port must be an integer between 0 and 65535',
    ]);
    expect(validateCacheResource({ strategy: 'redis', redis: { sentinel_role: 'boss', sentinel_master: 'm' } })).toEqual([
      'redis.sentinel_role must be one of: master, slave, any',
      'redis.sentinel_nodes is required when sentinel_master is set',
    ]);
    expect(validateCacheResource({ strategy: 'redis', redis: { hots: 'x' } })).toEqual(['redis.hots: unknown field']);
    expect(
      validateCacheResource({
        strategy: 'redis',
        redis: { sentinel_master: 'm', sentinel_nodes: [{ host: 'a' }], cluster_nodes: [{ port: 1 }] },
      }),
    ).toEqual(['redis.cluster_nodes[0].host (or ip) must be a non-empty string', 'redis: sentinel and cluster modes are mutually exclusive']);
    expect(validateCacheResource({ strategy: 'redis', redis: { timeout: -1 } })).toEqual([
      'redis.timeout must be an integer between 1 and 2147483647',
    ]);
  });

  it('createCacheBackend rejects an invalid config with CacheError', () => {
    expect(() => createCacheBackend({ strategy: 'bogus' as 'memory' })).toThrow(CacheError);
  });
});

describe('memory strategy', () => {
  afterEach(() => clearMemoryCache());

  it('misses, stores and hits', async () => {
    const c = createCacheBackend({ strategy: 'memory' });
    expect(await c.get('k')).toEqual({ hit: false });
    await c.set('k', { a: [1, 2, { b: null }] }, 60);
    expect(await c.get('k')).toEqual({ hit: true, value: { a: [1, 2, { b: null }] } });
    await c.set('s', 'text', undefined);
    await c.set('n', 0, 0);
    await c.set('f', false, undefined);
    expect(await c.get('s')).toEqual({ hit: true, value: 'text' });
    expect(await c.get('n')).toEqual({ hit: true, value: 0 });
    expect(await c.get('f')).toEqual({ hit: true, value: false });
  });

  it('expires entries after their TTL; 0/undefined never expire', async () => {
    const c = createCacheBackend({ strategy: 'memory' });
    await c.set('short', 1, 0.05);
    await c.set('forever0', 2, 0);
    await c.set('foreverU', 3, undefined);
    expect((await c.get('short')).hit).toBe(true);
    await sleep(80);
    expect(await c.get('short')).toEqual({ hit: false });
    expect(await c.get('forever0')).toEqual({ hit: true, value: 2 });
    expect(await c.get('foreverU')).toEqual({ hit: true, value: 3 });
  });

  it('overwriting resets the TTL', async () => {
    const c = createCacheBackend({ strategy: 'memory' });
    await c.set('k', 1, 0.05);
    await c.set('k', 2, undefined);
    await sleep(70);
    expect(await c.get('k')).toEqual({ hit: true, value: 2 });
  });

  it('is bounded with LRU eviction', async () => {
    const c = createCacheBackend({ strategy: 'memory', memory: { dictionary_name: 'lru', max_entries: 3 } });
    await c.set('a', 1, undefined);
    await c.set('b', 2, undefined);
    await c.set('c', 3, undefined);
    await c.get('a'); // a is now most recently used
    await c.set('d', 4, undefined); // evicts b
    expect(memoryCacheSize('lru')).toBe(3);
    expect(await c.get('b')).toEqual({ hit: false });
    expect(await c.get('a')).toEqual({ hit: true, value: 1 });
    expect(await c.get('c')).toEqual({ hit: true, value: 3 });
    expect(await c.get('d')).toEqual({ hit: true, value: 4 });
  });

  it('defaults to 10000 entries', async () => {
    const c = createCacheBackend({ strategy: 'memory', memory: { dictionary_name: 'big' } });
    for (let i = 0; i < 10050; i++) await c.set(`k${i}`, i, undefined);
    expect(memoryCacheSize('big')).toBe(10000);
    expect(await c.get('k0')).toEqual({ hit: false });
    expect(await c.get('k10049')).toEqual({ hit: true, value: 10049 });
  });

  it('shares a dictionary across backends, isolates different dictionaries', async () => {
    const a = createCacheBackend({ strategy: 'memory' });
    const b = createCacheBackend({ strategy: 'memory', memory: { dictionary_name: 'kong_db_cache' } });
    const other = createCacheBackend({ strategy: 'memory', memory: { dictionary_name: 'other' } });
    await a.set('shared', 'yes', undefined);
    expect(await b.get('shared')).toEqual({ hit: true, value: 'yes' });
    expect(await other.get('shared')).toEqual({ hit: false });
    await a.close();
    expect(await b.get('shared')).toEqual({ hit: true, value: 'yes' });
  });

  it('stores copies: neither the stored nor the returned value can be mutated through', async () => {
    const c = createCacheBackend({ strategy: 'memory' });
    const v = { list: [1], nested: { x: 1 } };
    await c.set('k', v, undefined);
    v.list.push(2);
    v.nested.x = 99;
    const r1 = await c.get('k');
    expect(r1).toEqual({ hit: true, value: { list: [1], nested: { x: 1 } } });
    if (r1.hit) (r1.value as { list: number[] }).list.push(3);
    expect(await c.get('k')).toEqual({ hit: true, value: { list: [1], nested: { x: 1 } } });
  });

  it('rejects non-JSON values and bad keys with CacheError', async () => {
    const c = createCacheBackend({ strategy: 'memory' });
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    await expect(c.set('k', circular, undefined)).rejects.toBeInstanceOf(CacheError);
    await expect(c.set('k', undefined, undefined)).rejects.toThrow(/not JSON-serializable/);
    await expect(c.set('', 1, undefined)).rejects.toThrow(/non-empty string/);
    await expect(c.get(42 as unknown as string)).rejects.toBeInstanceOf(CacheError);
  });
});

describe('redis strategy (real redis-server)', () => {
  let redis: RedisHandle;
  let raw: Redis;
  const backends: CacheBackend[] = [];
  const make = (r: Record<string, unknown> = {}) => {
    const b = createCacheBackend({ strategy: 'redis', redis: { host: '127.0.0.1', port: redis.port, timeout: 1000, ...r } });
    backends.push(b);
    return b;
  };

  beforeAll(async () => {
    redis = await startRedis();
    raw = new Redis({ host: '127.0.0.1', port: redis.port, lazyConnect: true, maxRetriesPerRequest: 0 });
    await raw.connect();
  });
  afterAll(async () => {
    raw?.disconnect();
    await redis?.stop();
  });
  afterEach(async () => {
    while (backends.length) await backends.pop()!.close();
  });

  it('get/set round-trips JSON values under the datakit:cache: prefix', async () => {
    const c = make();
    expect(await c.get('k1')).toEqual({ hit: false });
    const value = { s: 'é ü "q"', n: 1.5, b: true, nil: null, arr: [1, 'two', { three: 3 }] };
    await c.set('k1', value, 60);
    expect(await c.get('k1')).toEqual({ hit: true, value });
    expect(JSON.parse((await raw.get('datakit:cache:k1'))!)).toEqual(value);
    const ttl = await raw.ttl('datakit:cache:k1');
    expect(ttl).toBeGreaterThan(55);
    expect(ttl).toBeLessThanOrEqual(60);
    await c.set('plain', 'str', undefined);
    expect(await raw.ttl('datakit:cache:plain')).toBe(-1);
    expect(await c.get('plain')).toEqual({ hit: true, value: 'str' });
  });

  it('expires keys after the TTL (EX seconds, PX for fractions)', async () => {
    const c = make();
    await c.set('t1', 'x', 1);
    await c.set('t2', 'y', 0.2);
    expect((await c.get('t2')).hit).toBe(true);
    await sleep(350);
    expect(await c.get('t2')).toEqual({ hit: false });
    await sleep(800);
    expect(await c.get('t1')).toEqual({ hit: false });
  });

  it('honours the database option', async () => {
    const db0 = make();
    const db3 = make({ database: 3 });
    await db3.set('dbkey', 'in3', 60);
    expect(await db3.get('dbkey')).toEqual({ hit: true, value: 'in3' });
    expect(await db0.get('dbkey')).toEqual({ hit: false });
    const raw3 = new Redis({ host: '127.0.0.1', port: redis.port, db: 3, lazyConnect: true });
    await raw3.connect();
    expect(await raw3.get('datakit:cache:dbkey')).toBe('"in3"');
    raw3.disconnect();
  });

  it('two independent clients (different settings) see each other\'s data', async () => {
    const a = make({ timeout: 1000 });
    const b = make({ timeout: 1500 });
    expect(redisClientCount()).toBeGreaterThanOrEqual(2);
    await a.set('shared', { from: 'a' }, 60);
    expect(await b.get('shared')).toEqual({ hit: true, value: { from: 'a' } });
    await b.set('shared', { from: 'b' }, 60);
    expect(await a.get('shared')).toEqual({ hit: true, value: { from: 'b' } });
  });

  it('identical settings share one client, closed when the last backend closes', async () => {
    const before = redisClientCount();
    const a = createCacheBackend({ strategy: 'redis', redis: { port: redis.port, timeout: 777 } });
    const b = createCacheBackend({ strategy: 'redis', redis: { port: redis.port, timeout: 777 } });
    expect(redisClientCount()).toBe(before + 1);
    await a.set('rc', 1, 60);
    await a.close();
    await a.close(); // idempotent
    expect(redisClientCount()).toBe(before + 1);
    expect(await b.get('rc')).toEqual({ hit: true, value: 1 });
    await b.close();
    expect(redisClientCount()).toBe(before);
    await expect(a.get('rc')).rejects.toThrow('redis: backend is closed');
  });

  it('reports a value that is not JSON as CacheError', async () => {
    await raw.set('datakit:cache:garbage', 'not json{');
    await expect(make().get('garbage')).rejects.toThrow('redis: cached value is not valid JSON');
  });

  it('fails fast with ECONNREFUSED when nothing listens', async () => {
    const port = await freePort();
    const c = make({ port, timeout: 500 });
    const t0 = Date.now();
    const err = await c.get('x').catch((e) => e);
    expect(err).toBeInstanceOf(CacheError);
    expect(err.message).toBe(`redis: connect ECONNREFUSED 127.0.0.1:${port}`);
    expect(Date.now() - t0).toBeLessThan(1500);
    await expect(c.set('x', 1, 1)).rejects.toThrow(/^redis: /);
  });

  it('times out against a server that never answers', async () => {
    const net = await import('node:net');
    const sockets: import('node:net').Socket[] = [];
    const blackhole = net.createServer((s) => sockets.push(s)); // accepts, never replies
    await new Promise<void>((r) => blackhole.listen(0, '127.0.0.1', () => r()));
    const port = (blackhole.address() as { port: number }).port;
    try {
      const c = make({ port, timeout: 300 });
      const t0 = Date.now();
      const err = await c.get('x').catch((e) => e);
      expect(err).toBeInstanceOf(CacheError);
      expect(err.message).toMatch(/^redis: .*timeout|timed out/i);
      expect(Date.now() - t0).toBeLessThan(2000);
    } finally {
      sockets.forEach((s) => s.destroy());
      blackhole.close();
    }
  });
});

describe('redis auth', () => {
  let secured: RedisHandle;
  beforeAll(async () => {
    secured = await startRedis({ password: 's3cret' });
  });
  afterAll(async () => {
    await secured?.stop();
  });

  it('authenticates with password (and with username default + password)', async () => {
    const c = createCacheBackend({ strategy: 'redis', redis: { port: secured.port, password: 's3cret', timeout: 1000 } });
    const u = createCacheBackend({
      strategy: 'redis',
      redis: { port: secured.port, username: 'default', password: 's3cret', timeout: 1000 },
    });
    try {
      await c.set('auth', 'ok', 60);
      expect(await c.get('auth')).toEqual({ hit: true, value: 'ok' });
      expect(await u.get('auth')).toEqual({ hit: true, value: 'ok' });
    } finally {
      await c.close();
      await u.close();
    }
  });

  it('fails with a clear error without or with a wrong password', async () => {
    const none = createCacheBackend({ strategy: 'redis', redis: { port: secured.port, timeout: 1000 } });
    const wrong = createCacheBackend({ strategy: 'redis', redis: { port: secured.port, password: 'nope', timeout: 1000 } });
    try {
      await expect(none.get('auth')).rejects.toThrow(/^redis: NOAUTH/);
      await expect(wrong.get('auth')).rejects.toThrow(/^redis: (WRONGPASS|ERR)/);
    } finally {
      await none.close();
      await wrong.close();
    }
  });
});

describe('redis killed mid-run', () => {
  it('fails quickly with CacheError while down, and recovers after a restart', async () => {
    let r = await startRedis();
    const port = r.port;
    const c = createCacheBackend({ strategy: 'redis', redis: { port, timeout: 500 } });
    try {
      await c.set('k', 'before', 60);
      expect(await c.get('k')).toEqual({ hit: true, value: 'before' });

      r.kill();
      await sleep(100);
      for (let i = 0; i < 3; i++) {
        const t0 = Date.now();
        const err = await c.get('k').catch((e) => e);
        expect(err).toBeInstanceOf(CacheError);
        expect(err.message).toMatch(/^redis: /);
        expect(Date.now() - t0).toBeLessThan(1500);
      }

      r = await startRedis({ port });
      // background reconnection (bounded backoff) picks the server up again
      let ok = false;
      const deadline = Date.now() + 8000;
      while (Date.now() < deadline) {
        try {
          await c.set('k', 'after', 60);
          ok = true;
          break;
        } catch {
          await sleep(200);
        }
      }
      expect(ok).toBe(true);
      expect(await c.get('k')).toEqual({ hit: true, value: 'after' });
    } finally {
      await c.close();
      await r.stop();
    }
  });
});
