// Kong 3.11+ fidelity of the engine: the debug trace's shape, error texts,
// the checks of Kong's published plugin schema, the handlebars `output`
// port and the order of nodes that are ready together. Each test names the
// Kong documentation it follows.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Datakit } from '../../host/index.js';
import { bodyJson, engine, text } from '../helpers/engine.js';
import { json, startServer, type TestServer } from '../helpers/http.js';

let dk: Datakit;
let api: TestServer;

beforeAll(async () => {
  dk = await engine();
  api = await startServer((req, res) => {
    const u = new URL(req.url, 'http://x');
    if (u.pathname === '/status/403') return json(res, 403, { denied: true }, { 'X-Consumer-Id': 'consumer-1' });
    if (u.pathname === '/chunked') {
      // no Content-Length: the answer is chunked, with Connection and Keep-Alive from Node
      res.writeHead(200, { 'Content-Type': 'application/json', 'X-From-Api': 'yes', Upgrade: 'h2c', Trailer: 'X-T' });
      res.write('{"part":');
      res.end('1}');
      return;
    }
    const delay = Number(u.searchParams.get('delay') ?? 0);
    setTimeout(() => json(res, 200, { path: u.pathname }), delay);
  });
});

afterAll(async () => {
  await api.close();
  await dk.close();
});

type Json = any; // eslint-disable-line @typescript-eslint/no-explicit-any

/** The trace with its clock readings, request id and connection headers made stable; checks they are seconds first. */
function stable(trace: Json): Json {
  const now = Date.now() / 1000;
  expect(Math.abs(trace.started_at - now)).toBeLessThan(30);
  expect(trace.ended_at).toBeGreaterThanOrEqual(trace.started_at);
  expect(trace.duration).toBeCloseTo(trace.ended_at - trace.started_at, 3);
  expect(trace.duration).toBeLessThan(10);
  const out = { ...trace, started_at: 'S', ended_at: 'S', duration: 'S', request_id: 'ID' };
  out.events = trace.events.map((e: Json) => {
    expect(e.at).toBeGreaterThanOrEqual(0);
    expect(e.at).toBeLessThan(10);
    const c = { ...e, at: 'S' };
    if ('duration' in e) c.duration = 'S';
    const perConnection = (h: Json) => {
      for (const k of ['date', 'connection', 'keep-alive']) delete h[k];
    };
    for (const v of c.values ?? []) if (v.key === 'headers' && v.value && typeof v.value === 'object') perConnection(v.value);
    if (c.value?.headers && typeof c.value.headers === 'object') perConnection(c.value.headers);
    return c;
  });
  return out;
}

