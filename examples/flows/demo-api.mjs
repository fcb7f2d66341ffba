#!/usr/bin/env node
// The gallery's local demo API: every third-party service the example flows
// call, in one dependency-free node:http server on 127.0.0.1.
//
//   node examples/flows/demo-api.mjs          # listens on 127.0.0.1:18090
//   node examples/flows/demo-api.mjs 18191    # another port
//
// The flows in this folder call http://127.0.0.1:18090/...; the gallery test
// imports startDemoApi() and points the flows at a free port instead.
// Everything here is fake and deterministic: the client secret, the users,
// the exchange rates and the signing key exist only for these examples.

import { createServer } from 'node:http';
import { createPrivateKey, createSign } from 'node:crypto';
import { pathToFileURL } from 'node:url';

export const DEFAULT_PORT = 18090;

/** The OAuth client the third-party-auth flow authenticates as. */
export const CLIENT = { id: 'gallery-app', secret: 'gallery-secret' };
export const ACCESS_TOKEN = 'demo-access-token-for-gallery-app';

/** Issuer and audience of the tokens GET /token mints (jwt_verify checks them). */
export const TOKEN_ISSUER = 'gallery-demo-idp';
export const TOKEN_AUDIENCE = 'datakit-gallery';

// A P-256 key made for this demo only. Never trust it anywhere else.
const SIGNING_JWK = {
  kty: 'EC',
  crv: 'P-256',
  x: 'cuMm_J98HCJZbq_BmbARcsU-0UWYJagW-aXKECDY3oM',
  y: 'Pvd8ryIKuWfJ1YCjSICjHpZWl2Ij2yvPK-GY2vfMVB4',
  d: 'wORzgi7yueEs6DUrpYOZLUGq91uu410nKskp1XoS2Zs',
};
export const KEY_ID = 'gallery-es256';
const signingKey = createPrivateKey({ key: SIGNING_JWK, format: 'jwk' });

/** The public half, as a JWKS entry. */
export const JWKS = {
  keys: [{ kty: 'EC', crv: 'P-256', x: SIGNING_JWK.x, y: SIGNING_JWK.y, kid: KEY_ID, use: 'sig', alg: 'ES256' }],
};

const USERS = {
  1: { id: 1, name: 'Ada Lovelace', email: 'ada@example.test', plan: 'gold' },
  2: { id: 2, name: 'Grace Hopper', email: 'grace@example.test', plan: 'silver' },
  3: { id: 3, name: 'Alan Turing', email: 'alan@example.test', plan: 'free' },
};

const ORDERS = {
  1: [
    { id: 'A-1001', total: 42.5, currency: 'USD', status: 'shipped' },
    { id: 'A-1002', total: 12, currency: 'USD', status: 'processing' },
  ],
  2: [{ id: 'B-2001', total: 99.99, currency: 'USD', status: 'delivered' }],
  3: [],
};

export const RATES = { base: 'USD', rates: { EUR: 0.92, GBP: 0.79, JPY: 151.3 } };

export const CATALOG_XML = `<?xml version="1.0" encoding="UTF-8"?>
<catalog updated="2025-01-15">
  <product sku="KB-01" currency="USD">
    <name>Mechanical keyboard</name>
    <price>89.90</price>
    <stock>12</stock>
    <tags><tag>input</tag><tag>usb</tag></tags>
  </product>
  <product sku="MS-07" currency="USD">
    <name>Wireless mouse</name>
    <price>24.50</price>
    <stock>0</stock>
    <tags><tag>input</tag></tags>
  </product>
  <product sku="MN-27" currency="USD">
    <name>27 inch monitor</name>
    <price>279</price>
    <stock>4</stock>
    <tags><tag>display</tag></tags>
  </product>
</catalog>
`;

const b64url = (data) => Buffer.from(data).toString('base64url');

