// Cache, XML and JWT node costs through the engine (issue 5): the memory
// cache hit path, the Redis hit path (needs redis-server on PATH), and
// jwt_verify with HS256 and RS256. Run after `npm run build`:
//   node bench/capabilities.js [--quick]
import { spawn, spawnSync } from 'node:child_process';
import { createSecretKey, generateKeyPairSync } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { SignJWT } from 'jose';
import { Datakit } from '../dist/host/index.js';

const quick = process.argv.includes('--quick');
const RUNS = quick ? 3 : 5;
const N = quick ? 2000 : 10000;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const REQUEST = { method: 'GET', path: '/', headers: { Host: 'bench' } };

async function perRequest(flow, request = REQUEST, n = N) {
  for (let i = 0; i < Math.min(500, n); i++) {
    const run = flow.newRequest(request);
    await run.request();
    run.done();
  }
  const times = [];
  for (let r = 0; r < RUNS; r++) {
    const t0 = performance.now();
    for (let i = 0; i < n; i++) {
      const run = flow.newRequest(request);
      const out = await run.request();
      if (out.action === 'exit' && out.failure) throw new Error(out.failure.message);
      run.done();
    }
    times.push(((performance.now() - t0) * 1000) / n);
  }
  return median(times);
}

const rows = [];
const row = (name, us, note = '') => {
  rows.push({ name, us_per_request: Number(us.toFixed(2)), note });
  console.log(`| ${name} | ${us.toFixed(2)} | ${note} |`);
};
console.log('| case | µs per request (median) | note |\n|---|---|---|');

const dk = await Datakit.create({ logger: { log() {} } });
const cacheFlow = (cache) => ({
  resources: { cache },
  nodes: [
    { name: 'V', type: 'static', values: { key: 'bench-key' } },
    { name: 'GET', type: 'cache', input: 'V' },
    { name: 'EXIT', type: 'exit', inputs: { body: 'GET.data' } },
  ],
});
const seed = (cache) => ({
  resources: { cache },
  nodes: [
    { name: 'V', type: 'static', values: { key: 'bench-key', data: { user: 'alice', roles: ['a', 'b'], n: 42 } } },
    { name: 'SET', type: 'cache', ttl: 3600, input: 'V' },
  ],
});
const baseline = await perRequest(dk.load({ nodes: [{ name: 'S', type: 'static', values: { body: { user: 'alice' } } }, { name: 'EXIT', type: 'exit', input: 'S' }] }));
row('baseline: static -> exit', baseline, 'the same request without a cache node');

const memory = { strategy: 'memory' };
await dk.load(seed(memory)).run(REQUEST);
const memHit = await perRequest(dk.load(cacheFlow(memory)));
row('cache hit, memory strategy (static key -> cache -> exit)', memHit, `cache node adds ~${(memHit - baseline).toFixed(1)} µs`);

// Redis
const haveRedis = spawnSync('redis-server', ['--version']).status === 0;
let redisHit = null;
let redisRtt = null;
if (haveRedis) {
  const port = await new Promise((r) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = s.address().port;
      s.close(() => r(p));
    });
  });
  const server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  const { default: Redis } = await import('ioredis');
  const probe = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 1 });
  probe.on('error', () => {}); // connection attempts while the server starts
  for (let i = 0; i < 50; i++) {
    try {
      await probe.connect();
      break;
    } catch {
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  const ts = [];
  for (let r = 0; r < RUNS; r++) {
    const t0 = performance.now();
    for (let i = 0; i < N; i++) await probe.get('datakit:cache:bench-key');
    ts.push(((performance.now() - t0) * 1000) / N);
  }
  redisRtt = median(ts);
  probe.disconnect();
  const redis = { strategy: 'redis', redis: { host: '127.0.0.1', port } };
  await dk.load(seed(redis)).run(REQUEST);
  redisHit = await perRequest(dk.load(cacheFlow(redis)));
  row('cache hit, redis strategy', redisHit, `a bare ioredis GET round trip is ${redisRtt.toFixed(1)} µs`);
  server.kill();
} else {
  console.log('| cache hit, redis strategy | - | redis-server not installed |');
}

// JWT verify
const secret = 'bench-secret-of-a-sufficient-length-123456';
const hs = await new SignJWT({ sub: 'alice' }).setProtectedHeader({ alg: 'HS256' }).setIssuedAt().setExpirationTime('1h').sign(createSecretKey(Buffer.from(secret)));
const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const rs = await new SignJWT({ sub: 'alice' }).setProtectedHeader({ alg: 'RS256' }).setIssuedAt().setExpirationTime('1h').sign(privateKey);
const pem = publicKey.export({ type: 'spki', format: 'pem' });
const verifyFlow = (key, options = {}) => ({
  nodes: [
    { name: 'T', type: 'jq', input: 'request.headers', jq: '.authorization' },
    { name: 'K', type: 'static', values: { key } },
    { name: 'V', type: 'jwt_verify', ...options, inputs: { token: 'T', key: 'K.key' } },
    { name: 'EXIT', type: 'exit', inputs: { body: 'V.claims' } },
  ],
});
const jqBase = await perRequest(dk.load({ nodes: [{ name: 'T', type: 'jq', input: 'request.headers', jq: '.authorization' }, { name: 'EXIT', type: 'exit', inputs: { body: 'T' } }] }), { ...REQUEST, headers: { authorization: `Bearer ${hs}` } });
row('baseline: jq -> exit', jqBase, 'the same request without jwt_verify');
const hsUs = await perRequest(dk.load(verifyFlow(secret, { allowed_algorithms: ['HS256'] })), { ...REQUEST, headers: { authorization: `Bearer ${hs}` } });
row('jwt_verify HS256', hsUs, `jwt_verify adds ~${(hsUs - jqBase).toFixed(1)} µs`);
const rsUs = await perRequest(dk.load(verifyFlow(pem)), { ...REQUEST, headers: { authorization: `Bearer ${rs}` } });
row('jwt_verify RS256 (2048-bit, PEM)', rsUs, `jwt_verify adds ~${(rsUs - jqBase).toFixed(1)} µs`);

// XML
const xml = '<order id="7"><item sku="a">2</item><item sku="b">1</item><note>rush</note></order>';
const xmlUs = await perRequest(
  dk.load({ nodes: [{ name: 'X', type: 'xml_to_json', attributes_name_prefix: '@', input: 'request.body' }, { name: 'EXIT', type: 'exit', inputs: { body: 'X' } }] }),
  { ...REQUEST, method: 'POST', headers: { 'content-type': 'application/xml' }, body: xml },
);
row('xml_to_json (small document)', xmlUs);

await dk.close();
mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
writeFileSync(new URL('./results/capabilities.json', import.meta.url), JSON.stringify({ rows, redis_get_round_trip_us: redisRtt }, null, 2) + '\n');
