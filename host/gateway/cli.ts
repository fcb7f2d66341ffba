/**
 * `datakit serve --config FILE [--proxy-listen ADDR] [--admin-listen ADDR] [--workers N] [--plugins-dir DIR] ...` (SERVE_USAGE)
 * Env: DATAKIT_CONFIG, DATAKIT_PROXY_LISTEN, DATAKIT_ADMIN_LISTEN, DATAKIT_ADMIN_TOKEN, DATAKIT_ADMIN_WRITES, DATAKIT_WORKERS,
 * DATAKIT_PLUGINS_DIR, DATAKIT_LOG_LEVEL, DATAKIT_ACCESS_LOG, DATAKIT_MAX_CONNECTIONS,
 * DATAKIT_CLIENT_HEADER_TIMEOUT, DATAKIT_CLIENT_REQUEST_TIMEOUT, DATAKIT_KEEPALIVE_TIMEOUT,
 * DATAKIT_DB_UPDATE_FREQUENCY, DATAKIT_DB_POOL_SIZE, DATAKIT_DB_CONNECT_TIMEOUT, DATAKIT_DB_STATEMENT_TIMEOUT,
 * DATAKIT_DB_RECONNECT_BACKOFF_MAX.
 * With --workers N > 1 the primary runs the Admin API and N node:cluster
 * workers share the proxy port; configuration changes are broadcast to them.
 * Workers parse the same argv and env, so the server limits apply in each.
 */
import cluster, { type Worker } from 'node:cluster';
import { parseArgs } from 'node:util';
import pino from 'pino';
import { startGateway, type GatewayOptions, type RunningGateway } from './index.js';
import { GatewayCore } from './core.js';
import { processDump, type MetricsDump } from './metrics.js';
import type { Rec } from './entities.js';
import { ADMIN_WRITES_VALUES, type AdminWrites } from './db-less.js';
import type { DatabaseLimits } from '../limits.js';

interface ServeArgs {
  config?: string;
  database?: string;
  proxyListen?: string;
  adminListen?: string;
  workers: number;
  pluginsDir: string[];
  logLevel: string;
  accessLog: boolean;
  adminToken?: string;
  adminWrites?: AdminWrites;
  maxConnections?: number;
  clientHeaderTimeoutMs?: number;
  clientRequestTimeoutMs?: number;
  keepAliveTimeoutMs?: number;
  dbUpdateFrequency?: number;
  databaseLimits: Partial<DatabaseLimits>;
}

export const SERVE_USAGE = `usage: datakit serve (--config FILE | --database DIR|memory://|postgres://...) [--db-update-frequency 5] [--proxy-listen 127.0.0.1:8000] [--admin-listen 127.0.0.1:8001] [--admin-token TOKEN] [--admin-writes refuse|memory]
       [--workers N] [--plugins-dir DIR] [--log-level info] [--no-access-log] [--max-connections 10000]
       [--client-header-timeout 60s] [--client-request-timeout 300s] [--keepalive-timeout 75s]
       [--db-pool-size 4] [--db-connect-timeout 5s] [--db-statement-timeout 10s] [--db-reconnect-backoff-max 2s]
durations: 500ms, 60s, 5m; a bare number is seconds`;

