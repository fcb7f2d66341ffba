/**
 * Database mode on a real PostgreSQL server shared by several gateways:
 * entities survive a restart, a change on one gateway is served by the
 * others within a second, the database settles races, and an outage leaves
 * the proxy serving while writes are refused.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import pino from 'pino';
import { call, gateway, startUpstream, type Upstream } from './helpers.js';
import { sql as sqlOn, startPostgres, type PostgresHandle } from '../helpers/postgres.js';
import type { GatewayOptions, RunningGateway } from '../../host/gateway/index.js';
import { startGateway } from '../../host/gateway/index.js';
import { configCli, migrationsCli } from '../../host/db/cli.js';
import { EntityStore } from '../../host/db/entity-store.js';
import { parseServeArgs } from '../../host/gateway/cli.js';
import { GatewayError } from '../../host/gateway/state.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** polls until `check` is true; returns how long it took (ms), fails past `timeoutMs` */
async function within(timeoutMs: number, check: () => Promise<boolean>): Promise<number> {
  const t0 = Date.now();
  for (;;) {
    if (await check()) return Date.now() - t0;
    if (Date.now() - t0 > timeoutMs) throw new Error(`not true within ${timeoutMs} ms`);
    await sleep(10);
  }
}

/** one series' value in a gateway's /metrics (undefined when absent) */
async function metric(gw: RunningGateway, series: string): Promise<number | undefined> {
  const text = (await call(gw.adminUrl, '/metrics')).text;
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

function capture() {
  const lines: Array<Record<string, unknown>> = [];
  return { logger: pino({ level: 'info' }, { write: (s: string) => void lines.push(JSON.parse(s)) }), lines };
}

const node = (url: string, extra: GatewayOptions = {}) =>
  gateway(undefined as never, { config: undefined, database: url, dbUpdateFrequency: 0.5, ...extra });

describe('PostgreSQL server (--database postgres://...)', () => {
  let server: PostgresHandle;
  let up: Upstream;
  const open: RunningGateway[] = [];
  const start = async (extra: GatewayOptions = {}) => {
    const gw = await node(server.url, extra);
    open.push(gw);
    return gw;
  };
  const sql = (text: string, params?: unknown[]) => sqlOn(server.url, text, params);

  beforeAll(async () => {
    server = await startPostgres();
    up = await startUpstream('pg');
  }, 60_000);
  afterAll(async () => {
    for (const gw of open) await gw.close();
    await up.close();
    await server.stop();
  });

  it('keeps what was written across a restart of the gateway', async () => {
    let a = await start();
    expect((await call(a.adminUrl, '/services', { method: 'POST', json: { name: 'keep', url: up.url } })).status).toBe(201);
    expect((await call(a.adminUrl, '/services/keep/routes', { method: 'POST', json: { name: 'keep-r', paths: ['/keep'] } })).status).toBe(201);
    const alice = await call(a.adminUrl, '/consumers', { method: 'POST', json: { username: 'alice', tags: ['t'] } });
    expect(alice.status).toBe(201);
    const before = (await call(a.adminUrl, '/config?format=json')).json;
    await a.close();
    open.splice(open.indexOf(a), 1);

    a = await start();
    expect((await call(a.adminUrl, '/consumers/alice')).json).toEqual(alice.json);
    expect((await call(a.adminUrl, '/config?format=json')).json).toEqual(before);
    expect((await call(a.proxyUrl, '/keep/x')).status).toBe(200);
    expect((await call(a.adminUrl, '/')).json.configuration.db_update_frequency).toBe(0.5);
  }, 60_000);

  it('serves a change made on gateway A through gateways B and C within a second (routing and plugins)', async () => {
    const [a, b, c] = [await start(), await start(), await start()];
    expect((await call(a.adminUrl, '/services', { method: 'POST', json: { name: 'prop', url: up.url } })).status).toBe(201);
    expect((await call(a.adminUrl, '/services/prop/routes', { method: 'POST', json: { name: 'prop-r', paths: ['/prop'] } })).status).toBe(201);
    for (const g of [b, c]) expect(await within(1000, async () => (await call(g.proxyUrl, '/prop/x')).status === 200)).toBeLessThan(1000);

    const plugin = await call(a.adminUrl, '/routes/prop-r/plugins', { method: 'POST', json: { name: 'key-auth' } });
    expect(plugin.status).toBe(201);
    for (const g of [b, c]) expect(await within(1000, async () => (await call(g.proxyUrl, '/prop/x')).status === 401)).toBeLessThan(1000);
    // and back the other way: B deletes the plugin, A stops asking for a key
    expect((await call(b.adminUrl, `/plugins/${plugin.json.id}`, { method: 'DELETE' })).status).toBe(204);
    for (const g of [a, c]) expect(await within(1000, async () => (await call(g.proxyUrl, '/prop/x')).status === 200)).toBeLessThan(1000);
    expect([b.core.dbVersion, c.core.dbVersion]).toEqual([a.core.dbVersion, a.core.dbVersion]);
    // /status's configuration_hash agrees once they serve the same version
    const hashes = await Promise.all([a, b, c].map(async (g) => (await call(g.adminUrl, '/status')).json.configuration_hash));
    expect(new Set(hashes).size).toBe(1);
  }, 60_000);

  it('settles a race for the same username: one 201, one 409 with Kong text, both gateways agree', async () => {
    const [a, b] = [await start(), await start()];
    for (let i = 0; i < 3; i++) {
      const username = `racer-${i}`;
      const answers = await Promise.all([a, b].map((g) => call(g.adminUrl, '/consumers', { method: 'POST', json: { username } })));
      expect(answers.map((r) => r.status).sort()).toEqual([201, 409]);
      const lost = answers.find((r) => r.status === 409)!;
      expect(lost.json).toEqual({
        code: 5,
        name: 'unique constraint violation',
        message: `UNIQUE violation detected on '{username="${username}"}'`,
        fields: { username },
      });
      const won = answers.find((r) => r.status === 201)!.json;
      for (const g of [a, b]) await within(1000, async () => (await call(g.adminUrl, `/consumers/${username}`)).json.id === won.id);
    }
    expect((await sql(`SELECT count(*)::int AS n FROM consumers WHERE username LIKE 'racer-%'`))[0].n).toBe(3);
  }, 60_000);

  it('does not bring back a row another gateway deleted, and leaves the other rows alone', async () => {
    const [a, b] = [await start(), await start()];
    expect((await call(a.adminUrl, '/consumers', { method: 'POST', json: { username: 'gone' } })).status).toBe(201);
    expect((await call(a.adminUrl, '/consumers', { method: 'POST', json: { username: 'other', custom_id: 'o1' } })).status).toBe(201);
    await within(1000, async () => (await call(b.adminUrl, '/consumers/gone')).status === 200);
    // B stops hearing about changes: its snapshot falls behind
    b.sync!.requestReload = () => undefined;
    expect((await call(a.adminUrl, '/consumers/gone', { method: 'DELETE' })).status).toBe(204);
    expect((await call(a.adminUrl, '/consumers/other', { method: 'PATCH', json: { custom_id: 'o2' } })).status).toBe(200);
    expect((await call(b.adminUrl, '/consumers/gone')).status).toBe(200);
    // a write on B first reloads what the database holds, so the PATCH finds nothing to change
    expect((await call(b.adminUrl, '/consumers/gone', { method: 'PATCH', json: { custom_id: 'back' } })).status).toBe(404);
    expect((await sql(`SELECT username FROM consumers WHERE username IN ('gone', 'other')`)).map((r) => r.username)).toEqual(['other']);
    expect((await call(b.adminUrl, '/consumers/other')).json.custom_id).toBe('o2');
  }, 60_000);

  it('last writer wins per row by updated_at: a change based on an older row is refused, a deleted row is not re-created', async () => {
    const store = await EntityStore.open(server.url);
    try {
      const validate = () => ({});
      const { state: base } = await store.load(validate);
      const seeded = base.clone();
      const kept = seeded.upsert('consumers', { username: 'lww-kept', custom_id: 'v1' });
      const dropped = seeded.upsert('consumers', { username: 'lww-dropped' });
      await store.applyChanges(base, seeded);
      const stale = (await store.load(validate)).state;
      // another writer: kept updated one second later, dropped deleted
      const other = stale.clone();
      other.map('consumers').set(kept.id, { ...kept, custom_id: 'newer', updated_at: Number(kept.updated_at) + 1 });
      other.map('consumers').delete(dropped.id);
      await store.applyChanges(stale, other);

      // a writer still on the stale state changes both rows, with its (older) clock
      const late = stale.clone();
      late.map('consumers').set(dropped.id, { ...dropped, custom_id: 'again' });
      const refusedDeleted = await store.applyChanges(stale, late).catch((e: GatewayError) => e);
      expect(refusedDeleted).toBeInstanceOf(GatewayError);
      expect((refusedDeleted as GatewayError).status).toBe(404);
      const older = stale.clone();
      older.map('consumers').set(kept.id, { ...kept, custom_id: 'older' });
      const refusedOlder = await store.applyChanges(stale, older).catch((e: GatewayError) => e);
      expect((refusedOlder as GatewayError).status).toBe(409);
      expect((refusedOlder as GatewayError).body.message).toMatch(/changed by another gateway meanwhile/);
      const rows = await sql(`SELECT username, custom_id FROM consumers WHERE username LIKE 'lww-%'`);
      expect(rows).toEqual([{ username: 'lww-kept', custom_id: 'newer' }]);
      // a write with the same or a later updated_at wins
      const { state: fresh } = await store.load(validate);
      const latest = fresh.clone();
      latest.map('consumers').set(kept.id, { ...fresh.map('consumers').get(kept.id)!, custom_id: 'latest' });
      await store.applyChanges(fresh, latest);
      expect((await sql(`SELECT custom_id FROM consumers WHERE username = 'lww-kept'`))[0].custom_id).toBe('latest');
    } finally {
      await store.close();
    }
  }, 60_000);

  it("a reference to a row another gateway deleted meanwhile is refused with Kong's foreign key error", async () => {
    const store = await EntityStore.open(server.url);
    try {
      const validate = () => ({});
      const { state: base } = await store.load(validate);
      const withService = base.clone();
      const svc = withService.upsert('services', { name: 'fk-gone', url: up.url });
      await store.applyChanges(base, withService);
      const stale = (await store.load(validate)).state;
      const other = stale.clone();
      other.map('services').delete(svc.id);
      await store.applyChanges(stale, other);
      const late = stale.clone();
      late.upsert('routes', { name: 'fk-route', paths: ['/fk'], service: { id: svc.id } });
      const err = (await store.applyChanges(stale, late).catch((e: GatewayError) => e)) as GatewayError;
      expect(err.status).toBe(400);
      expect(err.body).toEqual({
        code: 3,
        name: 'foreign key violation',
        message: `the foreign key '{id="${svc.id}"}' does not reference an existing 'services' entity.`,
        fields: { service: { id: svc.id } },
      });
      expect(await sql(`SELECT id FROM routes WHERE name = 'fk-route'`)).toEqual([]);
    } finally {
      await store.close();
    }
  }, 60_000);

  it('coalesces reloads: a burst of requests runs one reload and at most one more', async () => {
    const [a, b] = [await start(), await start()];
    const real = b.core.reloadFromStore.bind(b.core);
    let calls = 0;
    b.core.reloadFromStore = (source) => {
      calls++;
      return real(source);
    };
    expect((await call(a.adminUrl, '/consumers', { method: 'POST', json: { username: 'burst' } })).status).toBe(201);
    for (let i = 0; i < 100; i++) b.sync!.requestReload('poll');
    await within(2000, async () => (await call(b.adminUrl, '/consumers/burst')).status === 200);
    await sleep(200);
    expect(calls).toBeLessThanOrEqual(3);
  }, 60_000);

  it('a PostgreSQL server the gateway cannot reach: start fails clearly, without the password', async () => {
    const closed = `postgres://user:s3cret@127.0.0.1:${server.port + 1 === 65536 ? 1 : server.port + 1}/postgres`;
    const err = await startGateway({ database: closed, proxyListen: '127.0.0.1:0', adminListen: '127.0.0.1:0', logLevel: 'silent' }).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(/^the database at postgres:\/\/user:\*\*\*@127\.0\.0\.1:\d+\/postgres is unreachable: /);
    expect((err as Error).message).not.toContain('s3cret');
  }, 60_000);

  it('datakit migrations and config db_import/db_export work against the server', async () => {
    await sql('CREATE DATABASE cli_check');
    const url = server.url.replace(/\/[^/]*$/, '/cli_check');
    const out: string[] = [];
    const io = { stdout: (s: string) => void out.push(s), stderr: (s: string) => void out.push(s) };
    expect(await migrationsCli(['status', '--database', url], io, {})).toBe(1);
    expect(await migrationsCli(['bootstrap', '--database', url], io, {})).toBe(0);
    expect(await migrationsCli(['status', '--database', url], io, {})).toBe(0);
    expect(out.join('')).toContain('Executed migrations:\n  001_entities\n  002_config_version\nDatabase is up-to-date\n');
    const { writeFileSync, mkdtempSync } = await import('node:fs');
    const { join } = await import('node:path');
    const { tmpdir } = await import('node:os');
    const dir = mkdtempSync(join(tmpdir(), 'dk-pgcli-'));
    writeFileSync(join(dir, 'in.json'), JSON.stringify({ _format_version: '3.0', services: [{ name: 's1', url: up.url, routes: [{ name: 'r1', paths: ['/s1'] }] }], consumers: [{ username: 'imported' }] }));
    expect(await configCli(['db_import', join(dir, 'in.json'), '--database', url], io, {})).toBe(0);
    expect(await configCli(['db_export', join(dir, 'out.json'), '--database', url], io, {})).toBe(0);
    const { readFileSync, rmSync } = await import('node:fs');
    const exported = JSON.parse(readFileSync(join(dir, 'out.json'), 'utf8'));
    expect(exported.services.map((s: { name: string }) => s.name)).toEqual(['s1']);
    expect(exported.consumers.map((c: { username: string }) => c.username)).toEqual(['imported']);
    // a gateway on the imported database serves it
    const gw = await node(url);
    open.push(gw);
    expect((await call(gw.proxyUrl, '/s1/x')).status).toBe(200);
    // an import while it runs is a change like any other: announced, and served within a second
    writeFileSync(join(dir, 'in2.json'), JSON.stringify({ _format_version: '3.0', services: [{ name: 's2', url: up.url, routes: [{ name: 'r2', paths: ['/s2'] }] }] }));
    expect(await configCli(['db_import', join(dir, 'in2.json'), '--database', url], io, {})).toBe(0);
    expect(await within(1000, async () => (await call(gw.proxyUrl, '/s2/x')).status === 200)).toBeLessThan(1000);
    expect((await call(gw.proxyUrl, '/s1/x')).status).toBe(404);
    // POST /config on one gateway: the other reports the same configuration_hash once it reloaded
    const peer = await node(url);
    open.push(peer);
    expect((await call(peer.adminUrl, '/config', { method: 'POST', json: { _format_version: '3.0', consumers: [{ username: 'by-config' }] } })).status).toBe(201);
    await within(1000, async () => (await call(gw.adminUrl, '/consumers/by-config')).status === 200);
    expect((await call(gw.adminUrl, '/status')).json.configuration_hash).toBe((await call(peer.adminUrl, '/status')).json.configuration_hash);
    rmSync(dir, { recursive: true, force: true });
  }, 120_000);

  it('a configuration in the database this node cannot build: it keeps serving the last one, logs once, and recovers when fixed', async () => {
    const { logger, lines } = capture();
    const a = await start({ logger, logLevel: undefined });
    expect((await call(a.adminUrl, '/services', { method: 'POST', json: { name: 'good', url: up.url } })).status).toBe(201);
    expect((await call(a.adminUrl, '/services/good/routes', { method: 'POST', json: { name: 'good-r', paths: ['/good'] } })).status).toBe(201);
    const id = '00000000-0000-4000-8000-00000000bad1';
    const entity = { id, name: 'no-such-plugin', config: {}, enabled: true, protocols: ['http', 'https'], created_at: 1, updated_at: 1 };
    await sql('INSERT INTO plugins (id, created_at, updated_at, entity, name) VALUES ($1, 1, 1, $2, $3)', [id, JSON.stringify(entity), entity.name]);
    await sql('UPDATE config_version SET version = version + 1');
    const failures = () => lines.filter((l) => /cannot be served/.test(String(l.msg)));
    await within(2000, async () => failures().length > 0);
    await sleep(1200); // two more polls
    expect(failures()).toHaveLength(1);
    expect((await call(a.proxyUrl, '/good/x')).status).toBe(200);
    expect((await call(a.adminUrl, `/plugins/${id}`)).status).toBe(404);
    const refused = await call(a.adminUrl, '/consumers', { method: 'POST', json: { username: 'while-broken' } });
    expect(refused.status).toBe(503);
    expect(refused.json.message).toBe("the configuration in the database cannot be served (plugin 'no-such-plugin' not enabled): writes are refused until it is fixed");
    expect(await metric(a, 'datakit_database_write_refusals_total{reason="unservable_configuration"}')).toBe(1);
    await sql('DELETE FROM plugins WHERE id = $1', [id]);
    await sql('UPDATE config_version SET version = version + 1');
    await within(2000, async () => lines.some((l) => /reloaded from the database/.test(String(l.msg))));
    expect((await call(a.adminUrl, '/consumers', { method: 'POST', json: { username: 'fixed' } })).status).toBe(201);
  }, 60_000);

  it('a LISTEN connection cut by the server is opened again, and changes keep arriving', async () => {
    const { logger, lines } = capture();
    const [a, b] = [await start(), await start({ logger, logLevel: undefined })];
    const cut = await sql(`SELECT pg_terminate_backend(pid) AS ok FROM pg_stat_activity WHERE application_name = 'datakit' AND query LIKE 'LISTEN%'`);
    expect(cut.length).toBeGreaterThanOrEqual(2);
    await within(2000, async () => lines.some((l) => /reachable again/.test(String(l.msg))));
    for (const g of [a, b]) await within(2000, async () => (await call(g.adminUrl, '/status')).json.database.reachable === true);
    expect((await call(a.adminUrl, '/consumers', { method: 'POST', json: { username: 'after-cut' } })).status).toBe(201);
    expect(await within(1000, async () => (await call(b.adminUrl, '/consumers/after-cut')).status === 200)).toBeLessThan(1000);
  }, 60_000);

  it('a write blocked in the database (a session holding the version row) ends at statement_timeout_ms with a 503, nothing written', async () => {
    const a = await start({ databaseLimits: { statement_timeout_ms: 1000 } });
    const holder = new pg.Client({ connectionString: server.url });
    await holder.connect();
    try {
      await holder.query('BEGIN');
      await holder.query('SELECT version FROM config_version FOR UPDATE');
      const t0 = Date.now();
      const r = await call(a.adminUrl, '/consumers', { method: 'POST', json: { username: 'blocked' } });
      expect(Date.now() - t0).toBeGreaterThanOrEqual(900);
      expect(r.status).toBe(503);
      expect(r.json).toEqual({ message: 'the database did not complete the change within 1000 ms (statement_timeout): nothing was written' });
      expect(await metric(a, 'datakit_database_write_refusals_total{reason="timeout"}')).toBe(1);
    } finally {
      await holder.query('ROLLBACK');
      await holder.end();
    }
    expect((await call(a.adminUrl, '/consumers/blocked')).status).toBe(404);
    expect(await sql(`SELECT id FROM consumers WHERE username = 'blocked'`)).toEqual([]);
    expect((await call(a.adminUrl, '/status')).json.database.reachable).toBe(true);
  }, 60_000);

  it('a change made by hand with a bare NOTIFY is served at once, not at the next poll', async () => {
    const a = await start({ dbUpdateFrequency: 60 });
    expect((await call(a.adminUrl, '/consumers', { method: 'POST', json: { username: 'by-hand' } })).status).toBe(201);
    await sql(`BEGIN; DELETE FROM consumers WHERE username = 'by-hand'; UPDATE config_version SET version = version + 1; NOTIFY datakit_config; COMMIT`);
    expect(await within(1000, async () => (await call(a.adminUrl, '/consumers/by-hand')).status === 404)).toBeLessThan(1000);
  }, 60_000);

  // last: stops and restarts the server
  it('an outage: the proxy keeps serving, writes answer 503, /status says unreachable, one log line; then catch-up', async () => {
    const { logger, lines } = capture();
    const a = await start({ logger, logLevel: undefined });
    const b = await start();
    expect((await call(a.adminUrl, '/services', { method: 'POST', json: { name: 'out', url: up.url } })).status).toBe(201);
    expect((await call(a.adminUrl, '/services/out/routes', { method: 'POST', json: { name: 'out-r', paths: ['/out'] } })).status).toBe(201);
    await within(1000, async () => (await call(b.proxyUrl, '/out/x')).status === 200);

    server.kill();
    await within(2000, async () => (await call(a.adminUrl, '/status')).json.database.reachable === false);
    for (let i = 0; i < 3; i++) {
      expect((await call(a.proxyUrl, '/out/x')).status).toBe(200);
      expect((await call(b.proxyUrl, '/out/x')).status).toBe(200);
      const w = await call(a.adminUrl, '/consumers', { method: 'POST', json: { username: `during-${i}` } });
      expect(w.status).toBe(503);
      expect(w.json).toEqual({ message: 'the database is unreachable: writes are refused until it is back' });
      // reads answer from the served snapshot
      expect((await call(a.adminUrl, '/services/out')).status).toBe(200);
    }
    const status = await call(a.adminUrl, '/status');
    expect(status.status).toBe(200);
    expect(status.json.database).toEqual({ reachable: false });
    expect(lines.filter((l) => /the database is unreachable/.test(String(l.msg)))).toHaveLength(1);
    expect(await metric(a, 'datakit_database_reachable')).toBe(0);
    expect(await metric(a, 'datakit_database_write_refusals_total{reason="unreachable"}')).toBe(3);

    await server.restart();
    // reconnection waits at most 2 s between attempts
    for (const g of [a, b]) await within(4000, async () => (await call(g.adminUrl, '/status')).json.database.reachable === true);
    expect(lines.filter((l) => /reachable again/.test(String(l.msg)))).toHaveLength(1);
    const after = await call(a.adminUrl, '/consumers', { method: 'POST', json: { username: 'after' } });
    expect(after.status).toBe(201);
    // B listens again: the change arrives by notification, well before a poll would matter
    expect(await within(1000, async () => (await call(b.adminUrl, '/consumers/after')).status === 200)).toBeLessThan(1000);

    // a change made in the database directly, without NOTIFY: the poll (every 0.5 s here) finds it
    await sql(`DELETE FROM routes WHERE name = 'out-r'`);
    await sql('UPDATE config_version SET version = version + 1');
    for (const g of [a, b]) await within(2000, async () => (await call(g.proxyUrl, '/out/x')).status === 404);
    expect((await call(b.adminUrl, '/routes/out-r')).status).toBe(404);
    for (const g of [a, b]) {
      expect(await metric(g, 'datakit_database_reachable')).toBe(1);
      expect(await metric(g, 'datakit_config_reloads_total{source="poll"}')).toBeGreaterThanOrEqual(1);
    }
  }, 120_000);

  it('a server restarted (clean shutdown): every node reconnects, and a change on one reaches the other', async () => {
    const [a, b] = [await start(), await start()];
    await server.restart();
    for (const g of [a, b]) await within(4000, async () => (await call(g.adminUrl, '/status')).json.database.reachable === true);
    // the pool's connections ended by the shutdown were dropped with it: the first write works
    expect((await call(b.adminUrl, '/consumers', { method: 'POST', json: { username: 'after-restart' } })).status).toBe(201);
    expect(await within(1000, async () => (await call(a.adminUrl, '/consumers/after-restart')).status === 200)).toBeLessThan(1000);
  }, 120_000);
});

describe('database limits flags', () => {
  it('--db-pool-size, --db-connect-timeout, --db-statement-timeout, --db-reconnect-backoff-max (or their env) set the database limits; anything else is refused', () => {
    expect(parseServeArgs(['--database', 'postgres://h/db'], {}).databaseLimits).toEqual({});
    expect(
      parseServeArgs(['--db-pool-size', '8', '--db-connect-timeout', '2s', '--db-statement-timeout', '1500ms', '--db-reconnect-backoff-max', '1m'], {}).databaseLimits,
    ).toEqual({ pool_size: 8, connect_timeout_ms: 2000, statement_timeout_ms: 1500, reconnect_backoff_max_ms: 60_000 });
    const env = { DATAKIT_DB_POOL_SIZE: '2', DATAKIT_DB_CONNECT_TIMEOUT: '3', DATAKIT_DB_STATEMENT_TIMEOUT: '20s', DATAKIT_DB_RECONNECT_BACKOFF_MAX: '500ms' };
    expect(parseServeArgs([], env).databaseLimits).toEqual({ pool_size: 2, connect_timeout_ms: 3000, statement_timeout_ms: 20_000, reconnect_backoff_max_ms: 500 });
    expect(parseServeArgs(['--db-pool-size', '6'], env).databaseLimits.pool_size).toBe(6);
    expect(() => parseServeArgs(['--db-pool-size', '0'], {})).toThrow('--db-pool-size must be a positive integer (got "0")');
    expect(() => parseServeArgs(['--db-statement-timeout', '0s'], {})).toThrow('--db-statement-timeout must be at least 1ms (got "0s")');
    expect(() => parseServeArgs([], { DATAKIT_DB_CONNECT_TIMEOUT: 'soon' })).toThrow('DATAKIT_DB_CONNECT_TIMEOUT: invalid duration "soon"');
  });

  it('startGateway refuses a database limit that is not a positive integer, naming it', async () => {
    const err = await startGateway({ database: 'postgres://127.0.0.1:1/x', databaseLimits: { pool_size: 0 }, proxyListen: '127.0.0.1:0', adminListen: '127.0.0.1:0', logLevel: 'silent' }).catch((e: Error) => e);
    expect((err as Error).message).toBe('database limit pool_size: expected a positive integer, got 0');
  });
});

describe('--db-update-frequency', () => {
  it('is read from the flag or DATAKIT_DB_UPDATE_FREQUENCY (seconds, fractions allowed); anything else is refused', () => {
    expect(parseServeArgs(['--database', 'postgres://h/db'], {}).dbUpdateFrequency).toBeUndefined();
    expect(parseServeArgs(['--db-update-frequency', '2.5'], {}).dbUpdateFrequency).toBe(2.5);
    expect(parseServeArgs([], { DATAKIT_DB_UPDATE_FREQUENCY: '10' }).dbUpdateFrequency).toBe(10);
    expect(parseServeArgs(['--db-update-frequency', '1'], { DATAKIT_DB_UPDATE_FREQUENCY: '10' }).dbUpdateFrequency).toBe(1);
    expect(() => parseServeArgs(['--db-update-frequency', '0'], {})).toThrow('--db-update-frequency must be a positive number of seconds (got "0")');
    expect(() => parseServeArgs(['--db-update-frequency', '5s'], {})).toThrow('--db-update-frequency must be a positive number of seconds');
    expect(() => parseServeArgs([], { DATAKIT_DB_UPDATE_FREQUENCY: '-1' })).toThrow('DATAKIT_DB_UPDATE_FREQUENCY must be a positive number of seconds');
  });
});
