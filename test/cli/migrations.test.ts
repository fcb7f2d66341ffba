/** `datakit migrations`, `datakit config db_import/db_export` and `serve --database`, run as real processes. */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildHost, exited, freePort, runCli, serve, waitReady } from '../helpers/cli.js';
import { call, gateway } from '../gateway/helpers.js';
import { sql, startPostgres } from '../helpers/postgres.js';

let dir: string;
beforeAll(() => {
  buildHost();
  dir = mkdtempSync(join(tmpdir(), 'dk-migrations-'));
}, 150_000);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const ID = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;

/** services, routes, plugins (a datakit flow among them), consumers with credentials and groups, partials, vaults, upstreams */
const RICH = {
  _format_version: '3.0',
  settings: { limits: { jq_steps: 500000 } },
  vaults: [{ id: ID(1), name: 'env', prefix: 'my-env', config: { prefix: 'APP_' }, tags: ['infra'] }],
  partials: [{ id: ID(2), name: 'shared-redis', type: 'redis-ee', config: { host: '127.0.0.1', port: 6390, database: 2 } }],
  services: [
    {
      id: ID(3),
      name: 'orders',
      url: 'http://127.0.0.1:9/api',
      tags: ['team-a'],
      routes: [
        {
          id: ID(4),
          name: 'orders-flow',
          paths: ['/orders'],
          plugins: [
            {
              id: ID(5),
              name: 'datakit',
              instance_name: 'cache-orders',
              partials: [{ id: ID(2) }],
              config: {
                resources: { cache: { strategy: 'redis' } },
                nodes: [
                  { name: 'KEY', type: 'jq', input: 'request.query', jq: '"k:" + (.k // "none")' },
                  { name: 'LOOKUP', type: 'cache', inputs: { key: 'KEY' } },
                  { name: 'DONE', type: 'exit', status: 200, inputs: { body: 'LOOKUP.data' } },
                ],
              },
            },
          ],
        },
        { id: ID(6), name: 'orders-api', paths: ['/api/orders'], methods: ['GET', 'POST'], strip_path: false },
      ],
      plugins: [
        { id: ID(7), name: 'request-transformer', config: { add: { headers: ['Authorization:Bearer {vault://my-env/backend-token}', 'X-Env:{vault://env/shared}'] } } },
      ],
    },
  ],
  upstreams: [{ id: ID(8), name: 'pool', targets: [{ id: ID(9), target: '127.0.0.1:9001', weight: 50 }] }],
  consumer_groups: [{ id: ID(10), name: 'gold' }],
  consumers: [
    { id: ID(11), username: 'alice', keyauth_credentials: [{ id: ID(12), key: 'alice-key' }], groups: [{ id: ID(10) }] },
    { id: ID(13), username: 'bob', custom_id: 'b-7', tags: ['beta'] },
  ],
  plugins: [
    { id: ID(14), name: 'key-auth', route: { id: ID(6) } },
    { id: ID(15), name: 'request-transformer', consumer: { id: ID(11) }, config: { add: { headers: ['X-Gold:yes'] } } },
  ],
};

