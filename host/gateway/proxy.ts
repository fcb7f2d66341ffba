/**
 * The proxy listener's request handler (plain node:http, undici to upstreams).
 * The no-plugin path streams both bodies and allocates as little as it can;
 * plugins get a RequestCtx and bodies are buffered only when one needs them.
 */
import { countLimitHit, LimitExceeded, type Limits } from '../limits.js';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomBytes } from 'node:crypto';
import type { EventEmitter } from 'node:events';
import { Readable, Transform } from 'node:stream';
import { Pool } from 'undici';
import type { Logger } from 'pino';
import { connectionListed, HeaderBag, HOP_BY_HOP, stripHopByHop } from './headers.js';

/**
 * Request headers the proxy sets itself (from the client's connection), and
 * Expect, which the server already answered with 100 Continue (undici
 * refuses to send it): never passed through.
 */
const PROXY_SET = new Set(['host', 'x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'x-forwarded-port', 'x-forwarded-path', 'x-forwarded-prefix', 'x-real-ip', 'expect']);
import { joinPath, normalizePath } from './router.js';
import { pickCandidate, type CompiledService, type PluginCandidate, type RouteTarget, type Snapshot } from './snapshot.js';
import type { Metrics } from './metrics.js';
import type { Entity, ExitResponse, RequestCtx, UpstreamResponse } from '../plugins/types.js';
import type { EntityRec } from './entities.js';

export const VIA = '1.1 datakit-gateway/0.1.0';
const ID_PREFIX = randomBytes(12).toString('hex');
let idCounter = 0;
export function nextRequestId(): string {
  idCounter = (idCounter + 1) >>> 0;
  return ID_PREFIX + idCounter.toString(16).padStart(8, '0');
}

export class BodyTooLarge extends Error {}

const byPriority = (a: PluginCandidate, b: PluginCandidate): number => b.def.priority - a.def.priority || a.def.name.localeCompare(b.def.name);

export interface ProxyOptions {
  logger: Logger;
  metrics: Metrics;
  /** largest request body accepted (413 above); default: the limits' request_body_bytes */
  maxBodySize?: number;
  /** the gateway's limits in force (they change with the configuration) */
  limits: () => Limits;
  accessLog: boolean;
  proxyPort: () => number;
}

const JSON_CT = 'application/json; charset=utf-8';
const EMPTY = Buffer.alloc(0);

/**
 * Reads a whole body, up to `limit` bytes. A small declared length gets
 * one buffer of that size, filled as chunks arrive (no chunk list and
 * concat copy); a larger one is gathered as it arrives. Over the limit: rejects with
 * `tooLarge()` and stops reading (`onOver` drops or drains the source).
 */
/** Largest declared body length allocated before its bytes arrive. */
const PREALLOCATE_MAX = 256 * 1024;

function readLimited(src: NodeJS.ReadableStream, declared: number | undefined, limit: number, tooLarge: () => Error, onOver: () => void): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    if (declared !== undefined && declared > limit) {
      onOver();
      reject(tooLarge());
      return;
    }
    // a small declared length gets its buffer at once; a large one is only a promise
    // (a client could declare 10 MiB on many connections and send nothing), so it
    // is gathered in chunks as it really arrives
    const whole = declared !== undefined && declared > 0 && declared <= PREALLOCATE_MAX ? Buffer.allocUnsafe(declared) : undefined;
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (c: Buffer) => {
      if (size + c.length > limit || (whole !== undefined && size + c.length > whole.length)) {
        src.removeListener('data', onData);
        onOver();
        reject(tooLarge());
        return;
      }
      if (whole !== undefined) c.copy(whole, size);
      else chunks.push(c);
      size += c.length;
    };
    src.on('data', onData);
    src.once('end', () => {
      if (whole !== undefined) resolve(size === whole.length ? whole : whole.subarray(0, size));
      else resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size));
    });
    src.once('error', reject);
  });
}

const ignore = (): void => undefined;

/** Abandons an upstream body: its connection is dropped (undici reports that as an error nobody needs). */
function drop(body: Readable): void {
  body.on('error', ignore);
  body.destroy();
}

function declaredLength(v: string | string[] | undefined): number | undefined {
  if (typeof v !== 'string' || !/^\d+$/.test(v)) return undefined;
  return Number(v);
}

/** The response-body limit was hit: counted, and worded for the log. */
function responseTooLarge(limit: number): LimitExceeded {
  return new LimitExceeded('service_response_body_bytes', `upstream response body exceeds the service_response_body_bytes limit (${limit} bytes)`);
}

function hasRequestBody(req: IncomingMessage): boolean {
  const cl = req.headers['content-length'];
  if (cl !== undefined) return cl !== '0';
  return req.headers['transfer-encoding'] !== undefined;
}

