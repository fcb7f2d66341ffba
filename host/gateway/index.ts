/** The bundled gateway: `startGateway()` runs the proxy and Admin API listeners in this process. */
import type { DatabaseLimits, Limits } from '../limits.js';
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import pino, { type Logger } from 'pino';
import type { FastifyInstance } from 'fastify';
import { GatewayCore } from './core.js';
import { buildAdmin } from './admin.js';
import type { AdminWrites } from './db-less.js';
import { parseDocument, documentSettings } from './declarative.js';
import type { Rec } from './entities.js';
import { startDemoUpstream } from './demo.js';
import { EntityStore } from '../db/entity-store.js';
import { DatabaseSync, DEFAULT_DB_UPDATE_FREQUENCY } from './db-sync.js';
import { processDump, type Metrics, type MetricsDump } from './metrics.js';

export { GatewayCore } from './core.js';
export { GatewayError } from './state.js';
export { DeclarativeError } from './declarative.js';

export interface GatewayOptions {
  /** path of a declarative config file (YAML or JSON) */
  configFile?: string;
  /** a declarative document (object or YAML/JSON text); used when configFile is absent */
  config?: string | Rec;
  /**
   * database mode: the embedded database's directory (created and bootstrapped
   * when new), `memory://`, or a PostgreSQL server `postgres://user:pass@host:port/db`
   * that several gateways may share; entities persist there. Not with configFile/config.
   */
  database?: string;
  /** PostgreSQL server: seconds between two checks of the configuration version, behind LISTEN/NOTIFY (default 5; Kong's db_update_frequency) */
  dbUpdateFrequency?: number;
  /** PostgreSQL server: connection pool size and timeouts (host/limits.ts DATABASE_LIMITS, docs/SECURITY.md) */
  databaseLimits?: Partial<DatabaseLimits>;
  /** "host:port" (default 127.0.0.1:8000; port 0 picks a free one) */
  proxyListen?: string;
  /** "host:port" (default 127.0.0.1:8001); false: no Admin API (cluster workers) */
  adminListen?: string | false;
  /** custom plugin directories or files */
  pluginsDir?: string | string[];
  logger?: Logger;
  /** pino level when no logger is given (default info) */
  logLevel?: string;
  /** one log line per request (default true) */
  accessLog?: boolean;
  /** max request body in bytes (default 10 MiB) -> 413 */
  maxBodySize?: number;
  /** gateway-wide budgets and buffer limits (host/limits.ts, docs/SECURITY.md) */
  limits?: Partial<Limits>;
  /** max request header size in bytes (default 16 KiB) -> 431 */
  maxHeaderSize?: number;
  /** a connection must send a request's complete headers within this (default 60 s, nginx client_header_timeout) -> 408 */
  clientHeaderTimeoutMs?: number;
  /** a request, headers and body, must arrive within this (default 300 s; 0: no limit) -> 408; responses are not timed */
  clientRequestTimeoutMs?: number;
  /** an idle keep-alive connection is closed after this (default 75 s, nginx keepalive_timeout) */
  keepAliveTimeoutMs?: number;
  /** open proxy connections per process (default 10,000, at most half the open-file limit); more are closed at once */
  maxConnections?: number;
  /** require this token in the Kong-Admin-Token header on every Admin API request (401 otherwise) */
  adminToken?: string;
  /**
   * DB-less only (a declarative config, no database): 'refuse' (default) answers
   * Admin API entity writes with Kong's 405 `cannot create 'consumers' entities
   * when not using a database`; 'memory' accepts them until the process stops
   * (development, embedding). POST /config replaces the configuration either way.
   */
  adminWrites?: AdminWrites;
  /** start settings.demo_upstream when the config asks for it (default true) */
  demoUpstream?: boolean;
  /** how long close() waits for requests in flight (default 30 s) */
  drainTimeoutMs?: number;
  /** environment for the env vault backend (default process.env) */
  env?: NodeJS.ProcessEnv;
  /** secret cache TTL in ms (default 60 s) */
  secretTtlMs?: number;
  /** metrics of other processes (cluster primary) */
  extraMetrics?: () => Promise<MetricsDump[]>;
  /** readiness override (cluster primary: all workers listening) */
  ready?: () => boolean;
  /** skip the proxy listener (cluster primary) */
  noProxy?: boolean;
}

export interface RunningGateway {
  proxyUrl: string;
  adminUrl: string;
  core: GatewayCore;
  proxyServer?: http.Server;
  admin?: FastifyInstance;
  /** a PostgreSQL server shared with other gateways: what keeps this one in step */
  sync?: DatabaseSync;
  close(): Promise<void>;
}

