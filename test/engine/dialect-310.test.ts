// The 3.10 dialect at the engine level: which configs get it, and each of
// Kong 3.10's filter behaviours (github.com/Kong/datakit, src/) on flows run
// through the library with a real API on 127.0.0.1.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Datakit } from '../../host/index.js';
import { findDatakitConfigs, MemoryProperties } from '../../host/index.js';
import { bodyJson, engine, text } from '../helpers/engine.js';
import { json, startServer, type TestServer } from '../helpers/http.js';

let dk: Datakit;
let api: TestServer;

beforeAll(async () => {
  dk = await engine();
  api = await startServer((req, res) => {
    if (req.url.startsWith('/status/')) json(res, Number(req.url.split('/')[2]), { failed: true });
    else if (req.url.startsWith('/form')) {
      res.writeHead(200, { 'Content-Type': 'application/x-www-form-urlencoded' });
      res.end('a=1&b=x+y&b=last&c=%41%zz');
    } else json(res, 200, { url: req.url, headers: req.headers, body: req.body }, { 'X-Mixed-Case': 'yes' });
  });
});

afterAll(async () => {
  await api.close();
  await dk.close();
});

const run = (cfg: object, req: object = {}, props?: MemoryProperties) =>
  dk.load(cfg).run({ method: 'GET', path: '/', ...req }, props ? { properties: props } : {});

describe('which configs get the 3.10 dialect', () => {
  // the same flow, map-shaped: 3.11+ (no $variable for an input named `request.query`)
  const flow = (inputs: unknown, extra: object = {}) => ({
    ...extra,
    nodes: [
      { name: 'J', type: 'jq', inputs, jq: '$request_query.a // "unbound"' },
      { name: 'E', type: 'exit', inputs: { body: 'J' } },
    ],
  });

  it('list-shaped inputs select 3.10 (src/config.rs read_links: an unnamed list input is named after its source)', async () => {
    const r = await run(flow(['request.query']), { query: { a: 'x' } });
    expect(text(r.response.body)).toBe('x');
  });

  it('map-shaped inputs stay 3.11+: the $variable is not defined', () => {
    expect(dk.validate(flow({ 'request.query': 'request.query' }))[0].message).toContain('$request_query is not defined');
  });

  it('an explicit `dialect: "3.11"` wins over list-shaped inputs, and `dialect: "3.10"` over map-shaped ones', async () => {
    expect(dk.validate(flow(['request.query'], { dialect: '3.11' }))[0].message).toContain('$request_query is not defined');
    const r = await run(flow({ 'request.query': 'request.query' }, { dialect: '3.10' }), { query: { a: 'y' } });
    expect(text(r.response.body)).toBe('y');
  });

  it('a datakit filter found in filter_chains gets dialect "3.10" unless it names one', () => {
    const found = findDatakitConfigs({
      _format_version: '3.0',
      filter_chains: [{ filters: [{ name: 'datakit', config: '{"nodes": []}' }, { name: 'datakit', config: { dialect: '3.11', nodes: [] } }] }],
      plugins: [{ name: 'datakit', config: { nodes: [] } }],
    });
    expect(found.map((f) => [f.path, (f.config as { dialect?: string }).dialect])).toEqual([
      ['plugins[0].config', undefined],
      ['filter_chains[0].filters[0].config', '3.10'],
      ['filter_chains[0].filters[1].config', '3.11'],
    ]);
  });

  it('any other dialect value is an error', () => {
    expect(dk.validate({ dialect: '3.9', nodes: [{ type: 'exit' }] })).toEqual([{ message: 'dialect: expected "3.10" or "3.11"', field: 'dialect' }]);
  });
});

describe('3.10 configuration rules', () => {
  it('`nodes: []` loads (tests/config-json-schema/valid/empty-nodes.yml) and proxies untouched', async () => {
    const r = await run({ dialect: '3.10', nodes: [] }, {}, undefined);
    expect(r.proxied).toBe(true);
    expect(dk.validate({ nodes: [] })).toEqual([{ message: 'nodes: at least one node is required', field: 'nodes' }]);
  });

  it('exit status 100..599 (datakit.meta.json: "minimum": 100, "maximum": 599)', () => {
    expect(dk.validate({ dialect: '3.10', nodes: [{ type: 'exit', status: 100 }] })).toEqual([]);
    expect(dk.validate({ dialect: '3.10', nodes: [{ type: 'exit', status: 600 }] })[0].message).toBe('failed checking configuration: in node `node_1` of type `exit`: status: value should be between 100 and 599');
    expect(dk.validate({ nodes: [{ type: 'exit', status: 100 }] })[0].message).toBe('node #1 (node_1): status: value should be between 200 and 599');
  });

  it('`jq` defaults to `.` (src/nodes/jq.rs: get_config_value(bt, "jq").unwrap_or("."))', async () => {
    const r = await run({ dialect: '3.10', nodes: [{ name: 'J', type: 'jq', input: 'request.query' }, { type: 'exit', input: 'J' }] }, { query: { k: 'v' } });
    expect(bodyJson(r.response.body)).toEqual({ k: 'v' });
    expect(dk.validate({ nodes: [{ name: 'J', type: 'jq' }] })[0].message).toBe('node #1 (J): jq: required field missing');
  });

  it('nameless nodes load', async () => {
    const r = await run({ dialect: '3.10', nodes: [{ type: 'jq', jq: '"anonymous"', output: 'response.body' }, { type: 'exit', status: 203 }] });
    expect(r.response.status).toBe(203);
  });

  it('attributes a node type does not know are ignored, as src/config.rs keeps them in a map nobody reads', () => {
    expect(dk.validate({ dialect: '3.10', nodes: [{ type: 'exit', colour: 'blue' }] })).toEqual([]);
    expect(dk.validate({ nodes: [{ type: 'exit', colour: 'blue' }] })[0].message).toBe('node #1 (node_1): colour: unknown field');
  });

  it('the handlebars `template` defaults to empty and the property `content_type` is free (src/nodes/handlebars.rs, property.rs)', async () => {
    const r = await run({ dialect: '3.10', nodes: [{ name: 'H', type: 'handlebars' }, { name: 'P', type: 'property', property: 'kong.route_name', content_type: 'text/x-any' }, { type: 'exit', status: 201, inputs: [{ body: 'H' }] }] });
    expect(r.response.status).toBe(201);
    expect(text(r.response.body)).toBe('');
  });

  it('a handlebars node-wise input is named after its source as written (`input: CALL` is {{CALL.url}})', async () => {
    const r = await run({
      dialect: '3.10',
      nodes: [
        { name: 'CALL', type: 'call', url: `${api.url}/hb` },
        { name: 'H', type: 'handlebars', input: 'CALL', template: 'got {{CALL.url}}' },
        { type: 'exit', inputs: [{ body: 'H' }] },
      ],
    });
    expect(text(r.response.body)).toBe('got /hb');
  });

  it('the call `timeout` is in seconds (src/nodes/call.rs: Duration::from_secs)', async () => {
    // 1 s is enough for a 0 ms answer; as milliseconds it would time out
    const r = await run({ dialect: '3.10', nodes: [{ name: 'C', type: 'call', url: `${api.url}/x`, timeout: 1 }, { type: 'exit', inputs: { body: 'C.body' } }] });
    expect(r.failure).toBeUndefined();
    expect((bodyJson(r.response.body) as { url: string }).url).toBe('/x');
  });
});