class Ctx implements RequestCtx {
  headers: HeaderBag;
  query: string;
  upstreamPath?: string;
  upstreamMethod?: string;
  body?: Buffer;
  target?: { host: string; port: number };
  upstreamName?: string;
  upstreamScheme?: string;
  consumer: Entity | null = null;
  credential: Entity | null = null;
  consumerGroups: Entity[] = [];
  exited?: ExitResponse;
  responseSource?: 'service' | 'exit' | 'error';
  upstreamResponse?: UpstreamResponse;
  responseStatusOverride?: number;
  finalStatus?: number;
  shared: Record<string, unknown> = {};
  upstreamLatency?: number;
  private pdata?: Map<object, Record<string, unknown>>;
  private bodyPromise?: Promise<Buffer>;
  readonly originalHost: string | undefined;

  constructor(
    readonly req: IncomingMessage,
    readonly requestId: string,
    readonly startedAt: number,
    readonly route: Entity | null,
    readonly service: Entity | null,
    readonly path: string,
    readonly rawPath: string,
    rawQuery: string,
    readonly scheme: string,
    readonly host: string,
    readonly port: number,
    readonly clientIp: string,
    readonly clientPort: number,
    readonly log: Logger,
    private readonly snap: Snapshot,
    private readonly maxBody: number,
  ) {
    this.headers = HeaderBag.fromRaw(req.rawHeaders);
    this.originalHost = req.headers.host;
    this.query = rawQuery;
  }
  get method(): string {
    return this.req.method ?? 'GET';
  }
  readBody(): Promise<Buffer> {
    if (this.body) return Promise.resolve(this.body);
    if (!this.bodyPromise) {
      const req = this.req;
      this.bodyPromise = hasRequestBody(req)
        ? readLimited(req, declaredLength(req.headers['content-length']), this.maxBody, () => new BodyTooLarge('request body too large'), () => req.resume())
        : Promise.resolve(EMPTY);
      this.bodyPromise.then(
        (b) => {
          if (this.body === undefined) this.body = b;
        },
        () => undefined,
      );
    }
    return this.bodyPromise.then((b) => this.body ?? b);
  }
  authenticate(consumer: Entity | null, credential: Entity | null): void {
    this.consumer = consumer;
    this.credential = credential;
    this.consumerGroups = consumer ? this.snap.groupsOf(consumer.id) : [];
  }
  findConsumer(q: { id?: string; username?: string; custom_id?: string }): Entity | undefined {
    return this.snap.findConsumer(q);
  }
  exit(res: ExitResponse): void {
    this.exited = res;
    this.responseSource = 'exit';
  }
  pluginData(instance: object): Record<string, unknown> {
    if (!this.pdata) this.pdata = new Map();
    let d = this.pdata.get(instance);
    if (!d) this.pdata.set(instance, (d = {}));
    return d;
  }
}

/** Why the proxy cut an upstream exchange short. */
type CutReason = 'read_timeout' | 'response_timeout' | 'client_closed';

/** The exchange in flight for a response (its client's going away cuts it). */
const WATCH = Symbol('upstream watch');
type Watched = ServerResponse & { [WATCH]?: UpstreamWatch };

/**
 * One upstream exchange's deadlines and cancellation: the read timeout
 * until the headers (undici's own timers have ~1 s resolution, so short
 * ones get a precise timer), the total response timeout until the body
 * has arrived (read_timeout only bounds the gap between reads), and the
 * client going away. Each aborts the undici request, which drops its
 * connection. It is also the request's abort signal, in the EventEmitter
 * shape undici accepts (no AbortController and EventTarget per request).
 */
class UpstreamWatch {
  /** undici's signal surface */
  aborted = false;
  cutBy: CutReason | undefined;
  /** neighbours in the deadline list */
  prev: UpstreamWatch | undefined;
  next: UpstreamWatch | undefined;
  private listener: (() => void) | undefined;
  private readTimer: NodeJS.Timeout | undefined;
  private ended = false;

  constructor(
    private readonly res: Watched,
    readTimeout: number,
    /** performance.now() by which the whole answer must have arrived */
    readonly deadline: number,
  ) {
    if (readTimeout < 2000) this.readTimer = setTimeout(() => this.cut('read_timeout'), readTimeout);
    res[WATCH] = this;
    deadlines.add(this);
  }

  on(_event: 'abort', fn: () => void): this {
    this.listener = fn;
    return this;
  }

  once(_event: 'abort', fn: () => void): this {
    this.listener = fn;
    return this;
  }

  removeListener(_event: 'abort', fn: () => void): this {
    if (this.listener === fn) this.listener = undefined;
    return this;
  }

  cut(reason: CutReason): void {
    if (this.cutBy !== undefined || this.ended) return;
    this.cutBy = reason;
    this.aborted = true;
    const fn = this.listener;
    this.listener = undefined;
    if (fn !== undefined) fn();
  }

  /** The response closed: before it finished, the client went away. */
  clientClosed(): void {
    if (!this.res.writableFinished) this.cut('client_closed');
    this.end();
  }

  headersArrived(): void {
    if (this.readTimer !== undefined) clearTimeout(this.readTimer);
  }

