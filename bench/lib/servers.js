// Child-process entry point for every Node server the benchmarks start: one
// role per process (forked by bench/lib/harness.js), so no server shares an
// event loop with autocannon or with another server.
//   node bench/lib/servers.js ROLE JSON_ARGS
// The child reports { port } over IPC once it listens.
// Keep-alive everywhere, logging off everywhere.
import http from 'node:http';
import { API_BODIES, TOKEN_BODY } from './flows.js';

const role = process.argv[2];
const args = process.argv[3] ? JSON.parse(process.argv[3]) : {};

const ready = (port) => process.send?.({ port });
// exit cleanly on SIGTERM (lets --cpu-prof write its profile)
process.on('SIGTERM', () => process.exit(0));

/** Hop-by-hop headers (RFC 7230 6.1) a proxy never forwards. */
const HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'proxy-authorization', 'proxy-authenticate', 'host', 'content-length']);

function forwardable(headers) {
  const out = {};
  for (const [k, v] of Object.entries(headers)) if (!HOP.has(k)) out[k] = v;
  return out;
}

function listen(server) {
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  server.requestTimeout = 0;
  server.listen(0, '127.0.0.1', () => ready(server.address().port));
}

const roles = {
  /** The upstream: a small JSON answer; /json and /uuid shaped like httpbin; /echo returns the request headers. */
  upstream() {
    const body = JSON.stringify({ hello: 'world', n: 42 });
    const bodies = Object.fromEntries(Object.entries(API_BODIES).map(([k, v]) => [k, Buffer.from(v)]));
    const dflt = Buffer.from(body);
    listen(
      http.createServer((req, res) => {
        req.resume();
        req.on('end', () => {
          const path = req.url.split('?')[0];
          if (path === '/echo') {
            const b = JSON.stringify({ method: req.method, url: req.url, headers: req.headers });
            res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(b) });
            return res.end(b);
          }
          const b = bodies[path] ?? dflt;
          res.writeHead(200, { 'content-type': 'application/json', 'content-length': b.length });
          res.end(b);
        });
      }),
    );
  },

  /** The token service: POST /auth-token with a form body and an X-Api-Key header -> a token; anything else -> 401. */
  token() {
    const ok = Buffer.from(TOKEN_BODY);
    const denied = Buffer.from('{"error":"invalid_client"}');
    listen(
      http.createServer((req, res) => {
        const chunks = [];
        req.on('data', (c) => chunks.push(c));
        req.on('end', () => {
          const form = Buffer.concat(chunks).toString();
          const good =
            req.method === 'POST' &&
            req.headers['x-api-key'] &&
            req.headers['x-api-key'] !== 'none' &&
            (req.headers['content-type'] ?? '').startsWith('application/x-www-form-urlencoded') &&
            form === 'grant_type=client_credentials';
          const b = good ? ok : denied;
          res.writeHead(good ? 200 : 401, { 'content-type': 'application/json', 'content-length': b.length });
          res.end(b);
        });
      }),
    );
  },

  /** @fastify/http-proxy in front of the upstream (what a Node user picks). */
  async 'fastify-proxy'() {
    const { default: Fastify } = await import('fastify');
    const { default: proxy } = await import('@fastify/http-proxy');
    const app = Fastify({ logger: false, keepAliveTimeout: 65_000 });
    await app.register(proxy, { upstream: args.upstream, prefix: '/' });
    await app.listen({ host: '127.0.0.1', port: 0 });
    ready(app.server.address().port);
  },

  /** The bundled gateway in this process (startGateway), access log off. */
  async gateway() {
    const { startGateway } = await import('../../dist/host/gateway/index.js');
    const gw = await startGateway({
      config: args.doc,
      proxyListen: '127.0.0.1:0',
      adminListen: '127.0.0.1:0',
      logLevel: args.accessLog ? 'info' : 'warn',
      accessLog: !!args.accessLog,
    });
    ready(Number(new URL(gw.proxyUrl).port));
  },

  /**
   * The seed auth flow written by hand: read api_key from the query, POST the
   * form body with the same headers to the token service, build the
   * Authorization header, proxy to the upstream with undici, return the
   * upstream response.
   */
  async 'twin-auth'() {
    const { default: Fastify } = await import('fastify');
    const { Pool } = await import('undici');
    const pool = (origin) => new Pool(origin, { keepAliveTimeout: 60_000, keepAliveMaxTimeout: 600_000, pipelining: 1 });
    const tokenUrl = new URL(args.token);
    const tokenPool = pool(tokenUrl.origin);
    const upstreamPool = pool(new URL(args.upstream).origin);
    const app = Fastify({ logger: false, keepAliveTimeout: 65_000 });
    // pass bodies through untouched, whatever the content type
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('*', (_req, payload, done) => done(null, payload));
    app.all('/*', async (req, reply) => {
      const auth = await tokenPool.request({
        method: 'POST',
        path: tokenUrl.pathname,
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-api-key': req.query.api_key ?? 'none' },
        body: 'grant_type=client_credentials',
      });
      if (auth.statusCode >= 400) {
        await auth.body.dump();
        return reply.code(500).send({ message: 'An unexpected error occurred' });
      }
      const tok = await auth.body.json();
      const headers = forwardable(req.headers);
      headers.authorization = `${tok.token_type} ${tok.access_token}`;
      const up = await upstreamPool.request({
        method: req.method,
        path: req.url,
        headers,
        body: req.method === 'GET' || req.method === 'HEAD' ? undefined : req.body,
      });
      reply.code(up.statusCode).headers(forwardable(up.headers));
      return reply.send(up.body);
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    ready(app.server.address().port);
  },

  /** The two-API multiplexing flow written by hand: two parallel undici requests, join, reply. */
  async 'twin-multi'() {
    const { default: Fastify } = await import('fastify');
    const { Pool } = await import('undici');
    const a = new URL(args.json);
    const b = new URL(args.uuid);
    const pa = new Pool(a.origin, { keepAliveTimeout: 60_000, keepAliveMaxTimeout: 600_000, pipelining: 1 });
    const pb = a.origin === b.origin ? pa : new Pool(b.origin, { keepAliveTimeout: 60_000, keepAliveMaxTimeout: 600_000, pipelining: 1 });
    const get = async (pool, path) => {
      const r = await pool.request({ method: 'GET', path });
      if (r.statusCode >= 400) {
        await r.body.dump();
        throw new Error(`status ${r.statusCode}`);
      }
      return r.body.json();
    };
    const app = Fastify({ logger: false, keepAliveTimeout: 65_000 });
    app.all('/*', async () => {
      const [author, uuid] = await Promise.all([get(pa, a.pathname), get(pb, b.pathname)]);
      return { author: author.slideshow.author, uuid: uuid.uuid };
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    ready(app.server.address().port);
  },
};

if (!roles[role]) {
  console.error(`unknown role ${role}; roles: ${Object.keys(roles).join(', ')}`);
  process.exit(2);
}
await roles[role]();
