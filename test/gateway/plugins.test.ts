import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { call, echoed, gateway, startUpstream, type Upstream } from './helpers.js';
import type { RunningGateway } from '../../host/gateway/index.js';

const fixtures = fileURLToPath(new URL('../fixtures/gateway/', import.meta.url));
let up: Upstream;
let gw: RunningGateway;
const env: NodeJS.ProcessEnv = {
  APP_BACKEND_TOKEN: 'tok-123',
  SHARED_SECRET: 's3cr3t-value',
  APP_JSONSECRET: JSON.stringify({ user: 'svc-user', pass: 'svc-pass' }),
  ROTATING: 'v1',
};

beforeAll(async () => {
  up = await startUpstream('up');
  gw = await gateway(
    {
      _format_version: '3.0',
      vaults: [{ name: 'env', prefix: 'my-env', config: { prefix: 'APP_' } }],
      consumers: [
        { username: 'alice', keyauth_credentials: [{ key: 'alice-key' }], groups: [{ name: 'gold' }] },
        { username: 'bob', custom_id: 'b-7', keyauth_credentials: [{ key: 'bob-key' }] },
        { username: 'carol', keyauth_credentials: [{ key: 'carol-key' }] },
        { username: 'anon' },
      ],
      consumer_groups: [{ name: 'gold' }],
      services: [
        {
          name: 'svc',
          url: up.url,
          routes: [
            { name: 'ka', paths: ['/ka'], plugins: [{ name: 'key-auth', config: { hide_credentials: true } }] },
            { name: 'ka-anon', paths: ['/anon'], plugins: [{ name: 'key-auth', config: { anonymous: 'anon' } }] },
            { name: 'ka-body', paths: ['/kabody'], plugins: [{ name: 'key-auth', config: { key_in_body: true, key_in_header: false, key_in_query: false } }] },
            {
              name: 'rt',
              paths: ['/rt'],
              plugins: [
                {
                  name: 'request-transformer',
                  config: {
                    remove: { headers: ['x-remove'], querystring: ['drop'], body: ['secret'] },
                    rename: { headers: ['x-old:x-new'], querystring: ['old:new'], body: ['a:b'] },
                    replace: { headers: ['x-replace:replaced', 'x-absent:never'], querystring: ['q:replaced'], body: ['r:replaced'] },
                    add: { headers: ['x-new:not-added', 'x-added:yes'], querystring: ['added:1'], body: ['added:yes'] },
                    append: { headers: ['x-multi:two'], querystring: ['m:2'], body: ['list:x'] },
                  },
                },
              ],
            },
            {
              name: 'shared-secret',
              paths: ['/shared'],
              plugins: [
                {
                  name: 'request-transformer',
                  config: {
                    add: {
                      headers: [
                        'Authorization:Bearer {vault://my-env/backend-token}',
                        'X-Shared:{vault://env/shared-secret}',
                        'X-Json-User:{vault://my-env/jsonsecret/user}',
                        'X-Rotating:{vault://env/rotating}',
                      ],
                    },
                  },
                },
              ],
            },
            { name: 'stamp', paths: ['/stamp'], plugins: [{ name: 'header-stamp', config: { value: 'hello' } }, { name: 'deny' }] },
          ],
        },
        {
          name: 'prec-svc',
          url: up.url,
          routes: [
            { name: 'prec', paths: ['/prec'], plugins: [{ name: 'key-auth', config: { anonymous: 'anon' } }] },
            { name: 'prec-other', paths: ['/prec-other'], plugins: [{ name: 'key-auth', config: { anonymous: 'anon' } }] },
          ],
        },
      ],
      plugins: [
        { name: 'header-stamp', config: { header: 'X-Prec', value: 'global' } },
        { name: 'header-stamp', service: 'prec-svc', config: { header: 'X-Prec', value: 'service' } },
        { name: 'header-stamp', route: 'prec', config: { header: 'X-Prec', value: 'route' } },
        { name: 'header-stamp', consumer_group: 'gold', config: { header: 'X-Prec', value: 'group' } },
        { name: 'header-stamp', consumer: 'bob', config: { header: 'X-Prec', value: 'consumer' } },
        { name: 'header-stamp', consumer: 'carol', route: 'prec', config: { header: 'X-Prec', value: 'consumer+route' } },
      ],
    },
    { pluginsDir: `${fixtures}plugins`, env, secretTtlMs: 100 },
  );
});
afterAll(async () => {
  await gw.close();
  await up.close();
});

