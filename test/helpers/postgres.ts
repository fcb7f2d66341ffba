/**
 * A real, throw-away PostgreSQL server for the tests (the implementation,
 * shared with the benchmarks, is postgres-server.js).
 */
import pg from 'pg';
import { startPostgres as start } from './postgres-server.js';

export interface PostgresHandle {
  /** `postgres://postgres@127.0.0.1:PORT/postgres` */
  url: string;
  port: number;
  /** the data directory (removed by stop()) */
  dataDir: string;
  /** fast shutdown, then the directory is removed */
  stop(): Promise<void>;
  /** SIGKILL to the postmaster and every backend: the database is gone at once (outage tests) */
  kill(): void;
  /** stops the server if it runs (or waits for a killed one to be gone), then starts it again on the same port with the same data */
  restart(): Promise<void>;
}

export interface StartPostgresOptions {
  /** reuse a given port */
  port?: number;
  /** extra `-c name=value` settings */
  settings?: Record<string, string | number>;
  /** how long to wait for the server to accept connections (ms) */
  readyTimeoutMs?: number;
}

export const startPostgres: (options?: StartPostgresOptions) => Promise<PostgresHandle> = start;

/** Runs one statement on `url` over its own connection (as the server's superuser in the tests); its rows. */
export async function sql<T = Record<string, unknown>>(url: string, text: string, params?: unknown[]): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(text, params)).rows as T[];
  } finally {
    await client.end();
  }
}
