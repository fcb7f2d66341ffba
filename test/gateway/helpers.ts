import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import { startGateway, type GatewayOptions, type RunningGateway } from '../../host/gateway/index.js';

export interface Seen {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  rawHeaders: string[];
  body: string;
}

export interface Upstream {
  url: string;
  port: number;
  seen: Seen[];
  close(): Promise<void>;
}

/** Echo upstream: answers JSON describing the request; `/slow?ms=N` waits first; `/status/N` answers N. */
export async function startUpstream(name = 'up'): Promise<Upstream> {
  const seen: Seen[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const s: Seen = { method: req.method!, url: req.url!, headers: req.headers, rawHeaders: req.rawHeaders, body };
      seen.push(s);
      const u = new URL(req.url!, 'http://x');
      const send = () => {
        const st = /^\/status\/(\d+)$/.exec(u.pathname);
        const out = JSON.stringify({ upstream: name, ...s });
        res.writeHead(st ? Number(st[1]) : 200, { 'Content-Type': 'application/json', 'X-Upstream': name, Connection: 'keep-alive' });
        res.end(out);
      };
      if (u.pathname.startsWith('/slow')) setTimeout(send, Number(u.searchParams.get('ms') ?? 500));
      else send();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    seen,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

/** A DB-less gateway on free ports. Its Admin API keeps entity writes in memory (tests build state through it); pass adminWrites: 'refuse' for Kong's refusal. */
export async function gateway(config: string | Record<string, unknown>, extra: GatewayOptions = {}): Promise<RunningGateway> {
  return startGateway({
    config,
    proxyListen: '127.0.0.1:0',
    adminListen: '127.0.0.1:0',
    logLevel: 'silent',
    accessLog: false,
    adminWrites: 'memory',
    ...extra,
  });
}

export interface Res {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: any;
}

export async function call(
  base: string,
  path: string,
  opts: { method?: string; headers?: Record<string, string | string[]>; body?: string | Buffer; json?: unknown } = {},
): Promise<Res> {
  const headers: Record<string, string | string[]> = { ...(opts.headers ?? {}) };
  let body = opts.body;
  if (opts.json !== undefined) {
    body = JSON.stringify(opts.json);
    headers['content-type'] ??= 'application/json';
  }
  const r = await request(base + path, { method: (opts.method ?? 'GET') as 'GET', headers, body });
  const text = await r.body.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: r.statusCode, headers: r.headers as Res['headers'], text, json };
}

/** Echo body of the upstream as seen through the gateway. */
export function echoed(r: Res): Seen & { upstream: string } {
  return r.json as Seen & { upstream: string };
}
