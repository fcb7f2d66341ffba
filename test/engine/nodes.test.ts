import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Datakit } from '../../host/index.js';
import { HttpClient, MemoryProperties } from '../../host/index.js';
import { CallCancel } from '../../host/engine/http-client.js';
import { bodyJson, engine, memoryLogger, text } from '../helpers/engine.js';
import { json, startServer, type TestServer } from '../helpers/http.js';

let dk: Datakit;
let api: TestServer;
const logger = memoryLogger();

beforeAll(async () => {
  dk = await engine({ logger });
  api = await startServer((req, res) => {
    if (req.url.startsWith('/status/')) {
      res.writeHead(Number(req.url.split('/')[2]), { 'Content-Type': 'text/plain' });
      res.end('nope');
    } else if (req.url.startsWith('/badjson')) {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end('{"a":');
    } else if (req.url.startsWith('/text')) {
      res.writeHead(200, { 'Content-Type': 'text/plain', 'X-Repeat': ['a', 'b'] });
      res.end('plain text');
    } else if (req.url.startsWith('/proto')) {
      // a hostile header name: must stay a plain key of C.headers
      res.writeHead(200, ['Content-Type', 'text/plain', '__proto__', 'p1', '__proto__', 'p2']);
      res.end('ok');
    } else if (req.url.startsWith('/slow')) {
      setTimeout(() => json(res, 200, { slow: true }), 500);
    } else {
      json(res, 200, { method: req.method, url: req.url, headers: req.headers, body: req.body });
    }
  });
});

afterAll(async () => {
  await api.close();
  await dk.close();
});

const run = (cfg: object, req: object = {}, props?: MemoryProperties) =>
  dk.load(cfg).run({ method: 'GET', path: '/', ...req }, props ? { properties: props } : {});

describe('static', () => {
  it('outputs one port per key and the whole map as $self', async () => {
    const r = await run({
      nodes: [
        { name: 'S', type: 'static', values: { a: 1, b: { c: [true, null] } } },
        { name: 'J', type: 'jq', inputs: { a: 'S.a', all: 'S' }, jq: '{a, all}' },
        { name: 'EXIT', type: 'exit', inputs: { body: 'J' } },
      ],
    });
    expect(bodyJson(r.response.body)).toEqual({ a: 1, all: { a: 1, b: { c: [true, null] } } });
  });
});

