/**
 * The one small interface the entity store talks to: PGlite (embedded,
 * in-process PostgreSQL) and a PostgreSQL server (`postgres://`, host/db/postgres.ts)
 * implement it, and the store's SQL is plain PostgreSQL for both.
 */
import type { DatabaseLimits } from '../limits.js';

export interface SqlRunner {
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<{ rows: T[] }>;
  /** several statements, no parameters */
  exec(sql: string): Promise<void>;
}

/** a LISTEN subscription; `close` ends it */
export interface Notifications {
  close(): Promise<void>;
}

/** statements and transactions (the whole client, or the one connection holding a lock) */
export interface SqlSession extends SqlRunner {
  /** runs fn in one transaction: committed when it resolves, rolled back when it throws */
  transaction<T>(fn: (tx: SqlRunner) => Promise<T>): Promise<T>;
}

export interface SqlClient extends SqlSession {
  /**
   * Runs fn while holding the lock `key` across every process using the
   * database (a server: a session advisory lock, waited for; embedded: one
   * process owns the database, so fn just runs). fn's statements run on
   * the connection holding the lock.
   */
  exclusive<T>(key: number, fn: (session: SqlSession) => Promise<T>): Promise<T>;
  close(): Promise<void>;
  /** where the data lives, for logs (never a password) */
  readonly location: string;
  /** other processes may write to the same database (a server): changes must be looked for */
  readonly shared: boolean;
  /**
   * Server only: NOTIFY payloads on `channel`, on a connection of its own.
   * `lost` is called once when that connection goes; listen again to resume.
   */
  listen?(channel: string, on: { notify(payload: string): void; lost(err: Error): void }): Promise<Notifications>;
}

export class DatabaseError extends Error {}

/** The server cannot be reached (refused, dropped, timed out): the operation may succeed later. */
export class DatabaseUnreachable extends DatabaseError {}

const isServerUrl = (location: string) => /^postgres(ql)?:\/\//i.test(location);

/**
 * `postgres://...` (a server, within `limits`), `memory://` (gone at exit)
 * or a directory (created when missing).
 */
export async function openDatabase(location: string, limits?: DatabaseLimits): Promise<SqlClient> {
  if (isServerUrl(location)) {
    const { openPostgres } = await import('./postgres.js');
    return openPostgres(location, limits);
  }
  const { PGlite } = await import('@electric-sql/pglite');
  let db: InstanceType<typeof PGlite>;
  try {
    db = await PGlite.create(location === 'memory://' ? 'memory://' : location);
  } catch (e) {
    throw new DatabaseError(`cannot open the database at ${location}: ${(e as Error).message}`);
  }
  const runner = (r: { query: typeof db.query; exec: typeof db.exec }): SqlRunner => ({
    query: async <T>(sql: string, params?: unknown[]) => ({ rows: (await r.query<T>(sql, params)).rows }),
    exec: async (sql: string) => {
      await r.exec(sql);
    },
  });
  const client: SqlClient = {
    ...runner(db),
    location,
    shared: false,
    transaction: (fn) => db.transaction((tx) => fn(runner(tx))),
    exclusive: (_key, fn) => fn(client),
    close: () => db.close(),
  };
  return client;
}
