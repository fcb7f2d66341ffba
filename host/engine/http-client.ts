import { createHash } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { Agent, ProxyAgent, type Dispatcher } from 'undici';

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
}

export interface CallResponse {
  status: number;
  headers: Record<string, string | string[]>;
  body: Uint8Array;
}

/**
 * Cancels one in-flight call. undici accepts an EventEmitter as a signal;
 * this costs far less per call than an AbortController (and no
 * AbortSignal.any/timeout chains: undici's own timeouts bound the call).
 */
export class CallCancel extends EventEmitter {
  aborted = false;
  abort(): void {
    if (this.aborted) return;
    this.aborted = true;
    this.emit('abort');
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
  close(): Promise<void>;
}

export interface HttpClientOptions {
  /** default call timeout in ms when the node sets none (Kong: 60 s) */
  defaultTimeout?: number;
  /** upper bound on a call's response body */
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
    this.maxResponseBytes = options.maxResponseBytes ?? 64 * 1024 * 1024;
    this.connections = options.connections ?? 128;
  }

  private defaultAgent: Dispatcher | undefined;

  private dispatcherFor(req: CallRequest, isHttps: boolean): Dispatcher {
    const verify = req.ssl_verify !== false;
    const sni = req.ssl_server_name ?? '';
    const proxy = isHttps ? req.https_proxy : req.http_proxy;
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
    const common = { connections: this.connections, maxResponseSize: this.maxResponseBytes, keepAliveTimeout: 10_000 };
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

  /** Sends the request; rejects with an Error whose message the node reports. */
  async send(req: CallRequest, body: Uint8Array | undefined, cancel: CallCancel): Promise<CallResponse> {
    const { origin, path } = splitUrl(req.url);
    const timeout = req.timeout !== undefined && req.timeout > 0 ? req.timeout : this.defaultTimeout;
    // one plain timer bounds the whole call (undici's own timeouts are coarse below 1 s)
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      cancel.abort();
    }, timeout);
    try {
      const res = await this.dispatcherFor(req, origin.startsWith('https:')).request({
        origin,
        path,
        method: req.method as Dispatcher.HttpMethod,
        headers: req.headers,
        body: body && body.byteLength > 0 ? body : undefined,
        signal: cancel,
      });
      const buf = new Uint8Array(await res.body.arrayBuffer());
      return { status: res.statusCode, headers: res.headers as Record<string, string | string[]>, body: buf };
    } catch (err) {
      const where = `${origin}${path.split('?')[0]}`;
      if (timedOut) throw new Error(`timeout after ${timeout} ms calling ${where}`);
      if (cancel.aborted) throw new Error('call canceled');
      const e = err as NodeJS.ErrnoException & { cause?: NodeJS.ErrnoException };
      if (e.code === 'UND_ERR_CONNECT_TIMEOUT') throw new Error(`timeout connecting to ${where}`);
      const cause = e.cause && e.cause.code ? `${e.cause.code} ${e.cause.message}` : e.code ? `${e.code} ${e.message}` : e.message;
      throw new Error(`call to ${where} failed: ${cause}`);
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {
    const all = [...this.dispatchers.values()];
    this.dispatchers.clear();
    this.defaultAgent = undefined;
    await Promise.all(all.map((d) => d.close().catch(() => undefined)));
  }
}