  /** The upstream's answer is complete (or abandoned): nothing more to cut. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    if (this.readTimer !== undefined) clearTimeout(this.readTimer);
    deadlines.delete(this);
    if (this.res[WATCH] === this) this.res[WATCH] = undefined;
  }
}

/**
 * The response deadlines of the exchanges in flight, checked by one timer
 * that runs only while there are any (a timer per request costs more than
 * the deadline is worth; they are minutes long). An intrusive list: a Set
 * cost a bare route about a tenth more CPU per request.
 */
class Deadlines {
  private head: UpstreamWatch | undefined;
  private timer: NodeJS.Timeout | undefined;
  static readonly TICK_MS = 200;

  add(w: UpstreamWatch): void {
    w.next = this.head;
    if (this.head !== undefined) this.head.prev = w;
    this.head = w;
    if (this.timer === undefined) this.timer = setInterval(this.sweep, Deadlines.TICK_MS).unref();
  }

  delete(w: UpstreamWatch): void {
    if (w.prev !== undefined) w.prev.next = w.next;
    else if (this.head === w) this.head = w.next;
    if (w.next !== undefined) w.next.prev = w.prev;
    w.prev = w.next = undefined;
  }

  private readonly sweep = (): void => {
    const now = performance.now();
    for (let w = this.head; w !== undefined; ) {
      const next = w.next;
      if (w.deadline <= now) w.cut('response_timeout');
      w = next;
    }
    if (this.head === undefined) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  };
}

const deadlines = new Deadlines();

export class ProxyEngine {
  snapshot!: Snapshot;
  inflight = 0;
  private readonly pools = new Map<string, Pool>();
  private readonly log: Logger;

  constructor(private readonly opts: ProxyOptions) {
    this.log = opts.logger;
  }

  readonly handler = (req: IncomingMessage, res: ServerResponse): void => {
    this.inflight++;
    let counted = true;
    const done = () => {
      // a client gone before its response finished cancels the upstream exchange
      (res as Watched)[WATCH]?.clientClosed();
      if (counted) {
        counted = false;
        this.inflight--;
      }
    };
    res.once('close', done);
    try {
      this.handle(req, res);
    } catch (e) {
      this.log.error({ err: (e as Error).message }, 'proxy handler failed');
      if (!res.headersSent) this.sendJson(res, 500, { message: 'An unexpected error occurred' }, nextRequestId());
      else res.destroy();
    }
  };

  private pool(protocol: string, host: string, port: number, svc: CompiledService): Pool {
    const key = `${protocol}://${host}:${port}|${svc.connectTimeout}`;
    let p = this.pools.get(key);
    if (!p) {
      const h = host.includes(':') ? `[${host}]` : host;
      p = new Pool(`${protocol}://${h}:${port}`, {
        connect: { timeout: svc.connectTimeout, rejectUnauthorized: svc.entity.tls_verify === true },
        keepAliveTimeout: 60_000,
        keepAliveMaxTimeout: 600_000,
        pipelining: 1,
      });
      this.pools.set(key, p);
    }
    return p;
  }

  /** largest request body accepted: the option, else the limits in force (they change with the configuration) */
  private maxBody(): number {
    return this.opts.maxBodySize ?? this.opts.limits().request_body_bytes;
  }

  async closePools(): Promise<void> {
    const pools = [...this.pools.values()];
    this.pools.clear();
    await Promise.allSettled(pools.map((p) => p.close()));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const start = performance.now();
    const id = nextRequestId();
    const snap = this.snapshot;
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const rawPath = q < 0 ? url : url.slice(0, q);
    const qs = q < 0 ? '' : url.slice(q + 1);
    const path = normalizePath(rawPath);
    const method = req.method ?? 'GET';
    const m = snap.router.match(method, path, req.headers.host, req.headers);
    if (m === undefined) {
      req.resume();
      this.sendError(res, 404, 'no Route matched with those values', id);
      this.finishLog(req, res, id, start, null, undefined, null);
      return;
    }
    const rt = m.target;
    const cl = req.headers['content-length'];
    const maxBody = this.maxBody();
    if (cl !== undefined && Number(cl) > maxBody) {
      countLimitHit('request_body_bytes');
      this.sendError(res, 413, 'Request size limit exceeded', id, { Connection: 'close' });
      req.resume();
      this.finishLog(req, res, id, start, rt, undefined, null);
      return;
    }
    const upstreamPath = rt.stripPath ? path.slice(m.stripLen) : path;
    if (rt.chain.length === 0) {
      if (rt.service === null) {
        req.resume();
        this.sendError(res, 503, 'no Service found with those values', id);
        this.finishLog(req, res, id, start, rt, undefined, null);
        return;
      }
      this.forward(req, res, id, start, rt, rt.service, null, upstreamPath, qs, m.stripLen, path, undefined, maxBody);
      return;
    }
    this.runPlugins(req, res, id, start, rt, path, rawPath, upstreamPath, qs, m.stripLen, maxBody).catch((e) => {
      this.log.error({ request_id: id, err: (e as Error).message }, 'plugin chain failed');
      if (!res.headersSent) this.sendError(res, 500, 'An unexpected error occurred', id);
      else res.destroy();
    });
  }

