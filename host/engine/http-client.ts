import { createHash } from 'node:crypto';
import { Agent, ProxyAgent, type Dispatcher } from 'undici';
import { DEFAULT_LIMITS, LimitExceeded } from '../limits.js';

/** A call node's request, as the engine describes it (JSON from http_dispatch). */
export interface CallRequest {
  method: string;
  url: string;
  headers: Record<string, string | string[]>;
  timeout?: number;
  ssl_verify?: boolean;
  ssl_server_name?: string;
  http_proxy?: string;
  https_proxy?: string;
  proxy_auth_username?: string;
  proxy_auth_password?: string;
  /**
   * The answer headers the engine will read (lowercase names); absent: all.
   * A transport may send more than these; sending fewer loses data.
   */
  response_headers?: string[];
  /**
   * Not from the module: the runtime sets it from the flow's
   * `call_response_body_bytes`. Absent: the client's `maxResponseBytes`.
   */
  max_response_bytes?: number;
}

export interface CallResponse {
  status: number;
  headers: Record<string, string | string[]>;
  body: Uint8Array;
}

/**
 * Cancels one in-flight call. Keeps the EventEmitter shape a transport may
 * use (`aborted`, `once('abort', fn)`, `off('abort', fn)`) without being
 * one: a call registers a single listener, and a full EventEmitter per call
 * (its listener arrays and once-wrappers) showed up in profiles.
 */
export class CallCancel {
  aborted = false;
  private listeners: Array<() => void> = [];

  once(event: 'abort', fn: () => void): this {
    if (event === 'abort') this.listeners.push(fn);
    return this;
  }

  off(event: 'abort', fn: () => void): this {
    const i = event === 'abort' ? this.listeners.indexOf(fn) : -1;
    if (i >= 0) this.listeners.splice(i, 1);
    return this;
  }

  abort(): void {
    if (this.aborted) return;
    this.aborted = true;
    const fns = this.listeners;
    this.listeners = [];
    for (const fn of fns) fn();
  }
}

/** `http://host:port/path?q` -> origin and path, without a URL object. */
export function splitUrl(url: string): { origin: string; path: string } {
  const scheme = url.indexOf('://');
  if (scheme < 0) throw new Error(`invalid url ${JSON.stringify(url)}`);
  let end = url.length;
  for (let i = scheme + 3; i < url.length; i++) {
    const c = url.charCodeAt(i);
    if (c === 47 /* / */ || c === 63 /* ? */ || c === 35 /* # */) {
      end = i;
      break;
    }
  }
  const origin = url.slice(0, end);
  let path = url.slice(end);
  const hash = path.indexOf('#');
  if (hash >= 0) path = path.slice(0, hash);
  if (path === '' || path.charCodeAt(0) !== 47) path = '/' + path;
  return { origin, path };
}

/** Something that answers call nodes: the undici client, or an in-process
 * answerer (benchmarks, `datakit bench --mock-calls`). */
export interface CallTransport {
  send(req: CallRequest, body: Uint8Array | undefined, cancel: CallCancel): Promise<CallResponse>;
  /**
   * Optional callback form of `send` (called exactly once), used instead of
   * it when present: no promise and no extra microtask per call.
   */
  dispatch?(req: CallRequest, body: Uint8Array | undefined, cancel: CallCancel, done: CallDone): void;
  close(): Promise<void>;
}

/** How a call ends: an error (its message is what the node reports) or the response. */
export type CallDone = (err: Error | null, res: CallResponse | undefined) => void;

export interface HttpClientOptions {
  /** default call timeout in ms when the node sets none (Kong: 60 s) */
  defaultTimeout?: number;
  /** upper bound on a call's response body when the call names none (default: limits' call_response_body_bytes) */
  maxResponseBytes?: number;
  /** keep-alive connections per origin */
  connections?: number;
}

const DEFAULT_TIMEOUT = 60_000;

/**
 * HTTP callouts for `call` nodes, with undici: keep-alive pools reused
 * across requests, one dispatcher per TLS/proxy setting.
 */
export class HttpClient implements CallTransport {
  private readonly dispatchers = new Map<string, Dispatcher>();
  private readonly defaultTimeout: number;
  private readonly maxResponseBytes: number;
  private readonly connections: number;

  constructor(options: HttpClientOptions = {}) {
    this.defaultTimeout = options.defaultTimeout ?? DEFAULT_TIMEOUT;
    this.maxResponseBytes = options.maxResponseBytes ?? DEFAULT_LIMITS.call_response_body_bytes;
    this.connections = options.connections ?? 128;
  }

  private defaultAgent: Dispatcher | undefined;