export function parseListen(v: string | undefined, defPort: number): { host: string; port: number } {
  if (!v) return { host: '127.0.0.1', port: defPort };
  const s = v.trim().split(/\s+/)[0];
  if (/^\d+$/.test(s)) return { host: '127.0.0.1', port: Number(s) };
  const m = /^(\[[^\]]+\]|[^:]*):(\d+)$/.exec(s);
  if (!m) throw new Error(`invalid listen address "${v}" (expected host:port)`);
  return { host: m[1] ? m[1].replace(/^\[|\]$/g, '') : '127.0.0.1', port: Number(m[2]) };
}

/** Server limit defaults (docs/gateway.md, "Server limits"). */
export const SERVER_DEFAULTS = Object.freeze({
  clientHeaderTimeoutMs: 60_000,
  clientRequestTimeoutMs: 300_000,
  keepAliveTimeoutMs: 75_000,
  maxConnections: 10_000,
});

export interface ServerLimits {
  clientHeaderTimeoutMs: number;
  clientRequestTimeoutMs: number;
  keepAliveTimeoutMs: number;
  maxConnections: number;
  /** how often Node checks the two client timeouts */
  checkIntervalMs: number;
}

/** The soft open-file limit (Linux), if it can be read. */
function openFileLimit(): number | undefined {
  try {
    const m = /^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** Validates and fills in the proxy listener's limits; throws with the option's name. */
export function serverLimits(opts: GatewayOptions): ServerLimits {
  const int = (name: keyof typeof SERVER_DEFAULTS, min: number, def: number): number => {
    const v = opts[name];
    if (v === undefined) return def;
    if (!Number.isInteger(v) || v < min) throw new Error(`${name} must be an integer >= ${min} (got ${v})`);
    return v;
  };
  // upstream connections, logs and config files need descriptors too
  const fds = openFileLimit();
  const defMax = fds ? Math.max(1, Math.min(SERVER_DEFAULTS.maxConnections, Math.floor(fds / 2))) : SERVER_DEFAULTS.maxConnections;
  const header = int('clientHeaderTimeoutMs', 1, SERVER_DEFAULTS.clientHeaderTimeoutMs);
  const request = int('clientRequestTimeoutMs', 0, SERVER_DEFAULTS.clientRequestTimeoutMs);
  if (request > 0 && header > request) throw new Error(`clientHeaderTimeoutMs (${header}) must not exceed clientRequestTimeoutMs (${request})`);
  return {
    clientHeaderTimeoutMs: header,
    clientRequestTimeoutMs: request,
    keepAliveTimeoutMs: int('keepAliveTimeoutMs', 1, SERVER_DEFAULTS.keepAliveTimeoutMs),
    maxConnections: int('maxConnections', 1, defMax),
    // Node's default check runs every 30 s; a quarter of the shorter timeout (at most 1 s) keeps closes on time
    checkIntervalMs: Math.max(25, Math.min(1000, Math.floor(Math.min(header, request || header) / 4))),
  };
}

/** 127.0.0.0/8, ::1 and localhost: reachable only from this machine. */
export function isLoopback(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^(::ffff:)?127\.\d+\.\d+\.\d+$/.test(h);
}

const DROP_LOG_EVERY_MS = 10_000;

/**
 * Caps the proxy's open connections: one over the cap is closed as soon as
 * it is accepted, counted, and logged (one line per 10 s at most). Not
 * server.maxConnections: in a node:cluster worker, a connection refused that
 * way goes back to the primary, which hands it to the next worker, round and
 * round while every worker is full.
 */
function capConnections(server: http.Server, max: number, metrics: Metrics, logger: Logger): () => void {
  const open = metrics.gauge('datakit_gateway_connections_open');
  metrics.inc('datakit_gateway_connections_dropped_total', '', 0);
  let unlogged = 0;
  let lastLog = 0;
  let timer: NodeJS.Timeout | undefined;
  const flush = () => {
    timer = undefined;
    if (!unlogged) return;
    logger.warn(
      { dropped: unlogged, open: open.v, max_connections: max },
      'proxy connections refused: max_connections are open (raise --max-connections / DATAKIT_MAX_CONNECTIONS if this is real load)',
    );
    unlogged = 0;
    lastLog = Date.now();
  };
  server.on('connection', (socket: Socket) => {
    // not rendered in /metrics: the Admin API's /status reports it (connections_accepted)
    metrics.inc('datakit_gateway_connections_accepted_total', '');
    if (open.v >= max) {
      socket.destroy();
      metrics.inc('datakit_gateway_connections_dropped_total', '');
      unlogged++;
      if (!timer) timer = setTimeout(flush, Math.max(0, lastLog + DROP_LOG_EVERY_MS - Date.now())).unref();
      return;
    }
    open.v++;
    socket.once('close', () => open.v--);
  });
  return () => {
    clearTimeout(timer);
    flush();
  };
}

const CLIENT_ERRORS: Record<string, { kind: string; status: string; message: string }> = {
  ERR_HTTP_REQUEST_TIMEOUT: { kind: 'timeout', status: '408 Request Timeout', message: 'Request timeout' },
  HPE_HEADER_OVERFLOW: { kind: 'headers_too_large', status: '431 Request Header Fields Too Large', message: 'Request Header Fields Too Large' },
};
const BAD_REQUEST = { kind: 'bad_request', status: '400 Bad Request', message: 'Bad request' };

function urlOf(addr: AddressInfo): string {
  const h = addr.family === 'IPv6' || addr.address.includes(':') ? `[${addr.address}]` : addr.address;
  return `http://${h}:${addr.port}`;
}

export async function loadConfigInput(opts: GatewayOptions): Promise<{ doc?: Rec; baseDir?: string }> {
  if (opts.configFile) {
    let text: string;
    try {
      text = await readFile(opts.configFile, 'utf8');
    } catch (e) {
      throw new Error(`cannot read config file ${opts.configFile}: ${(e as Error).message}`);
    }
    return { doc: parseDocument(text), baseDir: GatewayCore.baseDirOf(opts.configFile) };
  }
  if (opts.config !== undefined) return { doc: parseDocument(opts.config) };
  return {};
}

export async function startGateway(opts: GatewayOptions = {}): Promise<RunningGateway> {
  const logger = opts.logger ?? pino({ level: opts.logLevel ?? 'info', base: { pid: process.pid } });
  let proxyPort = 0;
  const pluginPaths = opts.pluginsDir === undefined ? [] : Array.isArray(opts.pluginsDir) ? opts.pluginsDir : [opts.pluginsDir];
  const proxyAddr = parseListen(opts.proxyListen, 8000);
  const server = serverLimits(opts);
  if (opts.adminToken !== undefined && (typeof opts.adminToken !== 'string' || !opts.adminToken)) throw new Error('adminToken must be a non-empty string');
  if (opts.database !== undefined && (opts.configFile !== undefined || opts.config !== undefined)) {
    throw new Error("a database and a declarative config cannot be used together: import the file with 'datakit config db_import FILE --database DIR'");
  }
  const dbUpdateFrequency = opts.dbUpdateFrequency ?? DEFAULT_DB_UPDATE_FREQUENCY;
  if (typeof dbUpdateFrequency !== 'number' || !(dbUpdateFrequency > 0)) throw new Error(`dbUpdateFrequency must be a positive number of seconds (got ${dbUpdateFrequency})`);
  const store = opts.database !== undefined ? await EntityStore.open(opts.database, { limits: opts.databaseLimits }) : undefined;
  const core = await GatewayCore.create({
    store,
    logger,
    pluginPaths,
    maxBodySize: opts.maxBodySize,
    limits: opts.limits,
    accessLog: opts.accessLog,
    proxyPort: () => proxyPort,
    secretTtlMs: opts.secretTtlMs,
    env: opts.env,
    settings: {
      proxy_listen: opts.proxyListen ?? '127.0.0.1:8000',
      admin_listen: opts.adminListen === false ? 'off' : opts.adminListen ?? '127.0.0.1:8001',
      router_flavor: 'traditional_compatible',
      database: store ? 'postgres' : 'off',
      ...(store?.db.shared ? { db_update_frequency: dbUpdateFrequency } : {}),
      nginx_http_client_max_body_size: opts.maxBodySize ?? 10 * 1024 * 1024,
    },
  });

  let sync: DatabaseSync | undefined;
  if (store) {
    try {
      await core.loadFromStore();
      // a server other gateways may write to: listen for their changes
      if (store.db.shared) {
        sync = new DatabaseSync(core, store, logger, dbUpdateFrequency);
        await sync.start();
      }
    } catch (e) {
      await sync?.stop();
      await core.close();
      throw e;
    }
    logger.info({ database: store.db.location, version: core.dbVersion }, 'entities loaded from the database');
  }
  const { doc, baseDir } = await loadConfigInput(opts);
  let demo: http.Server | undefined;
  if (doc) {
    await core.applyDocument(doc, { baseDir });
    const demoAddr = documentSettings(doc).demo_upstream;
    if (typeof demoAddr === 'string' && opts.demoUpstream !== false) {
      const a = parseListen(demoAddr, 18081);
      try {
        demo = await startDemoUpstream(a.host, a.port);
        logger.info({ listen: demoAddr }, 'demo upstream started');
      } catch (e) {
        logger.warn({ err: (e as Error).message }, 'demo upstream not started');
      }
    }
  }

  let proxyServer: http.Server | undefined;
  let proxyUrl = '';
  let listening = false;
  let stopDropLog: (() => void) | undefined;
  if (!opts.noProxy) {
    proxyServer = http.createServer(
      {
        maxHeaderSize: opts.maxHeaderSize ?? 16 * 1024,
        headersTimeout: server.clientHeaderTimeoutMs,
        requestTimeout: server.clientRequestTimeoutMs,
        keepAliveTimeout: server.keepAliveTimeoutMs,
        connectionsCheckingInterval: server.checkIntervalMs,
      },
      core.proxy.handler,
    );
    stopDropLog = capConnections(proxyServer, server.maxConnections, core.metrics, logger);
    proxyServer.on('clientError', (err: Error & { code?: string }, socket: Socket & { _httpMessage?: http.ServerResponse }) => {
      // a response already under way cannot be followed by another one
      if (!socket.writable || socket._httpMessage?.headersSent) return socket.destroy();
      const e = CLIENT_ERRORS[err.code ?? ''] ?? BAD_REQUEST;
      core.metrics.inc('datakit_gateway_client_errors_total', `kind="${e.kind}"`);
      logger.debug({ kind: e.kind, code: err.code, remote: socket.remoteAddress }, 'client error');
      const body = JSON.stringify({ message: e.message });
      // destroyed once written: a client that never closes its side must not keep the descriptor
      socket.end(`HTTP/1.1 ${e.status}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`, () =>
        socket.destroy(),
      );
    });
    await new Promise<void>((resolve, reject) => {
      proxyServer!.once('error', reject);
      proxyServer!.listen(proxyAddr.port, proxyAddr.host, () => {
        proxyServer!.off('error', reject);
        resolve();
      });
    });
    const a = proxyServer.address() as AddressInfo;
    proxyPort = a.port;
    proxyUrl = urlOf(a);
    listening = true;
    logger.info(
      {
        listen: proxyUrl,
        max_connections: server.maxConnections,
        client_header_timeout_ms: server.clientHeaderTimeoutMs,
        client_request_timeout_ms: server.clientRequestTimeoutMs,
        keepalive_timeout_ms: server.keepAliveTimeoutMs,
      },
      'proxy listening',
    );
  }

  let admin: FastifyInstance | undefined;
  let adminUrl = '';
  if (opts.adminListen !== false) {
    const adminAddr = parseListen(opts.adminListen, 8001);
    admin = await buildAdmin(
      core,
      {
        ready: opts.ready ?? (() => listening),
        metrics: async () => [processDump(core.metrics), ...((await opts.extraMetrics?.()) ?? [])],
        connections: () =>
          new Promise<number>((resolve) => (proxyServer ? proxyServer.getConnections((_e, n) => resolve(n ?? 0)) : resolve(0))),
      },
      { token: opts.adminToken, server, adminWrites: opts.adminWrites },
    );
    await admin.listen({ host: adminAddr.host, port: adminAddr.port });
    const a = admin.server.address() as AddressInfo;
    adminUrl = urlOf(a);
    logger.info({ listen: adminUrl, token: !!opts.adminToken }, 'admin API listening');
    if (!isLoopback(a.address)) {
      logger.warn(
        { listen: adminUrl, token: !!opts.adminToken },
        opts.adminToken
          ? `the Admin API on ${adminUrl} is reachable from the network; requests need the Kong-Admin-Token header, which travels in clear text over HTTP: let only trusted hosts reach this port (firewall, private network)`
          : `the Admin API on ${adminUrl} is reachable from the network without authentication: anyone who can connect can change routes, plugins and credentials. Bind it to 127.0.0.1 (--admin-listen 127.0.0.1:8001), or set an admin token (DATAKIT_ADMIN_TOKEN or --admin-token; clients send Kong-Admin-Token) and firewall the port`,
      );
    }
  }

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    if (closing) return closing;
    closing = (async () => {
      listening = false;
      stopDropLog?.();
      if (proxyServer) {
        const srv = proxyServer;
        const closed = new Promise<void>((r) => srv.close(() => r()));
        srv.closeIdleConnections();
        const deadline = Date.now() + (opts.drainTimeoutMs ?? 30_000);
        while (core.proxy.inflight > 0 && Date.now() < deadline) {
          await new Promise((r) => setTimeout(r, 25));
          srv.closeIdleConnections();
        }
        srv.closeIdleConnections();
        if (core.proxy.inflight > 0) srv.closeAllConnections();
        await Promise.race([closed, new Promise((r) => setTimeout(r, 1000))]);
        srv.closeAllConnections();
      }
      if (admin) await admin.close();
      if (demo) await new Promise<void>((r) => demo!.close(() => r()));
      await sync?.stop();
      await core.close();
    })();
    return closing;
  };

  return { proxyUrl, adminUrl, core, proxyServer, admin, sync, close };
}
