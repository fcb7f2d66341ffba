// Every published Kong flow (the conformance folder's flows/) whose node types exist, with local servers
// standing in for the example hosts.
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Datakit } from '../../host/index.js';
import { MemoryProperties, parseConfigText } from '../../host/index.js';
import { bodyJson, engine, text } from '../helpers/engine.js';
import { json, startServer, type TestServer } from '../helpers/http.js';
import { sharedFlowsDir } from './shared.js';

const FLOWS = sharedFlowsDir;
let dk: Datakit;
let api: TestServer;

beforeAll(async () => {
  dk = await engine();
  api = await startServer((req, res) => {
    const u = new URL(req.url, 'http://x');
    if (u.pathname.endsWith('/auth-token')) {
      json(res, 200, { token_type: 'Bearer', access_token: `tok-${req.headers['x-api-key']}`, seen: { ct: req.headers['content-type'], body: req.body } });
    } else if (u.pathname === '/json') {
      json(res, 200, { slideshow: { author: 'Yours Truly', title: 'Sample' } });
    } else if (u.pathname === '/uuid') {
      json(res, 200, { uuid: '6a0d8b4e-3a1f-4c2e-9d9b-1f2e3d4c5b6a' });
    } else {
      json(res, 200, { headers: req.headers, raw: req.rawHeaders });
    }
  });
});

afterAll(async () => {
  await api.close();
  await dk.close();
});

/** Loads a shared flow with its example hosts pointed at the local server. */
function flow(file: string): Record<string, unknown> {
  const src = readFileSync(join(FLOWS, file), 'utf8')
    .replaceAll('https://my-token-service', api.url)
    .replaceAll('https://example.com', api.url)
    .replaceAll('https://httpbin.konghq.com', api.url)
    .replaceAll('http://localhost:8080', api.url);
  return parseConfigText(src) as Record<string, unknown>;
}

const SUPPORTED = new Set(['static', 'jq', 'handlebars', 'call', 'exit', 'property', 'branch']);

describe('every shared flow with available node types loads', () => {
  const files = readdirSync(FLOWS).filter((f) => f.endsWith('.yaml'));
  it('finds the shared flows', () => expect(files.length).toBeGreaterThan(10));
  for (const f of files) {
    const cfg = parseConfigText(readFileSync(join(FLOWS, f), 'utf8')) as { nodes: Array<{ type: string }> };
    if (!cfg.nodes.every((n) => SUPPORTED.has(n.type))) continue;
    it(`${f} validates`, () => expect(dk.validate(cfg)).toEqual([]));
  }
});

