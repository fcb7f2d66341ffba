// Shared benchmark plumbing: forked server processes, the datakit CLI in
// cluster mode, nginx, autocannon runs, medians.
import { fork, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync, mkdirSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const SERVERS = fileURLToPath(new URL('./servers.js', import.meta.url));
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export const settings = () => {
  const quick = process.env.BENCH_QUICK === '1';
  return {
    quick,
    duration: Number(process.env.BENCH_DURATION ?? (quick ? 2 : 10)),
    runs: Number(process.env.BENCH_RUNS ?? (quick ? 1 : 3)),
    connections: Number(process.env.BENCH_CONNECTIONS ?? 50),
    warmup: quick ? 1 : 2,
  };
};

const children = new Set();

/** Forks bench/lib/servers.js ROLE; resolves once it listens. */
export function startRole(role, args = {}, { execArgv } = {}) {
  return new Promise((resolve, reject) => {
    const child = fork(SERVERS, [role, JSON.stringify(args)], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'], ...(execArgv ? { execArgv } : {}) });
    children.add(child);
    const onExit = (code) => reject(new Error(`${role} exited with ${code} before listening`));
    child.once('exit', onExit);
    child.once('message', (m) => {
      child.off('exit', onExit);
      child.once('exit', () => children.delete(child));
      resolve({ kind: 'node', role, pid: child.pid, port: m.port, url: `http://127.0.0.1:${m.port}`, stop: () => kill(child) });
    });
  });
}

function kill(child) {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), 3000).unref();
  });
}

/** A free TCP port on 127.0.0.1 (for processes that need a fixed port). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** Polls url until it answers 200 (or gives up). */
export async function waitFor(url, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    try {
      const r = await fetch(url);
      await r.arrayBuffer();
      if (r.status === 200) return;
      last = `status ${r.status}`;
    } catch (e) {
      last = e.message;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${url} not ready after ${timeoutMs} ms (${last})`);
}

/**
 * The gateway through the real CLI: `node bin/datakit.js serve --config FILE
 * --proxy-listen ... --admin-listen ... --workers N` (access log off, log
 * level warn); ready when the admin GET /status answers 200.
 */
export async function startCli(doc, workers) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'datakit-bench-'));
  const file = path.join(dir, 'kong.json');
  writeFileSync(file, JSON.stringify(doc));
  const proxyPort = await freePort();
  const adminPort = await freePort();
  const child = spawn(
    process.execPath,
    [
      path.join(ROOT, 'bin/datakit.js'),
      'serve',
      '--config', file,
      '--proxy-listen', `127.0.0.1:${proxyPort}`,
      '--admin-listen', `127.0.0.1:${adminPort}`,
      '--workers', String(workers),
      '--no-access-log',
      '--log-level', 'warn',
    ],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  children.add(child);
  child.once('exit', () => children.delete(child));
  const exited = new Promise((_, reject) => child.once('exit', (c) => reject(new Error(`datakit serve exited with ${c}`))));
  exited.catch(() => {});
  await Promise.race([waitFor(`http://127.0.0.1:${adminPort}/status`), exited]);
  return {
    kind: 'cli',
    pid: child.pid,
    port: proxyPort,
    url: `http://127.0.0.1:${proxyPort}`,
    stop: async () => {
      await kill(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Path of Debian's nginx, or undefined. */
export function findNginx() {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (dir && existsSync(path.join(dir, 'nginx'))) return path.join(dir, 'nginx');
  }
  return existsSync('/usr/sbin/nginx') ? '/usr/sbin/nginx' : undefined;
}

/**
 * nginx as a reverse proxy in the foreground with a temp prefix: keep-alive
 * upstream pool, access_log off, one worker process (the single-process
 * gateway's peer).
 */
export async function startNginx(bin, upstreamPort) {
  const prefix = mkdtempSync(path.join(os.tmpdir(), 'datakit-bench-nginx-'));
  mkdirSync(path.join(prefix, 'logs'));
  const port = await freePort();
  const conf = `
${process.getuid?.() === 0 ? 'user root;' : ''}
worker_processes 1;
daemon off;
pid ${prefix}/nginx.pid;
error_log stderr error;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${prefix}/client_body;
  proxy_temp_path ${prefix}/proxy;
  fastcgi_temp_path ${prefix}/fastcgi;
  uwsgi_temp_path ${prefix}/uwsgi;
  scgi_temp_path ${prefix}/scgi;
  keepalive_timeout 65s;
  keepalive_requests 1000000;
  upstream bench_upstream {
    server 127.0.0.1:${upstreamPort};
    keepalive 128;
    keepalive_requests 1000000;
    keepalive_timeout 60s;
  }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://bench_upstream;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering on;
    }
  }
}
`;
  writeFileSync(path.join(prefix, 'nginx.conf'), conf);
  const child = spawn(bin, ['-p', prefix, '-c', path.join(prefix, 'nginx.conf'), '-e', 'stderr'], { stdio: ['ignore', 'ignore', 'inherit'] });
  children.add(child);
  child.once('exit', () => children.delete(child));
  const exited = new Promise((_, reject) => child.once('exit', (c) => reject(new Error(`nginx exited with ${c}`))));
  exited.catch(() => {});
  await Promise.race([waitFor(`http://127.0.0.1:${port}/`), exited]);
  // nginx -v prints to stderr
  const v = spawnSync(bin, ['-v'], { encoding: 'utf8' });
  const version = `${v.stdout ?? ''}${v.stderr ?? ''}`.trim();
  return {
    kind: 'nginx',
    pid: child.pid,
    port,
    url: `http://127.0.0.1:${port}`,
    version,
    stop: async () => {
      await kill(child);
      rmSync(prefix, { recursive: true, force: true });
    },
  };
}

/** Stops every process started here (by the pids we started). */
export async function stopAll() {
  await Promise.all([...children].map((c) => kill(c)));
}

/** One autocannon run over keep-alive connections; errors = socket errors/timeouts + non-2xx.
 * `rate` (optional) caps the total requests per second. */
export async function drive(url, duration, connections, rate) {
  const { default: autocannon } = await import('autocannon');
  const r = await autocannon({ url, connections, duration, pipelining: 1, ...(rate ? { overallRate: rate } : {}) });
  return {
    rps: r.requests.average,
    p50: r.latency.p50,
    p99: r.latency.p99,
    errors: r.errors + (r.non2xx ?? 0),
    requests: r.requests.total,
  };
}

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

export function summarize(rs) {
  return {
    rps: Math.round(median(rs.map((r) => r.rps))),
    p50: median(rs.map((r) => r.p50)),
    p99: median(rs.map((r) => r.p99)),
    errors: rs.reduce((a, r) => a + r.errors, 0),
    requests: rs.reduce((a, r) => a + r.requests, 0),
  };
}

export function machine() {
  const cpus = os.cpus();
  return { nproc: cpus.length, model: cpus[0]?.model ?? 'unknown', node: process.version, platform: `${os.type()} ${os.release()}` };
}