describe("3.10's configuration error wording (src/config.rs tests)", () => {
  const errors = (nodes: unknown[]) => dk.validate({ dialect: '3.10', nodes }).map((e) => e.message);

  it('config_invalid_type: "failed checking configuration: in node `MY_NODE` of type `INVALID`: unknown node type"', () => {
    expect(errors([{ name: 'MY_NODE', type: 'INVALID' }])).toEqual(['failed checking configuration: in node `MY_NODE` of type `INVALID`: unknown node type']);
  });

  it('config_invalid_name: "failed checking configuration: in node `response` of type `jq`: cannot use reserved node name"', () => {
    expect(errors([{ name: 'response', type: 'jq' }])).toEqual(['failed checking configuration: in node `response` of type `jq`: cannot use reserved node name']);
  });

  it('config_invalid_loop: "failed checking configuration: in node `MY_NODE` of type `jq`: node cannot connect to itself"', () => {
    expect(errors([{ name: 'MY_NODE', type: 'jq', inputs: { input: 'MY_NODE' } }])).toEqual([
      'failed checking configuration: in node `MY_NODE` of type `jq`: node cannot connect to itself',
    ]);
  });

  it('config_missing_type: "failed parsing configuration: missing field `type`"; a duplicate name: "multiple definitions of node `A`"', () => {
    expect(errors([{ name: 'MY_NODE' }])).toEqual(['failed parsing configuration: missing field `type`']);
    expect(errors([{ name: 'A', type: 'jq' }, { name: 'A', type: 'jq' }])).toEqual(['failed checking configuration: multiple definitions of node `A`']);
  });

  it("src/nodes/call.rs and property.rs: \"call: 'url' is a required attribute\", \"Missing `property` attribute\"; checks 3.10 lacked keep this engine's text", () => {
    expect(errors([{ name: 'C', type: 'call' }, { name: 'P', type: 'property' }, { name: 'E', type: 'exit', status: 'x' }])).toEqual([
      "failed checking configuration: in node `C` of type `call`: call: 'url' is a required attribute",
      'failed checking configuration: in node `P` of type `property`: Missing `property` attribute',
      'failed checking configuration: in node `E` of type `exit`: status: expected an integer',
    ]);
  });

  it('src/filter.rs send_default_fail_response: a failure answers 500 "An unexpected error ocurred" (sic), debug or not', async () => {
    const r = await run({ dialect: '3.10', debug: true, nodes: [{ name: 'J', type: 'jq', jq: 'error("boom")' }, { type: 'exit', inputs: [{ body: 'J' }] }] }, { requestId: 'rid-1' });
    expect(r.response.status).toBe(500);
    expect(bodyJson(r.response.body)).toEqual({ message: 'An unexpected error ocurred', request_id: 'rid-1' });
  });
});