describe('third-party auth flows', () => {
  it('authenticate-third-party: token call, then Authorization on the service request', async () => {
    const r = await dk.load(flow('authenticate-third-party.yaml')).run({ method: 'GET', path: '/', query: 'api_key=k1', headers: { Host: 'gw' } });
    expect(r.serviceRequest!.headers.Authorization).toBe('Bearer tok-k1');
    const seen = api.received.at(-1)!;
    expect(seen.method).toBe('POST');
    expect(seen.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(seen.body).toBe('grant_type=client_credentials&client_id=my_client_id');
  });

  it('without api_key the header says none', async () => {
    const r = await dk.load(flow('authenticate-third-party.yaml')).run({ method: 'GET', path: '/' });
    expect(r.serviceRequest!.headers.Authorization).toBe('Bearer tok-none');
  });

  it('authenticate-third-party-with-dynamic-url: the url comes from a request header', async () => {
    const r = await dk.load(flow('authenticate-third-party-with-dynamic-url.yaml')).run({ method: 'GET', path: '/', query: 'api_key=k2', headers: { path: 'tenant-a' } });
    expect(r.serviceRequest!.headers.Authorization).toBe('Bearer tok-k2');
    expect(api.received.at(-1)!.url).toBe('/tenant-a/auth-token');
    expect(api.received.at(-1)!.body).toBe('grant_type=client_credentials');
  });

  it('authenticate-with-vault-secret: the api key comes from a vault entity', async () => {
    process.env.MY_TOKEN = 'vaulted-key';
    const cfg = flow('authenticate-with-vault-secret.yaml');
    // the flow names a vault entity "my-vault"; here an env resolver serves it
    const dkv = await engine({
      secrets: { resolve: (ref) => (ref === '{vault://my-vault/my-token}' ? process.env.MY_TOKEN! : (() => { throw new Error('unknown'); })()) },
    });
    const r = await dkv.load(cfg).run({ method: 'GET', path: '/' });
    expect(r.serviceRequest!.headers.Authorization).toBe('Bearer tok-vaulted-key');
    await dkv.close();
  });
});

describe('request shaping flows', () => {
  it('clear-headers: null removes a header on the exit (which does not wait for the call)', async () => {
    const r = await dk.load(flow('clear-headers.yaml')).run({ method: 'GET', path: '/' });
    expect(r.response.status).toBe(200);
    expect(r.response.headers['X-Add-Me']).toBe('added');
    expect(r.response.headers['X-Ignored']).toBeUndefined();
  });

  it('clear-headers, with the exit waiting for the call: null removes it from the call too', async () => {
    const cfg = flow('clear-headers.yaml') as { nodes: Array<Record<string, unknown>> };
    cfg.nodes[2].inputs = { headers: 'HEADERS', body: 'API.body' };
    const r = await dk.load(cfg).run({ method: 'GET', path: '/' });
    const sent = (bodyJson(r.response.body) as { headers: Record<string, string> }).headers;
    expect(sent['x-add-me']).toBe('added');
    expect('x-ignored' in sent).toBe(false);
  });

  it('manipulate-request-headers: merged static and prefixed request headers', async () => {
    const r = await dk.load(flow('manipulate-request-headers.yaml')).run({ method: 'GET', path: '/', headers: { 'X-Client': 'c' } });
    expect(r.response.status).toBe(200);
    const sent = api.received.at(-1)!.headers;
    expect(sent['x-api-header-one']).toBe('foo');
    expect(sent['x-api-header-two']).toBe('bar');
    expect(sent['x-request-x-client']).toBe('c');
    expect((bodyJson(r.response.body) as { headers: Record<string, string> }).headers['x-request-x-client']).toBe('c');
  });

  it('combine-two-apis-into-one-response', async () => {
    const r = await dk.load(flow('combine-two-apis-into-one-response.yaml')).run({ method: 'GET', path: '/' });
    expect(bodyJson(r.response.body)).toEqual({ author: 'Yours Truly', uuid: '6a0d8b4e-3a1f-4c2e-9d9b-1f2e3d4c5b6a' });
    expect(r.response.headers['Content-Type']).toBe('application/json');
  });
});

describe('routing flows', () => {
  it('route-host-by-credential sets target and scheme from the credential', async () => {
    const f = dk.load(flow('route-host-by-credential.yaml'));
    const a = await f.run({ method: 'GET', path: '/' }, { properties: new MemoryProperties(undefined, { 'kong.client.credential': { id: 'caller-a' } }) });
    expect(a.properties).toEqual({ 'kong.service.target': 'backend-a.example:443', 'kong.service.request.scheme': 'https' });
    const d = await f.run({ method: 'GET', path: '/' }, { properties: new MemoryProperties(undefined, { 'kong.client.credential': { id: 'someone-else' } }) });
    expect(d.properties['kong.service.target']).toBe('default.example:443');
    // no credential at all: `{...}[null]` is a jq error (as in jq 1.7.1; `//` does not catch errors)
    const none = await f.run({ method: 'GET', path: '/' });
    expect(none.response.status).toBe(500);
    expect(none.failure!.message).toBe('Cannot index object with null');
  });

  it('route-upstream-by-credential sets the upstream', async () => {
    const f = dk.load(flow('route-upstream-by-credential.yaml'));
    const b = await f.run({ method: 'GET', path: '/' }, { properties: new MemoryProperties(undefined, { 'kong.client.credential': { id: 'caller-b' } }) });
    expect(b.properties).toEqual({ 'kong.service.upstream': 'upstream-b' });
    const other = await f.run({ method: 'GET', path: '/' }, { properties: new MemoryProperties(undefined, { 'kong.client.credential': { id: 'x' } }) });
    expect(text(other.response.body)).toBe('');
    expect(other.properties).toEqual({ 'kong.service.upstream': 'upstream-default' });
  });
});
