/**
 * Kong's dynamic plugin ordering, as the page "Plugins" > "Dynamic plugin
 * ordering" (developer.konghq.com/gateway/entities/plugin/#dynamic-plugin-ordering)
 * describes it: `ordering.before.access` / `ordering.after.access` move a
 * plugin in the access phase; the other phases keep priority order.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { call, echoed, gateway, startUpstream, type Upstream } from './helpers.js';
import type { RunningGateway } from '../../host/gateway/index.js';

/** Plugins that record the order they run in: access in a request header, response in a response header. */
function tracePlugins(): string {
  const dir = mkdtempSync(join(tmpdir(), 'dk-ordering-'));
  for (const [name, priority] of [['tr-a', 1000], ['tr-b', 900], ['tr-c', 800]] as const) {
    writeFileSync(
      join(dir, `${name}.mjs`),
      `export const name = '${name}';
export const priority = ${priority};
export const version = '1.0.0';
export const schema = { name: '${name}', type: 'object', properties: {} };
export const needs = { responseBody: false };
export async function access(kong) { kong.serviceRequest.addHeader('X-Trace', '${name}'); }
export async function response(kong) {
  const v = kong.response.getHeader('x-resp-trace');
  kong.response.setHeader('X-Resp-Trace', v ? v + ',${name}' : '${name}');
}
`,
    );
  }
  return dir;
}

/** The access order the upstream saw (one X-Trace header per plugin, in order). */
function accessTrace(r: Awaited<ReturnType<typeof call>>): string[] {
  const raw = echoed(r).rawHeaders;
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) if (raw[i].toLowerCase() === 'x-trace') out.push(raw[i + 1]);
  return out;
}

/** A datakit flow that hands key-auth the key it needs: useful only when it runs first. */
const supplyKey = { nodes: [{ name: 'KEY', type: 'jq', output: 'service_request.headers', jq: '{ "apikey": "alice-key" }' }] };

let up: Upstream;
let gw: RunningGateway;
let pluginsDir: string;

function doc(extraRoutes: unknown[] = []): Record<string, unknown> {
  return {
    _format_version: '3.0',
    consumers: [{ username: 'alice', keyauth_credentials: [{ key: 'alice-key' }] }],
    services: [
      {
        name: 'svc',
        url: up.url,
        routes: [
          { name: 'static', paths: ['/static'], plugins: [{ name: 'key-auth' }, { name: 'datakit', config: supplyKey }] },
          {
            name: 'before',
            paths: ['/before'],
            plugins: [{ name: 'key-auth' }, { name: 'datakit', config: supplyKey, ordering: { before: { access: ['key-auth'] } } }],
          },
          {
            name: 'after',
            paths: ['/after'],
            plugins: [{ name: 'key-auth', ordering: { after: { access: ['datakit'] } } }, { name: 'datakit', config: supplyKey }],
          },
          { name: 'trace', paths: ['/trace'], plugins: [{ name: 'tr-a' }, { name: 'tr-b' }, { name: 'tr-c', ordering: { before: { access: ['tr-a'] } } }] },
          { name: 'trace-plain', paths: ['/trace-plain'], plugins: [{ name: 'tr-a' }, { name: 'tr-b' }, { name: 'tr-c' }] },
          // the constraint names a plugin this route does not run: ignored
          { name: 'absent', paths: ['/absent'], plugins: [{ name: 'tr-b' }, { name: 'tr-c', ordering: { before: { access: ['key-auth'] } } }] },
          ...extraRoutes,
        ],
      },
    ],
  };
}

beforeAll(async () => {
  up = await startUpstream('up');
  pluginsDir = tracePlugins();
  gw = await gateway(doc(), { pluginsDir });
});

afterAll(async () => {
  await gw?.close();
  await up?.close();
});

describe('Dynamic plugin ordering (developer.konghq.com/gateway/entities/plugin/#dynamic-plugin-ordering)', () => {
  it('static priority: key-auth (1250) runs before datakit (810), so a key the flow supplies comes too late', async () => {
    const r = await call(gw.proxyUrl, '/static');
    expect(r.status).toBe(401);
    expect(r.json.message).toBe('No API key found in request');
  });

  it('"Example with before token": datakit with ordering.before.access [key-auth] runs first and key-auth authenticates with its key', async () => {
    const r = await call(gw.proxyUrl, '/before');
    expect(r.status).toBe(200);
    expect(echoed(r).headers['x-consumer-username']).toBe('alice');
  });

  it('"Example with after token": key-auth with ordering.after.access [datakit] gives the same order', async () => {
    const r = await call(gw.proxyUrl, '/after');
    expect(r.status).toBe(200);
    expect(echoed(r).headers['x-consumer-username']).toBe('alice');
  });

  it('the access order is priority order moved only as the constraints need; the response phase keeps priority order', async () => {
    const plain = await call(gw.proxyUrl, '/trace-plain');
    expect(accessTrace(plain)).toEqual(['tr-a', 'tr-b', 'tr-c']);
    const r = await call(gw.proxyUrl, '/trace');
    expect(accessTrace(r)).toEqual(['tr-c', 'tr-a', 'tr-b']);
    // Kong: "ordering" applies only to access; header_filter and later run in static priority order
    expect(r.headers['x-resp-trace']).toBe('tr-a,tr-b,tr-c');
  });

  it('is deterministic: the same document gives the same order on every request and reload', async () => {
    const seen = new Set<string>();
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`${gw.adminUrl}/config`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(doc()) });
      expect(res.status).toBe(201);
      for (let j = 0; j < 3; j++) seen.add(accessTrace(await call(gw.proxyUrl, '/trace')).join(','));
    }
    expect([...seen]).toEqual(['tr-c,tr-a,tr-b']);
  });

  it('only the plugins of the same request count: a constraint on a plugin the route does not run is ignored', async () => {
    const r = await call(gw.proxyUrl, '/absent');
    expect(r.status).toBe(200);
    expect(accessTrace(r)).toEqual(['tr-b', 'tr-c']);
  });
});

