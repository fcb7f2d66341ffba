/** The bundled gateway: `startGateway()` runs the proxy and Admin API listeners in this process. */
import type { Limits } from '../limits.js';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFile } from 'node:fs/promises';
import pino, { type Logger } from 'pino';
import type { FastifyInstance } from 'fastify';
import { GatewayCore } from './core.js';
import { buildAdmin } from './admin.js';
import { parseDocument, documentSettings } from './declarative.js';
import type { Rec } from './entities.js';
import { startDemoUpstream } from './demo.js';
import type { MetricsDump } from './metrics.js';

export { GatewayCore } from './core.js';
export { GatewayError } from './state.js';
export { DeclarativeError } from './declarative.js';

export interface GatewayOptions {
  /** path of a declarative config file (YAML or JSON) */
  configFile?: string;
  /** a declarative document (object or YAML/JSON text); used when configFile is absent */
  config?: string | Rec;
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
  const core = await GatewayCore.create({
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
      database: 'off',
      nginx_http_client_max_body_size: opts.maxBodySize ?? 10 * 1024 * 1024,
    },
  });

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
  if (!opts.noProxy) {
    proxyServer = http.createServer(
      { maxHeaderSize: opts.maxHeaderSize ?? 16 * 1024, keepAliveTimeout: 60_000, requestTimeout: 0 },
      core.proxy.handler,
    );
    proxyServer.on('clientError', (err: Error & { code?: string }, socket) => {
      if (!socket.writable) return socket.destroy();
      const tooLarge = err.code === 'HPE_HEADER_OVERFLOW';
      const status = tooLarge ? '431 Request Header Fields Too Large' : '400 Bad Request';
      const body = JSON.stringify({ message: tooLarge ? 'Request Header Fields Too Large' : 'Bad request' });
      socket.end(`HTTP/1.1 ${status}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
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
    logger.info({ listen: proxyUrl }, 'proxy listening');
  }

  let admin: FastifyInstance | undefined;
  let adminUrl = '';
  if (opts.adminListen !== false) {
    const adminAddr = parseListen(opts.adminListen, 8001);
    admin = await buildAdmin(core, {
      ready: opts.ready ?? (() => listening),
      metrics: async () => [core.metrics.dump(), ...((await opts.extraMetrics?.()) ?? [])],
      connections: () =>
        new Promise<number>((resolve) => (proxyServer ? proxyServer.getConnections((_e, n) => resolve(n ?? 0)) : resolve(0))),
    });
    await admin.listen({ host: adminAddr.host, port: adminAddr.port });
    const a = admin.server.address() as AddressInfo;
    adminUrl = urlOf(a);
    logger.info({ listen: adminUrl }, 'admin API listening');
  }

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    if (closing) return closing;
    closing = (async () => {
      listening = false;
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
      await core.close();
    })();
    return closing;
  };

  return { proxyUrl, adminUrl, core, proxyServer, admin, close };
}
