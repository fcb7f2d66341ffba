// The examples/flows gallery: every flow runs against the gallery's own demo
// API (examples/flows/demo-api.mjs, on a free port), through the library the
// way `datakit run` drives it, and its real output is checked. The CLI runs
// some of them as a real process, `datakit validate` accepts all of them,
// and every node type the engine knows appears in a flow and in docs/flows.md.
import { spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Datakit, EnvSecretResolver, MemoryProperties, parseConfigText, type RunResult } from '../../host/index.js';
import { clearMemoryCache } from '../../host/capabilities/cache.js';
import { toRequestInfo, toUpstream, type RequestFile } from '../../host/cli/run.js';
import { buildHost, freePort, root, runCli } from '../helpers/cli.js';
import { memoryLogger, text } from '../helpers/engine.js';
// plain JavaScript, shipped for users: node examples/flows/demo-api.mjs
import { ACCESS_TOKEN, CATALOG_XML, JWKS, mintToken, startDemoApi } from '../../examples/flows/demo-api.mjs';

const GALLERY = resolve(root, 'examples/flows');
const DOCS = resolve(root, 'docs/flows.md');
/** the address every gallery flow uses for the demo API */
const DEMO_BASE = 'http://127.0.0.1:18090';
/** the secrets the README tells users to export */
const SECRETS = { DEMO_CLIENT_SECRET: 'gallery-secret', DEMO_JWT_SECRET: 'change-me-gallery-hmac' };

type DemoApi = Awaited<ReturnType<typeof startDemoApi>>;
type DemoRequest = { method: string; path: string; query: string; headers: Record<string, string>; body: string };

let api: DemoApi;
let dk: Datakit;

const flowFiles = readdirSync(GALLERY)
  .filter((f) => f.endsWith('.yaml'))
  .sort();

beforeAll(async () => {
  buildHost(); // the CLI tests run the compiled code
  api = await startDemoApi(0);
  dk = await Datakit.create({ logger: memoryLogger(), secrets: new EnvSecretResolver({ ...SECRETS }) });
  clearMemoryCache('gallery_profiles');
}, 150_000);

afterAll(async () => {
  await dk?.close();
  await api?.close();
});

/** A gallery flow's YAML with the demo API's address pointed at the test's server. */
function flowText(name: string): string {
  return readFileSync(join(GALLERY, `${name}.yaml`), 'utf8').replaceAll(DEMO_BASE, api.url);
}

function requestFile(name: string): RequestFile {
  return JSON.parse(readFileSync(join(GALLERY, `${name}.request.json`), 'utf8')) as RequestFile;
}

/** Runs a gallery flow as `datakit run` does: request file, canned upstream, preset properties. */
async function run(name: string, change: (r: RequestFile) => RequestFile = (r) => r, engine: Datakit = dk): Promise<RunResult> {
  const reqFile = change(requestFile(name));
  const request = toRequestInfo(reqFile);
  const flow = engine.load(flowText(name));
  try {
    return await flow.run(request, {
      properties: new MemoryProperties(request, reqFile.properties ?? {}),
      upstream: toUpstream(reqFile.upstream),
    });
  } finally {
    flow.close();
  }
}

const json = (b: Uint8Array | undefined) => JSON.parse(text(b)) as Record<string, unknown>;
/** demo API requests made since `from` */
const since = (from: number): DemoRequest[] => (api.requests as DemoRequest[]).slice(from);

function decodeJwt(token: string): { header: Record<string, unknown>; payload: Record<string, unknown>; signingInput: string; signature: string } {
  const [h, p, s] = token.split('.');
  return {
    header: JSON.parse(Buffer.from(h, 'base64url').toString('utf8')),
    payload: JSON.parse(Buffer.from(p, 'base64url').toString('utf8')),
    signingInput: `${h}.${p}`,
    signature: s,
  };
}