describe('call', () => {
  it('sends method, headers, query merged into the url, and a JSON body', async () => {
    const r = await run({
      nodes: [
        { name: 'S', type: 'static', values: { headers: { 'X-One': '1', 'X-Drop': null, 'X-Num': 5 }, query: { b: '2 3', flag: null }, body: { k: 'v' } } },
        { name: 'C', type: 'call', url: `${api.url}/echo?a=1`, method: 'PUT', input: 'S' },
        { name: 'EXIT', type: 'exit', inputs: { body: 'C.body' } },
      ],
    });
    const echo = bodyJson(r.response.body) as { method: string; url: string; headers: Record<string, string>; body: string };
    expect(echo.method).toBe('PUT');
    expect(echo.url).toBe('/echo?a=1&b=2%203&flag');
    expect(echo.headers['x-one']).toBe('1');
    expect(echo.headers['x-num']).toBe('5');
    expect(echo.headers['x-drop']).toBeUndefined();
    expect(echo.headers['content-type']).toBe('application/json');
    expect(JSON.parse(echo.body)).toEqual({ k: 'v' });
  });

  it('form-encodes an object body when the headers say so', async () => {
    const r = await run({
      nodes: [
        { name: 'S', type: 'static', values: { headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: { grant_type: 'client_credentials', scope: 'a b' } } },
        { name: 'C', type: 'call', url: `${api.url}/form`, method: 'POST', input: 'S' },
        { name: 'EXIT', type: 'exit', inputs: { body: 'C.body' } },
      ],
    });
    expect((bodyJson(r.response.body) as { body: string }).body).toBe('grant_type=client_credentials&scope=a+b');
  });

  it('the url input replaces the configured url at run time', async () => {
    const r = await run({
      nodes: [
        { name: 'U', type: 'jq', jq: `"${api.url}/dynamic/" + .`, input: 'request.path' },
        { name: 'C', type: 'call', url: 'http://127.0.0.1:1/unused', inputs: { url: 'U' } },
        { name: 'EXIT', type: 'exit', inputs: { body: 'C.body' } },
      ],
    }, { path: 'x' });
    expect((bodyJson(r.response.body) as { url: string }).url).toBe('/dynamic/x');
  });

  it('a url input that is not a url fails the call node, not the request', async () => {
    const r = await run({
      nodes: [
        { name: 'U', type: 'jq', jq: '"no-scheme-here"' },
        { name: 'C', type: 'call', url: 'http://127.0.0.1:1/unused', inputs: { url: 'U' } },
        { name: 'EXIT', type: 'exit', inputs: { body: 'C.body' } },
      ],
    });
    expect(r.response.status).toBe(500);
    expect(r.failure?.node.name).toBe('C');
    expect(r.failure?.message).toMatch(/url/);
  });

  it('outputs status, headers, raw_body; non-JSON bodies are strings', async () => {
    const r = await run({
      nodes: [
        { name: 'C', type: 'call', url: `${api.url}/text` },
        { name: 'J', type: 'jq', inputs: { s: 'C.status', h: 'C.headers', b: 'C.body', r: 'C.raw_body' }, jq: '{s, rep: .h["x-repeat"], b, r}' },
        { name: 'EXIT', type: 'exit', inputs: { body: 'J' } },
      ],
    });
    expect(bodyJson(r.response.body)).toEqual({ s: 200, rep: ['a', 'b'], b: 'plain text', r: 'plain text' });
  });

  it('a response header named __proto__ is a plain header', async () => {
    const r = await run({
      nodes: [
        { name: 'C', type: 'call', url: `${api.url}/proto` },
        { name: 'J', type: 'jq', input: 'C.headers', jq: '{p: .["__proto__"], t: .["content-type"]}' },
        { name: 'EXIT', type: 'exit', inputs: { body: 'J' } },
      ],
    });
    expect(bodyJson(r.response.body)).toEqual({ p: ['p1', 'p2'], t: 'text/plain' });
  });

  it('fails on a non-2xx status, invalid JSON, a network error and a timeout', async () => {
    const cases: Array<[object, RegExp]> = [
      [{ name: 'C', type: 'call', url: `${api.url}/status/404` }, /non-2XX response code: 404/],
      [{ name: 'C', type: 'call', url: `${api.url}/badjson` }, /invalid JSON in response body/],
      [{ name: 'C', type: 'call', url: 'http://127.0.0.1:1/' }, /ECONNREFUSED/],
      [{ name: 'C', type: 'call', url: `${api.url}/slow`, timeout: 50 }, /timeout after 50 ms/],
    ];
    for (const [node, pattern] of cases) {
      const r = await run({ debug: true, nodes: [node] });
      expect(r.response.status).toBe(500);
      const b = bodyJson(r.response.body) as { message: string; error: string; node: unknown; request_id: string };
      expect(b.message).toBe('node execution error');
      expect(b.error).toMatch(pattern);
      expect(b.node).toEqual({ index: 1, name: 'C', type: 'call' });
      expect(b.request_id).toMatch(/^[0-9a-f]{32}$/);
    }
  });
});

