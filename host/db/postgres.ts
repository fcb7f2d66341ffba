/**
 * A PostgreSQL server behind the SqlClient interface (`postgres://` URLs),
 * with the `pg` package: a small pool for reads and writes, each transaction
 * on one pooled connection, and a dedicated connection for LISTEN. Errors
 * keep PostgreSQL's `code` and `detail` (the store turns 23505 into Kong's
 * 409); losing the server is reported as DatabaseUnreachable.
 */
import pg from 'pg';
import { DATABASE_LIMITS } from '../limits.js';
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

/** Connects (one round trip checks the server answers); throws DatabaseUnreachable when it does not. */
export async function openPostgres(url: string): Promise<SqlClient> {
  const location = maskPassword(url);
  const wrap = classify(location);
  const config: pg.ClientConfig = {
    connectionString: url,
    connectionTimeoutMillis: DATABASE_LIMITS.connect_timeout_ms,
    statement_timeout: DATABASE_LIMITS.statement_timeout_ms,
    // a server that stops answering (paused, network gone) must not hold a change forever
    query_timeout: DATABASE_LIMITS.statement_timeout_ms + DATABASE_LIMITS.connect_timeout_ms,
    keepAlive: true,
    // a peer gone without a word (network cut) is noticed by the LISTEN connection within about a minute, not hours
    keepAliveInitialDelayMillis: 10_000,
    application_name: 'datakit',
  };
  const pool = new pg.Pool({ ...config, max: DATABASE_LIMITS.pool_size, idleTimeoutMillis: 30_000 });
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

  return {
    ...pooled,
    location,
    shared: true,
    async transaction(fn) {
      let client: pg.PoolClient;
      try {
        client = await pool.connect();
      } catch (e) {
        throw wrap(e);
      }
      // a checked-out connection that dies emits 'error': without a listener that would crash the process
      client.on('error', ignore);
      let broken: unknown;
      try {
        await client.query('BEGIN');
        const r = await fn(runner(client, wrap));
        await client.query('COMMIT');
        return r;
      } catch (e) {
        if (isConnectionLoss(e)) broken = e;
        else await client.query('ROLLBACK').catch((err) => (broken = err));
        throw wrap(e);
      } finally {
        client.removeListener('error', ignore);
        // a connection in an unknown state is closed rather than reused
        client.release(broken ? (broken as Error) : undefined);
      }
    },
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