describe('the gallery', () => {
  it('has a request file for every flow, and 12 to 16 flows', () => {
    expect(flowFiles.length).toBeGreaterThanOrEqual(12);
    expect(flowFiles.length).toBeLessThanOrEqual(16);
    for (const f of flowFiles) expect(readdirSync(GALLERY)).toContain(f.replace(/\.yaml$/, '.request.json'));
  });

  it('every flow validates in the library, and points only at the demo API', () => {
    for (const f of flowFiles) {
      const src = readFileSync(join(GALLERY, f), 'utf8');
      expect(dk.validate(src), f).toEqual([]);
      for (const url of src.match(/https?:\/\/[^\s"'\\)]+/g) ?? []) expect(url.startsWith(DEMO_BASE), `${f}: ${url}`).toBe(true);
    }
  });

  it('the README lists every flow', () => {
    const readme = readFileSync(join(GALLERY, 'README.md'), 'utf8');
    for (const f of flowFiles) expect(readme, f).toContain(f);
  });
});

describe('hello-exit', () => {
  it('answers from the flow, without upstream or calls', async () => {
    const before = api.requests.length;
    const r = await run('hello-exit');
    expect(r.proxied).toBe(false);
    expect(r.response.status).toBe(200);
    expect(r.response.headers).toMatchObject({ 'X-Served-By': 'datakit-gallery', 'Cache-Control': 'no-store', 'Content-Type': 'application/json' });
    expect(json(r.response.body)).toEqual({ message: 'Hello from datakit-wasm', learn_more: 'docs/flows.md' });
    expect(api.requests.length).toBe(before);
  });
});

describe('third-party-auth', () => {
  it('fetches a token with the vault secret and sends it upstream', async () => {
    const before = api.requests.length;
    const r = await run('third-party-auth');
    expect(r.proxied).toBe(true);
    expect(r.serviceRequest!.headers).toEqual({ Accept: 'application/json', 'X-Client-Version': '2.4.0', Authorization: `Bearer ${ACCESS_TOKEN}` });
    expect(r.response.status).toBe(200);
    expect(json(r.response.body)).toEqual({ orders: [], note: 'canned upstream answer from the request file' });
    const [tokenCall] = since(before);
    expect(tokenCall.method).toBe('POST');
    expect(tokenCall.path).toBe('/oauth/token');
    expect(tokenCall.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(tokenCall.body).toBe('grant_type=client_credentials&client_id=gallery-app&client_secret=gallery-secret');
  });

  it('a wrong secret makes the token call fail: 500, nothing proxied', async () => {
    const wrong = await Datakit.create({ logger: memoryLogger(), secrets: new EnvSecretResolver({ DEMO_CLIENT_SECRET: 'nope' }) });
    try {
      const r = await run('third-party-auth', (x) => x, wrong);
      expect(r.proxied).toBe(false);
      expect(r.response.status).toBe(500);
      expect(json(r.response.body)).toMatchObject({ message: 'An unexpected error occurred' });
      expect(r.failure).toEqual({ message: 'non-2XX response code: 401', node: { index: 4, name: 'GET_TOKEN', type: 'call' } });
    } finally {
      await wrong.close();
    }
  });

  it('without the environment variable the vault fails, naming the variable but no secret', async () => {
    const bare = await Datakit.create({ logger: memoryLogger(), secrets: new EnvSecretResolver({}) });
    try {
      const r = await run('third-party-auth', (x) => x, bare);
      expect(r.response.status).toBe(500);
      expect(r.failure!.node).toEqual({ index: 0, name: 'vault', type: 'vault' });
      expect(r.failure!.message).toContain('environment variable DEMO_CLIENT_SECRET is not set');
    } finally {
      await bare.close();
    }
  });
});

describe('combine-two-apis', () => {
  it('merges the profile and the orders of the asked user', async () => {
    const r = await run('combine-two-apis');
    expect(r.proxied).toBe(false);
    expect(r.response.status).toBe(200);
    expect(r.response.headers['Content-Type']).toBe('application/json');
    expect(json(r.response.body)).toEqual({ user: 'Ada Lovelace', plan: 'gold', order_count: 2, open_orders: ['A-1001', 'A-1002'], total_spent: 54.5 });
  });

  it('another user, and no orders at all', async () => {
    const two = await run('combine-two-apis', (x) => ({ ...x, query: { user: '2' } }));
    expect(json(two.response.body)).toEqual({ user: 'Grace Hopper', plan: 'silver', order_count: 1, open_orders: [], total_spent: 99.99 });
    const three = await run('combine-two-apis', (x) => ({ ...x, query: { user: '3' } }));
    expect(json(three.response.body)).toEqual({ user: 'Alan Turing', plan: 'free', order_count: 0, open_orders: [], total_spent: 0 });
  });

  it('the two calls are in flight together (debug trace)', async () => {
    const cfg = parseConfigText(flowText('combine-two-apis')) as Record<string, unknown>;
    const flow = dk.load({ ...cfg, debug: true });
    const r = await flow.run({ method: 'GET', path: '/', query: 'user=1', headers: { 'X-DataKit-Debug-Trace': 'true' } });
    flow.close();
    const trace = json(r.response.body) as { status: string; events: Array<{ name: string; action: string }> };
    expect(trace.status).toBe('PLAN_COMPLETE');
    const at = (name: string, action: string) => trace.events.findIndex((e) => e.name === name && e.action === action);
    const firstResume = Math.min(at('PROFILE', 'resume'), at('ORDERS', 'resume'));
    expect(at('PROFILE', 'dispatch')).toBeGreaterThanOrEqual(0);
    expect(at('PROFILE', 'dispatch')).toBeLessThan(firstResume);
    expect(at('ORDERS', 'dispatch')).toBeLessThan(firstResume);
  });
});

describe('header-manipulation', () => {
  it('adds, copies and removes request headers; hides upstream headers in the response', async () => {
    const r = await run('header-manipulation');
    expect(r.serviceRequest!.headers).toEqual({
      Accept: 'application/json',
      'X-Client-Id': 'mobile-app-7',
      'X-Gateway': 'datakit-wasm',
      'X-Request-Source': 'gallery',
      'X-Consumer-Ref': 'mobile-app-7',
    });
    expect(r.response.status).toBe(200);
    expect(r.response.headers).toEqual({
      'Content-Type': 'application/json',
      'X-Upstream-Status': '200',
      'Strict-Transport-Security': 'max-age=31536000',
    });
    expect(json(r.response.body)).toEqual({ id: 7, name: 'Mobile user' });
  });

  it('a client without X-Client-Id is "anonymous"; the upstream status shows through', async () => {
    const r = await run('header-manipulation', (x) => ({ ...x, headers: { accept: '*/*' }, upstream: { ...x.upstream, status: 404 } }));
    expect(r.serviceRequest!.headers['X-Consumer-Ref']).toBe('anonymous');
    expect(r.response.status).toBe(404);
    expect(r.response.headers['X-Upstream-Status']).toBe('404');
  });
});

describe('cache-user-profile', () => {
  it('a miss calls the API and stores; the same key next time is a hit without a call', async () => {
    const before = api.requests.length;
    const miss = await run('cache-user-profile');
    expect(miss.response.status).toBe(200);
    expect(miss.response.headers['X-Cache']).toBe('MISS');
    const grace = { id: 2, name: 'Grace Hopper', email: 'grace@example.test', plan: 'silver' };
    expect(json(miss.response.body)).toEqual(grace);
    expect(since(before).map((q) => q.path)).toEqual(['/users/2']);

    const hit = await run('cache-user-profile');
    expect(hit.response.status).toBe(200);
    expect(hit.response.headers['X-Cache']).toBe('HIT');
    expect(json(hit.response.body)).toEqual(grace);
    expect(since(before).map((q) => q.path)).toEqual(['/users/2']);

    const other = await run('cache-user-profile', (x) => ({ ...x, query: { user: '3' } }));
    expect(other.response.headers['X-Cache']).toBe('MISS');
    expect(json(other.response.body)).toMatchObject({ name: 'Alan Turing' });
    expect(since(before).map((q) => q.path)).toEqual(['/users/2', '/users/3']);
  });

  it('an unknown user fails the call (404): nothing is cached', async () => {
    const r = await run('cache-user-profile', (x) => ({ ...x, query: { user: '99' } }));
    expect(r.response.status).toBe(500);
    expect(r.failure).toMatchObject({ message: 'non-2XX response code: 404', node: { name: 'FETCH', type: 'call' } });
  });
});

describe('xml-catalog-to-json', () => {
  it('serves the XML catalog as typed JSON, in-stock products only', async () => {
    const r = await run('xml-catalog-to-json');
    expect(r.response.status).toBe(200);
    expect(r.response.headers['Content-Type']).toBe('application/json');
    expect(json(r.response.body)).toEqual({
      updated: '2025-01-15',
      products: [
        { sku: 'KB-01', name: 'Mechanical keyboard', price: 89.9, currency: 'USD', stock: 12, tags: ['input', 'usb'] },
        { sku: 'MN-27', name: '27 inch monitor', price: 279, currency: 'USD', stock: 4, tags: ['display'] },
      ],
    });
    expect(CATALOG_XML).toContain('<catalog updated="2025-01-15">');
  });
});

describe('json-xml-legacy-upstream', () => {
  it('sends XML upstream and gives the client JSON', async () => {
    const r = await run('json-xml-legacy-upstream');
    const sent = r.serviceRequest!;
    expect(text(sent.body)).toBe(
      '<purchase-order id="PO-2025-0042"><customer>ada@example.test</customer>' +
        '<item sku="KB-01"><quantity>1</quantity></item><item sku="MS-07"><quantity>2</quantity></item>' +
        '<gift_wrap>false</gift_wrap></purchase-order>',
    );
    expect(sent.headers['Content-Type']).toBe('application/xml');
    expect(sent.headers['Content-Length']).toBe(String(sent.body.byteLength));
    expect(r.response.status).toBe(201);
    expect(r.response.headers['Content-Type']).toBe('application/json');
    expect(r.response.headers.Server).toBe('soap-bridge');
    expect(json(r.response.body)).toEqual({ '@status': 'accepted', 'order-id': 'PO-2025-0042', items: 3, eta: '2025-02-01', backorder: false });
  });
});

describe('sign-consumer-token', () => {
  it('signs the consumer into an HS256 token for the upstream', async () => {
    const now = Math.floor(Date.now() / 1000);
    const r = await run('sign-consumer-token');
    expect(r.proxied).toBe(true);
    const token = r.serviceRequest!.headers['X-Consumer-JWT'] as string;
    expect(r.serviceRequest!.headers.apikey).toBe('ada-key');
    const jwt = decodeJwt(token);
    expect(jwt.header).toEqual({ alg: 'HS256', typ: 'JWT', kid: 'gallery-hmac-1' });
    expect(jwt.signature).toBe(createHmac('sha256', SECRETS.DEMO_JWT_SECRET).update(jwt.signingInput).digest('base64url'));
    expect(jwt.payload).toMatchObject({
      sub: '6f1c2a9e-0d0b-4f51-9a3c-1d2e3f405162',
      preferred_username: 'ada',
      iss: 'datakit-gallery',
      aud: 'orders-service',
    });
    const { iat, exp } = jwt.payload as { iat: number; exp: number };
    expect(Math.abs(iat - now)).toBeLessThan(5);
    expect(exp - iat).toBe(300);
    expect(json(r.response.body)).toEqual({ orders: ['A-1001', 'A-1002'] });
  });

  it('no consumer: non_nil fails the flow instead of signing nothing', async () => {
    const r = await run('sign-consumer-token', (x) => ({ ...x, properties: {} }));
    expect(r.response.status).toBe(500);
    expect(r.failure).toEqual({ message: 'property kong.client.consumer is nil', node: { index: 1, name: 'CONSUMER', type: 'property' } });
  });
});

describe('verify-bearer-token', () => {
  it('a valid token: consumer set, identity headers upstream, token not forwarded', async () => {
    const r = await run('verify-bearer-token');
    expect(r.proxied).toBe(true);
    expect(r.serviceRequest!.headers).toEqual({ Accept: 'application/json', 'X-User': 'alice', 'X-Scopes': 'orders:read orders:write' });
    expect(r.properties).toEqual({ 'kong.client.consumer': { custom_id: 'alice', username: 'alice' } });
    expect(json(r.response.body)).toEqual({ orders: ['A-1001'] });
  });

  it('a fresh token from the demo API, sent with a lower-case header', async () => {
    const { token } = (await (await fetch(`${api.url}/token?sub=bob&scope=orders:read`)).json()) as { token: string };
    const r = await run('verify-bearer-token', (x) => ({ ...x, headers: { authorization: `Bearer ${token}` } }));
    expect(r.serviceRequest!.headers).toEqual({ 'X-User': 'bob', 'X-Scopes': 'orders:read' });
  });

  it('no token: 401 from the flow, no call', async () => {
    const before = api.requests.length;
    const r = await run('verify-bearer-token', (x) => ({ ...x, headers: { Accept: 'application/json' } }));
    expect(r.proxied).toBe(false);
    expect(r.response.status).toBe(401);
    expect(r.response.headers['WWW-Authenticate']).toBe('Bearer realm="datakit-gallery"');
    expect(json(r.response.body)).toEqual({ message: 'a bearer token is required' });
    expect(api.requests.length).toBe(before);
  });

  it('a tampered, an expired, a foreign-audience and an HS256-forged token all fail (debug: the reason)', async () => {
    const good = requestFile('verify-bearer-token').headers!.Authorization as string;
    const [h, p, s] = good.slice('Bearer '.length).split('.');
    const payload = JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>;
    const tampered = `${h}.${Buffer.from(JSON.stringify({ ...payload, sub: 'mallory' })).toString('base64url')}.${s}`;
    const expired = mintToken({ sub: 'alice' }, { expiresIn: 60, now: Math.floor(Date.now() / 1000) - 3600 });
    const otherAud = mintToken({ sub: 'alice', aud: 'someone-else' });
    // an HS256 token keyed with the public JWKS text must never pass (key confusion)
    const hsHeader = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT', kid: 'gallery-es256' })).toString('base64url');
    const hsInput = `${hsHeader}.${p}`;
    const forged = `${hsInput}.${createHmac('sha256', JSON.stringify(JWKS)).update(hsInput).digest('base64url')}`;
    const cases: Array<[string, string]> = [
      [tampered, 'jwt_verify: invalid signature'],
      [expired, 'jwt_verify: token expired'],
      [otherAud, 'jwt_verify: audience not allowed'],
      [forged, 'jwt_verify: algorithm HS256 is not allowed'],
    ];
    for (const [token, message] of cases) {
      const r = await run('verify-bearer-token', (x) => ({ ...x, headers: { Authorization: `Bearer ${token}` } }));
      expect(r.proxied, message).toBe(false);
      expect(r.response.status).toBe(500);
      expect(json(r.response.body)).toMatchObject({ message: 'node execution error', error: message, node: { name: 'VERIFY', type: 'jwt_verify' } });
    }
  });
});

describe('decode-token-greeting', () => {
  it('renders the token claims into a text answer', async () => {
    const r = await run('decode-token-greeting');
    expect(r.response.status).toBe(200);
    expect(r.response.headers['Content-Type']).toBe('text/plain');
    expect(text(r.response.body)).toBe(
      'Hello Alice Example!\nYou are signed in as "alice" by gallery-demo-idp.\nScopes: orders:read orders:write\n(token signed with ES256, key gallery-es256)\n',
    );
  });

  it('a token without scope says none', async () => {
    const token = mintToken({ sub: 'carol', name: 'Carol', scope: '' });
    const r = await run('decode-token-greeting', (x) => ({ ...x, headers: { 'x-id-token': token } }));
    expect(text(r.response.body)).toContain('Scopes: none\n');
  });
});

describe('route-by-tenant', () => {
  it('a known tenant routes to its backend over https and is shared with later plugins', async () => {
    const r = await run('route-by-tenant');
    expect(r.proxied).toBe(true);
    expect(r.properties).toEqual({
      'kong.service.target': 'globex.backend.internal:9443',
      'kong.service.request.scheme': 'https',
      'kong.ctx.shared.tenant': 'globex',
    });
  });

  it('an unknown tenant gets 403 and nothing is set', async () => {
    const r = await run('route-by-tenant', (x) => ({ ...x, headers: { 'x-tenant': 'Initech' } }));
    expect(r.response.status).toBe(403);
    expect(json(r.response.body)).toEqual({ message: 'unknown tenant', tenant: 'initech' });
    expect(r.properties).toEqual({});
  });
});

describe('price-in-currency', () => {
  it('rewrites the upstream price in the asked currency', async () => {
    const before = api.requests.length;
    const r = await run('price-in-currency');
    expect(r.response.status).toBe(200);
    expect(r.response.headers).toMatchObject({ 'X-Price-Currency': 'EUR', 'X-Price-Source': 'demo-api /rates', 'Content-Type': 'application/json' });
    expect(json(r.response.body)).toEqual({ sku: 'KB-01', name: 'Mechanical keyboard', price: { amount: 82.71, currency: 'EUR' } });
    const [rates] = since(before);
    expect(rates.path).toBe('/rates');
    expect(rates.query).toBe('?symbols=EUR');
  });

  it('GBP, and a currency without a rate fails in the response phase', async () => {
    const gbp = await run('price-in-currency', (x) => ({ ...x, query: { currency: 'gbp' } }));
    expect(json(gbp.response.body)).toMatchObject({ price: { amount: 71.02, currency: 'GBP' } });
    const bad = await run('price-in-currency', (x) => ({ ...x, query: { currency: 'xyz' } }));
    expect(bad.proxied).toBe(true);
    expect(bad.response.status).toBe(500);
    expect(bad.failure).toMatchObject({ message: 'no exchange rate for XYZ', node: { name: 'CONVERT' } });
  });
});

describe('validate-request-body', () => {
  it('an invalid body gets 400 with every problem', async () => {
    const r = await run('validate-request-body');
    expect(r.proxied).toBe(false);
    expect(r.response.status).toBe(400);
    expect(json(r.response.body)).toEqual({
      message: 'invalid sign-up request',
      problems: ['email: expected an address like name@example.test', 'age: expected a number of at least 18'],
    });
  });

  it('a valid body is proxied unchanged', async () => {
    const r = await run('validate-request-body', (x) => ({ ...x, body: { email: 'ada@example.test', age: 36 }, upstream: { status: 201, body: { id: 1 } } }));
    expect(r.proxied).toBe(true);
    expect(r.response.status).toBe(201);
    expect(JSON.parse(text(r.serviceRequest!.body))).toEqual({ email: 'ada@example.test', age: 36 });
  });

  it('a body that is no object', async () => {
    const r = await run('validate-request-body', (x) => ({ ...x, body: [1, 2] }));
    expect(json(r.response.body).problems).toEqual(['the body must be a JSON object']);
  });
});

describe('order-webhook', () => {
  it('renders the JSON message, posts it, answers 202', async () => {
    const before = api.requests.length;
    const r = await run('order-webhook');
    expect(r.response.status).toBe(202);
    const delivered = { channel: '#orders', text: 'Order A-1002 for Ada Lovelace is now shipped', customer_plan: 'gold', urgent: true };
    expect(json(r.response.body)).toEqual({ accepted: true, delivered });
    const calls = since(before);
    expect(calls.map((c) => `${c.method} ${c.path}`)).toEqual(['GET /users/1', 'POST /echo']);
    expect(calls[1].headers['content-type']).toBe('application/json');
    expect(JSON.parse(calls[1].body)).toEqual(delivered);
  });
});

describe('legacy-list-shape', () => {
  it('list-shaped inputs/outputs, $variables, two results feeding body and headers', async () => {
    const r = await run('legacy-list-shape');
    expect(r.response.status).toBe(200);
    expect(r.response.headers['X-Listing-Page']).toBe('3');
    expect(json(r.response.body)).toEqual({ method: 'GET', page: 3, per_page: 50, agent: 'gallery-cli/1.0' });
  });
});

// ------------------------------------------------------------- coverage

/** Node type names from assembly/types.ts: user types and implicit nodes. */
function engineNodeTypes(): { user: string[]; implicit: string[] } {
  const src = readFileSync(resolve(root, 'assembly/types.ts'), 'utf8');
  const user = [...src.matchAll(/if \(t == '([a-z_]+)'\) return NodeType\./g)].map((m) => m[1]);
  const implicitList = /IMPLICIT_NAMES: string\[\] = \[([^\]]*)\]/.exec(src)![1];
  const implicit = [...implicitList.matchAll(/'([a-z_]+)'/g)].map((m) => m[1]);
  return { user, implicit };
}

/** Every node name a connection label of the flow mentions. */
function referencedNodes(cfg: { nodes: Array<Record<string, unknown>> }): Set<string> {
  const out = new Set<string>();
  const label = (v: unknown) => {
    if (typeof v === 'string') out.add(v.split('.')[0].trim());
  };
  const each = (v: unknown) => {
    if (Array.isArray(v)) v.forEach((item) => (typeof item === 'string' ? label(item) : Object.values(item ?? {}).forEach(label)));
    else if (v && typeof v === 'object') Object.values(v).forEach(label);
  };
  for (const n of cfg.nodes) {
    label(n.input);
    label(n.output);
    each(n.inputs);
    each(n.outputs);
  }
  return out;
}

describe('coverage', () => {
  const types = engineNodeTypes();

  it('reads the node types from assembly/types.ts', () => {
    expect(types.user).toEqual(expect.arrayContaining(['call', 'jq', 'handlebars', 'exit', 'property', 'static', 'branch', 'cache']));
    expect(types.user.length).toBeGreaterThanOrEqual(13);
    expect(types.implicit).toEqual(['request', 'service_request', 'service_response', 'response', 'vault']);
  });

  it('every node type appears in at least one gallery flow', () => {
    const used = new Set<string>();
    const referenced = new Set<string>();
    for (const f of flowFiles) {
      const cfg = parseConfigText(readFileSync(join(GALLERY, f), 'utf8')) as { nodes: Array<Record<string, unknown>> };
      for (const n of cfg.nodes) used.add(n.type as string);
      for (const r of referencedNodes(cfg)) referenced.add(r);
    }
    for (const t of types.user) expect(used.has(t), `node type ${t}`).toBe(true);
    for (const t of types.implicit) expect(referenced.has(t), `implicit node ${t}`).toBe(true);
  });

  it('every node type is documented in docs/flows.md', () => {
    const doc = readFileSync(DOCS, 'utf8');
    for (const t of [...types.user, ...types.implicit]) expect(doc, t).toMatch(new RegExp(`^#+ .*\`${t}\``, 'm'));
  });
});

// ------------------------------------------------------------- the CLI

describe('the CLI on the gallery', () => {
  it('datakit validate accepts every gallery flow', async () => {
    for (const f of flowFiles) {
      const r = await runCli(['validate', join('examples/flows', f)]);
      expect(r.code, `${f}: ${r.stderr}`).toBe(0);
      expect(r.stdout).toBe(`examples/flows/${f}: ok\n`);
    }
  }, 120_000);

  it('datakit run: hello-exit exactly as shipped', async () => {
    const r = await runCli(['run', 'examples/flows/hello-exit.yaml', '--request', 'examples/flows/hello-exit.request.json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      status: 200,
      headers: { 'X-Served-By': 'datakit-gallery', 'Cache-Control': 'no-store', 'Content-Type': 'application/json', 'Content-Length': '66' },
      body: { message: 'Hello from datakit-wasm', learn_more: 'docs/flows.md' },
    });
  });

  it('datakit run: third-party-auth with the secret from the environment and a real token call', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dk-gallery-'));
    const file = join(dir, 'third-party-auth.yaml');
    writeFileSync(file, flowText('third-party-auth'));
    const args = ['run', file, '--request', 'examples/flows/third-party-auth.request.json'];
    const r = await runCli(args, undefined, { ...process.env, DEMO_CLIENT_SECRET: SECRETS.DEMO_CLIENT_SECRET });
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { status: number; service_request: { headers: Record<string, string> } };
    expect(out.status).toBe(200);
    expect(out.service_request.headers.Authorization).toBe(`Bearer ${ACCESS_TOKEN}`);

    const { DEMO_CLIENT_SECRET: _unset, ...env } = process.env;
    const missing = await runCli(args, undefined, env);
    expect(missing.code).toBe(1);
    expect(JSON.parse(missing.stdout).failure.message).toContain('environment variable DEMO_CLIENT_SECRET is not set');
  });

  it('the demo API runs standalone: node examples/flows/demo-api.mjs PORT', async () => {
    const port = await freePort();
    const child = spawn(process.execPath, ['examples/flows/demo-api.mjs', String(port)], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      await new Promise<void>((ok, fail) => {
        let out = '';
        child.stdout!.on('data', (d) => {
          out += d;
          if (out.includes(`demo API on http://127.0.0.1:${port}`)) ok();
        });
        child.once('exit', (code) => fail(new Error(`demo API exited with ${code}`)));
      });
      const res = await fetch(`http://127.0.0.1:${port}/users/1`);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ id: 1, name: 'Ada Lovelace', email: 'ada@example.test', plan: 'gold' });
    } finally {
      child.kill('SIGTERM');
    }
  });
});