describe('Datakit plugin docs, "Debugging > Execution debug tracing"', () => {
  it('the 403 example: PLAN_ERROR, the failed call with its answer, canceled nodes, request and response in nodes', async () => {
    const flow = dk.load({
      debug: true,
      nodes: [
        { name: 'API', type: 'call', url: `${api.url}/status/403`, inputs: { query: 'request.query' } },
        { name: 'SLOW_API', type: 'call', url: `${api.url}/slow?delay=2000` },
        { name: 'FILTER', type: 'jq', inputs: { a: 'API.body', b: 'SLOW_API.body' }, jq: '.' },
      ],
    });
    const r = await flow.run({ method: 'GET', path: '/', query: 'b=123&a=true', headers: { 'X-DataKit-Debug-Trace': 'true' } });
    expect(r.response.status).toBe(500);
    const query = { key: 'query', type: 'map', value: { b: '123', a: 'true' } };
    expect(stable(bodyJson(r.response.body))).toEqual({
      started_at: 'S',
      ended_at: 'S',
      duration: 'S',
      status: 'PLAN_ERROR',
      request_id: 'ID',
      nodes: [
        { name: 'API', type: 'call', status: 'NODE_ERROR', error: 'non-2XX response code: 403' },
        { name: 'SLOW_API', type: 'call', status: 'NODE_CANCELED' },
        { name: 'FILTER', type: 'jq', status: 'NODE_CANCELED' },
        { name: 'request', type: 'request', status: 'NODE_COMPLETE' },
        { name: 'response', type: 'response', status: 'NODE_SKIPPED' },
      ],
      events: [
        { name: 'request', type: 'request', action: 'run', at: 'S', values: [] },
        {
          name: 'request',
          type: 'request',
          action: 'complete',
          at: 'S',
          values: [
            { key: 'body', type: 'any' },
            { key: 'headers', type: 'map', value: { 'X-DataKit-Debug-Trace': 'true' } },
            query,
            { key: 'path', type: 'string', value: '/' },
            { key: 'raw_path', type: 'string', value: '/' },
            { key: 'port', type: 'number', value: null },
            { key: 'method', type: 'string', value: 'GET' },
            { key: 'scheme', type: 'string', value: 'http' },
            { key: 'version', type: 'number', value: 1.1 },
          ],
          value: {
            headers: { 'X-DataKit-Debug-Trace': 'true' },
            query: { b: '123', a: 'true' },
            path: '/',
            raw_path: '/',
            port: null,
            method: 'GET',
            scheme: 'http',
            version: 1.1,
          },
        },
        { name: 'API', type: 'call', action: 'run', at: 'S', values: [query], value: { query: { b: '123', a: 'true' } } },
        { name: 'API', type: 'call', action: 'dispatch', at: 'S' },
        { name: 'SLOW_API', type: 'call', action: 'run', at: 'S', values: [] },
        { name: 'SLOW_API', type: 'call', action: 'dispatch', at: 'S' },
        { name: 'API', type: 'call', action: 'resume', at: 'S', duration: 'S' },
        {
          name: 'API',
          type: 'call',
          action: 'fail',
          at: 'S',
          error: 'non-2XX response code: 403',
          values: [
            { type: 'error', value: 'non-2XX response code: 403' },
            { key: 'body', type: 'any', value: { denied: true } },
            // the consumer's identity is masked (Debugger for Datakit docs, "Header sanitization")
            { key: 'headers', type: 'map', value: { 'content-type': 'application/json', 'content-length': '15', 'x-consumer-id': '********' } },
            { key: 'status', type: 'number', value: 403 },
          ],
          value: {
            body: { denied: true },
            headers: { 'content-type': 'application/json', 'content-length': '15', 'x-consumer-id': '********' },
            status: 403,
          },
        },
        { name: 'SLOW_API', type: 'call', action: 'cancel', at: 'S', duration: 'S' },
        { name: 'FILTER', type: 'jq', action: 'cancel', at: 'S' },
      ],
    });
  });

  it('times are seconds: a call answered after 300 ms resumes with a duration of about 0.3', async () => {
    const flow = dk.load({ debug: true, nodes: [{ name: 'C', type: 'call', url: `${api.url}/wait?delay=300` }, { name: 'E', type: 'exit', inputs: { body: 'C.body' } }] });
    const t = bodyJson((await flow.run({ method: 'GET', path: '/', headers: { 'X-DataKit-Debug-Trace': 'on' } })).response.body) as Json;
    const resume = t.events.find((e: Json) => e.name === 'C' && e.action === 'resume');
    expect(resume.duration).toBeGreaterThan(0.25);
    expect(resume.duration).toBeLessThan(3);
    expect(t.duration).toBeGreaterThan(0.25);
    expect(t.duration).toBeLessThan(3);
  });

  it('a proxied request: service_request runs with its inputs, the response node is NODE_SKIPPED (the trace replaces the answer)', async () => {
    const cfg = {
      debug: true,
      nodes: [
        { name: 'H', type: 'static', values: { headers: { 'X-A': '1' } }, outputs: { headers: 'service_request.headers' } },
        { name: 'COPY', type: 'jq', input: 'service_response.body', jq: '{got: .}', output: 'response.body' },
      ],
    };
    const r = await dk.load(cfg).run(
      { method: 'GET', path: '/p', headers: { 'X-DataKit-Debug-Trace': 'yes' } },
      { upstream: { status: 200, headers: { 'content-type': 'application/json' }, body: '{"up":true}' } },
    );
    const t = stable(bodyJson(r.response.body));
    expect(t.status).toBe('PLAN_COMPLETE');
    expect(t.nodes).toEqual([
      { name: 'H', type: 'static', status: 'NODE_COMPLETE' },
      { name: 'COPY', type: 'jq', status: 'NODE_COMPLETE' },
      { name: 'request', type: 'request', status: 'NODE_COMPLETE' },
      { name: 'service_request', type: 'service_request', status: 'NODE_COMPLETE' },
      { name: 'service_response', type: 'service_response', status: 'NODE_COMPLETE' },
      { name: 'response', type: 'response', status: 'NODE_SKIPPED' },
    ]);
    const of = (name: string) => t.events.filter((e: Json) => e.name === name).map((e: Json) => e.action);
    expect(of('service_request')).toEqual(['run', 'complete']);
    expect(t.events.find((e: Json) => e.name === 'service_request' && e.action === 'run')).toEqual({
      name: 'service_request',
      type: 'service_request',
      action: 'run',
      at: 'S',
      values: [{ key: 'headers', type: 'map', value: { 'X-A': '1' } }],
      value: { headers: { 'X-A': '1' } },
    });
    expect(t.events.find((e: Json) => e.name === 'COPY' && e.action === 'complete')).toEqual({
      name: 'COPY',
      type: 'jq',
      action: 'complete',
      at: 'S',
      values: [{ type: 'any', value: { got: { up: true } } }],
      value: { got: { up: true } },
    });
    expect(of('response')).toEqual(['skip']);
  });
});