describe('3.10 ports and $variables', () => {
  it('"`$` removed, `.` -> `_`": named list inputs `$mycall` and `request.body` are $mycall and $request_body (src/nodes/jq.rs sanitize_jq_inputs)', async () => {
    const r = await run({
      dialect: '3.10',
      nodes: [
        { name: 'S', type: 'jq', jq: '{"bee": 1}' },
        { name: 'J', type: 'jq', inputs: [{ $mycall: 'S' }, 'request.query'], jq: '{bee: $mycall.bee, q: $request_query.q}' },
        { type: 'exit', inputs: { body: 'J' } },
      ],
    }, { query: { q: '1' } });
    expect(bodyJson(r.response.body)).toEqual({ bee: 1, q: '1' });
  });

  it('a node-wise input is `$` + its source as written, and still `.` (`input: request.headers` -> $request_headers)', async () => {
    const r = await run({
      dialect: '3.10',
      nodes: [{ name: 'J', type: 'jq', input: 'request.headers', jq: '{v: $request_headers["x-foo"], dot: .["x-foo"]}' }, { type: 'exit', inputs: { body: 'J' } }],
    }, { headers: { 'X-Foo': 'bar' } });
    expect(bodyJson(r.response.body)).toEqual({ v: 'bar', dot: 'bar' });
  });

  it('a node-wise link into a fixed-port node fills its first port: a jq result into `exit` is the body', async () => {
    const r = await run({ dialect: '3.10', nodes: [{ name: 'J', type: 'jq', jq: '{"headers": {"x": "1"}}' }, { type: 'exit', input: 'J' }] });
    // 3.11+ would split the object into body and headers
    expect(bodyJson(r.response.body)).toEqual({ headers: { x: '1' } });
  });

  it('src/config.rs create_or_get_input: the k-th unnamed list input of a fixed-port node fills its k-th port; an unnamed output reads its first', async () => {
    const r = await run({
      dialect: '3.10',
      nodes: [
        { name: 'B', type: 'jq', jq: '{"from": "B"}' },
        { name: 'H', type: 'jq', jq: '{"x-from": "H"}' },
        { name: 'E', type: 'exit', status: 201, inputs: ['B', 'H'] },
      ],
    });
    expect(r.response.status).toBe(201);
    expect(bodyJson(r.response.body)).toEqual({ from: 'B' });
    expect(r.response.headers['x-from']).toBe('H');
    const out = await run({ dialect: '3.10', nodes: [{ name: 'C', type: 'call', url: `${api.url}/out`, outputs: ['J'] }, { name: 'J', type: 'jq', jq: '.url' }, { type: 'exit', inputs: [{ body: 'J' }] }] });
    expect(text(out.response.body)).toBe('/out');
    expect(dk.validate({ dialect: '3.10', nodes: [{ name: 'E', type: 'exit', inputs: ['request.body', 'request.headers', 'request.query'] }] }).map((e) => e.message)).toEqual([
      'failed checking configuration: in node `E` of type `exit`: too many inputs declared (node type supports 2 inputs)',
    ]);
  });

  it('`input: CALL` reads the call\'s first output (body) and is named $CALL', async () => {
    const r = await run({
      dialect: '3.10',
      nodes: [
        { name: 'CALL', type: 'call', url: `${api.url}/first` },
        { name: 'J', type: 'jq', input: 'CALL', jq: '$CALL.url' },
        { type: 'exit', inputs: { body: 'J' } },
      ],
    });
    expect(text(r.response.body)).toBe('/first');
  });

  it("the property node's ports are named `value` (src/nodes/property.rs: PortConfig::names(&[\"value\"])); a set has no output", async () => {
    const props = new MemoryProperties({ method: 'GET', path: '/' });
    const r = await run({
      dialect: '3.10',
      nodes: [
        { name: 'J', type: 'jq', jq: '"stored"', outputs: [{ value: 'SET.value' }] },
        { name: 'SET', type: 'property', property: 'kong.ctx.shared.k' },
        { name: 'NEVER', type: 'exit', status: 418, inputs: [{ body: 'SET.value' }] },
        { name: 'GET', type: 'property', property: 'kong.ctx.shared.k', outputs: [{ value: 'E.body' }] },
        { name: 'E', type: 'exit' },
      ],
    }, {}, props);
    expect(props.changes['kong.ctx.shared.k']).toBe('stored');
    expect(r.response.status).toBe(200);
    expect(text(r.response.body)).toBe('stored');
  });
});