const SERVE_HELP = `${SERVE_USAGE}

Starts the gateway: the proxy listener, the Admin API, and the datakit engine,
on a declarative configuration file (YAML or JSON, _format_version "3.0").

  -c, --config FILE              DB-less: the declarative file (env DATAKIT_CONFIG)
  -d, --database DIR|memory://   database mode: entities in an embedded PostgreSQL (PGlite) in DIR,
                                 kept across restarts (env DATAKIT_DATABASE)
  -d, --database postgres://USER:PASSWORD@HOST:PORT/DB
                                 database mode on a PostgreSQL server that several gateways may share
  --db-update-frequency SECONDS  PostgreSQL server: how often the configuration version is checked,
                                 behind LISTEN/NOTIFY (default 5; env DATAKIT_DB_UPDATE_FREQUENCY)
  --db-pool-size N               PostgreSQL server: connections for reads and writes (default 4; env DATAKIT_DB_POOL_SIZE)
  --db-connect-timeout D         PostgreSQL server: a connection attempt gives up after D (default 5s; env DATAKIT_DB_CONNECT_TIMEOUT)
  --db-statement-timeout D       PostgreSQL server: a statement is cancelled after D (default 10s; env DATAKIT_DB_STATEMENT_TIMEOUT)
  --db-reconnect-backoff-max D   PostgreSQL server: longest wait between two reconnection attempts
                                 (default 2s; env DATAKIT_DB_RECONNECT_BACKOFF_MAX)
  --proxy-listen HOST:PORT       proxy listener (default 127.0.0.1:8000; env DATAKIT_PROXY_LISTEN)
  --admin-listen HOST:PORT|off   Admin API listener (default 127.0.0.1:8001; env DATAKIT_ADMIN_LISTEN)
  --admin-token TOKEN            require Kong-Admin-Token on the Admin API (env DATAKIT_ADMIN_TOKEN)
  --admin-writes refuse|memory   DB-less: Admin API entity writes answer Kong's 405 (refuse, default)
                                 or are kept in memory until the gateway stops (env DATAKIT_ADMIN_WRITES)
  -w, --workers N                N worker processes share the proxy port (env DATAKIT_WORKERS)
  --plugins-dir DIR              custom plugins (repeatable; env DATAKIT_PLUGINS_DIR)
  --log-level LEVEL              trace, debug, info, warn, error, silent (env DATAKIT_LOG_LEVEL)
  --no-access-log                no access log lines (env DATAKIT_ACCESS_LOG=off)
  --max-connections N            open proxy connections per process (env DATAKIT_MAX_CONNECTIONS)
  --client-header-timeout D      time to receive a request's headers (default 60s)
  --client-request-timeout D     time to receive a whole request (default 300s, 0 = none)
  --keepalive-timeout D          idle keep-alive connections close after D (default 75s)
  -h, --help                     this help

Budgets and buffer limits (jq, templates, bodies) are set in the file's
settings.limits; see docs/SECURITY.md.
`;

function parseAdminWrites(v: string, what: string): AdminWrites {
  if (!(ADMIN_WRITES_VALUES as readonly string[]).includes(v)) throw new Error(`${what}: expected ${ADMIN_WRITES_VALUES.join(' or ')}, got "${v}"`);
  return v as AdminWrites;
}

/** `500ms`, `60s`, `5m`, or a bare number of seconds (as nginx), to milliseconds. */
export function parseDuration(v: string, what: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(v.trim());
  if (!m) throw new Error(`${what}: invalid duration "${v}" (expected e.g. 500ms, 60s, 5m)`);
  return Math.round(Number(m[1]) * (m[2] === 'ms' ? 1 : m[2] === 'm' ? 60_000 : 1000));
}

function parseSeconds(v: string, what: string): number {
  if (!/^\d+(\.\d+)?$/.test(v.trim()) || !(Number(v) > 0)) throw new Error(`${what} must be a positive number of seconds (got "${v}")`);
  return Number(v);
}

function parseCount(v: string, what: string): number {
  if (!/^\d+$/.test(v.trim()) || Number(v) < 1) throw new Error(`${what} must be a positive integer (got "${v}")`);
  return Number(v);
}

/** a duration that must be at least 1 ms (a database timeout of 0 would mean none) */
function parsePositiveDuration(v: string, what: string): number {
  const ms = parseDuration(v, what);
  if (ms < 1) throw new Error(`${what} must be at least 1ms (got "${v}")`);
  return ms;
}

/** The database limits (host/limits.ts DATABASE_LIMITS) as flags and env variables of `datakit serve`. */
const DB_LIMIT_FLAGS: Record<string, { limit: keyof DatabaseLimits; env: string; parse: (v: string, what: string) => number }> = {
  'db-pool-size': { limit: 'pool_size', env: 'DATAKIT_DB_POOL_SIZE', parse: parseCount },
  'db-connect-timeout': { limit: 'connect_timeout_ms', env: 'DATAKIT_DB_CONNECT_TIMEOUT', parse: parsePositiveDuration },
  'db-statement-timeout': { limit: 'statement_timeout_ms', env: 'DATAKIT_DB_STATEMENT_TIMEOUT', parse: parsePositiveDuration },
  'db-reconnect-backoff-max': { limit: 'reconnect_backoff_max_ms', env: 'DATAKIT_DB_RECONNECT_BACKOFF_MAX', parse: parsePositiveDuration },
};

/** The database limits set by DATAKIT_DB_* variables (also read by `datakit migrations` and `datakit config`); throws naming a bad one. */
export function databaseLimitsFromEnv(env: NodeJS.ProcessEnv): Partial<DatabaseLimits> {
  const out: Partial<DatabaseLimits> = {};
  for (const { limit, env: name, parse } of Object.values(DB_LIMIT_FLAGS)) if (env[name]) out[limit] = parse(env[name]!, name);
  return out;
}

