/**
 * `datakit migrations bootstrap|up|status`, as `kong migrations`: which schema
 * migrations ran, and running the rest. Every step holds the schema lock, so
 * gateways started together on a new database take turns: the first
 * bootstraps it, the others find it bootstrapped.
 */
import { MIGRATIONS } from './migrations/index.js';
import { DatabaseError, type SqlClient, type SqlRunner, type SqlSession } from './sql.js';

export interface MigrationStatus {
  bootstrapped: boolean;
  executed: string[];
  pending: string[];
}

/** the advisory lock key serialising schema changes ("dkmg") */
export const SCHEMA_LOCK = 0x646b6d67;

const META = `CREATE TABLE IF NOT EXISTS schema_migrations (
  name text PRIMARY KEY,
  executed_at timestamptz NOT NULL DEFAULT now())`;

export const NEEDS_BOOTSTRAP = "Database needs bootstrapping; run 'datakit migrations bootstrap'";
export const NEEDS_UP = "New migrations available; run 'datakit migrations up' to proceed";

async function statusOf(db: SqlRunner): Promise<MigrationStatus> {
  const t = await db.query<{ n: string | null }>(`SELECT to_regclass('schema_migrations')::text AS n`);
  if (!t.rows[0]?.n) return { bootstrapped: false, executed: [], pending: MIGRATIONS.map((m) => m.name) };
  const done = new Set((await db.query<{ name: string }>('SELECT name FROM schema_migrations ORDER BY name')).rows.map((r) => r.name));
  return { bootstrapped: true, executed: [...done], pending: MIGRATIONS.filter((m) => !done.has(m.name)).map((m) => m.name) };
}

/** Which migrations ran (read under the lock: never a bootstrap half done). */
export function migrationStatus(db: SqlClient): Promise<MigrationStatus> {
  return db.exclusive(SCHEMA_LOCK, statusOf);
}

/** Runs the pending migrations, each in its own transaction; returns their names. */
async function runPending(db: SqlSession, pending: string[]): Promise<string[]> {
  for (const name of pending) {
    const m = MIGRATIONS.find((x) => x.name === name)!;
    await db.transaction(async (tx) => {
      await tx.exec(m.up);
      await tx.query('INSERT INTO schema_migrations (name) VALUES ($1)', [m.name]);
    });
  }
  return pending;
}

async function bootstrapLocked(db: SqlSession): Promise<{ ran: string[]; already: boolean }> {
  const s = await statusOf(db);
  if (s.bootstrapped) return { ran: [], already: true };
  await db.exec(META);
  return { ran: await runPending(db, s.pending), already: false };
}

/** A new database: the bookkeeping table and every migration. Refused on a bootstrapped one. */
export function bootstrap(db: SqlClient): Promise<{ ran: string[]; already: boolean }> {
  return db.exclusive(SCHEMA_LOCK, bootstrapLocked);
}

/** The migrations not run yet on a bootstrapped database. */
export function up(db: SqlClient): Promise<{ ran: string[]; bootstrapped: boolean }> {
  return db.exclusive(SCHEMA_LOCK, async (s) => {
    const st = await statusOf(s);
    if (!st.bootstrapped) return { ran: [], bootstrapped: false };
    return { ran: await runPending(s, st.pending), bootstrapped: true };
  });
}

/**
 * A gateway's start: a new database is bootstrapped (unless `autoBootstrap`
 * is false), one with pending migrations refused. Checked and bootstrapped
 * under one hold of the lock, so concurrent starters never both create it.
 */
export function ensureSchema(db: SqlClient, autoBootstrap = true): Promise<void> {
  return db.exclusive(SCHEMA_LOCK, async (s) => {
    const st = await statusOf(s);
    if (!st.bootstrapped) {
      if (!autoBootstrap) throw new DatabaseError(NEEDS_BOOTSTRAP);
      await bootstrapLocked(s);
    } else if (st.pending.length) throw new DatabaseError(`${NEEDS_UP} (pending: ${st.pending.join(', ')})`);
  });
}