  // an Agent, not a pool per origin: it closes and forgets pools whose
  // connections are all gone, so flows calling many (dynamic) origins do not
  // accumulate them
  private dispatcherFor(req: CallRequest, isHttps: boolean): Dispatcher {
    const verify = req.ssl_verify !== false;
    const sni = req.ssl_server_name ?? '';
    // an http:// target through http_proxy is sent to the proxy in absolute form by dispatch(), on a plain agent
    const proxy = isHttps ? req.https_proxy : undefined;
    // the common case: no TLS options, no proxy
    if (verify && !sni && !proxy) return (this.defaultAgent ??= this.create(true, '', undefined, req));
    return this.create(verify, sni, proxy, req);
  }

  private create(verify: boolean, sni: string, proxy: string | undefined, req: CallRequest): Dispatcher {
    // proxy credentials are part of the pool identity (a digest, not the secret)
    const auth = proxy && req.proxy_auth_username !== undefined
      ? createHash('sha256').update(`${req.proxy_auth_username}:${req.proxy_auth_password ?? ''}`).digest('hex')
      : '';
    const key = `${verify}|${sni}|${proxy ?? ''}|${auth}`;
    let d = this.dispatchers.get(key);
    if (d) return d;
    const connect = { rejectUnauthorized: verify, ...(sni ? { servername: sni } : {}) };
    // the body limit is per call (flows set their own): CollectingHandler enforces it
    const common = { connections: this.connections, keepAliveTimeout: 10_000 };
    if (proxy) {
      const token =
        req.proxy_auth_username !== undefined
          ? 'Basic ' + Buffer.from(`${req.proxy_auth_username}:${req.proxy_auth_password ?? ''}`).toString('base64')
          : undefined;
      d = new ProxyAgent({ uri: proxy, token, requestTls: connect, ...common });
    } else {
      d = new Agent({ connect, ...common });
    }
    this.dispatchers.set(key, d);
    return d;
  }

  /**
   * Sends the request; rejects with an Error whose message the node reports.
   * Uses undici's dispatch with a small collecting handler: the engine wants
   * the whole body as bytes, so request()'s stream, async resource and
   * promise chain per call would be pure overhead.
   */
  send(req: CallRequest, body: Uint8Array | undefined, cancel: CallCancel): Promise<CallResponse> {
    return new Promise<CallResponse>((resolve, reject) => {
      this.dispatch(req, body, cancel, (err, res) => (err ? reject(err) : resolve(res!)));
    });
  }

  dispatch(req: CallRequest, body: Uint8Array | undefined, cancel: CallCancel, done: CallDone): void {
    let origin: string;
    let path: string;
    try {
      ({ origin, path } = splitUrl(req.url));
    } catch (err) {
      done(err as Error, undefined);
      return;
    }
    const timeout = req.timeout !== undefined && req.timeout > 0 ? req.timeout : this.defaultTimeout;
    const maxBytes = req.max_response_bytes ?? this.maxResponseBytes;
    const call = new CollectingHandler(done, cancel, origin, path, timeout, req.response_headers, maxBytes);
    try {
      const isHttps = origin.startsWith('https:');
      const target = !isHttps && req.http_proxy ? forwardProxyTarget(req, origin, path) : { origin, path, headers: req.headers };
      this.dispatcherFor(req, isHttps).dispatch(
        {
          origin: target.origin,
          path: target.path,
          method: req.method as Dispatcher.HttpMethod,
          headers: target.headers,
          body: body && body.byteLength > 0 ? body : undefined,
        },
        call,
      );
    } catch (err) {
      call.onError(err as Error);
    }
  }

  async close(): Promise<void> {
    const all = [...this.dispatchers.values()];
    this.dispatchers.clear();
    this.defaultAgent = undefined;
    await Promise.all(all.map((d) => d.close().catch(() => undefined)));
  }
}

/**
 * An http:// call through `http_proxy`, as a forward proxy expects it (and as
 * Kong's resty.http sends it): the request line carries the absolute URL
 * (`GET http://host/path HTTP/1.1`), the connection goes to the proxy, Host
 * names the target, credentials go in Proxy-Authorization. No CONNECT tunnel:
 * that is for https:// targets only.
 */
function forwardProxyTarget(req: CallRequest, origin: string, path: string): { origin: string; path: string; headers: Record<string, string | string[]> } {
  const proxy = splitUrl(req.http_proxy!);
  const headers: Record<string, string | string[]> = {};
  let hasHost = false;
  for (const [k, v] of Object.entries(req.headers)) {
    const lower = k.toLowerCase();
    if (lower === 'proxy-authorization') continue;
    if (lower === 'host') hasHost = true;
    headers[k] = v;
  }
  if (!hasHost) headers.host = origin.slice(origin.indexOf('://') + 3);
  if (req.proxy_auth_username !== undefined) {
    headers['proxy-authorization'] = 'Basic ' + Buffer.from(`${req.proxy_auth_username}:${req.proxy_auth_password ?? ''}`).toString('base64');
  }
  return { origin: proxy.origin, path: origin + path, headers };
}

function isContentLength(name: Buffer): boolean {
  return name.toString('latin1').toLowerCase() === 'content-length';
}