/** The flags of `datakit serve` (node:util parseArgs, as every datakit command). */
function parseServeOptions(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      config: { type: 'string', short: 'c' },
      database: { type: 'string', short: 'd' },
      'proxy-listen': { type: 'string' },
      'admin-listen': { type: 'string' },
      'admin-token': { type: 'string' },
      'admin-writes': { type: 'string' },
      'max-connections': { type: 'string' },
      'client-header-timeout': { type: 'string' },
      'client-request-timeout': { type: 'string' },
      'keepalive-timeout': { type: 'string' },
      'db-update-frequency': { type: 'string' },
      ...Object.fromEntries(Object.keys(DB_LIMIT_FLAGS).map((f) => [f, { type: 'string' as const }])),
      workers: { type: 'string', short: 'w' },
      'plugins-dir': { type: 'string', multiple: true },
      'log-level': { type: 'string' },
      'no-access-log': { type: 'boolean' },
    },
  });
}

export function parseServeArgs(argv: string[], env: NodeJS.ProcessEnv = process.env): ServeArgs {
  const a: ServeArgs = {
    config: env.DATAKIT_CONFIG,
    database: env.DATAKIT_DATABASE || undefined,
    proxyListen: env.DATAKIT_PROXY_LISTEN,
    adminListen: env.DATAKIT_ADMIN_LISTEN,
    workers: env.DATAKIT_WORKERS ? Number(env.DATAKIT_WORKERS) : 1,
    pluginsDir: env.DATAKIT_PLUGINS_DIR ? [env.DATAKIT_PLUGINS_DIR] : [],
    logLevel: env.DATAKIT_LOG_LEVEL ?? 'info',
    accessLog: env.DATAKIT_ACCESS_LOG !== 'off',
    // empty means unset, so `DATAKIT_ADMIN_TOKEN=` cannot silently mean "no token" by accident of quoting
    adminToken: env.DATAKIT_ADMIN_TOKEN || undefined,
    adminWrites: env.DATAKIT_ADMIN_WRITES ? parseAdminWrites(env.DATAKIT_ADMIN_WRITES, 'DATAKIT_ADMIN_WRITES') : undefined,
    maxConnections: env.DATAKIT_MAX_CONNECTIONS ? parseCount(env.DATAKIT_MAX_CONNECTIONS, 'DATAKIT_MAX_CONNECTIONS') : undefined,
    clientHeaderTimeoutMs: env.DATAKIT_CLIENT_HEADER_TIMEOUT ? parseDuration(env.DATAKIT_CLIENT_HEADER_TIMEOUT, 'DATAKIT_CLIENT_HEADER_TIMEOUT') : undefined,
    clientRequestTimeoutMs: env.DATAKIT_CLIENT_REQUEST_TIMEOUT ? parseDuration(env.DATAKIT_CLIENT_REQUEST_TIMEOUT, 'DATAKIT_CLIENT_REQUEST_TIMEOUT') : undefined,
    keepAliveTimeoutMs: env.DATAKIT_KEEPALIVE_TIMEOUT ? parseDuration(env.DATAKIT_KEEPALIVE_TIMEOUT, 'DATAKIT_KEEPALIVE_TIMEOUT') : undefined,
    dbUpdateFrequency: env.DATAKIT_DB_UPDATE_FREQUENCY ? parseSeconds(env.DATAKIT_DB_UPDATE_FREQUENCY, 'DATAKIT_DB_UPDATE_FREQUENCY') : undefined,
    databaseLimits: {},
  };
  a.databaseLimits = databaseLimitsFromEnv(env);
  let parsed: ReturnType<typeof parseServeOptions>;
  try {
    parsed = parseServeOptions(argv);
  } catch (e) {
    throw new Error(`${(e as Error).message.replace(/\. To specify a positional argument.*$/s, '')}\n${SERVE_USAGE}`);
  }
  const v = parsed.values;
  if (parsed.positionals.length) throw new Error(`unexpected operand ${JSON.stringify(parsed.positionals[0])}\n${SERVE_USAGE}`);
  if (v.config !== undefined) a.config = v.config;
  if (v.database !== undefined) a.database = v.database;
  if (v['proxy-listen'] !== undefined) a.proxyListen = v['proxy-listen'];
  if (v['admin-listen'] !== undefined) a.adminListen = v['admin-listen'];
  if (v['admin-token'] !== undefined) {
    if (!v['admin-token']) throw new Error('--admin-token must not be empty');
    a.adminToken = v['admin-token'];
  }
  if (v['admin-writes'] !== undefined) a.adminWrites = parseAdminWrites(v['admin-writes'], '--admin-writes');
  if (v['max-connections'] !== undefined) a.maxConnections = parseCount(v['max-connections'], '--max-connections');
  if (v['client-header-timeout'] !== undefined) a.clientHeaderTimeoutMs = parseDuration(v['client-header-timeout'], '--client-header-timeout');
  if (v['client-request-timeout'] !== undefined) a.clientRequestTimeoutMs = parseDuration(v['client-request-timeout'], '--client-request-timeout');
  if (v['keepalive-timeout'] !== undefined) a.keepAliveTimeoutMs = parseDuration(v['keepalive-timeout'], '--keepalive-timeout');
  if (v['db-update-frequency'] !== undefined) a.dbUpdateFrequency = parseSeconds(v['db-update-frequency'], '--db-update-frequency');
  for (const [flag, { limit }] of Object.entries(DB_LIMIT_FLAGS)) {
    const given = (v as Record<string, unknown>)[flag];
    if (typeof given === 'string') a.databaseLimits[limit] = DB_LIMIT_FLAGS[flag].parse(given, `--${flag}`);
  }
  if (v.workers !== undefined) a.workers = Number(v.workers);
  if (v['plugins-dir']) a.pluginsDir.push(...v['plugins-dir']);
  if (v['log-level'] !== undefined) a.logLevel = v['log-level'];
  if (v['no-access-log']) a.accessLog = false;
  if (!Number.isInteger(a.workers) || a.workers < 1) throw new Error(`--workers must be a positive integer`);
  return a;
}