describe('call answer headers cross only when a node reads them', () => {
  /** A transport that records each call description and answers with many headers. */
  const recording = async () => {
    const seen: Array<string[] | undefined> = [];
    const dk2 = await engine({
      transport: {
        send: async (req) => {
          seen.push(req.response_headers);
          return {
            status: 200,
            headers: { 'content-type': 'application/json', 'x-a': 'a', 'x-b': ['b1', 'b2'] },
            body: Buffer.from('{"v":1}'),
          };
        },
        close: async () => {},
      },
    });
    return { dk2, seen };
  };
  const bodyOnly = [
    { name: 'C', type: 'call', url: 'http://127.0.0.1:9/x' },
    { name: 'EXIT', type: 'exit', inputs: { body: 'C.body' } },
  ];

  it('a flow reading only the body asks for content-type alone', async () => {
    const { dk2, seen } = await recording();
    const r = await dk2.load({ nodes: bodyOnly }).run({ method: 'GET', path: '/' });
    expect(bodyJson(r.response.body)).toEqual({ v: 1 });
    expect(seen).toEqual([['content-type']]);
    await dk2.close();
  });

  it('reading C.headers, the whole C, or a debug plan asks for every header', async () => {
    const configs = [
      { nodes: [{ name: 'C', type: 'call', url: 'http://127.0.0.1:9/x' }, { name: 'EXIT', type: 'exit', inputs: { body: 'C.headers' } }] },
      { nodes: [{ name: 'C', type: 'call', url: 'http://127.0.0.1:9/x' }, { name: 'J', type: 'jq', input: 'C', jq: '.headers' }, { name: 'EXIT', type: 'exit', inputs: { body: 'J' } }] },
      { debug: true, nodes: bodyOnly },
    ];
    for (const cfg of configs) {
      const { dk2, seen } = await recording();
      const r = await dk2.load(cfg).run({ method: 'GET', path: '/' });
      expect(seen).toEqual([undefined]);
      if (!cfg.debug) expect(bodyJson(r.response.body)).toEqual({ 'content-type': 'application/json', 'x-a': 'a', 'x-b': ['b1', 'b2'] });
      await dk2.close();
    }
  });

  it('the HTTP client collects only the listed headers, any case, repeated ones too', async () => {
    const server = await startServer((_req, res) => {
      res.writeHead(200, ['X-Long-Header-Name', 'skip', 'CONTENT-TYPE', 'application/json', 'Content-Type', 'text/plain', 'x-abcdefghijk', 'same length as content-type']);
      res.end('{"ok":true}');
    });
    const client = new HttpClient();
    try {
      const only = await client.send({ method: 'GET', url: `${server.url}/`, headers: {}, response_headers: ['content-type'] }, undefined, new CallCancel());
      expect(only.headers).toEqual({ 'content-type': ['application/json', 'text/plain'] });
      expect(Buffer.from(only.body).toString()).toBe('{"ok":true}');
      const all = await client.send({ method: 'GET', url: `${server.url}/`, headers: {} }, undefined, new CallCancel());
      expect(Object.keys(all.headers)).toEqual(expect.arrayContaining(['x-long-header-name', 'content-type', 'x-abcdefghijk', 'date']));
    } finally {
      await client.close();
      await server.close();
    }
  });

  it('through the real client, a JSON answer still decodes by its content-type', async () => {
    const r = await run({
      nodes: [
        { name: 'C', type: 'call', url: `${api.url}/echo` },
        { name: 'J', type: 'jq', input: 'C.body', jq: '{t: type, m: .method}' },
        { name: 'EXIT', type: 'exit', inputs: { body: 'J' } },
      ],
    });
    expect(bodyJson(r.response.body)).toEqual({ t: 'object', m: 'GET' });
  });
});

describe('call answers from a custom transport (DatakitOptions.transport)', () => {
  // the module finds content-type in the answer's header map without parsing
  // the whole map; keys with escapes (which no HTTP server sends, but a
  // host's transport may) take the full-parse path
  const cases: Array<[string, Record<string, string | string[]>, string]> = [
    ['any case', { 'Content-TYPE': 'application/json' }, 'object'],
    ['after a key with an escape', { 'x"odd': 'v', 'content-type': 'application/json' }, 'object'],
    ['no prefix or suffix match', { 'content-typex': 'application/json', 'x-content-type': 'application/json' }, 'string'],
    ['the first of repeated values', { 'content-type': ['application/json', 'text/plain'] }, 'object'],
    ['absent', { 'x-other': 'application/json' }, 'string'],
    ['not JSON', { 'CONTENT-TYPE': 'text/plain' }, 'string'],
  ];
  for (const [label, headers, type] of cases) {
    it(`content-type lookup: ${label}`, async () => {
      const dk2 = await engine({
        transport: {
          send: async () => ({ status: 200, headers, body: Buffer.from('{"a":1}') }),
          close: async () => {},
        },
      });
      const flow = dk2.load({
        nodes: [
          { name: 'C', type: 'call', url: 'http://127.0.0.1:9/x' },
          { name: 'J', type: 'jq', input: 'C.body', jq: 'type' },
          { name: 'EXIT', type: 'exit', inputs: { body: 'J' } },
        ],
      });
      const r = await flow.run({ method: 'GET', path: '/' });
      expect(text(r.response.body)).toBe(type);
      await dk2.close();
    });
  }
});