function lengthListed(names: string[], length: number): boolean {
  for (let i = 0; i < names.length; i++) if (names[i].length === length) return true;
  return false;
}

/**
 * One call's undici handler: buffers the body (up to its limit), enforces
 * the call timeout with one timer, and turns failures into the messages
 * nodes report.
 */
class CollectingHandler implements Dispatcher.DispatchHandler {
  private status = 0;
  private headers: Record<string, string | string[]> = {};
  private readonly chunks: Buffer[] = [];
  private size = 0;
  private abortFn: ((err?: Error) => void) | undefined;
  private settled = false;
  private timedOut = false;
  private readonly timer: NodeJS.Timeout;
  private readonly onCancel = () => this.abortNow(new Error('call canceled'));

  constructor(
    private readonly done: CallDone,
    private readonly cancel: CallCancel,
    private readonly origin: string,
    private readonly path: string,
    private readonly timeout: number,
    private readonly wanted: string[] | undefined,
    private readonly maxBytes: number,
  ) {
    // one plain timer bounds the whole call (undici's own timeouts are coarse below 1 s)
    this.timer = setTimeout(() => {
      this.timedOut = true;
      this.abortNow(new Error('timeout'));
    }, timeout);
    if (cancel.aborted) queueMicrotask(this.onCancel);
    else cancel.once('abort', this.onCancel);
  }

  private abortNow(err: Error): void {
    if (this.settled) return;
    if (this.abortFn) this.abortFn(err);
    else this.onError(err); // not connected yet: fail now, onConnect aborts the request
  }

  onConnect(abort: (err?: Error) => void): void {
    if (this.settled) abort(new Error('call canceled'));
    else this.abortFn = abort;
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[]): boolean {
    this.status = statusCode;
    if (statusCode < 200) return true; // 1xx: the final response follows
    // no prototype: a header named __proto__ is a plain key
    const h: Record<string, string | string[]> = Object.create(null);
    const wanted = this.wanted;
    for (let i = 0; i < rawHeaders.length; i += 2) {
      const nameLength = rawHeaders[i].length;
      // a declared length over the limit fails the call before any of the body is read
      if (nameLength === 14 && isContentLength(rawHeaders[i]) && Number(rawHeaders[i + 1].toString('latin1')) > this.maxBytes) {
        this.tooLarge();
        return false;
      }
      // headers the engine does not read are skipped before any string is made
      if (wanted !== undefined && !lengthListed(wanted, nameLength)) continue;
      const name = rawHeaders[i].toString('latin1').toLowerCase();
      if (wanted !== undefined && !wanted.includes(name)) continue;
      const value = rawHeaders[i + 1].toString('latin1');
      const prev = h[name];
      if (prev === undefined) h[name] = value;
      else if (Array.isArray(prev)) prev.push(value);
      else h[name] = [prev, value];
    }
    this.headers = h;
    return true;
  }

  onData(chunk: Buffer): boolean {
    this.size += chunk.length;
    if (this.size > this.maxBytes) {
      this.tooLarge();
      return false;
    }
    this.chunks.push(chunk);
    return true;
  }

  /** The answer is over the limit: fail the call now and drop its connection (nothing more is read). */
  private tooLarge(): void {
    const where = `${this.origin}${this.path.split('?')[0]}`;
    const err = new LimitExceeded('call_response_body_bytes', `response body exceeds the call_response_body_bytes limit (${this.maxBytes} bytes) calling ${where}`);
    this.chunks.length = 0;
    this.finish();
    this.done(err, undefined);
    this.abortFn?.(err);
  }

  onComplete(): void {
    if (this.settled) return;
    this.finish();
    const c = this.chunks;
    const body = c.length === 1 ? c[0] : Buffer.concat(c, this.size);
    this.done(null, { status: this.status, headers: this.headers, body: new Uint8Array(body.buffer, body.byteOffset, body.byteLength) });
  }

  onError(err: Error): void {
    if (this.settled) return;
    this.finish();
    this.done(this.describe(err), undefined);
  }

  private finish(): void {
    this.settled = true;
    clearTimeout(this.timer);
    this.cancel.off('abort', this.onCancel);
  }

  private describe(err: Error): Error {
    if (err instanceof LimitExceeded) return err;
    const where = `${this.origin}${this.path.split('?')[0]}`;
    if (this.timedOut) return new Error(`timeout after ${this.timeout} ms calling ${where}`);
    if (this.cancel.aborted) return new Error('call canceled');
    const e = err as NodeJS.ErrnoException & { cause?: NodeJS.ErrnoException };
    if (e.code === 'UND_ERR_CONNECT_TIMEOUT') return new Error(`timeout connecting to ${where}`);
    const cause = e.cause && e.cause.code ? `${e.cause.code} ${e.cause.message}` : e.code ? `${e.code} ${e.message}` : e.message;
    return new Error(`call to ${where} failed: ${cause}`);
  }
}
