/** Kong Admin API behaviours: multipart /config, check_hash, select_tags, pages, tag filters, schemas, tags, audit log, /status counters. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import http from 'node:http';
import net from 'node:net';
import pino from 'pino';
import { call, gateway, startUpstream, type Upstream } from './helpers.js';
import type { RunningGateway } from '../../host/gateway/index.js';

let up: Upstream;
let gw: RunningGateway;
const logs: Array<Record<string, unknown>> = [];
const TOKEN = 'admin-secret-token';
const auth = { 'kong-admin-token': TOKEN };
const admin = (path: string, o: Parameters<typeof call>[2] = {}) => call(gw.adminUrl, path, { ...o, headers: { ...auth, ...(o.headers ?? {}) } });

const yamlDoc = (svc: string) => `_format_version: "3.0"
services:
  - name: ${svc}
    url: ${up.url}
    routes:
      - name: ${svc}-r
        paths: [/${svc}]
`;

/** POST /config as `curl -F config=@kong.yaml` sends it */
async function postMultipart(yaml: string, query = ''): Promise<{ status: number; json: any }> {
  const form = new FormData();
  form.append('config', new Blob([yaml], { type: 'application/x-yaml' }), 'kong.yaml');
  const r = await fetch(`${gw.adminUrl}/config${query}`, { method: 'POST', body: form, headers: auth });
  const text = await r.text();
  return { status: r.status, json: text ? JSON.parse(text) : undefined };
}

beforeAll(async () => {
  up = await startUpstream('one');
  const logger = pino({ level: 'info' }, { write: (line: string) => void logs.push(JSON.parse(line)) });
  gw = await gateway({ _format_version: '3.0' }, { logger, adminToken: TOKEN });
});
afterAll(async () => {
  await gw.close();
  await up.close();
});