describe('per-node timings (newRequest(..., { timings: true }))', () => {
  it('each phase reports the nodes that ran in it, with status and duration', async () => {
    const flow = dk.load({
      nodes: [
        { name: 'S', type: 'static', values: { a: 'b' } },
        { name: 'J', type: 'jq', input: 'S', jq: '.', output: 'service_request.headers' },
        { name: 'R', type: 'jq', input: 'service_response.status', jq: '{"X-S": (. | tostring)}', output: 'response.headers' },
      ],
    });
    const run = flow.newRequest({ method: 'GET', path: '/' }, undefined, { timings: true });
    const first = await run.request();
    expect(first.timings?.map((t) => [t.node.name, t.node.type, t.status])).toEqual([
      ['S', 'static', 'complete'],
      ['J', 'jq', 'complete'],
    ]);
    for (const t of first.timings!) expect(t.ms).toBeGreaterThanOrEqual(0);
    const second = await run.response({ status: 204, headers: {} });
    expect(second.timings?.map((t) => [t.node.name, t.status])).toEqual([['R', 'complete']]);
    run.done();
    // without the option there are none
    const plain = flow.newRequest({ method: 'GET', path: '/' });
    expect((await plain.request()).timings).toBeUndefined();
    plain.done();
  });

  it('a failing node is reported failed', async () => {
    const flow = dk.load({ nodes: [{ name: 'BAD', type: 'jq', jq: 'error("boom")', output: 'service_request.headers' }] });
    const run = flow.newRequest({ method: 'GET', path: '/' }, undefined, { timings: true });
    const out = await run.request();
    run.done();
    expect(out.action).toBe('exit');
    expect(out.timings?.map((t) => [t.node.name, t.status])).toEqual([['BAD', 'failed']]);
  });
});

describe('call transports that answer at once', () => {
  const flowCfg = {
    nodes: [
      { name: 'C', type: 'call', url: 'http://127.0.0.1:9/x' },
      { name: 'EXIT', type: 'exit', inputs: { body: 'C.body' } },
    ],
  };

  it('a dispatch() that answers before returning: the answer still reaches the node', async () => {
    const dk2 = await engine({
      transport: {
        send: async () => {
          throw new Error('send must not be used when dispatch exists');
        },
        dispatch: (_req, _body, _cancel, done) => done(null, { status: 200, headers: { 'content-type': 'application/json' }, body: Buffer.from('{"now":true}') }),
        close: async () => {},
      },
    });
    const r = await dk2.load(flowCfg).run({ method: 'GET', path: '/' });
    expect(r.response.status).toBe(200);
    expect(bodyJson(r.response.body)).toEqual({ now: true });
    await dk2.close();
  });

  it('a dispatch() that fails before returning, or throws: the node fails cleanly', async () => {
    for (const dispatch of [
      (_r: unknown, _b: unknown, _c: unknown, done: (e: Error | null, r: undefined) => void) => done(new Error('refused at once'), undefined),
      () => {
        throw new Error('transport threw');
      },
    ]) {
      const dk2 = await engine({ transport: { send: async () => ({ status: 200, headers: {}, body: new Uint8Array(0) }), dispatch, close: async () => {} } });
      const r = await dk2.load(flowCfg).run({ method: 'GET', path: '/' });
      expect(r.response.status).toBe(500);
      expect(r.failure?.node.name).toBe('C');
      expect(r.failure?.message).toMatch(/refused at once|transport threw/);
      expect(dk2.stats().contexts).toBe(0);
      await dk2.close();
    }
  });

  it('a send() that throws instead of rejecting: the node fails cleanly', async () => {
    const dk2 = await engine({
      transport: {
        send: () => {
          throw new Error('sync throw');
        },
        close: async () => {},
      },
    });
    const r = await dk2.load(flowCfg).run({ method: 'GET', path: '/' });
    expect(r.response.status).toBe(500);
    expect(r.failure?.message).toMatch(/sync throw/);
    await dk2.close();
  });
});