  private async runPlugins(
    req: IncomingMessage,
    res: ServerResponse,
    id: string,
    start: number,
    rt: RouteTarget,
    path: string,
    rawPath: string,
    upstreamPath: string,
    qs: string,
    stripLen: number,
    maxBody: number,
  ): Promise<void> {
    const snap = this.snapshot;
    const sock = req.socket;
    const hostHeader = req.headers.host ?? '';
    const hc = hostHeader.lastIndexOf(':');
    const hostOnly = hc > 0 && !hostHeader.endsWith(']') ? hostHeader.slice(0, hc) : hostHeader;
    const ctx = new Ctx(
      req,
      id,
      start,
      rt.route,
      rt.service?.entity ?? null,
      path,
      rawPath,
      qs,
      'http',
      hostOnly,
      this.opts.proxyPort(),
      sock.remoteAddress ?? '',
      sock.remotePort ?? 0,
      this.log,
      snap,
      maxBody,
    );
    const executed: PluginCandidate[] = [];
    res.once('close', () => {
      for (const c of executed) {
        if (c.instance.log) {
          try {
            c.instance.log(ctx);
          } catch (e) {
            this.log.error({ request_id: id, plugin: c.def.name, err: (e as Error).message }, 'log handler failed');
          }
        }
      }
    });
    for (const slot of rt.chain) {
      const cand = pickCandidate(slot, ctx.consumer?.id, ctx.consumerGroups);
      if (!cand) continue;
      // as Kong's collecting iterator: after an exit the rest are still collected
      // (their response and log phases run), only their access handlers are skipped
      executed.push(cand);
      if (ctx.exited || !cand.instance.access) continue;
      try {
        await cand.instance.access(ctx);
      } catch (e) {
        if (e instanceof BodyTooLarge) {
          countLimitHit('request_body_bytes');
          ctx.exit({ status: 413, body: { message: 'Request size limit exceeded' } });
        } else {
          this.log.error({ request_id: id, plugin: cand.def.name, err: (e as Error).message }, 'plugin access failed');
          ctx.exit({ status: 500, body: { message: 'An unexpected error occurred' } });
        }
      }
    }
    // the response and log phases run in priority order, whatever `ordering` did to access
    if (rt.reordered) executed.sort(byPriority);
    if (ctx.exited) {
      if (!ctx.body && hasRequestBody(req)) req.resume();
      await this.exitResponsePhase(res, ctx, executed);
      this.finishLog(req, res, id, start, rt, undefined, ctx);
      return;
    }
    if (res.destroyed) {
      // the client went away while plugins ran (their log handlers canceled their work): nothing goes upstream
      this.log.debug({ request_id: id, route: rt.label }, 'client closed the connection before the request was proxied');
      return;
    }
    let mode: false | 'headers' | 'body' = false;
    for (const c of executed) {
      if (!c.instance.response) continue;
      const w = c.instance.wantsResponse ? c.instance.wantsResponse(ctx) : 'body';
      if (w === 'body') mode = 'body';
      else if (w === 'headers' && mode === false) mode = 'headers';
    }
    let service = rt.service;
    if (service === null && !ctx.target && !ctx.upstreamName) {
      if (!ctx.body && hasRequestBody(req)) req.resume();
      this.sendError(res, 503, 'no Service found with those values', id);
      this.finishLog(req, res, id, start, rt, undefined, ctx);
      return;
    }
    if (service === null) {
      service = {
        entity: { id: '', protocol: 'http', tls_verify: null } as EntityRec,
        protocol: 'http', host: '', port: 80, path: null,
        connectTimeout: 60000, readTimeout: 60000, writeTimeout: 60000, retries: 5,
      };
    }
    this.forward(req, res, id, start, rt, service, ctx, ctx.upstreamPath ?? upstreamPath, ctx.query, stripLen, path, mode ? { mode, executed } : undefined, maxBody);
  }

