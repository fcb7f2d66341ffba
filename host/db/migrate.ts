/** `datakit migrations bootstrap|up|status`, as `kong migrations`: which schema migrations ran, and running the rest. */
import { MIGRATIONS } from './migrations/index.js';
import type { SqlClient } from './sql.js';

export interface MigrationStatus {
  bootstrapped: boolean;
  executed: string[];
  pending: string[];
}

const META = `CREATE TABLE IF NOT EXISTS schema_migrations (
  name text PRIMARY KEY,
  executed_at timestamptz NOT NULL DEFAULT now())`;

export async function migrationStatus(db: SqlClient): Promise<MigrationStatus> {
  const t = await db.query<{ n: string | null }>(`SELECT to_regclass('schema_migrations')::text AS n`);
  if (!t.rows[0]?.n) return { bootstrapped: false, executed: [], pending: MIGRATIONS.map((m) => m.name) };
  const done = new Set((await db.query<{ name: string }>('SELECT name FROM schema_migrations ORDER BY name')).rows.map((r) => r.name));
  return { bootstrapped: true, executed: [...done], pending: MIGRATIONS.filter((m) => !done.has(m.name)).map((m) => m.name) };
}

/** Runs the pending migrations, each in its own transaction; returns their names. */
async function runPending(db: SqlClient, pending: string[]): Promise<string[]> {
  for (const name of pending) {
    const m = MIGRATIONS.find((x) => x.name === name)!;
    await db.transaction(async (tx) => {
      await tx.exec(m.up);
      await tx.query('INSERT INTO schema_migrations (name) VALUES ($1)', [m.name]);
    });
  }
  return pending;
}

/** A new database: the bookkeeping table and every migration. Refused on a bootstrapped one. */
export async function bootstrap(db: SqlClient): Promise<{ ran: string[]; already: boolean }> {
  const s = await migrationStatus(db);
  if (s.bootstrapped) return { ran: [], already: true };
  await db.exec(META);
  return { ran: await runPending(db, s.pending), already: false };
}

/** The migrations not run yet on a bootstrapped database. */
export async function up(db: SqlClient): Promise<{ ran: string[]; bootstrapped: boolean }> {
  const s = await migrationStatus(db);
  if (!s.bootstrapped) return { ran: [], bootstrapped: false };
  return { ran: await runPending(db, s.pending), bootstrapped: true };
}

export const NEEDS_BOOTSTRAP = "Database needs bootstrapping; run 'datakit migrations bootstrap'";
export const NEEDS_UP = "New migrations available; run 'datakit migrations up' to proceed";
