/**
 * The one small interface the entity store talks to. PGlite (embedded,
 * in-process PostgreSQL) implements it today; a PostgreSQL server client can
 * implement the same three calls, and the store's SQL is plain PostgreSQL.
 */
export interface SqlRunner {
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<{ rows: T[] }>;
  /** several statements, no parameters */
  exec(sql: string): Promise<void>;
}

export interface SqlClient extends SqlRunner {
  /** runs fn in one transaction: committed when it resolves, rolled back when it throws */
  transaction<T>(fn: (tx: SqlRunner) => Promise<T>): Promise<T>;
  close(): Promise<void>;
  /** where the data lives, for logs (never a password) */
  readonly location: string;
}

export class DatabaseError extends Error {}

/** `memory://` (gone at exit) or a directory (created when missing). */
export async function openDatabase(location: string): Promise<SqlClient> {
  if (/^postgres(ql)?:\/\//i.test(location)) {
    throw new DatabaseError('a PostgreSQL server database (postgres://...) is not available yet: use a directory (embedded database) or memory://');
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
  return {
    ...runner(db),
    location,
    transaction: (fn) => db.transaction((tx) => fn(runner(tx))),
    close: () => db.close(),
  };
}