describe('exit', () => {
  it('answers with status, headers and an encoded body; null headers are dropped', async () => {
    const r = await run({
      nodes: [
        { name: 'S', type: 'static', values: { headers: { 'X-A': 'a', 'X-Gone': null }, body: ['x'] } },
        { name: 'EXIT', type: 'exit', status: 418, input: 'S' },
      ],
    });
    expect(r.proxied).toBe(false);
    expect(r.response.status).toBe(418);
    expect(r.response.headers).toEqual({ 'X-A': 'a', 'Content-Type': 'application/json', 'Content-Length': '5' });
    expect(text(r.response.body)).toBe('["x"]');
  });

  it('input: SOME_CALL passes body and headers', async () => {
    const r = await run({
      nodes: [
        { name: 'C', type: 'call', url: `${api.url}/text` },
        { name: 'EXIT', type: 'exit', input: 'C' },
      ],
    });
    expect(text(r.response.body)).toBe('plain text');
    expect(r.response.headers['content-type']).toBe('text/plain');
  });

  it('keeps a string body as is, and an explicit content type', async () => {
    const r = await run({
      nodes: [
        { name: 'S', type: 'static', values: { headers: { 'content-type': 'text/csv' }, body: 'a,b' } },
        { name: 'EXIT', type: 'exit', input: 'S' },
      ],
    });
    expect(r.response.headers).toEqual({ 'content-type': 'text/csv', 'Content-Length': '3' });
    expect(text(r.response.body)).toBe('a,b');
  });
});

describe('property', () => {
  it('gets (null when unknown), and sets writable properties', async () => {
    const props = new MemoryProperties(undefined, { 'kong.client.consumer': { id: 'c1', username: 'alice' } });
    const r = await run({
      nodes: [
        { name: 'GET', type: 'property', property: 'kong.client.consumer' },
        { name: 'UNKNOWN', type: 'property', property: 'kong.nothing.here' },
        { name: 'J', type: 'jq', inputs: { c: 'GET', u: 'UNKNOWN' }, jq: '{id: .c.id, u}' },
        { name: 'SET', type: 'property', property: 'kong.ctx.shared.who', input: 'J' },
        { name: 'SET_JSON', type: 'property', property: 'kong.ctx.shared.raw', content_type: 'application/json', input: 'J' },
        { name: 'EXIT', type: 'exit', inputs: { body: 'SET' } },
      ],
    }, {}, props);
    expect(bodyJson(r.response.body)).toEqual({ id: 'c1', u: null });
    expect(r.properties['kong.ctx.shared.who']).toEqual({ id: 'c1', u: null });
    expect(r.properties['kong.ctx.shared.raw']).toBe('{"id":"c1","u":null}');
  });

  it('content_type application/json decodes on get; non_nil fails on null', async () => {
    const props = new MemoryProperties(undefined, { 'kong.ctx.shared.doc': '{"a":[1,2]}' });
    const ok = await run({
      nodes: [
        { name: 'GET', type: 'property', property: 'kong.ctx.shared.doc', content_type: 'application/json' },
        { name: 'EXIT', type: 'exit', inputs: { body: 'GET' } },
      ],
    }, {}, props);
    expect(bodyJson(ok.response.body)).toEqual({ a: [1, 2] });
    const bad = await run({ debug: true, nodes: [{ name: 'GET', type: 'property', property: 'kong.ctx.shared.none', non_nil: true }] });
    expect(bad.response.status).toBe(500);
    expect((bodyJson(bad.response.body) as { error: string }).error).toBe('property kong.ctx.shared.none is nil');
  });

  it('a rejected set fails the node with the host message', async () => {
    const r = await run({
      debug: true,
      nodes: [
        { name: 'S', type: 'static', values: { t: 'not a target' } },
        { name: 'SET', type: 'property', property: 'kong.service.target', input: 'S.t' },
      ],
    });
    expect((bodyJson(r.response.body) as { error: string }).error).toMatch(/could not set property kong.service.target: invalid target/);
  });
});

describe('handlebars', () => {
  it('renders inputs (dots as underscores) and parses JSON output', async () => {
    const r = await run({
      nodes: [
        { name: 'S', type: 'static', values: { who: 'world' } },
        { name: 'T', type: 'handlebars', template: '{"greeting": "hello {{who}}", "path": "{{request_path}}"}', content_type: 'application/json', inputs: { who: 'S.who', 'request.path': 'request.path' } },
        { name: 'EXIT', type: 'exit', inputs: { body: 'T' } },
      ],
    }, { path: '/p' });
    expect(bodyJson(r.response.body)).toEqual({ greeting: 'hello world', path: '/p' });
  });

  it('text output keeps its content type on a response body', async () => {
    const r = await run({
      nodes: [
        { name: 'T', type: 'handlebars', template: '<b>{{request_method}}</b>', content_type: 'text/html', input: 'request.method' },
        { name: 'EXIT', type: 'exit', inputs: { body: 'T' } },
      ],
    });
    expect(text(r.response.body)).toBe('<b>GET</b>');
    expect(r.response.headers['Content-Type']).toBe('text/html');
  });
});