describe('Debugger for Datakit docs (3.15), "Redaction and sanitization"', () => {
  it('consumer-identifying headers are masked like credentials; vault values always', async () => {
    process.env.DK_H6_SECRET = 'hunter2-value';
    const flow = dk.load({
      debug: true,
      resources: { vault: { secret: '{vault://env/dk-h6-secret}' } },
      nodes: [
        {
          name: 'S',
          type: 'static',
          values: { headers: { 'X-Consumer-Id': 'a', 'X-Consumer-Username': 'b', 'X-Consumer-Custom-Id': 'c', 'X-Credential-Identifier': 'd', Authorization: 'e', 'X-Plain': 'f' } },
        },
        { name: 'J', type: 'jq', inputs: { s: 'vault.secret' }, jq: '.s' },
        { name: 'E', type: 'exit', inputs: { headers: 'S.headers', body: 'J' } },
      ],
    });
    const r = await flow.run({ method: 'GET', path: '/', headers: { 'X-DataKit-Debug-Trace': 'true' } });
    const raw = text(r.response.body);
    expect(raw).not.toContain('hunter2-value');
    const t = JSON.parse(raw);
    const s = t.events.find((e: Json) => e.name === 'S' && e.action === 'complete');
    const masked = { 'X-Consumer-Id': '********', 'X-Consumer-Username': '********', 'X-Consumer-Custom-Id': '********', 'X-Credential-Identifier': '********', Authorization: '********', 'X-Plain': 'f' };
    expect(s.values).toEqual([{ key: 'headers', type: 'map', value: masked }]);
    expect(t.events.find((e: Json) => e.name === 'vault')).toMatchObject({ action: 'complete', values: [{ key: 'secret', type: 'string', value: '********' }], value: { secret: '********' } });
    expect(t.events.find((e: Json) => e.name === 'J' && e.action === 'run').values).toEqual([{ key: 's', type: 'any', value: '********' }]);
    expect(t.nodes).toContainEqual({ name: 'vault', type: 'vault', status: 'NODE_COMPLETE' });
    delete process.env.DK_H6_SECRET;
  });

  it('a secret that cannot be resolved: vault is listed NODE_ERROR with its error', async () => {
    const flow = dk.load({ debug: true, resources: { vault: { nope: '{vault://env/dk-h6-not-set}' } }, nodes: [{ name: 'J', type: 'jq', input: 'vault.nope', jq: '.' }] });
    const t = bodyJson((await flow.run({ method: 'GET', path: '/', headers: { 'X-DataKit-Debug-Trace': 'true' } })).response.body) as Json;
    expect(t.status).toBe('PLAN_ERROR');
    const vault = t.nodes.find((n: Json) => n.name === 'vault');
    expect(vault).toMatchObject({ type: 'vault', status: 'NODE_ERROR' });
    expect(vault.error).toMatch(/^could not resolve secret "nope": /);
    expect(t.nodes.find((n: Json) => n.name === 'J')).toEqual({ name: 'J', type: 'jq', status: 'NODE_CANCELED' });
  });

  it('JWTs and keys are always redacted: jwt_sign key and token, jwt_decode token and signature', async () => {
    const flow = dk.load({
      debug: true,
      nodes: [
        { name: 'K', type: 'static', values: { key: 'a-very-secret-hmac-key-of-32-bytes!!', claims: { sub: 'u1' } } },
        { name: 'SIGN', type: 'jwt_sign', algorithm: 'HS256', inputs: { key: 'K.key', claims: 'K.claims' } },
        { name: 'DECODE', type: 'jwt_decode', input: 'SIGN.token' },
        { name: 'E', type: 'exit', inputs: { body: 'DECODE.payload' } },
      ],
    });
    const t = bodyJson((await flow.run({ method: 'GET', path: '/', headers: { 'X-DataKit-Debug-Trace': 'true' } })).response.body) as Json;
    const ev = (name: string, action: string) => t.events.find((e: Json) => e.name === name && e.action === action);
    expect(ev('SIGN', 'run').value).toEqual({ claims: { sub: 'u1' }, key: '********' });
    expect(ev('SIGN', 'complete').value.token).toBe('********');
    expect(ev('DECODE', 'run').value).toBe('********');
    expect(ev('DECODE', 'complete').value.signature).toBe('********');
    expect(ev('DECODE', 'complete').value.payload.sub).toBe('u1');
  });
});