  private buildHeaders(
    req: IncomingMessage,
    ctx: Ctx | null,
    rt: RouteTarget,
    hostValue: string,
    path: string,
    stripLen: number,
    id: string,
  ): string[] {
    const out: string[] = [];
    let xff: string | undefined;
    let hostIn: string | undefined;
    if (ctx === null) {
      const raw = req.rawHeaders;
      const conn = req.headers.connection;
      const extraHop = conn && conn !== 'keep-alive' && conn !== 'close' ? new Set(conn.toLowerCase().split(',').map((s) => s.trim())) : null;
      for (let i = 0; i < raw.length; i += 2) {
        const name = raw[i];
        const lower = name.toLowerCase();
        if (lower === 'host') {
          hostIn = raw[i + 1];
          continue;
        }
        if (HOP_BY_HOP.has(lower) || lower === 'expect' || (extraHop !== null && extraHop.has(lower))) continue;
        if (lower.startsWith('x-forwarded-') || lower === 'x-real-ip') {
          if (lower === 'x-forwarded-for') xff = xff ? `${xff}, ${raw[i + 1]}` : raw[i + 1];
          continue;
        }
        out.push(name, raw[i + 1]);
      }
    } else {
      const bag = ctx.headers;
      hostIn = ctx.originalHost;
      // headers the Connection header lists are hop-by-hop too
      const listed = connectionListed(bag);
      const newHost = listed?.has('host') ? undefined : bag.get('host');
      if (newHost !== undefined && newHost !== ctx.originalHost) hostValue = newHost;
      const x = listed?.has('x-forwarded-for') ? undefined : bag.getAll('x-forwarded-for');
      if (x !== undefined) xff = Array.isArray(x) ? x.join(', ') : x;
      // one pass: hop-by-hop headers, the ones the proxy sets itself, and a replaced body's length go
      const newLength = ctx.body !== undefined ? String(ctx.body.length) : undefined;
      bag.flatWithout(
        (n) => HOP_BY_HOP.has(n) || PROXY_SET.has(n) || (listed !== null && listed.has(n)) || (newLength !== undefined && n === 'content-length'),
        out,
      );
      if (newLength !== undefined) {
        bag.set('Content-Length', newLength);
        out.push('Content-Length', newLength);
      }
    }
    const ip = req.socket.remoteAddress ?? '';
    const port = String(this.opts.proxyPort());
    let fwdHost = hostIn ?? '';
    const c = fwdHost.lastIndexOf(':');
    if (c > 0 && !fwdHost.endsWith(']')) fwdHost = fwdHost.slice(0, c);
    out.push(
      'Host', rt.preserveHost && hostIn ? hostIn : hostValue,
      'X-Forwarded-For', xff ? `${xff}, ${ip}` : ip,
      'X-Forwarded-Proto', 'http',
      'X-Forwarded-Host', fwdHost,
      'X-Forwarded-Port', port,
      'X-Forwarded-Path', path,
      'X-Real-IP', ip,
      'X-Datakit-Request-Id', id,
    );
    if (rt.stripPath && stripLen > 0) out.push('X-Forwarded-Prefix', path.slice(0, stripLen));
    return out;
  }

