/**
 * Starts a real, throw-away PostgreSQL server on a free loopback port:
 * `initdb` into a temporary directory, then `postgres` with durability off
 * (the data is thrown away). Fails (never skips) when PostgreSQL is not
 * installed.
 *
 * PostgreSQL refuses to run as root, so as root the server runs as Debian's
 * `postgres` user (spawned with its uid/gid rather than through runuser, so
 * that the child's pid is the postmaster's own and signals reach it).
 *
 * Plain JavaScript so that the benchmarks (bench/cluster.js) start the same
 * server as the tests; test/helpers/postgres.ts gives it its types.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';

/** A free TCP port on 127.0.0.1. */
function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** Debian keeps the server binaries in /usr/lib/postgresql/<version>/bin, off PATH. */
function findBinDir() {
  const debian = '/usr/lib/postgresql';
  if (fs.existsSync(debian)) {
    const versions = fs
      .readdirSync(debian)
      .filter((v) => fs.existsSync(path.join(debian, v, 'bin', 'postgres')) && fs.existsSync(path.join(debian, v, 'bin', 'initdb')))
      .sort((a, b) => Number(b) - Number(a));
    if (versions.length) return path.join(debian, versions[0], 'bin');
  }
  const which = spawnSync('sh', ['-c', 'command -v initdb'], { encoding: 'utf8' });
  const initdb = which.status === 0 ? which.stdout.trim() : '';
  if (initdb) {
    const dir = path.dirname(fs.realpathSync(initdb));
    if (fs.existsSync(path.join(dir, 'postgres'))) return dir;
  }
  throw new Error(
    'PostgreSQL server binaries (initdb, postgres) not found in /usr/lib/postgresql/*/bin or on PATH: ' +
      'apt-get install -y postgresql (test/setup/system-packages.ts installs it as root)',
  );
}

/** As root: the `postgres` user's ids; otherwise run as ourselves. */
/** @returns {{ uid?: number, gid?: number }} */
function serverUser() {
  if (process.getuid?.() !== 0) return {};
  const uid = spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' });
  const gid = spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' });
  if (uid.status !== 0 || gid.status !== 0) {
    throw new Error('running as root, and PostgreSQL refuses root: a `postgres` user is needed (Debian\'s postgresql package creates it)');
  }
  return { uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

/** Servers still running when the test process exits are killed and their directories removed. */
/** @type {Set<{ pid: () => number | undefined, dir: string }>} */
const live = new Set();
let exitHookInstalled = false;
function installExitHook() {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const s of live) {
      const pid = s.pid();
      if (pid) {
        try {
          process.kill(-pid, 'SIGKILL');
        } catch {
          /* gone */
        }
      }
      fs.rmSync(s.dir, { recursive: true, force: true });
    }
  });
}

function groupAlive(pgid) {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * @param {{ port?: number, settings?: Record<string, string | number>, readyTimeoutMs?: number }} [options]
 *   port: reuse a given port; settings: extra `-c name=value`; readyTimeoutMs: how long to wait for connections
 */
export async function startPostgres(options = {}) {
  const bin = findBinDir();
  const user = serverUser();
  const port = options.port ?? (await freePort());
  const readyTimeoutMs = options.readyTimeoutMs ?? 20_000;

  // the temporary directory holds the data directory and the unix socket; both owned by the server's user
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'datakit-pg-'));
  const dataDir = path.join(dir, 'data');
  if (user.uid !== undefined) fs.chownSync(dir, user.uid, user.gid);
  const spawnOpts = { ...user, cwd: dir, env: { ...process.env, LC_ALL: 'C', LANG: 'C' } };

  const init = spawnSync(
    path.join(bin, 'initdb'),
    ['-D', dataDir, '--auth=trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8', '--locale=C'],
    { ...spawnOpts, encoding: 'utf8', timeout: 60_000 },
  );
  if (init.error || init.status !== 0) {
    fs.rmSync(dir, { recursive: true, force: true });
    throw new Error(`initdb failed (${init.error?.message ?? `exit ${init.status}`}):\n${init.stdout}${init.stderr}`);
  }

  const settings = {
    listen_addresses: '127.0.0.1',
    // fsync off: the data is thrown away; commits still reach the WAL before they return, so a SIGKILL loses nothing committed
    fsync: 'off',
    full_page_writes: 'off',
    shared_buffers: '16MB',
    max_connections: 100,
    ...options.settings,
  };
  const args = ['-D', dataDir, '-p', String(port), '-h', '127.0.0.1', '-k', dir];
  for (const [k, v] of Object.entries(settings)) args.push('-c', `${k}=${v}`);

  /** @type {import('node:child_process').ChildProcess | undefined} */
  let child;
  let exited = true;
  let exitPromise = Promise.resolve();
  let output = '';
  const record = { pid: () => (exited ? undefined : child?.pid), dir };
  live.add(record);
  installExitHook();

  async function waitGone(pgid) {
    await exitPromise;
    // backends outlive a killed postmaster briefly; a new postmaster refuses to start while they hold the old shared memory
    const deadline = Date.now() + 10_000;
    while (pgid && groupAlive(pgid) && Date.now() < deadline) await sleep(20);
  }

  async function ready() {
    const r = await new Promise((resolve) => {
      const p = spawn(path.join(bin, 'pg_isready'), ['-q', '-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', '-t', '1'], { stdio: 'ignore' });
      p.on('error', () => resolve(null));
      p.on('exit', (code) => resolve(code));
    });
    return r === 0;
  }

  async function launch() {
    output = '';
    // its own process group: kill() reaches the postmaster and all its backends at once
    const c = spawn(path.join(bin, 'postgres'), args, { ...spawnOpts, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    child = c;
    exited = false;
    c.stdout.on('data', (d) => (output += d));
    c.stderr.on('data', (d) => (output += d));
    exitPromise = new Promise((resolve) => c.once('exit', () => ((exited = true), resolve())));
    c.on('error', (e) => (output += `spawn error: ${e.message}\n`));
    const deadline = Date.now() + readyTimeoutMs;
    for (;;) {
      if (exited) throw new Error(`postgres exited during startup on port ${port}:\n${output}`);
      if (await ready()) return;
      if (Date.now() > deadline) {
        killGroup();
        throw new Error(`postgres did not accept connections on port ${port} within ${readyTimeoutMs} ms:\n${output}`);
      }
      await sleep(50);
    }
  }

  function killGroup() {
    if (!child?.pid) return;
    try {
      process.kill(-child.pid, 'SIGKILL');
    } catch {
      /* already gone */
    }
  }

  async function shutdown() {
    const pgid = child?.pid;
    if (!exited && child) {
      child.kill('SIGINT'); // fast shutdown: disconnects clients instead of waiting for them
      const t = setTimeout(killGroup, 5000);
      await exitPromise;
      clearTimeout(t);
    }
    await waitGone(pgid);
  }

  try {
    await launch();
  } catch (e) {
    live.delete(record);
    fs.rmSync(dir, { recursive: true, force: true });
    throw e;
  }

  return {
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    port,
    dataDir,
    kill() {
      if (!exited) killGroup();
    },
    async restart() {
      await shutdown();
      await launch();
    },
    async stop() {
      await shutdown();
      live.delete(record);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
