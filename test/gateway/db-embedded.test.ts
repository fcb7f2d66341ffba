/** Database mode: entities written through the Admin API survive a restart (embedded PostgreSQL, PGlite). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { call, gateway, startUpstream, type Upstream } from './helpers.js';
import type { RunningGateway } from '../../host/gateway/index.js';
import { openDatabase } from '../../host/db/sql.js';

const start = (dir: string) => gateway(undefined as never, { config: undefined, database: dir });

describe('embedded database (--database DIR)', () => {
  let dir: string;
  let up: Upstream;
  let gw: RunningGateway | undefined;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'dk-db-'));
    up = await startUpstream('db');
  });
  afterAll(async () => {
    await gw?.close();
    await up.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('keeps services, routes, plugins, consumers, credentials, partials and group members across a restart', async () => {
    gw = await start(dir);
    const a = gw.adminUrl;
    expect((await call(a, '/services', { method: 'POST', json: { name: 'echo', url: up.url } })).status).toBe(201);
    expect((await call(a, '/services/echo/routes', { method: 'POST', json: { name: 'r1', paths: ['/echo'] } })).status).toBe(201);
    const partial = await call(a, '/partials', { method: 'POST', json: { name: 'redis-1', type: 'redis-ce', config: { host: '127.0.0.1', port: 6379 } } });
    expect(partial.status).toBe(201);
    expect((await call(a, '/routes/r1/plugins', { method: 'POST', json: { name: 'key-auth' } })).status).toBe(201);
    const alice = await call(a, '/consumers', { method: 'POST', json: { username: 'alice', tags: ['team-a'] } });
    expect(alice.status).toBe(201);
    expect((await call(a, '/consumers/alice/key-auth', { method: 'POST', json: { key: 'alice-key' } })).status).toBe(201);
    expect((await call(a, '/consumer_groups', { method: 'POST', json: { name: 'gold' } })).status).toBe(201);
    expect((await call(a, '/consumer_groups/gold/consumers', { method: 'POST', json: { consumer: 'alice' } })).status).toBe(201);
    const before = (await call(a, '/config?format=json')).json;
    await gw.close();

    gw = await start(dir);
    const b = gw.adminUrl;
    const consumers = (await call(b, '/consumers')).json.data;
    expect(consumers).toEqual([alice.json]);
    expect((await call(b, '/services/echo')).json.url ?? (await call(b, '/services/echo')).json.host).toBeTruthy();
    expect((await call(b, '/routes/r1')).status).toBe(200);
    expect((await call(b, '/plugins')).json.data.map((p: { name: string }) => p.name)).toEqual(['key-auth']);
    expect((await call(b, '/partials/redis-1')).json.id).toBe(partial.json.id);
    expect((await call(b, '/consumers/alice/key-auth')).json.data[0].key).toBe('alice-key');
    expect((await call(b, '/consumer_groups/gold/consumers')).json.data.map((c: { username: string }) => c.username)).toEqual(['alice']);
    expect((await call(b, '/config?format=json')).json).toEqual(before);
    // and the proxy serves them: the key-auth plugin and the credential work after the restart
    expect((await call(gw.proxyUrl, '/echo/x')).status).toBe(401);
    const ok = await call(gw.proxyUrl, '/echo/x', { headers: { apikey: 'alice-key' } });
    expect(ok.status).toBe(200);
    expect(ok.json.headers['x-consumer-username']).toBe('alice');
  });

  it('keeps deletes and updates too (cascades included)', async () => {
    const a = gw!.adminUrl;
    expect((await call(a, '/consumers/alice', { method: 'PATCH', json: { custom_id: 'A-1' } })).status).toBe(200);
    expect((await call(a, '/consumers', { method: 'POST', json: { username: 'bob' } })).status).toBe(201);
    expect((await call(a, '/consumers/bob/key-auth', { method: 'POST', json: { key: 'bob-key' } })).status).toBe(201);
    expect((await call(a, '/consumers/bob', { method: 'DELETE' })).status).toBe(204);
    await gw!.close();
    gw = await start(dir);
    const b = gw.adminUrl;
    expect((await call(b, '/consumers')).json.data.map((c: { username: string; custom_id: string }) => [c.username, c.custom_id])).toEqual([['alice', 'A-1']]);
    expect((await call(b, '/key-auths')).json.data.map((k: { key: string }) => k.key)).toEqual(['alice-key']);
  });

  it("answers Kong's 409 for a duplicate and stores nothing of it", async () => {
    const a = gw!.adminUrl;
    const dup = await call(a, '/consumers', { method: 'POST', json: { username: 'alice' } });
    expect(dup.status).toBe(409);
    expect(dup.json).toEqual({ code: 5, name: 'unique constraint violation', message: `UNIQUE violation detected on '{username="alice"}'`, fields: { username: 'alice' } });
    const dupKey = await call(a, '/consumers/alice/key-auth', { method: 'POST', json: { key: 'alice-key' } });
    expect(dupKey.status).toBe(409);
    expect(dupKey.json.message).toBe(`UNIQUE violation detected on '{key="alice-key"}'`);
    expect((await call(a, '/consumers')).json.data).toHaveLength(1);
  });
});

describe('the database enforces uniqueness and keeps secrets as references', () => {
  it('a duplicate written past the gateway is refused by the database with the 409 text', async () => {
    const { EntityStore } = await import('../../host/db/entity-store.js');
    const { State } = await import('../../host/gateway/state.js');
    const store = await EntityStore.open('memory://');
    try {
      const validate = () => ({});
      const s1 = new State(validate);
      s1.upsert('consumers', { username: 'carol' });
      await store.replaceAll(s1);
      // a second writer that did not see carol (another node): its State has no duplicate to find
      const s2 = new State(validate);
      const next = s2.clone();
      next.upsert('consumers', { username: 'carol' });
      const err = await store.applyChanges(s2, next).then(
        () => undefined,
        (e: unknown) => e as { status: number; body: Record<string, unknown> },
      );
      expect(err?.status).toBe(409);
      expect(err?.body.message).toBe(`UNIQUE violation detected on '{username="carol"}'`);
      expect((await store.load(validate)).state.list('consumers').map((c) => c.username)).toEqual(['carol']);
    } finally {
      await store.close();
    }
  });

  it('a vault reference is stored as written, never its resolved value', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dk-db-'));
    const gw = await gateway(undefined as never, { config: undefined, database: dir, env: { DK_TEST_SECRET: 's3cr3t-value' } });
    try {
      const r = await call(gw.adminUrl, '/plugins', {
        method: 'POST',
        json: { name: 'request-transformer', config: { add: { headers: ['x-secret:{vault://env/dk-test-secret}'] } } },
      });
      expect(r.status).toBe(201);
    } finally {
      await gw.close();
    }
    const db = await openDatabase(dir);
    try {
      const raw = JSON.stringify((await db.query('SELECT entity::text AS e FROM plugins')).rows);
      expect(raw).toContain('{vault://env/dk-test-secret}');
      expect(raw).not.toContain('s3cr3t-value');
    } finally {
      await db.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('DB-less mode (--config)', () => {
  it('warns once, at the first Admin API change, that changes are lost at restart', async () => {
    const lines: Array<{ level: number; msg: string }> = [];
    const { default: pino } = await import('pino');
    const logger = pino({ level: 'info' }, { write: (s: string) => void lines.push(JSON.parse(s)) });
    const gw = await gateway({ _format_version: '3.0' }, { logger });
    try {
      expect((await call(gw.adminUrl, '/consumers', { method: 'POST', json: { username: 'a' } })).status).toBe(201);
      expect((await call(gw.adminUrl, '/consumers', { method: 'POST', json: { username: 'b' } })).status).toBe(201);
      const warnings = lines.filter((l) => l.level === 40 && l.msg.startsWith('DB-less mode'));
      expect(warnings.map((w) => w.msg)).toEqual([
        'DB-less mode: Admin API changes are kept in memory only and are lost when the gateway stops; start with --database DIR to keep them (docs/cluster.md)',
      ]);
      expect((await call(gw.adminUrl, '/')).json.configuration.database).toBe('off');
    } finally {
      await gw.close();
    }
  });
});