describe('Dynamic plugin ordering: configuration errors', () => {
  async function load(routePlugins: unknown[]): Promise<{ status: number; body: any }> {
    const d = doc([{ name: 'bad', paths: ['/bad'], plugins: routePlugins }]);
    const res = await fetch(`${gw.adminUrl}/config`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(d) });
    return { status: res.status, body: await res.json() };
  }
  const badRoute = 'services[0].routes[6].plugins[0]';

  it('a phase other than access (Kong accepts only the access key) is refused, in Kong schema wording', async () => {
    const r = await load([{ name: 'tr-a', ordering: { before: { header_filter: ['tr-b'] } } }]);
    expect(r.status).toBe(400);
    expect(r.body.code).toBe(14);
    expect(r.body.fields[`${badRoute}.ordering.before`]).toBe('expected one of: access');
  });

  it('a list that is not an array, and an unknown key, are refused', async () => {
    let r = await load([{ name: 'tr-a', ordering: { after: { access: 'tr-b' } } }]);
    expect(r.status).toBe(400);
    expect(r.body.fields[`${badRoute}.ordering.after`]).toBe('expected an array');
    r = await load([{ name: 'tr-a', ordering: { first: true } }]);
    expect(r.body.fields[`${badRoute}.ordering.first`]).toBe('unknown field');
    r = await load([{ name: 'tr-a', ordering: 'early' }]);
    expect(r.body.fields[`${badRoute}.ordering`]).toBe('expected a record');
  });

  it('a cycle among the plugins of one route is refused at the plugin that closes it; the old configuration keeps serving', async () => {
    const r = await load([
      { name: 'tr-a', ordering: { after: { access: ['tr-b'] } } },
      { name: 'tr-b', ordering: { after: { access: ['tr-a'] } } },
    ]);
    expect(r.status).toBe(400);
    expect(r.body.code).toBe(14);
    const [path, message] = Object.entries(r.body.fields)[0] as [string, string];
    expect(path).toMatch(/^services\[0\]\.routes\[6\]\.plugins\[[01]\]\.ordering$/);
    expect(message).toMatch(/^dynamic ordering of plugins forms a cycle: (tr-a -> tr-b -> tr-a|tr-b -> tr-a -> tr-b)$/);
    expect((await call(gw.proxyUrl, '/before')).status).toBe(200);
    expect((await call(gw.proxyUrl, '/bad')).status).toBe(404);
  });

  it('the Admin API answers 400 schema violations for the same mistakes, including a cycle with an existing plugin', async () => {
    const post = (body: unknown) =>
      fetch(`${gw.adminUrl}/routes/trace-plain/plugins`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    let res = await post({ name: 'key-auth', ordering: { before: { rewrite: ['tr-a'] } } });
    expect(res.status).toBe(400);
    let body = (await res.json()) as any;
    expect(body).toMatchObject({ code: 2, name: 'schema violation', message: 'schema violation (ordering.before: expected one of: access)' });

    // tr-a (route) before tr-b is fine on its own...
    res = await fetch(`${gw.adminUrl}/plugins`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'key-auth', route: 'trace-plain', ordering: { after: { access: ['tr-c'] } } }),
    });
    expect(res.status).toBe(201);
    const keyAuth = (await res.json()) as any;
    // ...but tr-c after key-auth closes the loop key-auth -> ... -> tr-c -> key-auth
    const trc = ((await (await fetch(`${gw.adminUrl}/routes/trace-plain/plugins`)).json()) as any).data.find((p: any) => p.name === 'tr-c');
    res = await fetch(`${gw.adminUrl}/plugins/${trc.id}`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ordering: { after: { access: ['key-auth'] } } }),
    });
    expect(res.status).toBe(400);
    body = await res.json();
    expect(body.message).toMatch(/^schema violation \(ordering: dynamic ordering of plugins forms a cycle: /);
    expect(body.message).toContain('key-auth');
    expect((await fetch(`${gw.adminUrl}/plugins/${keyAuth.id}`, { method: 'DELETE' })).status).toBe(204);
  });

  it('consumer-scoped plugins cannot be reordered (Kong 3.8 to 3.13)', async () => {
    const res = await fetch(`${gw.adminUrl}/consumers/alice/plugins`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'tr-a', ordering: { before: { access: ['key-auth'] } } }),
    });
    expect(res.status).toBe(400);
    const body = (await res.json()) as any;
    expect(body.fields.ordering).toBe('dynamic ordering is not supported for plugins scoped to a consumer or consumer group');
  });
});