describe('branch', () => {
  const flow = {
    nodes: [
      { name: 'COND', type: 'jq', input: 'request.query', jq: '.go == "yes"' },
      { name: 'B', type: 'branch', input: 'COND', then: ['YES'], else: ['NO'] },
      { name: 'YES', type: 'static', values: { body: 'took then' } },
      { name: 'NO', type: 'static', values: { body: 'took else' } },
      { name: 'AFTER_NO', type: 'jq', input: 'NO.body', jq: '. + "!"' },
      { name: 'EXIT_YES', type: 'exit', inputs: { body: 'YES.body' } },
      { name: 'EXIT_NO', type: 'exit', inputs: { body: 'AFTER_NO' } },
    ],
  };
  it('runs the then side and skips the else side with its dependants', async () => {
    expect(text((await run(flow, { query: 'go=yes' })).response.body)).toBe('took then');
    expect(text((await run(flow, { query: 'go=no' })).response.body)).toBe('took else!');
  });
  it('fails on a non-boolean input', async () => {
    const r = await run({
      debug: true,
      nodes: [
        { name: 'COND', type: 'jq', jq: '"yes"' },
        { name: 'B', type: 'branch', input: 'COND', then: [] },
      ],
    });
    expect((bodyJson(r.response.body) as { error: string }).error).toBe('branch input must be a boolean, got string');
  });
});