describe('Datakit plugin docs, "Making node execution errors visible"', () => {
  it('a non-2XX call answer fails the node with "non-2XX response code: 403"', async () => {
    const r = await dk.load({ debug: true, nodes: [{ name: 'API', type: 'call', url: `${api.url}/status/403` }] }).run({ method: 'GET', path: '/', requestId: 'f5e07609d55bd66508c8315b8cf6583a' });
    expect(r.response.status).toBe(500);
    expect(bodyJson(r.response.body)).toEqual({
      message: 'node execution error',
      request_id: 'f5e07609d55bd66508c8315b8cf6583a',
      error: 'non-2XX response code: 403',
      node: { index: 1, name: 'API', type: 'call' },
    });
  });
});

const messages = (cfg: object) => dk.validate(cfg).map((e) => e.message);

describe("Kong's published datakit schema (app/_schemas/gateway/plugins/3.15/Datakit.json)", () => {
  it('nodes: at most 64', () => {
    const node = (i: number) => ({ name: `S${i}`, type: 'static', values: { a: i } });
    expect(messages({ nodes: Array.from({ length: 64 }, (_, i) => node(i)) })).toEqual([]);
    expect(messages({ nodes: Array.from({ length: 65 }, (_, i) => node(i)) })).toEqual(['nodes: length must be at most 64']);
  });

  it('a jq node has no field-level outputs (3.10 list-shaped outputs stay accepted)', () => {
    expect(messages({ nodes: [{ name: 'J', type: 'jq', jq: '.', outputs: { a: 'response.body' } }] })).toEqual(['node #1 (J): outputs: unknown field']);
  });

  it('property content_type is one of application/json, application/octet-stream, text/plain', () => {
    for (const ct of ['application/json', 'application/octet-stream', 'text/plain']) expect(messages({ nodes: [{ name: 'P', type: 'property', property: 'kong.ctx.shared.x', content_type: ct }] })).toEqual([]);
    expect(messages({ nodes: [{ name: 'P', type: 'property', property: 'kong.ctx.shared.x', content_type: 'text/html' }] })).toEqual([
      'node #1 (P): content_type: expected one of: application/json, application/octet-stream, text/plain',
    ]);
  });

  it('jwt_sign: algorithm is required (no HS256 default) and static_claims values are strings', () => {
    expect(messages({ nodes: [{ name: 'S', type: 'jwt_sign' }] })).toEqual(['node #1 (S): algorithm: required field missing']);
    expect(messages({ nodes: [{ name: 'S', type: 'jwt_sign', algorithm: 'HS256', static_claims: { iss: 'me', n: 1, o: { a: 1 } } }] })).toEqual([
      'node #1 (S): static_claims.n: expected a string',
      'node #1 (S): static_claims.o: expected a string',
    ]);
    expect(messages({ nodes: [{ name: 'S', type: 'jwt_sign', algorithm: 'HS256', static_claims: { iss: 'me' } }] })).toEqual([]);
  });

  it('string lengths: call method 32, property 255; branch then/else and resources.vault at most 64 entries; jq length is limits.jq_source_bytes', () => {
    // Kong caps jq at 10240 characters; here the configurable limit decides (default 32 KiB)
    expect(messages({ nodes: [{ name: 'J', type: 'jq', jq: '.' + ' '.repeat(10240) }] })).toEqual([]);
    expect(messages({ nodes: [{ name: 'C', type: 'call', url: 'http://127.0.0.1/', method: 'A'.repeat(33) }] })).toEqual(['node #1 (C): method: length must be at most 32']);
    expect(messages({ nodes: [{ name: 'P', type: 'property', property: 'kong.ctx.shared.' + 'x'.repeat(240) }] })).toEqual(['node #1 (P): property: length must be at most 255']);
    const targets = Array.from({ length: 65 }, (_, i) => ({ name: `T${i}`, type: 'static', values: { a: i } }));
    expect(
      messages({ nodes: [{ name: 'B', type: 'branch', input: 'request.body', then: targets.map((t) => t.name) }, ...targets] }),
    ).toContain('node #1 (B): then: length must be at most 64');
    const vault = Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`s${i}`, `{vault://env/s${i}}`]));
    expect(messages({ resources: { vault }, nodes: [{ name: 'J', type: 'jq', jq: '.' }] })).toEqual(['resources.vault: length must be at most 64']);
  });

  it('connection labels: at most 255 characters, in input, output, inputs and outputs', () => {
    const long = 'A.' + 'x'.repeat(254);
    expect(
      messages({
        nodes: [
          { name: 'A', type: 'static', values: { v: 1 } },
          { name: 'J', type: 'jq', jq: '.', input: long },
          { name: 'K', type: 'jq', jq: '.', inputs: { a: long } },
          { name: 'L', type: 'jq', jq: '.', output: 'response.' + 'b'.repeat(250) },
        ],
      }),
    ).toEqual([
      'node #2 (J): input: length must be at most 255',
      'node #3 (K): inputs.a: length must be at most 255',
      'node #4 (L): output: length must be at most 255',
    ]);
    expect(messages({ nodes: [{ name: 'A', type: 'static', values: { ['x'.repeat(253)]: 1 } }, { name: 'J', type: 'jq', jq: '.', input: 'A.' + 'x'.repeat(253) }] })).toEqual([]);
  });

  it('call url: required unless the url input is connected (3.13+ dynamic url); a null url input then fails the node', async () => {
    expect(messages({ nodes: [{ name: 'C', type: 'call' }] })).toEqual(['node #1 (C): url: required field missing']);
    const cfg = (u: unknown) => ({
      debug: true,
      nodes: [
        { name: 'U', type: 'jq', jq: JSON.stringify(u) },
        { name: 'C', type: 'call', inputs: { url: 'U' } },
        { name: 'E', type: 'exit', inputs: { body: 'C.body' } },
      ],
    });
    expect(messages(cfg(null))).toEqual([]);
    const ok = await dk.load(cfg(`${api.url}/dynamic`)).run({ method: 'GET', path: '/' });
    expect(bodyJson(ok.response.body)).toEqual({ path: '/dynamic' });
    const none = await dk.load(cfg(null)).run({ method: 'GET', path: '/' });
    expect(none.failure).toEqual({ message: 'no url: the url input is null and the node sets no url attribute', node: { index: 2, name: 'C', type: 'call' } });
  });

  it('ranges already in Kong wording: exit status 200-599, call timeout 0-2147483646 (0 accepted)', () => {
    expect(messages({ nodes: [{ name: 'E', type: 'exit', status: 199 }] })).toEqual(['node #1 (E): status: value should be between 200 and 599']);
    expect(messages({ nodes: [{ name: 'C', type: 'call', url: 'http://127.0.0.1/', timeout: 0 }] })).toEqual([]);
    expect(messages({ nodes: [{ name: 'C', type: 'call', url: 'http://127.0.0.1/', timeout: 2147483647 }] })).toEqual(['node #1 (C): timeout: value should be between 0 and 2147483646']);
  });
});