describe('datakit migrations', () => {
  it('status, bootstrap, up: as kong migrations, and idempotent', async () => {
    const db = join(dir, 'm');
    let r = await runCli(['migrations', 'status', '--database', db]);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout).toBe("Database needs bootstrapping; run 'datakit migrations bootstrap'\n");
    r = await runCli(['migrations', 'up', '--database', db]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('needs bootstrapping');
    r = await runCli(['migrations', 'bootstrap', '--database', db]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('Bootstrapping database...\nmigrating 001_entities\nmigrating 002_config_version\n2 migration(s) executed\nDatabase is up-to-date\n');
    r = await runCli(['migrations', 'bootstrap', '--database', db]);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe('Database already bootstrapped\n');
    for (let i = 0; i < 2; i++) {
      r = await runCli(['migrations', 'up', '--database', db]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toBe('Database is already up-to-date\n');
    }
    r = await runCli(['migrations', 'status'], undefined, { ...process.env, DATAKIT_DATABASE: db });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe('Executed migrations:\n  001_entities\n  002_config_version\nDatabase is up-to-date\n');
    r = await runCli(['migrations', 'sideways', '--database', db]);
    expect(r.code).toBe(2);
  }, 240_000);
});

describe('datakit config db_import / db_export', () => {
  it('round trip: the export is what the file loads to, and importing the export exports it again byte for byte', async () => {
    const file = join(dir, 'rich.json');
    writeFileSync(file, JSON.stringify(RICH));
    const db1 = join(dir, 'db1');
    let r = await runCli(['config', 'db_import', file, '--database', db1]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('import successful');
    const first = join(dir, 'first.json');
    r = await runCli(['config', 'db_export', first, '--database', db1]);
    expect(r.code, r.stderr).toBe(0);
    const exported = JSON.parse(readFileSync(first, 'utf8'));

    // what the same file loads to without a database (DB-less), as GET /config shows it
    const gw = await gateway(RICH);
    try {
      expect(exported).toEqual((await call(gw.adminUrl, '/config?format=json')).json);
    } finally {
      await gw.close();
    }
    expect(exported.plugins.map((p: { id: string }) => p.id).sort()).toEqual([ID(5), ID(7), ID(14), ID(15)]);
    expect(exported.plugins.find((p: { id: string }) => p.id === ID(5)).partials).toEqual([{ id: ID(2), name: 'shared-redis', path: 'config.resources.cache.redis' }]);
    expect(exported.consumers.find((c: { id: string }) => c.id === ID(11))).toMatchObject({ keyauth_credentials: [{ id: ID(12), key: 'alice-key' }], groups: [{ id: ID(10) }] });
    expect(exported.settings).toEqual({ limits: { jq_steps: 500000 } });
    expect(JSON.stringify(exported)).toContain('{vault://my-env/backend-token}');

    const db2 = join(dir, 'db2');
    r = await runCli(['config', 'db_import', first, '--database', db2]);
    expect(r.code, r.stderr).toBe(0);
    r = await runCli(['config', 'db_export', '--database', db2]);
    expect(r.code, r.stderr).toBe(0);
    const second = join(dir, 'second.json');
    r = await runCli(['config', 'db_export', second, '--database', db2]);
    expect(readFileSync(second, 'utf8')).toBe(readFileSync(first, 'utf8'));
  }, 240_000);

  it('an invalid file imports nothing; exporting a database never bootstrapped is refused', async () => {
    const db = join(dir, 'db3');
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ _format_version: '3.0', consumers: [{ username: 'x' }, { username: 'x' }] }));
    let r = await runCli(['config', 'db_import', bad, '--database', db]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('consumers');
    r = await runCli(['config', 'db_export', '--database', db]);
    expect(r.code, r.stdout).toBe(0);
    expect(r.stdout).toBe("_format_version: \"3.0\"\n");
    r = await runCli(['config', 'db_export', '--database', join(dir, 'never')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("Database needs bootstrapping; run 'datakit migrations bootstrap'");
  }, 240_000);
});

describe('datakit serve --database DIR', () => {
  it('a consumer created on the Admin API is there after the process is killed and started again', async () => {
    const db = join(dir, 'serve');
    const start = async () => {
      const [p, a] = [await freePort(), await freePort()];
      const g = serve(['--database', db, '--proxy-listen', `127.0.0.1:${p}`, '--admin-listen', `127.0.0.1:${a}`, '--log-level', 'warn']);
      await waitReady(`http://127.0.0.1:${a}`, g.child, 60_000);
      return { ...g, admin: `http://127.0.0.1:${a}` };
    };
    let g = await start();
    const created = await call(g.admin, '/consumers', { method: 'POST', json: { username: 'durable' } });
    expect(created.status).toBe(201);
    // no shutdown: the write was acknowledged, so it is in the database already
    g.child.kill('SIGKILL');
    await exited(g.child);
    g = await start();
    try {
      expect((await call(g.admin, '/consumers')).json.data).toEqual([created.json]);
      expect((await call(g.admin, '/')).json.configuration.database).toBe('postgres');
    } finally {
      g.child.kill('SIGTERM');
      await exited(g.child);
    }
  }, 240_000);

  it('--workers 2: the primary opens the database, every worker serves its entities', async () => {
    const db = join(dir, 'workers');
    const file = join(dir, 'guarded.json');
    writeFileSync(file, JSON.stringify({ _format_version: '3.0', routes: [{ name: 'guarded', paths: ['/guarded'], plugins: [{ name: 'key-auth' }] }] }));
    expect((await runCli(['config', 'db_import', file, '--database', db])).code).toBe(0);
    const [p, a] = [await freePort(), await freePort()];
    const g = serve(['--database', db, '--workers', '2', '--proxy-listen', `127.0.0.1:${p}`, '--admin-listen', `127.0.0.1:${a}`, '--log-level', 'warn']);
    try {
      await waitReady(`http://127.0.0.1:${a}`, g.child, 60_000);
      // new connections, spread over both workers: the route exists in each (401 from key-auth, not 404)
      for (let i = 0; i < 6; i++) {
        const r = await call(`http://127.0.0.1:${p}`, '/guarded', { headers: { connection: 'close' } });
        expect(r.status, g.output()).toBe(401);
      }
      expect((await call(`http://127.0.0.1:${a}`, '/consumers', { method: 'POST', json: { username: 'w' } })).status).toBe(201);
    } finally {
      g.child.kill('SIGTERM');
      await exited(g.child);
    }
  }, 240_000);

  it('--config and --database together are refused', async () => {
    const r = await runCli(['serve', '--config', 'examples/demo.yaml', '--database', join(dir, 'x')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('--config and --database exclude each other');
  }, 60_000);
});

describe('datakit serve --database postgres://...', () => {
  it('three serve processes started at the same moment on an empty database all become ready; two bootstraps at once: one runs, one is told', async () => {
    const server = await startPostgres();
    const ports = await Promise.all([0, 1, 2].map(async () => [await freePort(), await freePort()]));
    const gs = ports.map(([p, a]) => serve(['--database', server.url, '--proxy-listen', `127.0.0.1:${p}`, '--admin-listen', `127.0.0.1:${a}`, '--log-level', 'warn']));
    try {
      await Promise.all(gs.map((g, i) => waitReady(`http://127.0.0.1:${ports[i][1]}`, g.child, 60_000).catch((e) => Promise.reject(new Error(`${e.message}: ${g.output()}`)))));
      for (const g of gs) expect(g.output()).not.toMatch(/duplicate key|New migrations available/);
      const status = await runCli(['migrations', 'status', '--database', server.url]);
      expect(status.code).toBe(0);
      expect(status.stdout).toContain('Database is up-to-date');

      const fresh = server.url.replace(/\/[^/]*$/, '/fresh_cli');
      await sql(server.url, 'CREATE DATABASE fresh_cli');
      const runs = await Promise.all([0, 1].map(() => runCli(['migrations', 'bootstrap', '--database', fresh])));
      expect(runs.map((r) => r.code).sort()).toEqual([0, 1]);
      expect(runs.find((r) => r.code === 1)!.stderr).toBe('Database already bootstrapped\n');
    } finally {
      for (const g of gs) g.child.kill('SIGTERM');
      for (const g of gs) await exited(g.child);
      await server.stop();
    }
  }, 240_000);

  it('--workers 2: the primary listens for changes made by another gateway and hands them to every worker', async () => {
    const server = await startPostgres();
    const [p, a] = [await freePort(), await freePort()];
    const g = serve(['--database', server.url, '--workers', '2', '--db-update-frequency', '0.5', '--proxy-listen', `127.0.0.1:${p}`, '--admin-listen', `127.0.0.1:${a}`, '--log-level', 'warn']);
    const other = await gateway(undefined as never, { config: undefined, database: server.url });
    try {
      await waitReady(`http://127.0.0.1:${a}`, g.child, 60_000);
      expect((await call(`http://127.0.0.1:${a}`, '/')).json.configuration.db_update_frequency).toBe(0.5);
      // the change is made on another gateway sharing the server
      const r = await call(other.adminUrl, '/routes', { method: 'POST', json: { name: 'shared', paths: ['/shared'] } });
      expect(r.status).toBe(201);
      expect((await call(other.adminUrl, '/routes/shared/plugins', { method: 'POST', json: { name: 'key-auth' } })).status).toBe(201);
      const t0 = Date.now();
      // new connections, spread over both workers: each has the route and its plugin (401 from key-auth, not 404)
      let seen = 0;
      while (seen < 6) {
        const res = await call(`http://127.0.0.1:${p}`, '/shared', { headers: { connection: 'close' } });
        seen = res.status === 401 ? seen + 1 : 0;
        expect(Date.now() - t0, g.output()).toBeLessThan(3000);
      }
    } finally {
      await other.close();
      g.child.kill('SIGTERM');
      await exited(g.child);
      await server.stop();
    }
  }, 240_000);
});