  private forward(
    req: IncomingMessage,
    res: ServerResponse,
    id: string,
    start: number,
    rt: RouteTarget,
    svc: CompiledService,
    ctx: Ctx | null,
    upstreamPath: string,
    qs: string,
    stripLen: number,
    path: string,
    respPhase: { mode: 'headers' | 'body'; executed: PluginCandidate[] } | undefined,
    maxBody: number,
  ): void {
    let protocol = svc.protocol;
    let host = svc.host;
    let port = svc.port;
    let balancer = svc.upstream;
    if (ctx !== null) {
      if (ctx.upstreamScheme) protocol = ctx.upstreamScheme;
      if (ctx.target) {
        host = ctx.target.host;
        port = ctx.target.port;
        balancer = undefined;
      } else if (ctx.upstreamName) {
        balancer = this.snapshot.upstreams.get(ctx.upstreamName);
        host = ctx.upstreamName;
      }
    }
    const defaultPort = protocol === 'https' ? 443 : 80;
    const hostValue = balancer || port === defaultPort ? host : `${host}:${port}`;
    const headers = this.buildHeaders(req, ctx, rt, hostValue, path, stripLen, id);
    const fullPath = joinPath(svc.path, upstreamPath) + (qs ? '?' + qs : '');
    const method = ctx?.upstreamMethod ?? req.method ?? 'GET';
    let body: Buffer | Readable | null = ctx?.body !== undefined ? ctx.body : hasRequestBody(req) ? req : null;
    let tooLarge = false;
    if (body === req && req.headers['content-length'] === undefined) {
      // chunked upload: enforce the size limit while streaming
      let size = 0;
      const t = new Transform({
        transform(chunk: Buffer, _enc, cb) {
          size += chunk.length;
          if (size > maxBody) {
            tooLarge = true;
            cb(new BodyTooLarge('request body too large'));
          } else cb(null, chunk);
        },
      });
      req.on('error', (e) => t.destroy(e));
      body = req.pipe(t);
    }
    const canRetry = body === null || Buffer.isBuffer(body);
    let attempts = balancer ? Math.max(0, svc.retries) + 1 : 1;
    const responseTimeout = this.opts.limits().upstream_response_timeout_ms;

    const attempt = (): void => {
      let th = host;
      let tp = port;
      if (balancer) {
        const t = balancer.next();
        if (!t) {
          this.upstreamFailed(res, id, start, rt, ctx, 503, 'name resolution failed', 'no_targets');
          return;
        }
        th = t.host;
        tp = t.port;
      }
      const proxyLatency = performance.now() - start;
      const t0 = performance.now();
      const watch = new UpstreamWatch(res, svc.readTimeout, t0 + responseTimeout);
      this.pool(protocol, th, tp, svc)
        .request({
          method,
          path: fullPath,
          headers,
          body,
          headersTimeout: svc.readTimeout,
          bodyTimeout: svc.readTimeout,
          signal: watch as unknown as EventEmitter,
        })
        .then(
          (up) => {
            watch.headersArrived();
            const upstreamLatency = performance.now() - t0;
            if (ctx !== null) {
              ctx.upstreamLatency = upstreamLatency;
              ctx.responseSource = 'service';
            }
            if (respPhase !== undefined && ctx !== null) {
              this.responsePhase(req, res, id, start, rt, ctx, up, respPhase, proxyLatency, upstreamLatency, watch).catch((e) => {
                watch.end();
                drop(up.body);
                this.log.error({ request_id: id, err: (e as Error).message }, 'response phase failed');
                if (!res.headersSent) this.sendError(res, 500, 'An unexpected error occurred', id);
                else res.destroy();
              });
              return;
            }
            const out: Record<string, string | string[]> = {};
            const h = up.headers;
            for (const k in h) {
              if (HOP_BY_HOP.has(k)) continue;
              const v = h[k];
              if (v !== undefined) out[k] = v;
            }
            out.via = out.via ? `${out.via as string}, ${VIA}` : VIA;
            out['x-kong-upstream-latency'] = String(Math.round(upstreamLatency));
            out['x-kong-proxy-latency'] = String(Math.round(proxyLatency));
            out['x-datakit-request-id'] = id;
            let status = up.statusCode;
            if (ctx?.responseStatusOverride) status = ctx.responseStatusOverride;
            if (ctx) ctx.finalStatus = status;
            const b = up.body;
            if (!this.writeHead(res, status, out, id)) {
              watch.end();
              drop(b);
              return;
            }
            this.stream(b, res, watch, id, rt);
            this.finishLog(req, res, id, start, rt, upstreamLatency, ctx);
          },
          (err: Error & { code?: string }) => {
            watch.end();
            if (tooLarge) {
              req.resume();
              countLimitHit('request_body_bytes');
              this.upstreamFailed(res, id, start, rt, ctx, 413, 'Request size limit exceeded', 'body_too_large');
              return;
            }
            const code = err.code ?? '';
            if (watch.cutBy === 'client_closed') {
              this.log.debug({ request_id: id, route: rt.label }, 'client closed the connection: upstream request canceled');
              return;
            }
            if (code === 'UND_ERR_INVALID_ARG') {
              // a header (or path) a plugin set that cannot be sent: the gateway's fault, not the upstream's
              this.log.error({ request_id: id, route: rt.label, err: err.message }, 'invalid service request (set by a plugin)');
              if (ctx) ctx.responseSource = 'error';
              if (!res.headersSent) this.sendError(res, 500, 'An unexpected error occurred', id);
              this.finishLog(null, res, id, start, rt, undefined, ctx);
              return;
            }
            const timeout =
              watch.cutBy !== undefined || code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT';
            const connectErr = code === 'ECONNREFUSED' || code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'EHOSTUNREACH' || code === 'ENOTFOUND' || code === 'EAI_AGAIN';
            if (connectErr && canRetry && --attempts > 0 && !res.headersSent) {
              this.opts.metrics.upstreamError(rt.label, 'retry');
              attempt();
              return;
            }
            this.log.warn(
              { request_id: id, route: rt.label, target: `${th}:${tp}`, err: watch.cutBy === 'response_timeout' ? `no complete response within ${responseTimeout} ms` : err.message, code },
              'upstream request failed',
            );
            if (timeout) this.upstreamFailed(res, id, start, rt, ctx, 504, 'The upstream server is timing out', 'timeout');
            else this.upstreamFailed(res, id, start, rt, ctx, 502, 'An invalid response was received from the upstream server', 'connect');
          },
        );
    };
    attempt();
  }

  /**
   * Pipes an upstream body to the client. A body cut short (the response
   * timeout, an upstream error) can only end the connection: the status
   * line is gone.
   */
  private stream(b: Readable, res: ServerResponse, watch: UpstreamWatch, id: string, rt: RouteTarget): void {
    b.once('end', () => watch.end());
    b.on('error', () => {
      watch.end();
      if (watch.cutBy === 'response_timeout') {
        this.opts.metrics.upstreamError(rt.label, 'timeout');
        this.log.warn({ request_id: id, route: rt.label }, 'upstream response timed out while streaming: connection closed');
      }
      res.destroy();
    });
    b.pipe(res);
  }

  private upstreamFailed(res: ServerResponse, id: string, start: number, rt: RouteTarget, ctx: Ctx | null, status: number, message: string, kind: string): void {
    this.opts.metrics.upstreamError(rt.label, kind);
    if (ctx) ctx.responseSource = 'error';
    if (!res.headersSent) this.sendError(res, status, message, id);
    else res.destroy();
    this.finishLog(null, res, id, start, rt, undefined, ctx);
  }