describe('Node ports (Kong/datakit 3.10 filter, handlebars.rs: the "output" port; plugin docs, "Node types")', () => {
  it('the handlebars node has an `output` port: inputs: {body: GREETING.output} works', async () => {
    const flow = dk.load({
      nodes: [
        { name: 'GREETING', type: 'handlebars', template: 'Hello, {{q.who}}!', inputs: { q: 'request.query' } },
        { name: 'EXIT', type: 'exit', inputs: { body: 'GREETING.output' } },
      ],
    });
    const r = await flow.run({ method: 'GET', path: '/', query: 'who=Kong' });
    expect(text(r.response.body)).toBe('Hello, Kong!');
  });

  it('a link declared on both ends (A.outputs and B.inputs) is one connection, not a conflict', async () => {
    const cfg = {
      nodes: [
        { name: 'A', type: 'static', values: { v: 'x' }, outputs: { v: 'B.v' } },
        { name: 'B', type: 'jq', inputs: { v: 'A.v' }, jq: '.v', output: 'response.body' },
      ],
    };
    expect(messages(cfg)).toEqual([]);
    const r = await dk.load(cfg).run({ method: 'GET', path: '/' }, { upstream: { status: 200, headers: {}, body: '' } });
    expect(text(r.response.body)).toBe('x');
    // two different sources on one input still conflict, naming the fields
    expect(
      messages({ nodes: [{ name: 'A', type: 'static', values: { v: 'x', w: 'y' }, outputs: { w: 'B.v' } }, { name: 'B', type: 'jq', inputs: { v: 'A.v' }, jq: '.v' }] }),
    ).toEqual(['invalid connection ("A.w" -> "B.v"): conflicts with existing connection ("A.v" -> "B.v")']);
  });
});

