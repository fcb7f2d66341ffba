/**
 * DB-less mode (a declarative config, no database): Admin API entity writes
 * answer Kong's 405 `operation unsupported`; reads and POST /config keep
 * working; `adminWrites: 'memory'` (--admin-writes memory) keeps today's
 * in-memory writes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { call, gateway } from './helpers.js';
import { buildHost, exited, freePort, serve, waitReady } from '../helpers/cli.js';
import type { RunningGateway } from '../../host/gateway/index.js';

const CONFIG = {
  _format_version: '3.0',
  services: [{ name: 'up', url: 'http://127.0.0.1:9', routes: [{ name: 'r1', paths: ['/r1'] }] }],
  consumers: [{ username: 'alice', keyauth_credentials: [{ key: 'k1' }] }],
  consumer_groups: [{ name: 'gold' }],
  upstreams: [{ name: 'u1', targets: [{ target: '127.0.0.1:9' }] }],
  plugins: [{ name: 'key-auth', route: 'r1' }],
};

const refusal = (message: string) => ({ code: 12, name: 'operation unsupported', message });

let gw: RunningGateway;
let ids: { service: string; route: string; consumer: string; plugin: string };

beforeAll(async () => {
  gw = await gateway(CONFIG, { adminWrites: 'refuse' });
  const get = async (path: string) => (await call(gw.adminUrl, path)).json;
  ids = {
    service: (await get('/services/up')).id,
    route: (await get('/routes/r1')).id,
    consumer: (await get('/consumers/alice')).id,
    plugin: (await get('/plugins')).data[0].id,
  };
});
afterAll(async () => {
  await gw.close();
});

describe('DB-less Admin API: entity writes are refused as Kong refuses them', () => {
  it.each([
    ['POST', '/services', { name: 'x', url: 'http://127.0.0.1:9' }, "cannot create 'services' entities when not using a database"],
    ['POST', '/consumers', { username: 'bob' }, "cannot create 'consumers' entities when not using a database"],
    ['POST', '/plugins', { name: 'cors' }, "cannot create 'plugins' entities when not using a database"],
    ['POST', '/key-auths', { key: 'k2' }, "cannot create 'keyauth_credentials' entities when not using a database"],
    ['PATCH', '/services/up', { retries: 1 }, "cannot update 'services' entities by 'name' when not using a database"],
    ['PUT', '/consumers/alice', { custom_id: 'c' }, "cannot create or update 'consumers' entities by 'username' when not using a database"],
    ['DELETE', '/consumers/alice', undefined, "cannot remove 'consumers' entities by 'username' when not using a database"],
    ['DELETE', '/upstreams/u1', undefined, "cannot remove 'upstreams' entities by 'name' when not using a database"],
    // Kong does not look the entity up first: an unknown one is refused the same way
    ['DELETE', '/routes/nope', undefined, "cannot remove 'routes' entities by 'name' when not using a database"],
  ])('%s %s -> 405', async (method, path, json, message) => {
    const r = await call(gw.adminUrl, path, { method, json });
    expect(r.status).toBe(405);
    expect(r.json).toEqual(refusal(message));
  });

  it('an entity addressed by its id is refused without the by-field form', async () => {
    const cases: Array<[string, string, string]> = [
      ['PATCH', `/services/${ids.service}`, "cannot update 'services' entities when not using a database"],
      ['PUT', `/routes/${ids.route}`, "cannot create or update 'routes' entities when not using a database"],
      ['DELETE', `/plugins/${ids.plugin}`, "cannot remove 'plugins' entities when not using a database"],
      ['DELETE', `/consumers/${ids.consumer}`, "cannot remove 'consumers' entities when not using a database"],
    ];
    for (const [method, path, message] of cases) {
      const r = await call(gw.adminUrl, path, { method, json: method === 'DELETE' ? undefined : { tags: ['t'] } });
      expect([method, path, r.status, r.json]).toEqual([method, path, 405, refusal(message)]);
    }
  });

  it('nested endpoints refuse with the child entity, once the parent (and child) are found', async () => {
    const cases: Array<[string, string, number, unknown]> = [
      ['POST', '/services/up/routes', 405, refusal("cannot create 'routes' entities when not using a database")],
      ['POST', '/consumers/alice/key-auth', 405, refusal("cannot create 'keyauth_credentials' entities when not using a database")],
      ['PATCH', '/consumers/alice/key-auth/k1', 405, refusal("cannot update 'keyauth_credentials' entities by 'key' when not using a database")],
      ['PUT', '/services/up/routes/r2', 405, refusal("cannot create or update 'routes' entities by 'name' when not using a database")],
      ['DELETE', `/services/up/routes/${ids.route}`, 405, refusal("cannot remove 'routes' entities when not using a database")],
      ['POST', '/upstreams/u1/targets', 405, refusal("cannot create 'targets' entities when not using a database")],
      ['POST', '/routes/r1/plugins', 405, refusal("cannot create 'plugins' entities when not using a database")],
      ['POST', '/consumer_groups/gold/consumers', 405, refusal("cannot create 'consumer_group_consumers' entities when not using a database")],
      ['POST', '/consumers/alice/consumer_groups', 405, refusal("cannot create 'consumer_group_consumers' entities when not using a database")],
      // Kong selects the parent first, and for PATCH and DELETE the child: a missing one is 404
      ['POST', '/services/missing/routes', 404, { message: 'Not found' }],
      ['DELETE', '/services/up/routes/missing', 404, { message: 'Not found' }],
      ['PATCH', '/consumers/alice/key-auth/missing', 404, { message: 'Not found' }],
    ];
    for (const [method, path, status, body] of cases) {
      const r = await call(gw.adminUrl, path, { method, json: method === 'DELETE' ? undefined : { name: 'r2', paths: ['/r2'] } });
      expect([method, path, r.status, r.json]).toEqual([method, path, status, body]);
    }
  });

  it('reads keep working and nothing changed', async () => {
    expect((await call(gw.adminUrl, '/services/up')).json.name).toBe('up');
    expect((await call(gw.adminUrl, '/services/up/routes')).json.data.map((r: { name: string }) => r.name)).toEqual(['r1']);
    expect((await call(gw.adminUrl, '/consumers')).json.data.map((c: { username: string }) => c.username)).toEqual(['alice']);
    expect((await call(gw.adminUrl, '/consumers/alice/key-auth')).json.data.map((k: { key: string }) => k.key)).toEqual(['k1']);
    expect((await call(gw.adminUrl, '/upstreams/u1/targets')).json.data).toHaveLength(1);
    expect((await call(gw.adminUrl, '/')).json.configuration.database).toBe('off');
  });

  it('POST /config still replaces the whole configuration', async () => {
    const other = await gateway(CONFIG, { adminWrites: 'refuse' });
    try {
      const r = await call(other.adminUrl, '/config', { method: 'POST', json: { _format_version: '3.0', consumers: [{ username: 'bob' }] } });
      expect(r.status).toBe(201);
      expect((await call(other.adminUrl, '/consumers')).json.data.map((c: { username: string }) => c.username)).toEqual(['bob']);
      expect((await call(other.adminUrl, '/services')).json.data).toEqual([]);
    } finally {
      await other.close();
    }
  });
});

describe("adminWrites: 'memory'", () => {
  it('accepts entity writes in memory and warns once that they are lost at restart', async () => {
    const lines: Array<{ level: number; msg: string }> = [];
    const { default: pino } = await import('pino');
    const logger = pino({ level: 'info' }, { write: (s: string) => void lines.push(JSON.parse(s)) });
    const mem = await gateway(CONFIG, { adminWrites: 'memory', logger });
    try {
      expect((await call(mem.adminUrl, '/consumers', { method: 'POST', json: { username: 'bob' } })).status).toBe(201);
      expect((await call(mem.adminUrl, '/services/up/routes', { method: 'POST', json: { name: 'r2', paths: ['/r2'] } })).status).toBe(201);
      expect((await call(mem.adminUrl, '/consumers/alice', { method: 'DELETE' })).status).toBe(204);
      expect((await call(mem.adminUrl, '/consumers')).json.data.map((c: { username: string }) => c.username)).toEqual(['bob']);
      const warnings = lines.filter((l) => l.level === 40 && l.msg.startsWith('DB-less mode'));
      expect(warnings).toHaveLength(1);
      expect(warnings[0].msg).toMatch(/kept in memory only and are lost when the gateway stops/);
    } finally {
      await mem.close();
    }
  });

  it('a database gateway ignores the setting: its writes persist as before', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dk-dbless-'));
    const db = await gateway(undefined as never, { config: undefined, database: join(dir, 'db'), adminWrites: 'refuse' });
    try {
      expect((await call(db.adminUrl, '/consumers', { method: 'POST', json: { username: 'carol' } })).status).toBe(201);
    } finally {
      await db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('datakit serve --config (CLI)', () => {
  let dir: string;
  beforeAll(() => {
    buildHost();
    dir = mkdtempSync(join(tmpdir(), 'dk-dbless-cli-'));
    writeFileSync(join(dir, 'gw.json'), JSON.stringify(CONFIG));
  }, 150_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const start = async (extra: string[], env: NodeJS.ProcessEnv = process.env) => {
    const a = await freePort();
    const g = serve(['--config', join(dir, 'gw.json'), '--proxy-listen', '127.0.0.1:0', '--admin-listen', `127.0.0.1:${a}`, '--log-level', 'warn', ...extra], env);
    await waitReady(`http://127.0.0.1:${a}`, g.child);
    return { ...g, admin: `http://127.0.0.1:${a}` };
  };

  it('refuses entity writes by default', async () => {
    const g = await start([]);
    try {
      const r = await call(g.admin, '/consumers', { method: 'POST', json: { username: 'bob' } });
      expect(r.status).toBe(405);
      expect(r.json).toEqual(refusal("cannot create 'consumers' entities when not using a database"));
    } finally {
      g.child.kill('SIGTERM');
      expect(await exited(g.child)).toBe(0);
    }
  }, 60_000);

  it('--admin-writes memory (or DATAKIT_ADMIN_WRITES=memory) keeps them in memory, with the warning', async () => {
    for (const [extra, env] of [
      [['--admin-writes', 'memory'], process.env],
      [[], { ...process.env, DATAKIT_ADMIN_WRITES: 'memory' }],
    ] as Array<[string[], NodeJS.ProcessEnv]>) {
      const g = await start(extra, env);
      try {
        expect((await call(g.admin, '/consumers', { method: 'POST', json: { username: 'bob' } })).status).toBe(201);
        await new Promise((r) => setTimeout(r, 100));
        expect(g.output()).toMatch(/DB-less mode: Admin API changes are kept in memory only/);
      } finally {
        g.child.kill('SIGTERM');
        expect(await exited(g.child)).toBe(0);
      }
    }
  }, 60_000);

  it('an unknown --admin-writes value is refused at start', async () => {
    const g = serve(['--config', join(dir, 'gw.json'), '--admin-writes', 'disk']);
    expect(await exited(g.child)).not.toBe(0);
    expect(g.output()).toMatch(/--admin-writes: expected refuse or memory, got "disk"/);
  }, 60_000);
});
