// cache, xml_to_json / json_to_xml and jwt_* nodes: semantics in the engine,
// capabilities from the host. Kong's published flows run in test/conformance.
import { createSecretKey } from 'node:crypto';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Datakit } from '../../host/index.js';
import { clearMemoryCache } from '../../host/capabilities/cache.js';
import { bodyJson, engine, text } from '../helpers/engine.js';
import { json, startServer, type TestServer } from '../helpers/http.js';
import { startRedis, type RedisHandle } from '../helpers/redis.js';

let dk: Datakit;
let api: TestServer;
let redis: RedisHandle;

beforeAll(async () => {
  dk = await engine();
  redis = await startRedis();
  api = await startServer((req, res) => {
    if (req.url.startsWith('/anything')) json(res, 200, { n: api.received.length, at: req.url });
    else if (req.url.startsWith('/xml-echo')) {
      res.writeHead(200, { 'Content-Type': 'application/xml' });
      res.end(req.body);
    } else json(res, 200, {});
  });
});

afterAll(async () => {
  await api.close();
  await redis.stop();
  await dk.close();
});


describe('cache', () => {
  it('the ttl input overrides the attribute; expired entries are misses', async () => {
    clearMemoryCache();
    const flow = dk.load({
      resources: { cache: { strategy: 'memory' } },
      nodes: [
        { name: 'V', type: 'static', values: { key: 'k-ttl', data: { v: 1 }, ttl: 1 } },
        { name: 'SET', type: 'cache', ttl: 3600, inputs: { key: 'V.key', data: 'V.data', ttl: 'V.ttl' } },
        { name: 'EXIT', type: 'exit', inputs: { body: 'SET' } },
      ],
    });
    const r = await flow.run({ method: 'GET', path: '/' });
    expect(bodyJson(r.response.body)).toMatchObject({ stored: true });
    const get = dk.load({
      resources: { cache: { strategy: 'memory' } },
      nodes: [
        { name: 'V', type: 'static', values: { key: 'k-ttl' } },
        { name: 'GET', type: 'cache', input: 'V' },
        { name: 'EXIT', type: 'exit', inputs: { body: 'GET' } },
      ],
    });
    expect(bodyJson((await get.run({ method: 'GET', path: '/' })).response.body)).toEqual({ hit: true, miss: false, stored: false, data: { v: 1 } });
    await new Promise((r) => setTimeout(r, 1100));
    expect(bodyJson((await get.run({ method: 'GET', path: '/' })).response.body)).toMatchObject({ hit: false, miss: true });
  });

  it('redis strategy: two engines share one cache', async () => {
    const cache = { strategy: 'redis', redis: { host: '127.0.0.1', port: redis.port, database: 2 } };
    const setFlow = {
      resources: { cache },
      nodes: [
        { name: 'V', type: 'static', values: { key: 'shared-key', data: { from: 'engine-1' } } },
        { name: 'SET', type: 'cache', ttl: 60, input: 'V' },
      ],
    };
    const getFlow = {
      resources: { cache },
      nodes: [
        { name: 'V', type: 'static', values: { key: 'shared-key' } },
        { name: 'GET', type: 'cache', input: 'V' },
        { name: 'EXIT', type: 'exit', inputs: { body: 'GET.data' } },
      ],
    };
    const other = await engine();
    await dk.load(setFlow).run({ method: 'GET', path: '/' });
    const r = await other.load(getFlow).run({ method: 'GET', path: '/' });
    expect(bodyJson(r.response.body)).toEqual({ from: 'engine-1' });
    await other.close();
  });

  it('a dead backend fails the node, or is a miss with bypass_on_error', async () => {
    const dead = { strategy: 'redis', redis: { host: '127.0.0.1', port: 1, timeout: 300 } };
    const cfg = (bypass: boolean) => ({
      debug: true,
      resources: { cache: dead },
      nodes: [
        { name: 'V', type: 'static', values: { key: 'k' } },
        { name: 'GET', type: 'cache', input: 'V', bypass_on_error: bypass },
        { name: 'EXIT', type: 'exit', inputs: { body: 'GET' } },
      ],
    });
    const failed = await dk.load(cfg(false)).run({ method: 'GET', path: '/' });
    expect(failed.response.status).toBe(500);
    expect((bodyJson(failed.response.body) as { error: string }).error).toMatch(/^cache: redis/);
    const missed = await dk.load(cfg(true)).run({ method: 'GET', path: '/' });
    expect(bodyJson(missed.response.body)).toEqual({ hit: false, miss: true, stored: false, data: null });
  });

  it('needs resources.cache, validated at configure time', () => {
    expect(dk.validate({ nodes: [{ name: 'C', type: 'cache' }] }).map((e) => e.message)).toEqual(['node #1 (C): a cache node needs resources.cache']);
    expect(dk.validate({ resources: { cache: { strategy: 'disk' } }, nodes: [{ name: 'C', type: 'cache' }] })[0].message).toMatch(/^resources.cache: /);
  });
});

describe('jwt', () => {
  it('jwt_decode outputs header, payload and signature', async () => {
    const t = await new SignJWT({ a: 1 }).setProtectedHeader({ alg: 'HS256' }).sign(createSecretKey(Buffer.from('k'.repeat(32))));
    const r = await dk.load({
      nodes: [
        { name: 'E', type: 'jq', input: 'request.headers', jq: '.authorization' },
        { name: 'D', type: 'jwt_decode', input: 'E' },
        { name: 'EXIT', type: 'exit', inputs: { body: 'D' } },
      ],
    }).run({ method: 'GET', path: '/', headers: { authorization: `bearer ${t}` } });
    const b = bodyJson(r.response.body) as { header: { alg: string }; payload: { a: number }; signature: string };
    expect(b.header.alg).toBe('HS256');
    expect(b.payload.a).toBe(1);
    expect(b.signature).toBe(t.split('.')[2]);
  });

  it('bad options are configuration errors', () => {
    expect(dk.validate({ nodes: [{ name: 'S', type: 'jwt_sign', algorithm: 'XX999' }] })[0].message).toMatch(/^node #1 \(S\): /);
  });
});