  /**
   * writeHead, or false after answering 500 when a header cannot be sent
   * (a plugin set a name or value HTTP forbids: the gateway's fault).
   */
  private writeHead(res: ServerResponse, status: number, headers: Record<string, string | string[]> | string[], id: string): boolean {
    // a 1xx (or out-of-range) status is not a final answer: sent as one, the client would wait forever
    if (!Number.isInteger(status) || status < 200 || status > 999) {
      this.log.error({ request_id: id, status }, 'invalid response status (set by a plugin or flow)');
      this.sendError(res, 500, 'An unexpected error occurred', id);
      return false;
    }
    try {
      res.writeHead(status, headers as Record<string, string | string[]>);
      return true;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== 'ERR_INVALID_CHAR' && code !== 'ERR_INVALID_HTTP_TOKEN' && code !== 'ERR_HTTP_INVALID_HEADER_VALUE') throw e;
      this.log.error({ request_id: id, err: (e as Error).message }, 'invalid response header (set by a plugin)');
      // the failed writeHead left its headers behind
      for (const name of res.getHeaderNames()) res.removeHeader(name);
      this.sendError(res, 500, 'An unexpected error occurred', id);
      return false;
    }
  }

  private async responsePhase(
    req: IncomingMessage,
    res: ServerResponse,
    id: string,
    start: number,
    rt: RouteTarget,
    ctx: Ctx,
    up: { statusCode: number; headers: Record<string, string | string[] | undefined>; body: Readable },
    phase: { mode: 'headers' | 'body'; executed: PluginCandidate[] },
    proxyLatency: number,
    upstreamLatency: number,
    watch: UpstreamWatch,
  ): Promise<void> {
    const headers = HeaderBag.fromObject(up.headers);
    stripHopByHop(headers);
    const ur: UpstreamResponse = { status: up.statusCode, headers };
    if (phase.mode === 'body') {
      const limit = this.opts.limits().service_response_body_bytes;
      try {
        // destroying the body drops the upstream connection: the rest is never read
        ur.body = await readLimited(up.body, declaredLength(up.headers['content-length']), limit, () => responseTooLarge(limit), () => drop(up.body));
      } catch (e) {
        watch.end();
        if (watch.cutBy === 'client_closed') return;
        if (e instanceof LimitExceeded) {
          this.log.warn({ request_id: id, route: rt.label, limit: e.limit, limit_bytes: limit }, e.message);
          this.upstreamFailed(res, id, start, rt, ctx, 502, 'An invalid response was received from the upstream server', 'response_too_large');
        } else if (watch.cutBy === 'response_timeout' || (e as { code?: string }).code === 'UND_ERR_BODY_TIMEOUT') {
          this.log.warn({ request_id: id, route: rt.label, err: (e as Error).message }, 'upstream request failed');
          this.upstreamFailed(res, id, start, rt, ctx, 504, 'The upstream server is timing out', 'timeout');
        } else {
          this.log.warn({ request_id: id, route: rt.label, err: (e as Error).message }, 'upstream request failed');
          this.upstreamFailed(res, id, start, rt, ctx, 502, 'An invalid response was received from the upstream server', 'connect');
        }
        return;
      }
      watch.end();
    }
    ctx.upstreamResponse = ur;
    for (const c of phase.executed) {
      if (!c.instance.response) continue;
      try {
        await c.instance.response(ctx);
      } catch (e) {
        this.log.error({ request_id: id, plugin: c.def.name, err: (e as Error).message }, 'plugin response handler failed');
        ctx.exit({ status: 500, body: { message: 'An unexpected error occurred' } });
      }
      if (ctx.exited) break;
    }
    if (res.destroyed) {
      // the client went away during the response phase
      watch.end();
      drop(up.body);
      return;
    }
    if (ctx.exited) {
      if (ur.body === undefined) {
        watch.end();
        drop(up.body);
      }
      this.sendExit(res, ctx, ctx.exited);
      this.finishLog(req, res, id, start, rt, upstreamLatency, ctx);
      return;
    }
    headers.set('Via', headers.get('via') ? `${headers.get('via')}, ${VIA}` : VIA);
    headers.set('X-Kong-Upstream-Latency', String(Math.round(upstreamLatency)));
    headers.set('X-Kong-Proxy-Latency', String(Math.round(proxyLatency)));
    headers.set('X-Datakit-Request-Id', id);
    const status = ctx.responseStatusOverride && !ur.bodyReplaced ? ctx.responseStatusOverride : ur.status;
    ctx.finalStatus = status;
    if (ur.body !== undefined) {
      headers.delete('content-length');
      headers.set('Content-Length', String(ur.body.length));
      if (this.writeHead(res, status, headers.toFlat(), id)) res.end(ur.body);
    } else if (this.writeHead(res, status, headers.toFlat(), id)) {
      this.stream(up.body, res, watch, id, rt);
    } else {
      watch.end();
      drop(up.body);
    }
    this.finishLog(req, res, id, start, rt, upstreamLatency, ctx);
  }