type Msg =
  | { type: 'config'; doc: Rec }
  | { type: 'ready' }
  | { type: 'applied' }
  | { type: 'metrics'; id: number }
  | { type: 'metrics-reply'; id: number; dump: MetricsDump }
  | { type: 'shutdown' }
  | { type: 'error'; message: string };

export async function serveCli(argv: string[]): Promise<number | void> {
  if (argv.includes('-h') || argv.includes('--help')) {
    process.stdout.write(SERVE_HELP);
    return 0;
  }
  const args = parseServeArgs(argv);
  if (!args.config && !args.database) throw new Error(`--config FILE or --database DIR is required (or DATAKIT_CONFIG, DATAKIT_DATABASE)\n${SERVE_USAGE}`);
  if (args.config && args.database) throw new Error(`--config and --database exclude each other: import the file with 'datakit config db_import FILE --database DIR'`);
  const logger = pino({ level: args.logLevel, base: { pid: process.pid, role: cluster.isWorker ? 'worker' : 'primary' } });
  const base: GatewayOptions = {
    configFile: args.config,
    database: args.database,
    proxyListen: args.proxyListen,
    adminListen: args.adminListen,
    pluginsDir: args.pluginsDir,
    logger,
    accessLog: args.accessLog,
    adminToken: args.adminToken,
    adminWrites: args.adminWrites,
    maxConnections: args.maxConnections,
    clientHeaderTimeoutMs: args.clientHeaderTimeoutMs,
    clientRequestTimeoutMs: args.clientRequestTimeoutMs,
    keepAliveTimeoutMs: args.keepAliveTimeoutMs,
    dbUpdateFrequency: args.dbUpdateFrequency,
    databaseLimits: args.databaseLimits,
  };

  if (cluster.isWorker) return runWorker(base, logger);
  if (args.workers <= 1) {
    const gw = await startGateway(base);
    installSignals(logger, () => gw.close());
    return;
  }
  return runPrimary(base, args.workers, logger);
}