describe('Kong Admin API behaviours', () => {
  it('POST /config takes multipart form data (curl -F config=@kong.yaml) like a YAML body', async () => {
    const r = await postMultipart(yamlDoc('mp'));
    expect(r.status).toBe(201);
    expect(r.json.services).toEqual([expect.objectContaining({ name: 'mp' })]);
    expect((await call(gw.proxyUrl, '/mp')).status).toBe(200);
    // a text field works too
    const form = new FormData();
    form.append('config', yamlDoc('mp2'));
    const f = await fetch(`${gw.adminUrl}/config`, { method: 'POST', body: form, headers: auth });
    expect(f.status).toBe(201);
    expect((await admin('/services/mp2')).status).toBe(200);
    // entity writes take multipart fields as forms (curl -F name=... -F url=...)
    const svc = new FormData();
    svc.append('name', 'mp-form');
    svc.append('url', `${up.url}/x`);
    svc.append('tags[]', 'a');
    svc.append('tags[]', 'b');
    const created = await fetch(`${gw.adminUrl}/services`, { method: 'POST', body: svc, headers: auth });
    expect(created.status).toBe(201);
    expect(await created.json()).toMatchObject({ name: 'mp-form', port: up.port, path: '/x', tags: ['a', 'b'] });
    // bounded: one file, text fields of 128 KiB
    const two = new FormData();
    two.append('config', new Blob([yamlDoc('a')]), 'a.yaml');
    two.append('other', new Blob([yamlDoc('b')]), 'b.yaml');
    expect((await fetch(`${gw.adminUrl}/config`, { method: 'POST', body: two, headers: auth })).status).toBe(413);
    const big = new FormData();
    big.append('config', `_format_version: "3.0"\n#${'x'.repeat(200 * 1024)}\n`);
    expect((await fetch(`${gw.adminUrl}/config`, { method: 'POST', body: big, headers: auth })).status).toBe(413);
    expect((await admin('/services/mp-form')).status).toBe(200);
    // a bad document in a file part is reported like any other
    const bad = await postMultipart('_format_version: "3.0"\nservices: 3\n');
    expect(bad.status).toBe(400);
    expect(bad.json).toMatchObject({ code: 14, fields: { services: 'expected an array' } });
  });

  it('configuration_hash is a content hash; check_hash=1 answers 304 for the same configuration', async () => {
    const first = await postMultipart(yamlDoc('h1'));
    expect(first.status).toBe(201);
    const h1 = (await admin('/status')).json.configuration_hash;
    expect(h1).toMatch(/^[0-9a-f]{32}$/);
    expect(h1).not.toBe('00000000000000000000000000000000');

    const version = gw.core.version;
    const same = await postMultipart(yamlDoc('h1'), '?check_hash=1');
    expect(same.status).toBe(304);
    expect(gw.core.version).toBe(version);
    // the same content as JSON, keys in another order: the same hash
    const asJson = await admin('/config?check_hash=1', {
      method: 'POST',
      json: { services: [{ routes: [{ paths: ['/h1'], name: 'h1-r' }], url: up.url, name: 'h1' }], _format_version: '3.0' },
    });
    expect(asJson.status).toBe(304);
    // without check_hash it reloads, and the hash stays that of the content
    expect((await postMultipart(yamlDoc('h1'))).status).toBe(201);
    expect(gw.core.version).toBe(version + 1);
    expect((await admin('/status')).json.configuration_hash).toBe(h1);

    // another configuration loads, with another hash
    expect((await postMultipart(yamlDoc('h2'), '?check_hash=1')).status).toBe(201);
    const h2 = (await admin('/status')).json.configuration_hash;
    expect(h2).not.toBe(h1);
    // an Admin API change changes the hash too
    await admin('/consumers', { method: 'POST', json: { username: 'hash-changer' } });
    expect((await admin('/status')).json.configuration_hash).not.toBe(h2);
    const reload = logs.filter((l) => l.msg === 'configuration loaded');
    expect(reload.at(-1)).toMatchObject({ hash: h2, previous_hash: h1 });
  });

  it("_info.select_tags tags every entity of the document (decK's select_tags)", async () => {
    const doc = `_format_version: "3.0"
_info:
  select_tags: [team-a, prod]
services:
  - name: tagged
    url: ${up.url}
    tags: [own]
    routes:
      - name: tagged-r
        paths: [/tagged]
        plugins:
          - name: request-transformer
            config: { add: { headers: ["x-t:1"] } }
consumers:
  - username: tagged-c
    keyauth_credentials: [{ key: tagged-key }]
`;
    const r = await admin('/config', { method: 'POST', body: doc, headers: { 'content-type': 'application/yaml' } });
    expect(r.status).toBe(201);
    expect((await admin('/services/tagged')).json.tags).toEqual(['own', 'team-a', 'prod']);
    expect((await admin('/routes/tagged-r')).json.tags).toEqual(['team-a', 'prod']);
    expect((await admin('/plugins')).json.data[0].tags).toEqual(['team-a', 'prod']);
    expect((await admin('/consumers/tagged-c')).json.tags).toEqual(['team-a', 'prod']);
    expect((await admin('/consumers/tagged-c/key-auth')).json.data[0].tags).toEqual(['team-a', 'prod']);
    const bad = await admin('/config', { method: 'POST', json: { _format_version: '3.0', _info: { select_tags: 'x' } } });
    expect(bad.status).toBe(400);
    expect(bad.json.fields).toEqual({ '_info.select_tags': 'expected an array of strings' });
  });

  it('lists page with size and offset (next, offset) and filter by tags (a,b: both; a/b: either)', async () => {
    const services = Array.from({ length: 7 }, (_, i) => ({ name: `s${i}`, url: up.url, tags: [i % 2 ? 'odd' : 'even', ...(i < 3 ? ['low'] : [])] }));
    expect((await admin('/config', { method: 'POST', json: { _format_version: '3.0', services } })).status).toBe(201);

    const all = await admin('/services');
    expect(all.json.data).toHaveLength(7);
    expect(all.json.next).toBeNull();

    const names: string[] = [];
    let path: string | null = '/services?size=3';
    let pages = 0;
    while (path) {
      const p = await admin(path);
      expect(p.status).toBe(200);
      expect(p.json.data.length).toBeLessThanOrEqual(3);
      names.push(...p.json.data.map((s: { name: string }) => s.name));
      if (p.json.next) {
        expect(p.json.next).toMatch(/^\/services\?size=3&offset=/);
        expect(p.json.next).toContain(`offset=${p.json.offset}`);
      } else expect(p.json.offset).toBeUndefined();
      path = p.json.next;
      pages++;
    }
    expect(pages).toBe(3);
    expect(names).toEqual(services.map((s) => s.name));

    expect((await admin('/services?size=0')).json).toMatchObject({ code: 9, name: 'invalid size' });
    expect((await admin('/services?size=1001')).status).toBe(400);
    expect((await admin('/services?offset=!!')).json).toMatchObject({ code: 7, name: 'invalid offset' });

    const tagNames = async (q: string) => (await admin(`/services?tags=${q}`)).json.data.map((s: { name: string }) => s.name);
    expect(await tagNames('even,low')).toEqual(['s0', 's2']);
    expect(await tagNames('odd/low')).toEqual(['s0', 's1', 's2', 's3', 's5']);
    expect(await tagNames('odd')).toEqual(['s1', 's3', 's5']);
    expect((await admin('/services?tags=a,b/c')).status).toBe(400);
    const tp = await admin('/services?tags=even&size=2');
    expect(tp.json.data).toHaveLength(2);
    expect(tp.json.next).toMatch(/^\/services\?size=2&tags=even&offset=/);
    expect((await admin(tp.json.next)).json.data.map((s: { name: string }) => s.name)).toEqual(['s4', 's6']);
  });

  it('GET /schemas/{entity}, GET /tags and /tags/{tag}', async () => {
    const s = await admin('/schemas/services');
    expect(s.status).toBe(200);
    const fields = Object.assign({}, ...s.json.fields);
    expect(fields.id).toMatchObject({ type: 'string', uuid: true, auto: true });
    expect(fields.host).toMatchObject({ type: 'string', required: true });
    expect(fields.port).toMatchObject({ type: 'integer', default: 80, between: [0, 65535] });
    expect(fields.protocol.one_of).toEqual(['http', 'https']);
    expect(fields.tags).toMatchObject({ type: 'array', elements: { type: 'string' } });
    const routes = Object.assign({}, ...(await admin('/schemas/routes')).json.fields);
    expect(routes.service).toMatchObject({ type: 'foreign', reference: 'services' });
    for (const e of ['consumers', 'plugins', 'upstreams', 'targets', 'consumer_groups', 'vaults']) expect((await admin(`/schemas/${e}`)).status).toBe(200);
    expect((await admin('/schemas/nothing')).status).toBe(404);
    const valid = await admin('/schemas/services/validate', { method: 'POST', json: { name: 'never-stored', url: up.url } });
    expect(valid.json).toEqual({ message: 'schema validation successful' });
    expect((await admin('/services/never-stored')).status).toBe(404);
    const invalid = await admin('/schemas/routes/validate', { method: 'POST', json: { paths: ['x'] } });
    expect(invalid.status).toBe(400);
    expect(invalid.json).toMatchObject({ code: 2, fields: { paths: ['should start with: / (fixed path) or ~/ (regex path)'] } });
    // the plugin schema route is still there
    expect((await admin('/schemas/plugins/key-auth')).status).toBe(200);

    const tags = await admin('/tags');
    expect(tags.json.data).toEqual(expect.arrayContaining([expect.objectContaining({ entity_name: 'services', tag: 'odd' })]));
    const low = await admin('/tags/low');
    expect(low.json.data.map((r: { tag: string }) => r.tag)).toEqual(['low', 'low', 'low']);
    const ids = (await admin('/services?tags=low')).json.data.map((s: { id: string }) => s.id);
    expect(low.json.data.map((r: { entity_id: string }) => r.entity_id)).toEqual(ids);
    const paged = await admin('/tags/low?size=2');
    expect(paged.json.next).toMatch(/^\/tags\/low\?size=2&offset=/);
    expect((await admin('/tags/none')).json).toEqual({ data: [], next: null });
  });

  it('logs every Admin change (method, path, entity, id, remote, token), never bodies or keys', async () => {
    logs.length = 0;
    const c = await admin('/consumers', { method: 'POST', json: { username: 'audited' } });
    const k = await admin('/consumers/audited/key-auth', { method: 'POST', json: { key: 'very-secret-key' } });
    expect((await admin('/consumers/audited/key-auth/very-secret-key', { method: 'DELETE' })).status).toBe(204);
    expect((await admin('/consumers/audited', { method: 'DELETE' })).status).toBe(204);
    expect((await call(gw.adminUrl, '/consumers', { method: 'POST', json: { username: 'x' } })).status).toBe(401);
    const changes = logs.filter((l) => l.msg === 'admin change');
    expect(changes).toEqual([
      expect.objectContaining({ level: 30, method: 'POST', path: '/consumers', entity: 'consumers', entity_id: c.json.id, status: 201, remote: '127.0.0.1', token: true }),
      expect.objectContaining({ method: 'POST', path: '/consumers/audited/key-auth', entity: 'keyauth_credentials', entity_id: k.json.id, status: 201 }),
      expect.objectContaining({ method: 'DELETE', path: `/consumers/audited/key-auth/${k.json.id}`, entity: 'keyauth_credentials', entity_id: k.json.id, status: 204 }),
      expect.objectContaining({ method: 'DELETE', path: '/consumers/audited', entity: 'consumers', entity_id: c.json.id, status: 204 }),
      expect.objectContaining({ method: 'POST', path: '/consumers', status: 401, token: false }),
    ]);
    expect(JSON.stringify(logs)).not.toContain('very-secret-key');
    expect(JSON.stringify(logs)).not.toContain(TOKEN);
  });

  it('/status counts proxied requests and open connections', async () => {
    const before = (await admin('/status')).json.server;
    expect(Object.keys(before).sort()).toEqual(['connections_accepted', 'connections_active', 'connections_handled', 'total_requests']);
    // each on a connection of its own (no pool), closed after
    const fresh = (path: string) =>
      new Promise<void>((resolve, reject) => {
        http.get(`${gw.proxyUrl}${path}`, { agent: false }, (res) => res.resume().on('end', () => resolve())).on('error', reject);
      });
    for (const path of ['/nowhere', '/nowhere', '/nowhere', '/tagged']) await fresh(path);
    const after = (await admin('/status')).json.server;
    expect(after.total_requests).toBe(before.total_requests + 4);
    expect(after.connections_accepted).toBe(before.connections_accepted + 4);
    expect(after.connections_handled).toBe(after.connections_accepted);

    // open connections: two held open, counted until they close
    const sockets = await Promise.all([0, 1].map(() => new Promise<net.Socket>((resolve) => {
      const s = net.connect(Number(new URL(gw.proxyUrl).port), '127.0.0.1', () => resolve(s));
    })));
    await expect.poll(async () => (await admin('/status')).json.server.connections_active, { timeout: 2000 }).toBeGreaterThanOrEqual(after.connections_active + 2);
    for (const s of sockets) s.destroy();
  });
});