  /**
   * A plugin answered the client itself: as Kong runs header_filter and
   * body_filter on every response, the request's plugins that have a
   * response phase still see (and may change) the exit's status, headers
   * and body before it is sent. A handler that exits again replaces it.
   */
  private async exitResponsePhase(res: ServerResponse, ctx: Ctx, collected: PluginCandidate[]): Promise<void> {
    const first = ctx.exited!;
    const handlers = collected.filter((c) => c.instance.response && (c.instance.wantsResponse ? c.instance.wantsResponse(ctx) : 'body') !== false);
    if (handlers.length === 0 || res.destroyed) {
      this.sendExit(res, ctx, first);
      return;
    }
    const ur = this.exitAsResponse(ctx, first);
    ctx.upstreamResponse = ur;
    for (const c of handlers) {
      try {
        await c.instance.response!(ctx);
      } catch (e) {
        this.log.error({ request_id: ctx.requestId, plugin: c.def.name, err: (e as Error).message }, 'plugin response handler failed');
        ctx.exit({ status: 500, body: { message: 'An unexpected error occurred' } });
      }
      if (ctx.exited !== first) break;
    }
    if (res.destroyed) return;
    if (ctx.exited !== first) {
      this.sendExit(res, ctx, ctx.exited!);
      return;
    }
    ur.headers.delete('content-length');
    ur.headers.set('Content-Length', String(ur.body!.length));
    ctx.finalStatus = ur.status;
    if (this.writeHead(res, ur.status, ur.headers.toFlat(), ctx.requestId)) res.end(ur.body);
  }

  private sendExit(res: ServerResponse, ctx: Ctx, e: ExitResponse): void {
    const r = this.exitAsResponse(ctx, e);
    ctx.finalStatus = r.status;
    if (res.headersSent) res.destroy();
    else if (this.writeHead(res, r.status, r.headers.toFlat(), ctx.requestId)) res.end(r.body);
  }

  /** An exit as the response the client gets: body encoded, gateway headers set. */
  private exitAsResponse(ctx: Ctx, e: ExitResponse): UpstreamResponse & { body: Buffer } {
    const headers = new HeaderBag();
    if (e.headers) for (const [k, v] of Object.entries(e.headers)) headers.set(k, v);
    let body: Buffer;
    if (e.body === undefined || e.body === null) body = EMPTY;
    else if (typeof e.body === 'string') body = Buffer.from(e.body);
    else if (e.body instanceof Uint8Array) body = Buffer.from(e.body.buffer, e.body.byteOffset, e.body.byteLength);
    else {
      const obj = e.body as Record<string, unknown>;
      const withId = typeof obj.message === 'string' && obj.request_id === undefined ? { ...obj, request_id: ctx.requestId } : obj;
      body = Buffer.from(JSON.stringify(withId));
      if (!headers.has('content-type')) headers.set('Content-Type', JSON_CT);
    }
    stripHopByHop(headers);
    headers.delete('content-length');
    headers.set('Content-Length', String(body.length));
    headers.set('X-Kong-Response-Latency', String(Math.round(performance.now() - ctx.startedAt)));
    headers.set('X-Datakit-Request-Id', ctx.requestId);
    headers.set('Server', 'datakit-gateway/0.1.0');
    const status = ctx.responseStatusOverride && ctx.responseSource !== 'exit' ? ctx.responseStatusOverride : e.status;
    return { status, headers, body };
  }

  sendJson(res: ServerResponse, status: number, body: Record<string, unknown>, id: string, extra?: Record<string, string>): void {
    const text = JSON.stringify({ ...body, request_id: id });
    res.writeHead(status, {
      'Content-Type': JSON_CT,
      'Content-Length': Buffer.byteLength(text),
      'X-Datakit-Request-Id': id,
      Server: 'datakit-gateway/0.1.0',
      ...extra,
    });
    res.end(text);
  }

  sendError(res: ServerResponse, status: number, message: string, id: string, extra?: Record<string, string>): void {
    this.sendJson(res, status, { message }, id, extra);
  }

  private finishLog(
    req: IncomingMessage | null,
    res: ServerResponse,
    id: string,
    start: number,
    rt: RouteTarget | null,
    upstreamLatency: number | undefined,
    ctx: Ctx | null,
  ): void {
    const metrics = this.opts.metrics;
    const accessLog = this.opts.accessLog;
    const log = this.log;
    const r = req ?? ctx?.req ?? null;
    res.once('finish', () => {
      const total = performance.now() - start;
      const label = rt ? rt.label : '';
      metrics.request(label, res.statusCode, total, upstreamLatency);
      if (accessLog) {
        log.info(
          {
            request_id: id,
            method: r?.method,
            path: r?.url,
            route: rt ? rt.label : null,
            service: rt?.service ? String(rt.service.entity.name ?? rt.service.entity.id) : null,
            status: res.statusCode,
            latency_ms: Math.round(total * 100) / 100,
            upstream_latency_ms: upstreamLatency === undefined ? null : Math.round(upstreamLatency * 100) / 100,
            consumer: ctx?.consumer ? ctx.consumer.username ?? ctx.consumer.id : undefined,
          },
          'request',
        );
      }
    });
  }
}
