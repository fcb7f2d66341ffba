// cache, xml_to_json / json_to_xml and jwt_* nodes: semantics in the engine,
// capabilities from the host (issue 5), with the shared flows end to end.
import { generateKeyPairSync, createSecretKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { SignJWT, exportJWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Datakit } from '../../host/index.js';
import { MemoryProperties, parseConfigText } from '../../host/index.js';
import { clearMemoryCache } from '../../host/capabilities/cache.js';
import { bodyJson, engine, text } from '../helpers/engine.js';
import { json, startServer, type TestServer } from '../helpers/http.js';
import { startRedis, type RedisHandle } from '../helpers/redis.js';

const FLOWS = resolve(__dirname, '../../../shared/flows');
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

function sharedFlow(file: string): Record<string, unknown> {
  const src = readFileSync(join(FLOWS, file), 'utf8')
    .replaceAll('http://localhost:8080', api.url)
    .replaceAll('http://localhost:7180', `${api.url}/xml-echo`);
  return parseConfigText(src) as Record<string, unknown>;
}

describe('cache', () => {
  it('conditionally-store-cached-items: first request a miss, second a hit', async () => {
    clearMemoryCache();
    const flow = dk.load(sharedFlow('conditionally-store-cached-items.yaml'));
    const first = await flow.run({ method: 'GET', path: '/' });
    expect(first.response.headers['x-miss']).toBe('true');
    expect(first.response.headers['x-hit']).toBeUndefined();
    const firstBody = bodyJson(first.response.body) as { body: { n: number } };
    const calls = api.received.length;
    const second = await flow.run({ method: 'GET', path: '/' });
    expect(second.response.headers['x-hit']).toBe('true');
    expect(api.received.length).toBe(calls); // served from the cache, no call
    expect(bodyJson(second.response.body)).toEqual(firstBody);
  });

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

describe('xml', () => {
  it('convert-xml-into-json', async () => {
    const r = await dk.load(sharedFlow('convert-xml-into-json.yaml')).run({
      method: 'POST',
      path: '/',
      headers: { 'Content-Type': 'application/xml' },
      body: '<book id="7"><title>Dune</title><year>1965</year><tag>a</tag><tag>b</tag><empty/></book>',
    });
    expect(r.response.status).toBe(200);
    expect(bodyJson(r.response.body)).toEqual({ book: { '-id': 7, title: 'Dune', year: 1965, tag: ['a', 'b'], empty: {} } });
  });

  it('convert-json-into-xml answers application/xml', async () => {
    const r = await dk.load(sharedFlow('convert-json-into-xml.yaml')).run({
      method: 'POST',
      path: '/',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ book: { '-id': '7', title: 'Dune' } }),
    });
    expect(r.response.headers['Content-Type']).toBe('application/xml');
    expect(text(r.response.body)).toMatch(/<book id="7">\s*<title>Dune<\/title>\s*<\/book>/);
  });

  it('convert-json-to-xml-and-back through a local XML echo service', async () => {
    const input = { book: { '#attr': { id: '9' }, title: 'Emma' } };
    const r = await dk.load(sharedFlow('convert-json-to-xml-and-back.yaml')).run(
      { method: 'POST', path: '/', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(input) },
      { upstream: { status: 200, headers: { 'content-type': 'text/plain' }, body: 'ignored' } },
    );
    expect(api.received.at(-1)!.headers['content-type']).toBe('application/xml');
    expect(bodyJson(r.response.body)).toEqual(input);
  });

  it('bad XML fails the node with the parser message', async () => {
    const r = await dk.load(sharedFlow('convert-xml-into-json.yaml')).run({ method: 'POST', path: '/', headers: { 'Content-Type': 'text/xml' }, body: '<a><b></a>' });
    expect(r.response.status).toBe(500);
    expect((bodyJson(r.response.body) as { error: string; node: { name: string } }).node.name).toBe('XML_JSON');
  });
});

describe('jwt', () => {
  it('sign-consumer-jwt: HS256 token with the consumer id, key from the env vault', async () => {
    process.env.JWT_HMAC_SECRET = 'a-very-secret-hmac-key-of-enough-length';
    const props = new MemoryProperties(undefined, { 'kong.client.consumer': { id: 'consumer-1', username: 'alice' } });
    const r = await dk.load(sharedFlow('sign-consumer-jwt.yaml')).run({ method: 'GET', path: '/' }, { properties: props });
    const token = r.serviceRequest!.headers['X-Consumer-JWT'] as string;
    const { jwtVerify } = await import('jose');
    const { payload, protectedHeader } = await jwtVerify(token, createSecretKey(Buffer.from(process.env.JWT_HMAC_SECRET)));
    expect(payload.sub).toBe('consumer-1');
    expect(payload.iss).toBe('kong');
    expect((payload.exp as number) - (payload.iat as number)).toBe(300);
    expect(protectedHeader.alg).toBe('HS256');
  });

  describe('authenticate-consumer-from-multiple-jwts', () => {
    const k1 = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const k2 = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    let flow: ReturnType<Datakit['load']>;

    beforeAll(async () => {
      process.env.JWKS1_JSON = JSON.stringify({ keys: [{ ...(await exportJWK(k1.publicKey)), kid: 'one', alg: 'RS256' }] });
      process.env.JWKS2_JSON = JSON.stringify({ keys: [{ ...(await exportJWK(k2.publicKey)), kid: 'two', alg: 'ES256' }] });
      flow = dk.load(sharedFlow('authenticate-consumer-from-multiple-jwts.yaml'));
    });

    const token = (key: typeof k1.privateKey, alg: string, kid: string, iss: string, sub: string, exp = '5m') =>
      new SignJWT({ sub }).setProtectedHeader({ alg, kid }).setIssuer(iss).setIssuedAt().setExpirationTime(exp).sign(key);

    it('the first header authenticates a consumer', async () => {
      const props = new MemoryProperties();
      const t = await token(k1.privateKey, 'RS256', 'one', 'expected-issuer-1', 'alice');
      const r = await flow.run({ method: 'GET', path: '/', headers: { Authorization: `Bearer ${t}` } }, { properties: props });
      expect(r.failure).toBeUndefined();
      expect(props.changes['kong.client.consumer']).toEqual({ username: 'alice' });
    });

    it('the second header is used when the first is absent', async () => {
      const props = new MemoryProperties();
      const t = await token(k2.privateKey, 'ES256', 'two', 'expected-issuer-2', 'bob');
      const r = await flow.run({ method: 'GET', path: '/', headers: { authorization2: t } }, { properties: props });
      expect(r.failure).toBeUndefined();
      expect(props.changes['kong.client.consumer']).toEqual({ username: 'bob' });
    });

    it('wrong issuer, expired token and wrong key fail; no header sets no consumer', async () => {
      for (const t of [
        await token(k1.privateKey, 'RS256', 'one', 'someone-else', 'eve'),
        await token(k1.privateKey, 'RS256', 'one', 'expected-issuer-1', 'eve', '-1m'),
        await token(k2.privateKey, 'ES256', 'one', 'expected-issuer-1', 'eve'),
      ]) {
        const props = new MemoryProperties();
        const r = await flow.run({ method: 'GET', path: '/', headers: { Authorization: `Bearer ${t}` } }, { properties: props });
        expect(r.response.status).toBe(500);
        expect(r.failure!.node.name).toBe('VERIFY_AUTH1');
        expect(props.changes['kong.client.consumer']).toBeUndefined();
      }
      const props = new MemoryProperties();
      const none = await flow.run({ method: 'GET', path: '/' }, { properties: props });
      expect(none.failure).toBeUndefined();
      expect(props.changes).toEqual({});
    });

    it('an HS256 token forged with the RSA public key as secret never verifies', async () => {
      const pem = k1.publicKey.export({ type: 'spki', format: 'pem' }) as string;
      const forged = await new SignJWT({ sub: 'mallory' })
        .setProtectedHeader({ alg: 'HS256', kid: 'one' })
        .setIssuer('expected-issuer-1')
        .setIssuedAt()
        .setExpirationTime('5m')
        .sign(createSecretKey(Buffer.from(pem)));
      const props = new MemoryProperties();
      const r = await flow.run({ method: 'GET', path: '/', headers: { Authorization: `Bearer ${forged}` } }, { properties: props });
      expect(r.response.status).toBe(500);
      expect(props.changes['kong.client.consumer']).toBeUndefined();
    });
  });

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
