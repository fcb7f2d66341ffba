// Kong's published cache, XML and JWT flows end to end, with local servers
// standing in for the hosts they name.
import { generateKeyPairSync, createSecretKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SignJWT, exportJWK } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Datakit } from '../../host/index.js';
import { MemoryProperties, parseConfigText } from '../../host/index.js';
import { clearMemoryCache } from '../../host/capabilities/cache.js';
import { bodyJson, engine, text } from '../helpers/engine.js';
import { json, startServer, type TestServer } from '../helpers/http.js';
import { sharedFlowsDir } from './shared.js';

const FLOWS = sharedFlowsDir;
let dk: Datakit;
let api: TestServer;

beforeAll(async () => {
  dk = await engine();
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
    // recognize_type defaults to true (Kong's schema): the id comes back a number
    expect(bodyJson(r.response.body)).toEqual({ book: { '#attr': { id: 9 }, title: 'Emma' } });
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

});