/** Signs an ES256 JWT with the demo key. */
export function mintToken(claims, { expiresIn = 3600, now = Math.floor(Date.now() / 1000) } = {}) {
  const header = { alg: 'ES256', typ: 'JWT', kid: KEY_ID };
  const payload = { iss: TOKEN_ISSUER, aud: TOKEN_AUDIENCE, iat: now, ...(expiresIn > 0 ? { exp: now + expiresIn } : {}), ...claims };
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(payload))}`;
  const signature = createSign('SHA256').update(input).sign({ key: signingKey, dsaEncoding: 'ieee-p1363' });
  return `${input}.${b64url(signature)}`;
}

function send(res, status, body, headers = {}) {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  const type = typeof body === 'string' ? 'text/plain; charset=utf-8' : 'application/json';
  res.writeHead(status, { 'Content-Type': type, 'Content-Length': Buffer.byteLength(text), 'X-Demo-Api': 'datakit-gallery', ...headers });
  res.end(text);
}

function parseBody(text, contentType = '') {
  if (text === '') return null;
  if (/json/i.test(contentType)) {
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  }
  if (/x-www-form-urlencoded/i.test(contentType)) return Object.fromEntries(new URLSearchParams(text));
  return text;
}

function route(req, url, text) {
  const path = url.pathname;
  const body = parseBody(text, req.headers['content-type']);
  let m;
  if (path === '/' && req.method === 'GET') {
    return [200, { service: 'datakit-wasm gallery demo API', endpoints: ENDPOINTS }];
  }
  if (path === '/oauth/token') {
    if (req.method !== 'POST') return [405, { error: 'use POST' }];
    const form = body && typeof body === 'object' ? body : {};
    if (form.grant_type !== 'client_credentials') return [400, { error: 'unsupported_grant_type' }];
    if (form.client_id !== CLIENT.id || form.client_secret !== CLIENT.secret) return [401, { error: 'invalid_client' }];
    return [200, { access_token: ACCESS_TOKEN, token_type: 'Bearer', expires_in: 3600, scope: 'orders:read' }];
  }
  if ((m = /^\/users\/([^/]+)$/.exec(path)) && req.method === 'GET') {
    const user = USERS[m[1]];
    return user ? [200, user] : [404, { error: `no user ${m[1]}` }];
  }
  if ((m = /^\/users\/([^/]+)\/orders$/.exec(path)) && req.method === 'GET') {
    const orders = ORDERS[m[1]];
    return orders ? [200, { user_id: Number(m[1]), orders }] : [404, { error: `no user ${m[1]}` }];
  }
  if (path === '/catalog.xml' && req.method === 'GET') {
    return [200, CATALOG_XML, { 'Content-Type': 'application/xml; charset=utf-8' }];
  }
  if (path === '/rates' && req.method === 'GET') {
    const only = url.searchParams.get('symbols');
    if (!only) return [200, RATES];
    const rates = Object.fromEntries(only.split(',').filter((s) => s in RATES.rates).map((s) => [s, RATES.rates[s]]));
    return [200, { base: RATES.base, rates }];
  }
  if (path === '/.well-known/jwks.json' && req.method === 'GET') {
    return [200, JWKS];
  }
  if (path === '/token' && req.method === 'GET') {
    const sub = url.searchParams.get('sub') ?? 'alice';
    const scope = url.searchParams.get('scope') ?? 'orders:read';
    const ttl = Number(url.searchParams.get('ttl') ?? 3600);
    return [200, { token: mintToken({ sub, scope }, { expiresIn: ttl }), token_type: 'Bearer' }];
  }
  if (path === '/echo') {
    return [200, { method: req.method, path, query: Object.fromEntries(url.searchParams), headers: req.headers, body }];
  }
  return [404, { error: `no route for ${req.method} ${path}` }];
}

const ENDPOINTS = [
  'POST /oauth/token            client_credentials grant (form): gallery-app / gallery-secret',
  'GET  /users/{1,2,3}          a user profile',
  'GET  /users/{id}/orders      that user\'s orders',
  'GET  /catalog.xml            a product catalog in XML',
  'GET  /rates[?symbols=EUR]    USD exchange rates',
  'GET  /.well-known/jwks.json  the public key that signs /token tokens',
  'GET  /token?sub=alice        a fresh ES256 token (1 hour)',
  'ANY  /echo                   echoes method, path, query, headers and body',
];

/**
 * Starts the demo API on 127.0.0.1:`port` (0 = any free port). Resolves to
 * its url, port, the requests it received, and close().
 */
export async function startDemoApi(port = DEFAULT_PORT) {
  const requests = [];
  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      requests.push({ method: req.method, path: url.pathname, query: url.search, headers: req.headers, body: text });
      try {
        const [status, body, headers] = route(req, url, text);
        send(res, status, body, headers);
      } catch (e) {
        send(res, 500, { error: String(e && e.message ? e.message : e) });
      }
    });
  });
  server.keepAliveTimeout = 1000;
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  const actual = server.address().port;
  return {
    port: actual,
    url: `http://127.0.0.1:${actual}`,
    requests,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const port = Number(process.argv[2] ?? DEFAULT_PORT);
  const api = await startDemoApi(port);
  process.stdout.write(`demo API on ${api.url} (Ctrl-C to stop)\n${ENDPOINTS.map((e) => `  ${e}`).join('\n')}\n`);
  const stop = () => api.close().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