function installSignals(logger: pino.Logger, close: () => Promise<void>): void {
  let stopping = false;
  const stop = (sig: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal: sig }, 'shutting down: draining requests in flight');
    close().then(
      () => {
        logger.info('stopped');
        logger.flush?.();
        setTimeout(() => process.exit(0), 20);
      },
      (e) => {
        logger.error({ err: (e as Error).message }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

async function runWorker(base: GatewayOptions, logger: pino.Logger): Promise<void> {
  // the primary already validated the file; the worker loads it (and later broadcasts) too
  let gw: RunningGateway;
  try {
    // the primary owns the database (PGlite is one process's); a worker starts empty and gets the primary's document
    gw = await startGateway({ ...base, database: undefined, adminListen: false, demoUpstream: false });
  } catch (e) {
    process.send?.({ type: 'error', message: (e as Error).message } satisfies Msg);
    throw e;
  }
  // one document at a time, in the order broadcast: an apply waits for its templates to compile in a worker thread
  let applying = Promise.resolve();
  process.on('message', (m: Msg) => {
    if (m.type === 'config') {
      const baseDir = base.configFile ? GatewayCore.baseDirOf(base.configFile) : undefined;
      applying = applying
        .then(() => gw.core.applyDocument(m.doc, { baseDir }))
        .then(() => {
          process.send?.({ type: 'applied' } satisfies Msg);
        })
        .catch((e) => logger.error({ err: (e as Error).message }, 'worker could not apply the configuration'));
    } else if (m.type === 'metrics') {
      process.send?.({ type: 'metrics-reply', id: m.id, dump: processDump(gw.core.metrics) } satisfies Msg);
    } else if (m.type === 'shutdown') {
      gw.close().then(() => process.exit(0));
    }
  });
  process.on('SIGTERM', () => gw.close().then(() => process.exit(0)));
  process.on('SIGINT', () => undefined); // the primary coordinates
  process.send?.({ type: 'ready' } satisfies Msg);
}

async function runPrimary(base: GatewayOptions, n: number, logger: pino.Logger): Promise<void> {
  const workers = new Set<Worker>();
  const ready = new Set<number>();
  /** workers that listen for configuration (not yet ready in database mode until they applied the first) */
  const started = new Set<number>();
  let stopping = false;
  let metricsSeq = 0;
  const pending = new Map<number, { dumps: MetricsDump[]; left: number; done: (d: MetricsDump[]) => void }>();
  let gw: RunningGateway | undefined;
  let lastDoc: Rec | undefined;

  const fork = (): Worker => {
    const w = cluster.fork();
    workers.add(w);
    w.on('message', (m: Msg) => {
      if (m.type === 'ready') {
        started.add(w.id);
        // a worker forked after a change must catch up; in database mode it starts empty, so it counts as ready once it has
        if (lastDoc) w.send({ type: 'config', doc: lastDoc } satisfies Msg);
        if (!base.database || !lastDoc) ready.add(w.id);
      } else if (m.type === 'applied') {
        ready.add(w.id);
      } else if (m.type === 'metrics-reply') {
        const p = pending.get(m.id);
        if (p) {
          p.dumps.push(m.dump);
          if (--p.left === 0) {
            pending.delete(m.id);
            p.done(p.dumps);
          }
        }
      } else if (m.type === 'error') logger.error({ worker: w.id, err: m.message }, 'worker failed to start');
    });
    w.on('exit', (code) => {
      workers.delete(w);
      ready.delete(w.id);
      started.delete(w.id);
      if (!stopping) {
        logger.warn({ worker: w.id, code }, 'worker exited; restarting');
        setTimeout(fork, 200);
      }
    });
    return w;
  };

  // validate and run the Admin API in the primary (no proxy listener here)
  gw = await startGateway({
    ...base,
    noProxy: true,
    ready: () => ready.size >= n,
    extraMetrics: () =>
      new Promise<MetricsDump[]>((resolve) => {
        const live = [...workers].filter((w) => ready.has(w.id));
        if (!live.length) return resolve([]);
        const id = ++metricsSeq;
        const timer = setTimeout(() => {
          const p = pending.get(id);
          pending.delete(id);
          resolve(p ? p.dumps : []);
        }, 1000);
        pending.set(id, {
          dumps: [],
          left: live.length,
          done: (d) => {
            clearTimeout(timer);
            resolve(d);
          },
        });
        for (const w of live) w.send({ type: 'metrics', id } satisfies Msg);
      }),
  });
  // workers load the same file; sending the primary's document keeps entity ids identical everywhere
  lastDoc = gw.core.exportDocument();
  gw.core.onCommit = (doc) => {
    lastDoc = doc;
    for (const w of workers) if (started.has(w.id)) w.send({ type: 'config', doc } satisfies Msg);
  };
  for (let i = 0; i < n; i++) fork();

  const stop = (sig: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal: sig }, 'shutting down workers: draining requests in flight');
    const exits = [...workers].map((w) => new Promise<void>((r) => (w.isDead() ? r() : w.once('exit', () => r()))));
    for (const w of workers) {
      try {
        w.send({ type: 'shutdown' } satisfies Msg);
      } catch {
        w.kill('SIGTERM');
      }
    }
    Promise.all(exits)
      .then(() => gw!.close())
      .then(() => {
        logger.info('stopped');
        setTimeout(() => process.exit(0), 20);
      });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}