describe('hop-by-hop headers (RFC 9110 7.6.1) never travel node-wise from a call to another message', () => {
  it('call -> exit and call -> service_request: the answer\'s headers without Connection, Keep-Alive, Transfer-Encoding, Upgrade, Trailer', async () => {
    const hop = ['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'trailer'];
    const exit = await dk.load({ nodes: [{ name: 'C', type: 'call', url: `${api.url}/chunked`, output: 'E' }, { name: 'E', type: 'exit', status: 201 }] }).run({ method: 'GET', path: '/' });
    expect(exit.response.status).toBe(201);
    expect(exit.response.headers['x-from-api']).toBe('yes');
    for (const h of hop) expect(Object.keys(exit.response.headers).map((k) => k.toLowerCase())).not.toContain(h);
    expect(text(exit.response.body)).toBe('{"part":1}');
    const proxied = await dk
      .load({ nodes: [{ name: 'C', type: 'call', url: `${api.url}/chunked`, output: 'service_request' }] })
      .run({ method: 'GET', path: '/' }, { upstream: { status: 200, headers: {}, body: '' } });
    const sent = Object.keys(proxied.serviceRequest!.headers).map((k) => k.toLowerCase());
    expect(sent).toContain('x-from-api');
    for (const h of hop) expect(sent).not.toContain(h);
  });
});

describe('xml_to_json takes a string', () => {
  it('a number fails the node, naming the type it got', async () => {
    const r = await dk
      .load({ debug: true, nodes: [{ name: 'J', type: 'jq', jq: '5' }, { name: 'X', type: 'xml_to_json', attributes_name_prefix: '@', input: 'J' }, { name: 'E', type: 'exit', inputs: { body: 'X' } }] })
      .run({ method: 'GET', path: '/' });
    expect(r.failure).toEqual({ message: 'invalid value for node-wise input: expected string, got number', node: { index: 2, name: 'X', type: 'xml_to_json' } });
  });
});

describe('execution order: nodes ready together run in configuration order', () => {
  it('a property set, then a get of the same property later in the list, reads what was set', async () => {
    const flow = dk.load({
      nodes: [
        { name: 'VALUE', type: 'static', values: { v: 'stored' } },
        { name: 'SET', type: 'property', property: 'kong.ctx.shared.k', input: 'VALUE.v' },
        // GET has no inputs, so it is ready from the start; SET, listed first, runs first once VALUE is done
        { name: 'GET', type: 'property', property: 'kong.ctx.shared.k' },
        { name: 'EXIT', type: 'exit', inputs: { body: 'GET' } },
      ],
    });
    const r = await flow.run({ method: 'GET', path: '/' });
    expect(text(r.response.body)).toBe('stored');
  });

  it("nodes ready at the start run in the order they are listed, whatever they depend on (as the trace's run events show)", async () => {
    const flow = dk.load({
      debug: true,
      nodes: [
        { name: 'C', type: 'jq', input: 'request.path', jq: '.' },
        { name: 'A', type: 'static', values: { a: 1 } },
        { name: 'B', type: 'jq', inputs: { h: 'request.headers' }, jq: '1' },
        { name: 'D', type: 'jq', jq: '2' },
      ],
    });
    const t = bodyJson((await flow.run({ method: 'GET', path: '/', headers: { 'X-DataKit-Debug-Trace': '1' } }, { upstream: { status: 200, headers: {}, body: '' } })).response.body) as Json;
    const runs = t.events.filter((e: Json) => e.action === 'run' && !['request', 'service_request'].includes(e.name)).map((e: Json) => e.name);
    expect(runs).toEqual(['C', 'A', 'B', 'D']);
  });
});
