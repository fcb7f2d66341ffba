/**
 * Gateways (and `datakit migrations bootstrap`) started at the same moment
 * on a new PostgreSQL database: the schema lock makes them take turns, so
 * one bootstraps and the others find the database ready.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { call, gateway } from './helpers.js';
import { sql as sqlOn, startPostgres, type PostgresHandle } from '../helpers/postgres.js';
import type { RunningGateway } from '../../host/gateway/index.js';
import { migrationsCli } from '../../host/db/cli.js';
import { SCHEMA_LOCK } from '../../host/db/migrate.js';
import { MIGRATIONS } from '../../host/db/migrations/index.js';
import { EntityStore } from '../../host/db/entity-store.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('concurrent start on a new PostgreSQL database', () => {
  let server: PostgresHandle;
  const open: RunningGateway[] = [];
  let dbSeq = 0;

  /** a new, empty database on the server; its URL */
  const freshDatabase = async (): Promise<string> => {
    const name = `fresh_${++dbSeq}`;
    await sqlOn(server.url, `CREATE DATABASE ${name}`);
    return server.url.replace(/\/[^/]*$/, `/${name}`);
  };

  beforeAll(async () => {
    server = await startPostgres();
  }, 60_000);
  afterAll(async () => {
    for (const gw of open) await gw.close();
    await server.stop();
  });

  it('three gateways started together all start; the schema is created once', async () => {
    const url = await freshDatabase();
    const started = await Promise.allSettled([0, 1, 2].map(() => gateway(undefined as never, { config: undefined, database: url, dbUpdateFrequency: 0.5 })));
    for (const s of started) if (s.status === 'fulfilled') open.push(s.value);
    expect(started.map((s) => (s.status === 'rejected' ? String(s.reason) : 'ok'))).toEqual(['ok', 'ok', 'ok']);
    const [a, b, c] = open.slice(-3);

    const ran = await sqlOn(url, 'SELECT name FROM schema_migrations ORDER BY name');
    expect(ran.map((r) => r.name)).toEqual(MIGRATIONS.map((m) => m.name));
    const tables = await sqlOn(url, `SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'public' AND tablename = 'services'`);
    expect(tables[0].n).toBe(1);

    // one database for all three: a write on one is served by the others
    expect((await call(a.adminUrl, '/consumers', { method: 'POST', json: { username: 'together' } })).status).toBe(201);
    for (const gw of [b, c]) {
      for (let i = 0; (await call(gw.adminUrl, '/consumers/together')).status !== 200; i++) {
        if (i > 200) throw new Error('not propagated within 2 s');
        await sleep(10);
      }
    }
  }, 30_000);

  it('`datakit migrations bootstrap` run three times at once: one bootstraps, the others are told it already is', async () => {
    const url = await freshDatabase();
    const outputs = [0, 1, 2].map(() => ({ out: '', err: '' }));
    const codes = await Promise.all(
      outputs.map((o) => migrationsCli(['bootstrap', '--database', url], { stdout: (s) => void (o.out += s), stderr: (s) => void (o.err += s) }, {})),
    );
    expect(codes.sort()).toEqual([0, 1, 1]);
    expect(outputs.filter((o) => o.err === 'Database already bootstrapped\n')).toHaveLength(2);
    expect(outputs.filter((o) => o.out.includes(`${MIGRATIONS.length} migration(s) executed`))).toHaveLength(1);
    const ran = await sqlOn(url, 'SELECT name FROM schema_migrations ORDER BY name');
    expect(ran.map((r) => r.name)).toEqual(MIGRATIONS.map((m) => m.name));
  }, 30_000);

  it('a start waits while another process holds the schema lock, then goes on', async () => {
    const url = await freshDatabase();
    const holder = new pg.Client({ connectionString: url });
    await holder.connect();
    try {
      await holder.query('SELECT pg_advisory_lock($1::bigint)', [SCHEMA_LOCK]);
      let done = false;
      const opening = EntityStore.open(url).then((s) => ((done = true), s));
      await sleep(300);
      expect(done).toBe(false);
      await holder.query('SELECT pg_advisory_unlock($1::bigint)', [SCHEMA_LOCK]);
      const store = await opening;
      expect(await store.version()).toBe(0);
      await store.close();
    } finally {
      await holder.end();
    }
  }, 30_000);

  it('a lock held past statement_timeout_ms: the start fails saying so, and nothing was created', async () => {
    const url = await freshDatabase();
    const holder = new pg.Client({ connectionString: url });
    await holder.connect();
    try {
      await holder.query('SELECT pg_advisory_lock($1::bigint)', [SCHEMA_LOCK]);
      const t0 = Date.now();
      const err = await EntityStore.open(url, { limits: { statement_timeout_ms: 300 } }).catch((e: Error) => e);
      expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
      expect((err as Error).message).toBe(
        "another process held the database's schema lock for more than 300 ms (statement_timeout_ms): a migration still running elsewhere?",
      );
      expect(await sqlOn(url, `SELECT to_regclass('schema_migrations')::text AS n`)).toEqual([{ n: null }]);
      // the migrations CLI reads the same limit from DATAKIT_DB_STATEMENT_TIMEOUT
      let err2 = '';
      const code = await migrationsCli(['bootstrap', '--database', url], { stdout: () => undefined, stderr: (s) => void (err2 += s) }, { DATAKIT_DB_STATEMENT_TIMEOUT: '200ms' }).catch(
        (e: Error) => ((err2 += e.message), -1),
      );
      expect(code).toBe(-1);
      expect(err2).toContain('for more than 200 ms (statement_timeout_ms)');
    } finally {
      await holder.end();
    }
  }, 30_000);
});