describe("3.10's jq syntax (docs/datakit.md: \"processed using the jaq implementation\")", () => {
  it('jaq reads an object value up to the next comma: `{"k": $request_query.y // "d"}` loads without parentheses', async () => {
    const flow = (dialect: string) => ({
      dialect,
      nodes: [
        { name: 'J', type: 'jq', inputs: [{ request_query: 'request.query' }], jq: '{"k": $request_query.y // "d", "n": .request_query.n | length, "if": if true then 1 else 2 end}' },
        { type: 'exit', inputs: [{ body: 'J' }] },
      ],
    });
    const r = await run(flow('3.10'), { query: { n: 'abc' } });
    expect(bodyJson(r.response.body)).toEqual({ k: 'd', n: 3, if: 1 });
    expect(dk.validate(flow('3.11'))[0].message).toMatch(/^node #1 \(J\): jq: syntax error/);
  });

  it('jq 1.7 programs mean the same in both (a pipe in an object value)', async () => {
    const flow = { dialect: '3.10', nodes: [{ name: 'J', type: 'jq', input: 'request.query', jq: '{a: .x | ascii_upcase, b: [.x, .x] | length}' }, { type: 'exit', inputs: [{ body: 'J' }] }] };
    const r = await run(flow, { query: { x: 'q' } });
    expect(bodyJson(r.response.body)).toEqual({ a: 'Q', b: 2 });
  });
});

describe('3.10 execution', () => {
  it('a jq node with no result leaves its dependants untriggered (src/nodes/jq.rs: 0 results => Done(vec![None]))', async () => {
    const r = await run({
      dialect: '3.10',
      nodes: [
        { name: 'NONE', type: 'jq', jq: 'empty' },
        { name: 'NEVER', type: 'exit', status: 418, inputs: [{ body: 'NONE' }] },
      ],
    });
    expect(r.proxied).toBe(true);
  });

  it('a dispatch failure completes the call with `error` set; its body readers do not run (src/nodes/call.rs resume)', async () => {
    const r = await run({
      dialect: '3.10',
      nodes: [
        { name: 'C', type: 'call', url: 'http://127.0.0.1:1/refused' },
        { name: 'BODY', type: 'exit', status: 299, inputs: [{ body: 'C.body' }] },
        { name: 'ERR', type: 'jq', inputs: [{ e: 'C.error' }], jq: '{error: ($e | type)}' },
        { type: 'exit', status: 502, inputs: [{ body: 'ERR' }] },
      ],
    });
    expect(r.response.status).toBe(502);
    expect(bodyJson(r.response.body)).toEqual({ error: 'string' });
  });

  describe('a request body declared JSON that is not JSON (src/payload.rs from_bytes: Payload::Error, the request goes on)', () => {
    const bad = { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"a": tru' };
    const parseError = 'invalid literal at byte 6';

    it('the request is proxied; a handlebars template renders the parse error as text', async () => {
      const untouched = await run({ dialect: '3.10', nodes: [{ name: 'J', type: 'jq', jq: '1' }] }, bad);
      expect(untouched.proxied).toBe(true);
      const r = await run({
        dialect: '3.10',
        nodes: [
          { name: 'H', type: 'handlebars', inputs: [{ b: 'request.body' }], template: 'got: {{b}}' },
          { type: 'exit', status: 200, inputs: [{ body: 'H' }] },
        ],
      }, bad);
      expect(r.response.status).toBe(200);
      expect(text(r.response.body)).toBe(`got: ${parseError}`);
    });

    it('a jq node reading it fails with "jq: input error at VAR: ..." (untraced: 3.10\'s 500)', async () => {
      const r = await run({
        dialect: '3.10',
        nodes: [
          { name: 'J', type: 'jq', inputs: ['request.body'], jq: '$request_body' },
          { type: 'exit', inputs: [{ body: 'J' }] },
        ],
      }, bad);
      expect(r.response.status).toBe(500);
      expect(bodyJson(r.response.body)).toEqual({ message: 'An unexpected error ocurred', request_id: expect.any(String) });
    });

    it('the trace lists request.body as a `fail` value and the jq node\'s failure names its variable', async () => {
      const r = await dk.load({
        dialect: '3.10',
        debug: true,
        nodes: [
          { name: 'J', type: 'jq', inputs: [{ b: 'request.body' }], jq: '$b' },
          { type: 'exit', inputs: [{ body: 'J' }] },
        ],
      }).run({ path: '/', ...bad, headers: { ...bad.headers, 'X-DataKit-Debug-Trace': 'on' } }, { upstream: { status: 200, headers: { 'Content-Type': 'text/plain' }, body: Buffer.from('up') } });
      const actions = (bodyJson(r.response.body) as Array<{ action: string; name: string; values?: unknown[] }>).map(({ action, name, values }) => ({ action, name, values }));
      expect(r.proxied).toBe(true);
      expect(actions).toEqual([
        { action: 'value', name: 'request', values: [{ data_type: 'fail', value: parseError }, { data_type: 'none', value: null }, { data_type: 'none', value: null }] },
        { action: 'run', name: 'J', values: undefined },
        { action: 'fail', name: 'J', values: [{ data_type: 'fail', value: `jq: input error at b: ${parseError}` }] },
        { action: 'value', name: 'response', values: [{ data_type: 'raw', value: 'up' }, { data_type: 'none', value: null }] },
      ]);
    });

    it('3.11+ flows still fail the request', async () => {
      const r = await run({ nodes: [{ name: 'J', type: 'jq', inputs: { b: 'request.body' }, jq: '.b' }, { type: 'exit', inputs: { body: 'J' } }] }, bad);
      expect(r.response.status).toBe(500);
    });
  });

  it('a handlebars output carries a Content-Type only when it is JSON (src/payload.rs: only Payload::Json has a content_type; 3.11+ flows: the node\'s content_type)', async () => {
    const cfg = (dialect: string, contentType?: string) => ({
      dialect,
      nodes: [
        { name: 'H', type: 'handlebars', template: '{"n": 1}', ...(contentType ? { content_type: contentType } : {}) },
        { type: 'exit', inputs: { body: 'H' } },
      ],
    });
    const plain = await run(cfg('3.10'));
    expect(text(plain.response.body)).toBe('{"n": 1}');
    expect(plain.response.headers['Content-Type']).toBeUndefined();
    const html = await run(cfg('3.10', 'text/html'));
    expect(html.response.headers['Content-Type']).toBeUndefined();
    const json = await run(cfg('3.10', 'application/json; charset=utf-8'));
    expect(json.response.headers['Content-Type']).toBe('application/json');
    expect(bodyJson(json.response.body)).toEqual({ n: 1 });
    expect((await run(cfg('3.11', 'text/html'))).response.headers['Content-Type']).toBe('text/html');
  });

  describe('a failed call\'s `error` output in 3.10\'s words (src/nodes/call.rs resume: ngx_wasm_module\'s :dispatch_status)', () => {
    const errorOf = async (url: string, extra: object = {}) => {
      const r = await run({
        dialect: '3.10',
        nodes: [
          { name: 'C', type: 'call', url, ...extra },
          { type: 'exit', status: 502, inputs: [{ body: 'C.error' }] },
        ],
      });
      expect(r.response.status).toBe(502);
      return text(r.response.body);
    };

    it('a refused connection is "broken connection"', async () => {
      expect(await errorOf('http://127.0.0.1:1/refused')).toBe('broken connection');
    });

    it('no answer within `timeout` (seconds) is "timeout"', async () => {
      const silent = await startServer(() => { /* never answers */ });
      try {
        expect(await errorOf(`${silent.url}/slow`, { timeout: 1 })).toBe('timeout');
      } finally {
        await silent.close();
      }
    });

    it('a name that does not resolve is "resolver failure"', async () => {
      expect(await errorOf('http://no-such-host.invalid/')).toBe('resolver failure');
    });

    it('3.11+ flows keep this engine\'s texts: the node fails', async () => {
      const r = await dk.load({ nodes: [{ name: 'C', type: 'call', url: 'http://127.0.0.1:1/refused' }, { type: 'exit', inputs: { body: 'C.body' } }] }).run({ method: 'GET', path: '/' });
      expect(r.response.status).toBe(500);
    });
  });

  it('a non-2xx answer is not a failure', async () => {
    const r = await run({ dialect: '3.10', nodes: [{ name: 'C', type: 'call', url: `${api.url}/status/404` }, { type: 'exit', inputs: [{ body: 'C.body' }] }] });
    expect(r.failure).toBeUndefined();
    expect(bodyJson(r.response.body)).toEqual({ failed: true });
  });

  it('the call `query` input replaces the url\'s query (src/nodes/call.rs path_with_query); no Content-Type is added for a JSON body', async () => {
    const r = await run({
      dialect: '3.10',
      nodes: [
        { name: 'Q', type: 'jq', jq: '{"b": "2"}' },
        { name: 'B', type: 'jq', jq: '{"k": "v"}' },
        { name: 'C', type: 'call', method: 'POST', url: `${api.url}/q?a=1`, inputs: [{ query: 'Q' }, { body: 'B' }] },
        { type: 'exit', inputs: [{ body: 'C.body' }] },
      ],
    });
    const seen = bodyJson(r.response.body) as { url: string; headers: Record<string, string>; body: string };
    expect(seen.url).toBe('/q?b=2');
    expect(seen.headers['content-type']).toBeUndefined();
    expect(JSON.parse(seen.body)).toEqual({ k: 'v' });
  });

  it('header names are lower-cased (src/payload.rs from_pwm_headers): request, call answer', async () => {
    const r = await run({
      dialect: '3.10',
      nodes: [
        { name: 'C', type: 'call', url: `${api.url}/h` },
        { name: 'J', type: 'jq', inputs: [{ req: 'request.headers' }, { res: 'C.headers' }], jq: '{req: ($req | keys), res: $res["x-mixed-case"]}' },
        { type: 'exit', inputs: [{ body: 'J' }] },
      ],
    }, { headers: { 'X-Upper': 'a' } });
    expect(bodyJson(r.response.body)).toEqual({ req: ['x-upper'], res: 'yes' });
  });

  it('request.query has one string per name: the last of a repeated one, "" for a bare one (src/filter.rs set_query_data)', async () => {
    const r = await run({ dialect: '3.10', nodes: [{ name: 'J', type: 'jq', inputs: ['request.query'], jq: '$request_query' }, { type: 'exit', inputs: [{ body: 'J' }] }] }, { query: 'a=1&flag&z=x&z=y' });
    expect(bodyJson(r.response.body)).toEqual({ a: '1', flag: '', z: 'y' });
  });

  it('form-urlencoded bodies decode to objects (src/payload.rs from_bytes), the last of a repeated name winning', async () => {
    const r = await run({
      dialect: '3.10',
      nodes: [
        { name: 'C', type: 'call', url: `${api.url}/form` },
        { name: 'J', type: 'jq', inputs: [{ req: 'request.body' }, { res: 'C.body' }], jq: '{req: $req, res: $res}' },
        { type: 'exit', inputs: [{ body: 'J' }] },
      ],
    }, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: 'x=1&y=a%20b' });
    expect(bodyJson(r.response.body)).toEqual({ req: { x: '1', y: 'a b' }, res: { a: '1', b: 'last', c: 'A%zz' } });
  });

  it('the debug trace is on for any header value except 0/false/off (src/filter.rs header_to_bool)', async () => {
    const cfg = { dialect: '3.10', debug: true, nodes: [{ name: 'J', type: 'jq', jq: '1' }, { type: 'exit', inputs: [{ body: 'J' }] }] };
    const traced = async (v: string) => {
      const r = await dk.load(cfg).run({ method: 'GET', path: '/', headers: { 'X-DataKit-Debug-Trace': v } });
      return text(r.response.body) !== '1';
    };
    expect(await traced('please')).toBe(true);
    expect(await traced('off')).toBe(false);
    expect(await traced('0')).toBe(false);
    expect(await traced('false')).toBe(false);
  });
});

describe('the 3.10 debug trace (src/debug.rs get_trace: a list of run/resume/value/wait/fail actions)', () => {
  type Action = { action: string; name: string; type?: string; values?: Array<{ data_type: string; value: unknown }>; at?: number; duration?: number };

  /** The actions with their clock readings checked (seconds, never decreasing) and made stable. */
  const stable = (body: Uint8Array | undefined): Action[] => {
    const actions = bodyJson(body) as Action[];
    let last = 0;
    return actions.map((a) => {
      const out = { ...a };
      if (a.at !== undefined) {
        expect(a.at).toBeGreaterThanOrEqual(last);
        expect(a.at).toBeLessThan(10);
        last = a.at;
        out.at = 0;
      }
      if (a.duration !== undefined) {
        expect(a.duration).toBeGreaterThanOrEqual(0);
        expect(a.duration).toBeLessThan(10);
        out.duration = 0;
      }
      return out;
    });
  };
  const traced = (cfg: object, req: object = {}, options: object = {}) =>
    dk.load({ dialect: '3.10', debug: true, ...cfg }).run({ method: 'GET', path: '/', ...req, headers: { 'X-DataKit-Debug-Trace': 'on', ...(req as { headers?: object }).headers } }, options);

  it('a request answered by an exit: the request\'s filled ports as `value`s (`none` for ports nobody reads), then run and value per node', async () => {
    const r = await traced({
      nodes: [
        { name: 'J', type: 'jq', inputs: [{ h: 'request.headers' }], jq: '{who: $h["x-who"]}' },
        { name: 'H', type: 'handlebars', inputs: [{ j: 'J' }], template: 'hi {{j.who}}' },
        { name: 'X', type: 'exit', status: 201, inputs: [{ body: 'H' }] },
      ],
    }, { headers: { 'X-Who': 'kong' } });
    expect(r.response.status).toBe(201);
    expect(r.response.headers['Content-Type']).toBe('application/json');
    expect(stable(r.response.body)).toEqual([
      {
        action: 'value',
        name: 'request',
        values: [
          { data_type: 'none', value: null },
          { data_type: 'application/json', value: { 'x-who': 'kong', 'x-datakit-debug-trace': 'on' } },
          { data_type: 'none', value: null },
        ],
        at: 0,
      },
      { action: 'run', name: 'J', type: 'jq', at: 0 },
      { action: 'value', name: 'J', values: [{ data_type: 'application/json', value: { who: 'kong' } }], at: 0 },
      { action: 'run', name: 'H', type: 'handlebars', at: 0 },
      { action: 'value', name: 'H', values: [{ data_type: 'raw', value: 'hi kong' }], at: 0 },
      { action: 'run', name: 'X', type: 'exit', at: 0 },
      { action: 'value', name: 'X', values: [{ data_type: 'none', value: null }], at: 0 },
    ]);
  });

  it('each request port read is a `value` of its own, cumulative: headers, then query, then body (a text body is `raw`)', async () => {
    const r = await traced({
      nodes: [
        { name: 'J', type: 'jq', inputs: [{ b: 'request.body' }, { q: 'request.query' }, { h: 'request.headers' }], jq: '[$b, $q.k, $h["content-type"]]' },
        { type: 'exit', inputs: [{ body: 'J' }] },
      ],
    }, { method: 'POST', query: { k: 'v' }, headers: { 'Content-Type': 'text/plain' }, body: 'plain words' });
    const request = stable(r.response.body).filter((a) => a.name === 'request');
    const headers = { data_type: 'application/json', value: { 'content-type': 'text/plain', 'x-datakit-debug-trace': 'on' } };
    const query = { data_type: 'application/json', value: { k: 'v' } };
    const none = { data_type: 'none', value: null };
    expect(request.map((a) => a.values)).toEqual([
      [none, headers, none],
      [none, headers, query],
      [{ data_type: 'raw', value: 'plain words' }, headers, query],
    ]);
  });

  it('a call: run, wait, resume (with its duration) and its body, headers and error ports', async () => {
    const r = await traced({
      nodes: [
        { name: 'C', type: 'call', url: `${api.url}/traced` },
        { type: 'exit', inputs: [{ body: 'C.body' }] },
      ],
    });
    const actions = stable(r.response.body);
    expect(actions.slice(0, 4)).toEqual([
      { action: 'run', name: 'C', type: 'call', at: 0 },
      { action: 'wait', name: 'C', at: 0 },
      { action: 'resume', name: 'C', type: 'call', duration: 0 },
      {
        action: 'value',
        name: 'C',
        values: [
          { data_type: 'application/json', value: expect.objectContaining({ url: '/traced' }) },
          { data_type: 'application/json', value: expect.objectContaining({ 'content-type': 'application/json', 'x-mixed-case': 'yes' }) },
          { data_type: 'none', value: null },
        ],
        at: 0,
      },
    ]);
    expect(actions.slice(4).map((a) => [a.action, a.name])).toEqual([['run', 'node_2'], ['value', 'node_2']]);
  });

  it('a proxied request: service_response\'s ports, and the `response` with the service\'s body when no node gives one; the status is the service\'s', async () => {
    const r = await traced(
      { nodes: [{ name: 'J', type: 'jq', inputs: [{ up: 'service_response.body' }], jq: '{"x-n": ($up.n + 1 | tostring)}', outputs: [{ value: 'response.headers' }] }] },
      {},
      { upstream: { status: 202, headers: { 'Content-Type': 'application/json' }, body: Buffer.from('{"n":1}') } },
    );
    expect(r.response.status).toBe(202);
    expect(stable(r.response.body)).toEqual([
      { action: 'value', name: 'service_response', values: [{ data_type: 'application/json', value: { n: 1 } }, { data_type: 'none', value: null }], at: 0 },
      { action: 'run', name: 'J', type: 'jq', at: 0 },
      { action: 'value', name: 'J', values: [{ data_type: 'application/json', value: { 'x-n': '2' } }], at: 0 },
      { action: 'value', name: 'response', values: [{ data_type: 'application/json', value: { n: 1 } }, { data_type: 'none', value: null }], at: 0 },
    ]);
  });

  it('a failing node: `fail` with its error as a `fail` value; no node runs any more and the request goes on to the service (src/filter.rs run_nodes: no failure answer while tracing)', async () => {
    const cfg = {
      nodes: [
        { name: 'OK', type: 'jq', jq: '{"x-ok": "1"}', output: 'service_request.headers' },
        { name: 'J', type: 'jq', jq: 'error("no luck")' },
        { name: 'X', type: 'exit', inputs: [{ body: 'J' }] },
        { name: 'LATER', type: 'jq', inputs: [{ up: 'service_response.body' }], jq: '$up' },
      ],
    };
    let sent: Record<string, unknown> = {};
    const r = await traced(cfg, {}, {
      upstream: async (req: { headers: Record<string, unknown> }) => {
        sent = req.headers;
        return { status: 201, headers: { 'Content-Type': 'text/plain' }, body: Buffer.from('from the service') };
      },
    });
    expect(sent).toEqual({ 'x-ok': '1' });
    expect(r.response.status).toBe(201);
    expect(r.response.headers['Content-Type']).toBe('application/json');
    expect(stable(r.response.body)).toEqual([
      { action: 'run', name: 'OK', type: 'jq', at: 0 },
      { action: 'value', name: 'OK', values: [{ data_type: 'application/json', value: { 'x-ok': '1' } }], at: 0 },
      { action: 'run', name: 'J', type: 'jq', at: 0 },
      { action: 'fail', name: 'J', values: [{ data_type: 'fail', value: 'no luck' }], at: 0 },
      { action: 'value', name: 'service_response', values: [{ data_type: 'raw', value: 'from the service' }, { data_type: 'none', value: null }], at: 0 },
      { action: 'value', name: 'response', values: [{ data_type: 'raw', value: 'from the service' }, { data_type: 'none', value: null }], at: 0 },
    ]);
  });

  it('untraced, the same failure answers 3.10\'s 500', async () => {
    const r = await dk.load({ dialect: '3.10', debug: true, nodes: [{ name: 'J', type: 'jq', jq: 'error("no luck")' }, { type: 'exit', inputs: [{ body: 'J' }] }] }).run({ method: 'GET', path: '/' });
    expect(r.response.status).toBe(500);
    expect(bodyJson(r.response.body)).toEqual({ message: 'An unexpected error ocurred', request_id: expect.any(String) });
  });

  it('a property read without a JSON content_type is `raw`; a set and an exit hold `none`', async () => {
    const props = new MemoryProperties(undefined, { 'kong.route_name': 'r1' });
    const r = await traced({
      nodes: [
        { name: 'GET', type: 'property', property: 'kong.route_name' },
        { name: 'SET', type: 'property', property: 'kong.ctx.shared.copy', input: 'GET' },
        { name: 'X', type: 'exit', inputs: [{ body: 'GET' }] },
      ],
    }, {}, { properties: props });
    const values = Object.fromEntries(stable(r.response.body).filter((a) => a.action === 'value').map((a) => [a.name, a.values]));
    expect(values).toEqual({
      GET: [{ data_type: 'raw', value: 'r1' }],
      SET: [{ data_type: 'none', value: null }],
      X: [{ data_type: 'none', value: null }],
    });
  });

  it('a jq node lists every result (src/nodes/jq.rs: Done(results)), one `none` when it has none', async () => {
    const r = await traced({
      nodes: [
        { name: 'MANY', type: 'jq', jq: '1, "two"' },
        { name: 'NONE', type: 'jq', jq: 'empty' },
        { type: 'exit', inputs: [{ body: 'MANY' }] },
      ],
    });
    const values = Object.fromEntries(stable(r.response.body).filter((a) => a.action === 'value').map((a) => [a.name, a.values]));
    expect(values.MANY).toEqual([{ data_type: 'application/json', value: 1 }, { data_type: 'application/json', value: 'two' }]);
    expect(values.NONE).toEqual([{ data_type: 'none', value: null }]);
  });

  it('an exit on the service\'s body (it runs after the service\'s status was sent) leaves the service\'s status: the trace replaces the body', async () => {
    const r = await traced(
      { nodes: [{ name: 'J', type: 'jq', inputs: [{ up: 'service_response.body' }], jq: '$up' }, { name: 'X', type: 'exit', status: 150, inputs: [{ body: 'J' }] }] },
      {},
      { upstream: { status: 203, headers: { 'Content-Type': 'application/json', 'X-Up': 'u' }, body: Buffer.from('{"n":1}') } },
    );
    expect(r.response.status).toBe(203);
    expect(r.response.headers['X-Up']).toBe('u');
    expect(r.response.headers['Content-Type']).toBe('application/json');
    expect(stable(r.response.body).map((a) => [a.action, a.name])).toEqual([['value', 'service_response'], ['run', 'J'], ['value', 'J'], ['run', 'X'], ['value', 'X']]);
  });

  it('3.11+ flows keep 3.11+\'s trace object', async () => {
    const r = await dk.load({ debug: true, nodes: [{ name: 'J', type: 'jq', jq: '1' }, { type: 'exit', inputs: { body: 'J' } }] }).run({ method: 'GET', path: '/', headers: { 'X-DataKit-Debug-Trace': 'on' } });
    expect(bodyJson(r.response.body)).toMatchObject({ status: 'PLAN_COMPLETE', nodes: expect.any(Array), events: expect.any(Array) });
  });
});

describe('3.10 header maps replace every header (src/filter.rs set_http_request_headers, set_http_response_headers)', () => {
  it('into service_request.headers: the request keeps only the map\'s headers, Host and its body framing', async () => {
    const cfg = (dialect: string) => ({
      dialect,
      nodes: [{ name: 'H', type: 'jq', jq: '{"X-New": "n", "accept": "text/plain"}', output: 'service_request.headers' }],
    });
    const req = { method: 'POST', headers: { Host: 'api.test', 'User-Agent': 'ua', Accept: 'application/json', 'Content-Length': '2', 'Content-Type': 'text/plain', 'X-Old': ['a', 'b'] }, body: 'hi' };
    const r310 = await run(cfg('3.10'), req);
    expect(r310.serviceRequest!.headers).toEqual({ Host: 'api.test', 'Content-Length': '2', 'X-New': 'n', accept: 'text/plain' });
    expect(text(r310.serviceRequest!.body)).toBe('hi');
    const r311 = await run(cfg('3.11'), req);
    expect(r311.serviceRequest!.headers).toEqual({ ...req.headers, Accept: undefined, accept: 'text/plain', 'X-New': 'n' });
  });

  it('into response.headers: the response keeps only the map\'s headers and its body framing; the body is the upstream\'s', async () => {
    const upstream = { status: 200, headers: { 'Content-Type': 'application/json', 'Content-Length': '7', 'X-Upstream': 'u', Server: 'up' }, body: Buffer.from('{"a":1}') };
    const cfg = (dialect: string) => ({ dialect, nodes: [{ name: 'H', type: 'jq', jq: '{"x-flow": "f"}', output: 'response.headers' }] });
    const r310 = await dk.load(cfg('3.10')).run({ method: 'GET', path: '/' }, { upstream });
    expect(r310.response.headers).toEqual({ 'Content-Length': '7', 'x-flow': 'f' });
    expect(text(r310.response.body)).toBe('{"a":1}');
    const r311 = await dk.load(cfg('3.11')).run({ method: 'GET', path: '/' }, { upstream });
    expect(r311.response.headers).toEqual({ ...upstream.headers, 'x-flow': 'f' });
  });

  it('a map with a null value removes that header too; a flow that gives no map changes nothing', async () => {
    const r = await run({ dialect: '3.10', nodes: [{ name: 'H', type: 'jq', jq: '{"x-a": null, "x-b": "b"}', output: 'service_request.headers' }] }, { headers: { 'X-A': 'a', 'X-C': 'c' } });
    expect(r.serviceRequest!.headers).toEqual({ 'x-b': 'b' });
    const none = await run({ dialect: '3.10', nodes: [{ name: 'H', type: 'jq', jq: 'empty', output: 'service_request.headers' }] }, { headers: { 'X-A': 'a' } });
    expect(none.serviceRequest!.headers).toEqual({ 'X-A': 'a' });
  });
});

describe('3.10 query maps written to a url (src/payload.rs to_pwm_query)', () => {
  it('into a call\'s query: `flag=true`, numbers as JSON text, null the bare name (3.11+: `true` is the bare name)', async () => {
    const cfg = (dialect: string) => ({
      dialect,
      nodes: [
        { name: 'Q', type: 'jq', jq: '{flag: true, n: 2, bare: null}' },
        { name: 'C', type: 'call', url: `${api.url}/q?old=1`, inputs: { query: 'Q' } },
        { type: 'exit', inputs: { body: 'C.body' } },
      ],
    });
    expect((bodyJson((await run(cfg('3.10'))).response.body) as { url: string }).url).toBe('/q?flag=true&n=2&bare');
    expect((bodyJson((await run(cfg('3.11'))).response.body) as { url: string }).url).toBe('/q?old=1&flag&n=2&bare');
  });

  it('into a call\'s query, escaped by 3.10\'s form serializer (form_urlencoded: a space is `+`, only letters, digits and `*-._` stay as they are)', async () => {
    const cfg = (dialect: string, jq: string) => ({
      dialect,
      nodes: [
        { name: 'Q', type: 'jq', jq },
        { name: 'C', type: 'call', url: `${api.url}/q?old=1#frag`, inputs: { query: 'Q' } },
        { type: 'exit', inputs: { body: 'C.body' } },
      ],
    });
    const url = async (dialect: string, jq: string) => (bodyJson((await run(cfg(dialect, jq))).response.body) as { url: string }).url;
    const jq = `{"a b": "x y~*!'()-._", "é": "1/2", "k": ["p&q", 3]}`;
    expect(await url('3.10', jq)).toBe("/q?a+b=x+y%7E*%21%27%28%29-._&%C3%A9=1%2F2&k=p%26q&k=3");
    // 3.11+: appended, escaped as RFC 3986 (only unreserved characters stay)
    expect(await url('3.11', jq)).toBe('/q?old=1&a%20b=x%20y~%2A%21%27%28%29-._&%C3%A9=1%2F2&k=p%26q&k=3');
  });

  it('into service_request.query: `true` and numbers as their JSON text (`flag=true`), null the bare name, a list\'s non-strings as JSON text', async () => {
    const cfg = (dialect: string) => ({ dialect, nodes: [{ name: 'Q', type: 'jq', jq: '{flag: true, off: false, n: 2, none: null, s: "x", list: ["a", null, 1]}', output: 'service_request.query' }] });
    const r310 = await run(cfg('3.10'));
    expect(r310.serviceRequest!.query).toEqual({ flag: 'true', off: 'false', n: '2', none: null, s: 'x', list: ['a', 'null', '1'] });
    const r311 = await run(cfg('3.11'));
    expect(r311.serviceRequest!.query).toEqual({ flag: true, off: false, n: 2, none: null, s: 'x', list: ['a', null, 1] });
  });
});

describe('3.10 jq input (src/nodes/jq.rs exec: `let input = Val::Null`)', () => {
  it('a jq node without inputs runs on null; 3.11+ gives it an empty object', async () => {
    const cfg = (dialect: string) => ({ dialect, nodes: [{ name: 'J', type: 'jq', jq: '[., type]' }, { type: 'exit', inputs: { body: 'J' } }] });
    expect(bodyJson((await run(cfg('3.10'))).response.body)).toEqual([null, 'null']);
    expect(bodyJson((await run(cfg('3.11'))).response.body)).toEqual([{}, 'object']);
  });

  it('also for a filter simple enough to run in the engine', async () => {
    const r = await run({ dialect: '3.10', nodes: [{ name: 'J', type: 'jq', jq: '.' }, { name: 'K', type: 'jq', inputs: [{ v: 'J' }], jq: '[$v]' }, { type: 'exit', inputs: { body: 'K' } }] });
    expect(bodyJson(r.response.body)).toEqual([null]);
  });
});

describe('limits 3.10 did not have', () => {
  it('64 nodes at most in both dialects (3.10: datakit.meta.json gives `nodes` no maxItems; kept here as the engine\'s bound)', () => {
    const nodes = Array.from({ length: 65 }, (_, i) => ({ name: `N${i}`, type: 'jq', jq: '1' }));
    expect(dk.validate({ dialect: '3.10', nodes })).toEqual([{ message: 'failed checking configuration: nodes: length must be at most 64', field: 'nodes' }]);
    expect(dk.validate({ dialect: '3.10', nodes: nodes.slice(0, 64) })).toEqual([]);
  });
});
