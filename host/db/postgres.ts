/**
 * A PostgreSQL server behind the SqlClient interface (`postgres://` URLs),
 * with the `pg` package: a small pool for reads and writes, each transaction
 * on one pooled connection, and a dedicated connection for LISTEN. Errors
 * keep PostgreSQL's `code` and `detail` (the store turns 23505 into Kong's
 * 409); losing the server is reported as DatabaseUnreachable.
 */
import pg from 'pg';
import { DATABASE_LIMITS, type DatabaseLimits } from '../limits.js';
import { DatabaseError, DatabaseUnreachable, type Notifications, type SqlClient, type SqlRunner } from './sql.js';

/** the URL as logs may show it: the password replaced */
export function maskPassword(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return url.replace(/(\/\/[^:/@]*:)[^@]*@/, '$1***@');
  }
}

// connection failures (node), PostgreSQL's class 08 and the server shutting down or starting
const LOST_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', '57P01', '57P02', '57P03']);
const LOST_MESSAGES = /Connection terminated|timeout exceeded when trying to connect|Query read timeout|Client has encountered a connection error|not queryable|Connection is closed|connect ECONNREFUSED/i;

/** Did this error come from losing (or never reaching) the server, rather than from the statement? */
export function isConnectionLoss(e: unknown): boolean {
  if (e instanceof DatabaseUnreachable) return true;
  const err = e as { code?: unknown; message?: unknown; errors?: unknown[] };
  if (typeof err?.code === 'string' && (LOST_CODES.has(err.code) || err.code.startsWith('08'))) return true;
  // AggregateError: every address of localhost refused
  if (Array.isArray(err?.errors) && err.errors.length && err.errors.every(isConnectionLoss)) return true;
  return typeof err?.message === 'string' && LOST_MESSAGES.test(err.message);
}

function describe(e: unknown): string {
  const err = e as { message?: string; code?: string; errors?: Array<{ message?: string }> };
  return err?.message || err?.errors?.[0]?.message || err?.code || String(e);
}

const classify = (location: string) => (e: unknown): unknown =>
  isConnectionLoss(e) ? new DatabaseUnreachable(`the database at ${location} is unreachable: ${describe(e)}`, { cause: e }) : e;

const runner = (c: pg.ClientBase, wrap: (e: unknown) => unknown): SqlRunner => ({
  query: async <T>(sql: string, params?: unknown[]) => {
    try {
      return { rows: (await c.query(sql, params)).rows as T[] };
    } catch (e) {
      throw wrap(e);
    }
  },
  exec: async (sql: string) => {
    try {
      await c.query(sql);
    } catch (e) {
      throw wrap(e);
    }
  },
});

const ignore = () => undefined;

/** BEGIN, fn, COMMIT on one connection (ROLLBACK when fn throws); `broken` learns of a connection left unusable */
async function inTransaction<T>(c: pg.ClientBase, wrap: (e: unknown) => unknown, fn: (tx: SqlRunner) => Promise<T>, broken: { err?: unknown }): Promise<T> {
  try {
    await c.query('BEGIN');
    const r = await fn(runner(c, wrap));
    await c.query('COMMIT');
    return r;
  } catch (e) {
    if (isConnectionLoss(e)) broken.err = e;
    else await c.query('ROLLBACK').catch((err) => (broken.err = err));
    throw wrap(e);
  }
}

/** Connects (one round trip checks the server answers); throws DatabaseUnreachable when it does not. */
export async function openPostgres(url: string, limits: DatabaseLimits = DATABASE_LIMITS): Promise<SqlClient> {
  const location = maskPassword(url);
  const wrap = classify(location);
  const config: pg.ClientConfig = {
    connectionString: url,
    connectionTimeoutMillis: limits.connect_timeout_ms,
    statement_timeout: limits.statement_timeout_ms,
    // a server that stops answering (paused, network gone) must not hold a change forever
    query_timeout: limits.statement_timeout_ms + limits.connect_timeout_ms,
    keepAlive: true,
    // a peer gone without a word (network cut) is noticed by the LISTEN connection within about a minute, not hours
    keepAliveInitialDelayMillis: 10_000,
    application_name: 'datakit',
  };
  const pool = new pg.Pool({ ...config, max: limits.pool_size, idleTimeoutMillis: 30_000 });
  // an idle connection that dies is dropped by the pool; the next query reports the outage
  pool.on('error', ignore);
  try {
    await pool.query('SELECT 1');
  } catch (e) {
    await pool.end().catch(ignore);
    const w = wrap(e);
    throw w instanceof DatabaseError ? w : new DatabaseError(`cannot open the database at ${location}: ${describe(e)}`, { cause: e });
  }
  const pooled = runner(pool as unknown as pg.ClientBase, wrap);

  /** one pooled connection for fn; closed rather than reused when left in an unknown state */
  const withConnection = async <T>(fn: (client: pg.PoolClient, broken: { err?: unknown }) => Promise<T>): Promise<T> => {
    let client: pg.PoolClient;
    try {
      client = await pool.connect();
    } catch (e) {
      throw wrap(e);
    }
    // a checked-out connection that dies emits 'error': without a listener that would crash the process
    client.on('error', ignore);
    const broken: { err?: unknown } = {};
    try {
      return await fn(client, broken);
    } finally {
      client.removeListener('error', ignore);
      client.release(broken.err ? (broken.err as Error) : undefined);
    }
  };

  return {
    ...pooled,
    location,
    shared: true,
    transaction: (fn) => withConnection((client, broken) => inTransaction(client, wrap, fn, broken)),
    exclusive: (key, fn) =>
      withConnection(async (client, broken) => {
        try {
          await client.query('SELECT pg_advisory_lock($1::bigint)', [key]);
        } catch (e) {
          broken.err = e;
          if ((e as { code?: string }).code === '57014') {
            throw new DatabaseError(
              `another process held the database's schema lock for more than ${limits.statement_timeout_ms} ms (statement_timeout_ms): a migration still running elsewhere?`,
              { cause: e },
            );
          }
          throw wrap(e);
        }
        const session = { ...runner(client, wrap), transaction: <T>(f: (tx: SqlRunner) => Promise<T>) => inTransaction(client, wrap, f, broken) };
        try {
          return await fn(session);
        } finally {
          // a connection that could not unlock is closed, which unlocks
          if (!broken.err) await client.query('SELECT pg_advisory_unlock($1::bigint)', [key]).catch((e) => (broken.err = e));
        }
      }),
    async listen(channel, on): Promise<Notifications> {
      const client = new pg.Client(config);
      let closed = false;
      // before LISTEN is on, a failure is the rejection below, not `lost`
      let ready = false;
      const lost = (e: unknown) => {
        if (closed || !ready) return;
        closed = true;
        client.end().catch(ignore);
        on.lost(wrap(e) as Error);
      };
      client.on('error', lost);
      client.on('end', () => lost(new Error('Connection terminated')));
      client.on('notification', (n) => {
        if (n.channel === channel) on.notify(n.payload ?? '');
      });
      try {
        await client.connect();
        await client.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
        ready = true;
      } catch (e) {
        closed = true;
        await client.end().catch(ignore);
        throw wrap(e);
      }
      return {
        close: async () => {
          if (closed) return;
          closed = true;
          await client.end().catch(ignore);
        },
      };
    },
    close: () => pool.end(),
  };
}
