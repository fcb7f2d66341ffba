/**
 * The throw-away PostgreSQL server the cluster tests run against: it answers
 * SQL, kill() takes it away at once, restart() brings back the same data on
 * the same port, stop() removes its directory.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { startPostgres } from '../helpers/postgres.js';

function psql(url: string, sql: string): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile('psql', [url, '-X', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-c', sql], { timeout: 10_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? 1 : 0, out: (stdout + stderr).trim() });
    });
  });
}

describe('startPostgres', () => {
  it('serves SQL, survives kill + restart with its data, and removes its directory at stop', async () => {
    const pg = await startPostgres();
    try {
      expect(pg.url).toBe(`postgres://postgres@127.0.0.1:${pg.port}/postgres`);
      expect(fs.existsSync(pg.dataDir)).toBe(true);
      expect(await psql(pg.url, 'create table t (v text); insert into t values (\'kept\')')).toMatchObject({ code: 0 });

      pg.kill();
      const down = await psql(pg.url, 'select 1');
      expect(down.code).toBe(1);
      expect(down.out).toMatch(/connect|refused/i);

      await pg.restart();
      expect(await psql(pg.url, 'select v from t')).toEqual({ code: 0, out: 'kept' });

      // a restart of a running server is a clean stop and start
      await pg.restart();
      expect(await psql(pg.url, 'select count(*) from t')).toEqual({ code: 0, out: '1' });
    } finally {
      await pg.stop();
    }
    expect(fs.existsSync(pg.dataDir)).toBe(false);
    expect((await psql(pg.url, 'select 1')).code).toBe(1);
  });
});