describe('service request and response', () => {
  it('headers (null removes), query and a JSON body with recomputed length', async () => {
    const r = await dk.load({
      nodes: [
        { name: 'H', type: 'static', values: { 'X-Add': 'yes', Authorization: null } },
        { name: 'Q', type: 'static', values: { q: 'v' } },
        { name: 'B', type: 'jq', input: 'request.body', jq: '. + {added: true}' },
      ].concat([
        { name: 'OUT_H', type: 'jq', input: 'H', jq: '.', output: 'service_request.headers' } as never,
        { name: 'OUT_Q', type: 'jq', input: 'Q', jq: '.', output: 'service_request.query' } as never,
        { name: 'OUT_B', type: 'jq', input: 'B', jq: '.', output: 'service_request.body' } as never,
      ]),
    }).run({ method: 'POST', path: '/', headers: { Authorization: 'secret', 'Content-Type': 'application/json' }, body: '{"x":1}' });
    const s = r.serviceRequest!;
    expect(s.headers).toEqual({ 'Content-Type': 'application/json', 'X-Add': 'yes', 'Content-Length': '20' });
    expect(s.query).toEqual({ q: 'v' });
    expect(JSON.parse(text(s.body))).toEqual({ x: 1, added: true });
  });

  it('response-phase nodes see the service response and change the client response', async () => {
    const flow = dk.load({
      nodes: [
        { name: 'WRAP', type: 'jq', inputs: { body: 'service_response.body', status: 'service_response.status' }, jq: '{wrapped: .body, upstream_status: .status}', output: 'response.body' },
        { name: 'H', type: 'static', values: { 'X-Flow': 'yes' }, output: 'response.headers' },
      ],
    });
    expect(flow.needs).toEqual({ requestBody: false, requestHeaders: false, requestQuery: false, responsePhase: true, responseBody: true });
    const r = await flow.run({ method: 'GET', path: '/' }, { upstream: { status: 201, headers: { 'content-type': 'application/json' }, body: '{"up":1}' } });
    expect(r.response.status).toBe(201);
    expect(bodyJson(r.response.body)).toEqual({ wrapped: { up: 1 }, upstream_status: 201 });
    expect(r.response.headers['X-Flow']).toBe('yes');
  });

  it('a flow that never reads the body does not ask for it', () => {
    const flow = dk.load({ nodes: [{ name: 'J', type: 'jq', input: 'request.headers', jq: '.', output: 'service_request.headers' }] });
    expect(flow.needs).toEqual({ requestBody: false, requestHeaders: true, requestQuery: false, responsePhase: false, responseBody: false });
  });

  it('says which request parts a flow reads, so hosts can skip the rest', () => {
    const needs = (nodes: unknown[], extra: Record<string, unknown> = {}) => {
      const f = dk.load({ nodes, ...extra });
      return [f.needs.requestHeaders, f.needs.requestQuery];
    };
    const jq = (input: string) => ({ name: 'J', type: 'jq', input, jq: '.', output: 'service_request.headers' });
    expect(needs([{ name: 'S', type: 'static', values: { a: 'b' }, output: 'service_request.headers' }])).toEqual([false, false]);
    expect(needs([jq('request.query')])).toEqual([false, true]);
    expect(needs([jq('request.headers')])).toEqual([true, false]);
    // the whole request object reads both
    expect(needs([jq('request')])).toEqual([true, true]);
    // the body is decoded by the request's content-type
    expect(needs([jq('request.body')])).toEqual([true, false]);
    // debug mode looks for the trace header
    expect(needs([jq('request.path')], { debug: true })).toEqual([true, true]);
  });

  it('request fields reach the flow unchanged, whatever characters they hold', async () => {
    const flow = dk.load({
      nodes: [{ name: 'J', type: 'jq', inputs: { m: 'request.method', p: 'request.path', r: 'request.raw_path', s: 'request.scheme' }, jq: '.', output: 'response.body' }],
    });
    const odd = ['/plain', '/quote"d', '/back\\slash', '/ctl\u0001\n', '/emoji-\u{1F600}', '/line\u2028sep', '/é'];
    for (const p of odd) {
      const r = await flow.run({ method: 'GET', path: p, rawPath: p + '?', scheme: 'https' }, { upstream: { status: 200, headers: {}, body: '' } });
      expect(bodyJson(r.response.body)).toEqual({ m: 'GET', p, r: p + '?', s: 'https' });
    }
    // raw_path defaults to path
    const r = await flow.run({ method: 'GET', path: '/x"y' }, { upstream: { status: 200, headers: {}, body: '' } });
    expect((bodyJson(r.response.body) as { r: string }).r).toBe('/x"y');
  });

  it('a flow that does not read the request headers or query still sees the rest of the request', async () => {
    const flow = dk.load({
      nodes: [{ name: 'J', type: 'jq', inputs: { m: 'request.method', p: 'request.path' }, jq: '{"X-M": .m, "X-P": .p}', output: 'service_request.headers' }],
    });
    expect([flow.needs.requestHeaders, flow.needs.requestQuery]).toEqual([false, false]);
    const r = await flow.run({ method: 'PUT', path: '/x', headers: { A: '1' }, query: 'a=1' });
    expect(r.serviceRequest!.headers).toEqual({ A: '1', 'X-M': 'PUT', 'X-P': '/x' });
  });
});

describe('vault', () => {
  it('resolves env references and masks them in errors and traces', async () => {
    process.env.DK_TEST_TOKEN = 's3cr3t-value';
    const cfg = {
      debug: true,
      resources: { vault: { token: '{vault://env/dk-test-token}' } },
      nodes: [
        { name: 'H', type: 'jq', inputs: { t: 'vault.token' }, jq: '{Authorization: ("Bearer " + .t)}' },
        { name: 'C', type: 'call', url: `${api.url}/echo`, inputs: { headers: 'H' } },
        { name: 'FAIL', type: 'jq', inputs: { t: 'vault.token', c: 'C.body' }, jq: 'error("leak " + .t)' },
      ],
    };
    const failed = await run(cfg);
    const b = bodyJson(failed.response.body) as { error: string };
    expect(b.error).toBe('leak ********');
    const logged = JSON.stringify(logger.lines);
    expect(logged).not.toContain('s3cr3t-value');

    const traced = await run(cfg, { headers: { 'X-DataKit-Debug-Trace': 'true' } });
    const trace = text(traced.response.body);
    expect(trace).not.toContain('s3cr3t-value');
    expect(trace).toContain('********');
  });

  it('a missing secret fails the request', async () => {
    const r = await run({
      debug: true,
      resources: { vault: { nope: '{vault://env/dk-test-does-not-exist}' } },
      nodes: [{ name: 'J', type: 'jq', input: 'vault.nope', jq: '.' }],
    });
    expect(r.response.status).toBe(500);
    expect((bodyJson(r.response.body) as { node: { name: string } }).node.name).toBe('vault');
  });
});
