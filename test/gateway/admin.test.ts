import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { call, echoed, gateway, startUpstream, type Upstream } from './helpers.js';
import type { RunningGateway } from '../../host/gateway/index.js';

let up: Upstream;
let up2: Upstream;
let gw: RunningGateway;
const admin = (path: string, o: Parameters<typeof call>[2] = {}) => call(gw.adminUrl, path, o);

beforeAll(async () => {
  up = await startUpstream('one');
  up2 = await startUpstream('two');
  gw = await gateway({ _format_version: '3.0' });
});
afterAll(async () => {
  await gw.close();
  await up.close();
  await up2.close();
});

describe('Admin API', () => {
  it('GET / and /status', async () => {
    const root = await admin('/');
    expect(root.status).toBe(200);
    expect(root.json.version).toBe('3.11.0');
    expect(Object.keys(root.json.plugins.available_on_server)).toEqual(expect.arrayContaining(['key-auth', 'datakit', 'request-transformer']));
    expect(root.json.plugins.available_on_server['key-auth'].priority).toBe(1250);
    const st = await admin('/status');
    expect(st.status).toBe(200);
    expect(st.json.database.reachable).toBe(true);
  });

  it('services and routes: create, nested create, get by name, patch, list, delete; changes apply to the next request', async () => {
    const s = await admin('/services', { method: 'POST', json: { name: 'echo', url: `${up.url}/p` } });
    expect(s.status).toBe(201);
    expect(s.json).toMatchObject({ name: 'echo', protocol: 'http', host: '127.0.0.1', port: up.port, path: '/p', retries: 5, connect_timeout: 60000, read_timeout: 60000, write_timeout: 60000, enabled: true });
    expect(s.json.id).toMatch(/^[0-9a-f-]{36}$/);
    const r = await admin('/services/echo/routes', { method: 'POST', json: { name: 'r1', paths: ['/one'] } });
    expect(r.status).toBe(201);
    expect(r.json).toMatchObject({ name: 'r1', paths: ['/one'], strip_path: true, preserve_host: false, regex_priority: 0, protocols: ['http', 'https'], service: { id: s.json.id } });
    expect((await call(gw.proxyUrl, '/one/x')).status).toBe(200);
    expect(echoed(await call(gw.proxyUrl, '/one/x')).url).toBe('/p/x');

    const byName = await admin('/services/echo');
    expect(byName.json.id).toBe(s.json.id);
    const list = await admin('/services/echo/routes');
    expect(list.json).toEqual({ data: [expect.objectContaining({ name: 'r1' })], next: null });

    const p = await admin(`/services/${s.json.id}`, { method: 'PATCH', json: { url: up2.url } });
    expect(p.status).toBe(200);
    expect(p.json.port).toBe(up2.port);
    expect(echoed(await call(gw.proxyUrl, '/one/x')).upstream).toBe('two');

    const rp = await admin('/routes/r1', { method: 'PATCH', json: { paths: ['/uno'] } });
    expect(rp.json.paths).toEqual(['/uno']);
    expect((await call(gw.proxyUrl, '/one/x')).status).toBe(404);
    expect((await call(gw.proxyUrl, '/uno')).status).toBe(200);
    expect((await admin('/routes/r1/service')).json.id).toBe(s.json.id);

    // a service with routes cannot be deleted
    const blocked = await admin('/services/echo', { method: 'DELETE' });
    expect(blocked.status).toBe(400);
    expect((await admin('/routes/r1', { method: 'DELETE' })).status).toBe(204);
    expect((await admin('/services/echo', { method: 'DELETE' })).status).toBe(204);
    expect((await admin('/services/echo')).status).toBe(404);
  });

  it('PUT upserts by name', async () => {
    const a = await admin('/services/put-svc', { method: 'PUT', json: { url: up.url } });
    expect(a.status).toBe(200);
    expect(a.json.name).toBe('put-svc');
    const b = await admin('/services/put-svc', { method: 'PUT', json: { url: up2.url } });
    expect(b.json.id).toBe(a.json.id);
    expect(b.json.port).toBe(up2.port);
    await admin('/services/put-svc', { method: 'DELETE' });
  });

  it('400 schema violation, 404 not found, 409 unique violation, foreign keys', async () => {
    const bad = await admin('/services', { method: 'POST', json: { name: 'x', host: 'h', port: 99999, bogus: 1 } });
    expect(bad.status).toBe(400);
    expect(bad.json).toMatchObject({ code: 2, name: 'schema violation', fields: { port: 'value should be between 0 and 65535', bogus: 'unknown field' } });
    expect(bad.json.message).toMatch(/^2 schema violations \(/);
    const missing = await admin('/services', { method: 'POST', json: { name: 'nohost' } });
    expect(missing.json.fields).toEqual({ host: 'required field missing' });
    expect((await admin('/services/nope')).json).toEqual({ message: 'Not found' });
    expect((await admin('/services/nope')).status).toBe(404);
    expect((await admin('/nothing-here')).status).toBe(404);

    await admin('/services', { method: 'POST', json: { name: 'dup', url: up.url } });
    const dup = await admin('/services', { method: 'POST', json: { name: 'dup', url: up.url } });
    expect(dup.status).toBe(409);
    expect(dup.json).toMatchObject({ code: 5, name: 'unique constraint violation', fields: { name: 'dup' } });
    expect(dup.json.message).toBe(`UNIQUE violation detected on '{name="dup"}'`);

    const fk = await admin('/routes', { method: 'POST', json: { paths: ['/fk'], service: { id: '00000000-0000-4000-8000-000000000000' } } });
    expect(fk.status).toBe(400);
    expect(fk.json.code).toBe(3);

    const route = await admin('/routes', { method: 'POST', json: { name: 'noroute', service: { name: 'dup' } } });
    expect(route.status).toBe(400);
    expect(route.json.fields['@entity'][0]).toMatch(/must set one of 'methods', 'hosts', 'headers', 'paths'/);

    const badRegex = await admin('/routes', { method: 'POST', json: { paths: ['~/(['] } });
    expect(badRegex.status).toBe(400);
    expect(badRegex.json.fields.paths[0]).toMatch(/invalid regex/);

    const badJson = await admin('/services', { method: 'POST', body: '{not json', headers: { 'content-type': 'application/json' } });
    expect(badJson.status).toBe(400);
    await admin('/services/dup', { method: 'DELETE' });
  });

  it('consumers, key-auth credentials, consumer groups and plugins (nested forms)', async () => {
    const c = await admin('/consumers', { method: 'POST', json: { username: 'alice', custom_id: 'a-1' } });
    expect(c.status).toBe(201);
    const k = await admin('/consumers/alice/key-auth', { method: 'POST', json: { key: 'alice-key' } });
    expect(k.status).toBe(201);
    expect(k.json).toMatchObject({ key: 'alice-key', consumer: { id: c.json.id } });
    const gen = await admin('/consumers/alice/key-auth', { method: 'POST', json: {} });
    expect(gen.json.key).toMatch(/^[0-9a-f]{32}$/);
    expect((await admin('/consumers/alice/key-auth')).json.data).toHaveLength(2);
    expect((await admin(`/consumers/alice/key-auth/${gen.json.id}`, { method: 'DELETE' })).status).toBe(204);
    expect((await admin('/key-auths')).json.data).toHaveLength(1);
    const dupKey = await admin('/consumers/alice/key-auth', { method: 'POST', json: { key: 'alice-key' } });
    expect(dupKey.status).toBe(409);

    const g = await admin('/consumer_groups', { method: 'POST', json: { name: 'gold' } });
    expect(g.status).toBe(201);
    const m = await admin('/consumer_groups/gold/consumers', { method: 'POST', json: { consumer: 'alice' } });
    expect(m.status).toBe(201);
    expect((await admin('/consumers/alice/consumer_groups')).json.data[0].name).toBe('gold');

    const gp = await admin('/consumer_groups/gold/plugins', { method: 'POST', json: { name: 'request-transformer', config: { add: { headers: ['x-gold:1'] } } } });
    expect(gp.status).toBe(201);
    expect(gp.json).toMatchObject({ name: 'request-transformer', consumer_group: { id: g.json.id }, enabled: true });
    expect(gp.json.config.remove).toEqual({ headers: [], querystring: [], body: [] });
    const cp = await admin('/consumers/alice/plugins', { method: 'POST', json: { name: 'request-transformer', config: {} } });
    expect(cp.status).toBe(201);
    expect((await admin('/consumers/alice/plugins')).json.data).toHaveLength(1);

    // key-auth cannot be scoped to a consumer
    const ka = await admin('/consumers/alice/plugins', { method: 'POST', json: { name: 'key-auth' } });
    expect(ka.status).toBe(400);
    // unknown plugin and bad config
    const unknown = await admin('/plugins', { method: 'POST', json: { name: 'no-such-plugin' } });
    expect(unknown.status).toBe(400);
    expect(unknown.json.fields.name).toMatch(/not enabled/);
    const badCfg = await admin('/plugins', { method: 'POST', json: { name: 'key-auth', config: { key_names: 'apikey', nope: true } } });
    expect(badCfg.status).toBe(400);
    expect(badCfg.json.fields.config).toMatchObject({ key_names: 'expected an array', nope: 'unknown field' });

    // deleting the consumer cascades to credentials, plugins and memberships
    expect((await admin('/consumers/alice', { method: 'DELETE' })).status).toBe(204);
    expect((await admin('/key-auths')).json.data).toHaveLength(0);
    expect((await admin('/consumer_groups/gold/consumers')).json.data).toHaveLength(0);
    await admin('/consumer_groups/gold', { method: 'DELETE' });
    expect((await admin('/plugins')).json.data).toHaveLength(0);
  });

  it('upstreams and targets: weighted round robin', async () => {
    const u = await admin('/upstreams', { method: 'POST', json: { name: 'pool.internal' } });
    expect(u.status).toBe(201);
    expect(u.json.algorithm).toBe('round-robin');
    const t1 = await admin('/upstreams/pool.internal/targets', { method: 'POST', json: { target: `127.0.0.1:${up.port}`, weight: 200 } });
    expect(t1.status).toBe(201);
    expect(t1.json).toMatchObject({ weight: 200, upstream: { id: u.json.id } });
    await admin('/upstreams/pool.internal/targets', { method: 'POST', json: { target: `127.0.0.1:${up2.port}`, weight: 100 } });
    expect((await admin('/upstreams/pool.internal/targets')).json.data).toHaveLength(2);
    await admin('/services', { method: 'POST', json: { name: 'balanced', host: 'pool.internal', routes: undefined } });
    await admin('/services/balanced/routes', { method: 'POST', json: { paths: ['/lb'] } });
    const counts: Record<string, number> = {};
    for (let i = 0; i < 30; i++) {
      const r = await call(gw.proxyUrl, '/lb');
      counts[echoed(r).upstream] = (counts[echoed(r).upstream] ?? 0) + 1;
      if (i === 0) expect(echoed(r).headers.host).toBe('pool.internal');
    }
    expect(counts).toEqual({ one: 20, two: 10 });
    expect((await admin(`/upstreams/pool.internal/targets/${t1.json.id}`, { method: 'DELETE' })).status).toBe(204);
    for (let i = 0; i < 3; i++) expect(echoed(await call(gw.proxyUrl, '/lb')).upstream).toBe('two');
  });

  it('vaults CRUD; plugin schemas', async () => {
    const v = await admin('/vaults', { method: 'POST', json: { name: 'env', prefix: 'my-env', config: { prefix: 'APP_' } } });
    expect(v.status).toBe(201);
    expect((await admin('/vaults/my-env')).json.config).toEqual({ prefix: 'APP_' });
    const bad = await admin('/vaults', { method: 'POST', json: { name: 'hcv', prefix: 'x1' } });
    expect(bad.status).toBe(400);
    expect((await admin('/vaults/my-env', { method: 'DELETE' })).status).toBe(204);

    const sch = await admin('/schemas/plugins/key-auth');
    expect(sch.status).toBe(200);
    expect(sch.json.config.properties.key_names.default).toEqual(['apikey']);
    expect((await admin('/schemas/plugins/request-transformer')).status).toBe(200);
    expect((await admin('/schemas/plugins/nope')).status).toBe(404);
  });
});

describe('POST /config and GET /config', () => {
  it('loads a document atomically, exports it, and keeps the old config when a reload is rejected', async () => {
    const doc = {
      _format_version: '3.0',
      services: [{ name: 'decl', url: up.url, routes: [{ name: 'decl-r', paths: ['/decl'] }] }],
      consumers: [{ username: 'bob', keyauth_credentials: [{ key: 'bob-key' }] }],
    };
    const r = await admin('/config', { method: 'POST', json: doc });
    expect(r.status).toBe(201);
    expect((await call(gw.proxyUrl, '/decl')).status).toBe(200);

    const bad = {
      _format_version: '3.0',
      services: [{ name: 'decl2', url: up.url, routes: [{ name: 'ok', paths: ['/zzz'] }, { name: 'bad', paths: ['nope'] }] }],
      routes: [{ name: 'dangling', paths: ['/d'], service: 'missing-service' }],
      plugins: [{ name: 'key-auth', route: 'nope' }],
      bogus: true,
    };
    const rej = await admin('/config', { method: 'POST', json: bad });
    expect(rej.status).toBe(400);
    expect(rej.json.code).toBe(14);
    expect(rej.json.name).toBe('invalid declarative configuration');
    const paths = rej.json.flattened_errors.map((e: { path: string }) => e.path);
    expect(paths).toEqual(expect.arrayContaining(['bogus', 'services[0].routes[1].paths', 'routes[0]', 'plugins[0]']));
    // old config still serves, new one did not partially apply
    expect((await call(gw.proxyUrl, '/decl')).status).toBe(200);
    expect((await call(gw.proxyUrl, '/zzz')).status).toBe(404);

    const dupNames = await admin('/config', {
      method: 'POST',
      body: '_format_version: "3.0"\nservices:\n  - name: s\n    url: http://127.0.0.1:1\n  - name: s\n    url: http://127.0.0.1:2\n',
      headers: { 'content-type': 'application/yaml' },
    });
    expect(dupNames.status).toBe(400);
    expect(dupNames.json.flattened_errors[0].path).toBe('services[1]');

    const malformed = await admin('/config', { method: 'POST', body: 'services: [\n  - {', headers: { 'content-type': 'text/yaml' } });
    expect(malformed.status).toBe(400);
    expect(malformed.json.message).toMatch(/failed parsing/);

    const exp = await admin('/config?format=json');
    expect(exp.json.services[0]).toMatchObject({ name: 'decl' });
    expect(exp.json.consumers[0].keyauth_credentials[0].key).toBe('bob-key');
    const yaml = await admin('/config');
    expect(yaml.json.config).toMatch(/_format_version: "3.0"/);
    // round trip: exporting and loading the export is stable
    const again = await admin('/config', { method: 'POST', json: exp.json });
    expect(again.status).toBe(201);
    expect((await admin('/config?format=json')).json).toEqual(exp.json);
  });
});
