// `datakit serve` and the other datakit commands as real processes, for the
// database and cluster benchmarks (bench/cluster.js): any source (--config
// FILE, --database DIR, --database postgres://...), the time until it
// answers, its pid for CPU accounting.
import { execFile, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT, freePort } from './harness.js';

const BIN = path.join(ROOT, 'bin/datakit.js');
const running = new Set();

/** Runs `datakit ARGS` to completion; throws with its output when it fails. */
export function datakit(args, { timeoutMs = 600_000 } = {}) {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [BIN, ...args], { cwd: ROOT, timeout: timeoutMs, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`datakit ${args.join(' ')} failed: ${err.message}\n${stdout}${stderr}`));
      else resolve(stdout);
    });
  });
}

/**
 * Starts `datakit serve SOURCE_ARGS` on free loopback ports (access log off,
 * log level warn) and resolves once the Admin API's /status answers 200.
 * `readyMs` is the time from spawn to that answer.
 */
export async function startServe(sourceArgs, { extra = [], readyTimeoutMs = 120_000 } = {}) {
  const proxyPort = await freePort();
  const adminPort = await freePort();
  const spawnedAt = performance.now();
  const child = spawn(
    process.execPath,
    [BIN, 'serve', ...sourceArgs, '--proxy-listen', `127.0.0.1:${proxyPort}`, '--admin-listen', `127.0.0.1:${adminPort}`, '--no-access-log', '--log-level', 'warn', ...extra],
    { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  running.add(child);
  child.once('exit', () => running.delete(child));
  const node = {
    pid: child.pid,
    child,
    spawnedAt,
    proxy: `http://127.0.0.1:${proxyPort}`,
    admin: `http://127.0.0.1:${adminPort}`,
    readyMs: 0,
    stop: () => stopChild(child),
    output: () => stderr,
  };
  const deadline = Date.now() + readyTimeoutMs;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`datakit serve ${sourceArgs.join(' ')} exited (${child.exitCode ?? child.signalCode}):\n${stderr}`);
    try {
      const r = await fetch(`${node.admin}/status`);
      await r.arrayBuffer();
      if (r.status === 200) break;
    } catch {
      /* not listening yet */
    }
    if (Date.now() > deadline) {
      await node.stop();
      throw new Error(`datakit serve ${sourceArgs.join(' ')} not ready within ${readyTimeoutMs} ms:\n${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  node.readyMs = performance.now() - spawnedAt;
  return node;
}

function stopChild(child) {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), 5000).unref();
  });
}

/** Stops every gateway started here. */
export async function stopServes() {
  await Promise.all([...running].map(stopChild));
}

/** user + system CPU ticks (1/100 s) of a process so far */
export function cpuTicks(pid) {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return Number(f[11]) + Number(f[12]);
}

/** One JSON Admin API call; throws unless the status is 2xx. */
export async function admin(base, method, pathname, body) {
  const r = await fetch(base + pathname, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await r.text();
  if (r.status >= 300) throw new Error(`${method} ${pathname}: ${r.status} ${text}`);
  return text ? JSON.parse(text) : undefined;
}

export function percentile(xs, p) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
}