describe('key-auth', () => {
  it('401 without a key, 401 with a wrong key (JSON with request_id)', async () => {
    const none = await call(gw.proxyUrl, '/ka');
    expect(none.status).toBe(401);
    expect(none.json).toEqual({ message: 'No API key found in request', request_id: none.headers['x-datakit-request-id'] });
    expect(none.headers['www-authenticate']).toBe('Key');
    const wrong = await call(gw.proxyUrl, '/ka', { headers: { apikey: 'nope' } });
    expect(wrong.status).toBe(401);
    expect(wrong.json.message).toBe('Unauthorized');
    expect(up.seen.some((s) => s.url.startsWith('/ka'))).toBe(false);
  });

  it('header or query key authenticates; hide_credentials removes it; consumer headers are set', async () => {
    const h = echoed(await call(gw.proxyUrl, '/ka', { headers: { apikey: 'alice-key' } }));
    expect(h.headers['apikey']).toBeUndefined();
    expect(h.headers['x-consumer-username']).toBe('alice');
    expect(h.headers['x-consumer-groups']).toBe('gold');
    const q = echoed(await call(gw.proxyUrl, '/ka?apikey=bob-key&keep=1'));
    expect(q.url).toBe('/?keep=1');
    expect(q.headers['x-consumer-custom-id']).toBe('b-7');
  });

  it('anonymous consumer when no key; key in body', async () => {
    const a = echoed(await call(gw.proxyUrl, '/anon'));
    expect(a.headers['x-consumer-username']).toBe('anon');
    expect(a.headers['x-anonymous-consumer']).toBe('true');
    const b = await call(gw.proxyUrl, '/kabody', { method: 'POST', json: { apikey: 'alice-key', x: 1 } });
    expect(b.status).toBe(200);
    expect(echoed(b).headers['x-consumer-username']).toBe('alice');
    expect(JSON.parse(echoed(b).body)).toEqual({ apikey: 'alice-key', x: 1 });
    const f = await call(gw.proxyUrl, '/kabody', { method: 'POST', body: 'apikey=nope', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(f.status).toBe(401);
  });
});

describe('request-transformer', () => {
  it("applies remove, rename, replace, add, append in Kong's order to headers and query", async () => {
    const r = echoed(
      await call(gw.proxyUrl, '/rt?drop=1&old=o&q=orig&m=1', {
        headers: { 'x-remove': '1', 'x-old': 'moved', 'x-replace': 'orig', 'x-multi': 'one' },
      }),
    );
    expect(r.headers['x-remove']).toBeUndefined();
    expect(r.headers['x-old']).toBeUndefined();
    expect(r.headers['x-new']).toBe('moved'); // renamed first, so add does not override
    expect(r.headers['x-replace']).toBe('replaced');
    expect(r.headers['x-absent']).toBeUndefined();
    expect(r.headers['x-added']).toBe('yes');
    expect(r.headers['x-multi']).toBe('one, two');
    const u = new URL(r.url, 'http://x');
    expect(u.searchParams.get('drop')).toBeNull();
    expect(u.searchParams.get('new')).toBe('o');
    expect(u.searchParams.get('q')).toBe('replaced');
    expect(u.searchParams.get('added')).toBe('1');
    expect(u.searchParams.getAll('m')).toEqual(['1', '2']);
  });

  it('transforms JSON and form bodies and recomputes Content-Length', async () => {
    const j = echoed(await call(gw.proxyUrl, '/rt', { method: 'POST', json: { secret: 'x', a: 1, r: 'orig', keep: true } }));
    expect(JSON.parse(j.body)).toEqual({ b: 1, r: 'replaced', keep: true, added: 'yes', list: 'x' });
    expect(Number(j.headers['content-length'])).toBe(Buffer.byteLength(j.body));
    const f = echoed(
      await call(gw.proxyUrl, '/rt', { method: 'POST', body: 'secret=x&a=1&list=w', headers: { 'content-type': 'application/x-www-form-urlencoded' } }),
    );
    expect(Object.fromEntries(new URLSearchParams(f.body))).toMatchObject({ b: '1', added: 'yes' });
    expect(new URLSearchParams(f.body).getAll('list')).toEqual(['w', 'x']);
  });

  it('seed 004: shared secret injected from vault references (entity prefix, env, JSON key)', async () => {
    const r = echoed(await call(gw.proxyUrl, '/shared'));
    expect(r.headers['authorization']).toBe('Bearer tok-123');
    expect(r.headers['x-shared']).toBe('s3cr3t-value');
    expect(r.headers['x-json-user']).toBe('svc-user');
    // Admin API shows the references, never the values
    const plugins = await call(gw.adminUrl, '/routes/shared-secret/plugins');
    const text = JSON.stringify(plugins.json);
    expect(text).toContain('{vault://my-env/backend-token}');
    expect(text).not.toContain('tok-123');
    expect((await call(gw.adminUrl, '/config')).text).not.toContain('s3cr3t-value');
  });

  it('re-resolves secrets after their TTL', async () => {
    expect(echoed(await call(gw.proxyUrl, '/shared')).headers['x-rotating']).toBe('v1');
    env.ROTATING = 'v2';
    await new Promise((r) => setTimeout(r, 150));
    expect(echoed(await call(gw.proxyUrl, '/shared')).headers['x-rotating']).toBe('v2');
  });
});

describe('secrets manager', () => {
  it('resolves the trailing-slash form and masks resolved values', async () => {
    const s = gw.core.secrets;
    const e2 = { 'PG_USERNAME': 'whole' };
    const { SecretManager } = await import('../../host/secrets/manager.js');
    const m = new SecretManager({ env: e2 });
    expect(m.resolve('{vault://env/pg-username/}')).toBe('whole');
    expect(() => m.resolve('{vault://nope/x}')).toThrow(/not configured/);
    expect(s.mask('token is tok-123!')).toBe('token is ********!');
  });
});

describe('custom plugins', () => {
  it('runs access and response handlers with the PDK; exits stop the chain', async () => {
    const r = await call(gw.proxyUrl, '/stamp');
    expect(echoed(r).headers['x-stamp']).toBe('hello');
    expect(r.headers['x-stamped']).toBe('hello');
    const w = await call(gw.proxyUrl, '/stamp/inner?wrap');
    expect(w.json).toEqual({ wrapped: '/inner?wrap' });
    expect(Number(w.headers['content-length'])).toBe(w.text.length);
    const d = await call(gw.proxyUrl, '/stamp', { headers: { 'x-deny': 'yes' } });
    expect(d.status).toBe(403);
    expect(d.json.message).toBe('denied by plugin');
  });

  it('validates configs against the JSON schema; GET /schemas/plugins/{name}', async () => {
    const bad = await call(gw.adminUrl, '/plugins', { method: 'POST', json: { name: 'header-stamp', config: { header: 5 } } });
    expect(bad.status).toBe(400);
    expect(bad.json.fields.config).toMatchObject({ value: 'required field missing', header: 'expected a string' });
    const s = await call(gw.adminUrl, '/schemas/plugins/header-stamp');
    expect(s.json.config.required).toEqual(['value']);
    expect((await call(gw.adminUrl, '/')).json.plugins.available_on_server['header-stamp']).toEqual({ version: '1.0.0', priority: 900 });
  });

  it('rejects a module whose name differs from its schema, and a broken module', async () => {
    await expect(gateway({ _format_version: '3.0' }, { pluginsDir: `${fixtures}bad-name` })).rejects.toThrow(/schema's name \("something-else"\) must equal the plugin's name \("mismatch"\)/);
    await expect(gateway({ _format_version: '3.0' }, { pluginsDir: `${fixtures}bad-syntax` })).rejects.toThrow(/custom plugin .*broken\.js: failed to load/);
  });
});

describe('plugin precedence (Kong order)', () => {
  const prec = async (path: string, key?: string) =>
    echoed(await call(gw.proxyUrl, path, { headers: key ? { apikey: key } : {} })).headers['x-prec'];
  it('consumer+route > consumer > consumer group > route > service > global', async () => {
    expect(await prec('/prec', 'carol-key')).toBe('consumer+route');
    expect(await prec('/prec-other', 'carol-key')).toBe('service');
    expect(await prec('/prec', 'bob-key')).toBe('consumer');
    expect(await prec('/prec', 'alice-key')).toBe('group');
    expect(await prec('/prec')).toBe('route');
    expect(await prec('/prec-other')).toBe('service');
    expect(await prec('/ka', 'bob-key')).toBe('consumer');
    expect(await prec('/rt')).toBe('global');
  });
});
