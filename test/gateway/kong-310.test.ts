// Kong 3.10-shaped configurations through the gateway on real sockets: a
// datakit filter in `filter_chains` runs with the 3.10 filter's semantics
// (github.com/Kong/datakit: docs/datakit.md and src/), each test naming the
// document or source file it follows.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import type { RunningGateway } from '../../host/gateway/index.js';
import { call, echoed, gateway, startUpstream, type Upstream } from './helpers.js';
import { startServer, type TestServer } from '../helpers/http.js';

let gw: RunningGateway;
let up: Upstream;
let api: TestServer;
const logs: Array<{ level: number; msg: string }> = [];

type Flow = Record<string, unknown>;

/** One route per flow, each with a 3.10 filter chain on it (configs as JSON strings, as 3.10 had them). */
function doc(flows: Record<string, Flow>) {
  return {
    _format_version: '3.0',
    services: [
      {
        name: 'svc',
        url: up.url,
        routes: Object.entries(flows).map(([name, config]) => ({
          name,
          paths: [`/${name}`],
          filter_chains: [{ filters: [{ name: 'datakit', config: JSON.stringify(config) }] }],
        })),
      },
    ],
  };
}

const flows: Record<string, Flow> = {
  // docs/datakit.md "Inputs": an input without a name is a $variable named after its source
  vars: {
    nodes: [
      { name: 'J', type: 'jq', inputs: ['request.query'], jq: '{who: $request_query.who}' },
      { type: 'exit', status: 200, inputs: [{ body: 'J' }] },
    ],
  },
  nodewise: {
    nodes: [
      { name: 'J', type: 'jq', input: 'request.query', jq: '{"headers": {"x": $request_query.who}}' },
      { type: 'exit', status: 200, input: 'J' },
    ],
  },
  property: {
    nodes: [
      { name: 'ROUTE', type: 'property', property: 'kong.route_name', outputs: [{ value: 'DONE.body' }] },
      { name: 'DONE', type: 'exit', status: 200 },
    ],
  },
  // src/payload.rs from_bytes: a body that says JSON but is not is a Payload::Error, and the request goes on
  badjson: {
    nodes: [
      { name: 'H', type: 'handlebars', inputs: [{ b: 'request.body' }], template: 'got: {{b}}' },
      { type: 'exit', status: 200, inputs: [{ body: 'H' }] },
    ],
  },
  badjsonjq: { nodes: [{ name: 'J', type: 'jq', inputs: [{ b: 'request.body' }], jq: '$b' }, { type: 'exit', inputs: [{ body: 'J' }] }] },
  callerror: {
    nodes: [
      { name: 'C', type: 'call', url: 'http://127.0.0.1:1/refused' },
      { name: 'OK', type: 'exit', status: 200, inputs: [{ body: 'C.body' }] },
      { name: 'E', type: 'jq', inputs: [{ err: 'C.error' }], jq: '{failed: ($err | length > 0)}' },
      { type: 'exit', status: 502, inputs: [{ body: 'E' }] },
    ],
  },
  notfound: {
    nodes: [
      { name: 'C', type: 'call', url: '' /* set below */ },
      { type: 'exit', status: 200, inputs: [{ body: 'C.body' }, { headers: 'C.headers' }] },
    ],
  },
  query: {
    nodes: [
      { name: 'Q', type: 'jq', jq: '{"page": "2"}' },
      { name: 'B', type: 'jq', jq: '{"k": "v"}' },
      { name: 'C', type: 'call', method: 'POST', url: '' /* set below */, inputs: [{ query: 'Q' }, { body: 'B' }] },
      { type: 'exit', status: 200, inputs: [{ body: 'C.body' }] },
    ],
  },
  empty: {
    nodes: [
      { name: 'NOTHING', type: 'jq', jq: 'empty' },
      { name: 'NEVER', type: 'exit', status: 418, inputs: [{ body: 'NOTHING' }] },
    ],
  },
  none: { nodes: [] },
  informational: { nodes: [{ type: 'exit', status: 150 }] },
  form: {
    nodes: [
      { name: 'J', type: 'jq', inputs: [{ form: 'request.body' }], jq: '$form' },
      { type: 'exit', status: 200, inputs: [{ body: 'J' }] },
    ],
  },
  trace: {
    debug: true,
    nodes: [
      { name: 'J', type: 'jq', jq: '"traced?"' },
      { type: 'exit', status: 200, inputs: [{ body: 'J' }] },
    ],
  },
  queryflags: {
    nodes: [{ name: 'Q', type: 'jq', jq: '{flag: true, n: 2, bare: null}', outputs: [{ value: 'service_request.query' }] }],
  },
  responseheaders: {
    nodes: [{ name: 'H', type: 'jq', jq: '{"x-flow": "f"}', outputs: [{ value: 'response.headers' }] }],
  },
  tracefail: {
    debug: true,
    nodes: [
      { name: 'BAD', type: 'jq', jq: 'error("no luck")' },
      { name: 'NEVER', type: 'exit', status: 418, inputs: [{ body: 'BAD' }] },
    ],
  },
  traceproxy: {
    debug: true,
    nodes: [{ name: 'SEEN', type: 'jq', inputs: [{ up: 'service_response.body' }], jq: '$up.upstream' }],
  },
  bodyexit: {
    nodes: [
      { name: 'SHAPE', type: 'jq', inputs: [{ up: 'service_response.body' }], jq: '{replaced: $up.upstream}' },
      { name: 'LATE', type: 'exit', status: 299, inputs: [{ body: 'SHAPE' }] },
    ],
  },
  quietexit: {
    nodes: [
      { name: 'SHAPE', type: 'jq', inputs: [{ up: 'service_response.body' }], jq: '{quiet: true}' },
      { name: 'QUIET', type: 'exit', status: 299, warn_headers_sent: false, inputs: [{ body: 'SHAPE' }] },
    ],
  },
};

beforeAll(async () => {
  up = await startUpstream('up');
  api = await startServer((req, res) => {
    let text = JSON.stringify({ url: req.url, headers: req.headers, body: req.body });
    if (req.url === '/weather') text = JSON.stringify({ fact: 'it rains', length: 8 });
    else if (req.url === '/quote') text = JSON.stringify({ value: 'stay curious', id: 'q1' });
    else if (req.url === '/postcode') text = JSON.stringify({ country: 'Brazil', places: [{ 'place name': 'Sapucaia do Sul', state: 'Rio Grande do Sul', latitude: '-29.8', longitude: '-51.1' }] });
    res.writeHead(req.url.startsWith('/missing') ? 404 : 200, { 'Content-Type': 'application/json', 'X-API': 'yes' });
    res.end(text);
  });
  // flows in the shape of Kong/datakit's examples/*/config/demo.yml, against local servers
  flows.callheaders = {
    debug: true,
    nodes: [
      { name: 'PICK', type: 'jq', inputs: [{ req: 'request.headers' }], jq: '{\n  "X-Forwarded-Key": $req.apikey // "default value"\n}' },
      { name: 'CALL', type: 'call', inputs: [{ headers: 'PICK' }], url: `${api.url}/anything` },
      { name: 'EXIT', type: 'exit', inputs: [{ body: 'CALL.body' }], status: 200 },
    ],
  };
  flows.facts = {
    debug: true,
    nodes: [
      { name: 'WEATHER', type: 'call', url: `${api.url}/weather` },
      { name: 'QUOTE', type: 'call', url: `${api.url}/quote` },
      { name: 'JOIN', type: 'jq', inputs: [{ w: 'WEATHER.body' }, { q: 'QUOTE.body' }], jq: '{\n  "weather_fact": $w.fact,\n  "quote": $q.value,\n}' },
      { name: 'EXIT', type: 'exit', inputs: [{ body: 'JOIN' }], status: 200 },
    ],
  };
  flows.servicerequest = {
    debug: true,
    nodes: [
      { name: 'FIRST', type: 'call', url: `${api.url}/postcode` },
      { name: 'MY_HEADERS', type: 'jq', inputs: [{ first: 'FIRST.body' }], output: 'service_request.headers', jq: '{"X-Hello": "World", "X-Country": $first.country}' },
      {
        name: 'MY_BODY',
        type: 'handlebars',
        content_type: 'text/plain',
        inputs: [{ first: 'FIRST.body' }],
        output: 'service_request.body',
        template: 'Coordinates for {{ first.places.0.[place name] }}, {{ first.country }} are ({{ first.places.0.latitude }}, {{ first.places.0.longitude }}).',
      },
    ],
  };
  flows.props = {
    nodes: [
      { name: 'ROUTE_NAME', type: 'property', property: 'kong.route_name' },
      { name: 'MESSAGE', type: 'jq', jq: '"my string"' },
      { name: 'SET_PLAIN', type: 'property', input: 'MESSAGE', property: 'kong.ctx.shared.my_string' },
      { name: 'SET_ENCODED', type: 'property', input: 'MESSAGE', property: 'kong.ctx.shared.my_encoded', content_type: 'application/json' },
      { name: 'UNSET', type: 'property', property: 'kong.ctx.shared.nothing_here' },
      // ready at once but listed after the sets: they run after them
      { name: 'GET_PLAIN', type: 'property', property: 'kong.ctx.shared.my_string' },
      { name: 'GET_ENCODED', type: 'property', property: 'kong.ctx.shared.my_encoded' },
      { name: 'GET_DECODED', type: 'property', property: 'kong.ctx.shared.my_encoded', content_type: 'application/json' },
      {
        name: 'BODY',
        type: 'jq',
        inputs: { ROUTE_NAME: 'ROUTE_NAME', UNSET: 'UNSET', PLAIN: 'GET_PLAIN', ENCODED: 'GET_ENCODED', DECODED: 'GET_DECODED' },
        jq: '{ROUTE_NAME: $ROUTE_NAME, UNSET: $UNSET, PLAIN: $PLAIN, ENCODED: $ENCODED, DECODED: $DECODED,}',
      },
      { name: 'exit', type: 'exit', inputs: { body: 'BODY' } },
      // src/nodes/property.rs: a set has no output, so this never runs
      { name: 'NEVER', type: 'exit', status: 418, inputs: { body: 'SET_PLAIN' } },
    ],
  };
  (flows.notfound.nodes as Flow[])[0].url = `${api.url}/missing`;
  (flows.query.nodes as Flow[])[2].url = `${api.url}/list?page=1&sort=asc`;
  const logger = pino({ level: 'warn' }, { write: (line: string) => void logs.push(JSON.parse(line)) });
  gw = await gateway(doc(flows), { logger });
});

afterAll(async () => {
  await gw?.close();
  await up?.close();
  await api?.close();
});

describe('3.10 filter_chains configs (Kong/datakit docs/datakit.md, src/)', () => {
  it('docs/datakit.md "Inputs": an unnamed list input `request.query` is the jq variable $request_query', async () => {
    const r = await call(gw.proxyUrl, '/vars?who=kong');
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ who: 'kong' });
  });

  it('src/config.rs create_or_get_input: a node-wise link into `exit` fills its first port, the body', async () => {
    const r = await call(gw.proxyUrl, '/nodewise?who=k');
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ headers: { x: 'k' } });
    expect(r.headers.x).toBeUndefined();
  });

  it('src/nodes/property.rs: the property node\'s output port is `value`', async () => {
    const r = await call(gw.proxyUrl, '/property');
    expect(r.status).toBe(200);
    expect(r.text).toBe('property');
  });

  it('src/nodes/call.rs: a failed dispatch completes the call with `error` set, and nodes reading its body never run', async () => {
    const r = await call(gw.proxyUrl, '/callerror');
    expect(r.status).toBe(502);
    expect(r.json).toEqual({ failed: true });
  });

  it('src/payload.rs from_bytes: a request body that says JSON but is not reaches a template as its parse error; a jq node reading it fails with 3.10\'s 500', async () => {
    const bad = { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a": tru' };
    const r = await call(gw.proxyUrl, '/badjson', bad);
    expect(r.status).toBe(200);
    expect(r.text).toBe('got: invalid literal at byte 6');
    // a text handlebars output gives the exit no Content-Type (only Payload::Json has one)
    expect(r.headers['content-type']).toBeUndefined();
    const failed = await call(gw.proxyUrl, '/badjsonjq', bad);
    expect(failed.status).toBe(500);
    expect(failed.json).toEqual({ message: 'An unexpected error ocurred', request_id: expect.any(String) });
  });

  it('src/nodes/call.rs: a non-2xx answer is a result like any other, with lower-case header names', async () => {
    const r = await call(gw.proxyUrl, '/notfound');
    expect(r.status).toBe(200);
    expect(r.json.url).toBe('/missing');
    expect(r.headers['x-api']).toBe('yes');
  });

  it('src/nodes/call.rs path_with_query: the `query` input replaces the url\'s query; no Content-Type is added for a JSON body', async () => {
    const r = await call(gw.proxyUrl, '/query');
    expect(r.status).toBe(200);
    expect(r.json.url).toBe('/list?page=2');
    expect(r.json.headers['content-type']).toBeUndefined();
    expect(JSON.parse(r.json.body)).toEqual({ k: 'v' });
  });

  it('src/nodes/jq.rs: a jq node with no result leaves its dependants untriggered (the request is proxied)', async () => {
    const r = await call(gw.proxyUrl, '/empty');
    expect(r.status).toBe(200);
    expect(echoed(r).upstream).toBe('up');
  });

  it('tests/config-json-schema/valid/empty-nodes.yml: `nodes: []` loads and proxies', async () => {
    const r = await call(gw.proxyUrl, '/none/x');
    expect(r.status).toBe(200);
    expect(echoed(r).url).toBe('/x');
  });

  it('datakit.meta.json: an exit `status` of 100..199 loads, but answers 500 rather than leave the client waiting for a final status', async () => {
    const r = await call(gw.proxyUrl, '/informational');
    expect(r.status).toBe(500);
    expect(r.json).toEqual({ message: 'An unexpected error ocurred', request_id: expect.stringMatching(/^[0-9a-f]{32}$/) });
  });

  it('src/payload.rs from_bytes: a form-urlencoded request body is an object', async () => {
    const r = await call(gw.proxyUrl, '/form', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'a=1&b=two+words&b=last' });
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ a: '1', b: 'last' });
  });

  it('src/filter.rs header_to_bool: X-DataKit-Debug-Trace is on for any value except 0, false and off', async () => {
    const on = await call(gw.proxyUrl, '/trace', { headers: { 'x-datakit-debug-trace': 'please' } });
    expect(on.status).toBe(200);
    expect(on.text).not.toBe('traced?');
    for (const v of ['0', 'false', 'off']) {
      const off = await call(gw.proxyUrl, '/trace', { headers: { 'x-datakit-debug-trace': v } });
      expect(off.text).toBe('traced?');
    }
  });

  it('src/debug.rs get_trace: the trace is 3.10\'s list of actions, answered with the exit\'s status as application/json', async () => {
    const r = await call(gw.proxyUrl, '/trace', { headers: { 'x-datakit-debug-trace': 'please' } });
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('application/json');
    const actions = (r.json as Array<{ at: number }>).map((a) => {
      expect(typeof a.at).toBe('number');
      return { ...a, at: 0 };
    });
    expect(actions).toEqual([
      { action: 'run', name: 'J', type: 'jq', at: 0 },
      { action: 'value', name: 'J', values: [{ data_type: 'application/json', value: 'traced?' }], at: 0 },
      { action: 'run', name: 'node_2', type: 'exit', at: 0 },
      { action: 'value', name: 'node_2', values: [{ data_type: 'none', value: null }], at: 0 },
    ]);
  });

  it('src/filter.rs debug_done: a traced proxied request answers the service\'s status with the trace as its body, the service\'s body traced as `response`', async () => {
    const r = await call(gw.proxyUrl, '/traceproxy', { headers: { 'x-datakit-debug-trace': 'yes' } });
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('application/json');
    expect(Number(r.headers['content-length'])).toBe(Buffer.byteLength(r.text));
    const actions = r.json as Array<{ action: string; name: string; values?: Array<{ data_type: string; value: { upstream?: string } | null }> }>;
    expect(actions.map((a) => [a.action, a.name])).toEqual([
      ['value', 'service_response'],
      ['run', 'SEEN'],
      ['value', 'SEEN'],
      ['value', 'response'],
    ]);
    expect(actions[2].values).toEqual([{ data_type: 'application/json', value: 'up' }]);
    expect(actions[3].values![0]).toMatchObject({ data_type: 'application/json', value: { upstream: 'up' } });
    expect(actions[3].values![1]).toEqual({ data_type: 'none', value: null });
  });

  it('src/filter.rs run_nodes: a node failing in a traced request stops the flow, the request goes to the service, and the trace is its answer\'s body', async () => {
    const r = await call(gw.proxyUrl, '/tracefail', { headers: { 'x-datakit-debug-trace': 'yes' } });
    expect(r.status).toBe(200);
    expect(r.headers['x-upstream']).toBe('up');
    expect(r.headers['content-type']).toBe('application/json');
    const actions = r.json as Array<{ action: string; name: string; values?: Array<{ data_type: string; value: unknown }> }>;
    expect(actions.map((a) => [a.action, a.name])).toEqual([['run', 'BAD'], ['fail', 'BAD'], ['value', 'response']]);
    expect(actions[1].values).toEqual([{ data_type: 'fail', value: 'no luck' }]);
    expect(actions[2].values![0]).toMatchObject({ data_type: 'application/json', value: { upstream: 'up' } });
    const untraced = await call(gw.proxyUrl, '/tracefail');
    expect(untraced.status).toBe(500);
  });

  it('src/nodes/exit.rs: an exit in the response-body phase replaces only the body, and warns once that it cannot set the status', async () => {
    logs.length = 0;
    const r = await call(gw.proxyUrl, '/bodyexit');
    expect(r.status).toBe(200);
    expect(r.headers['x-upstream']).toBe('up');
    expect(r.json).toEqual({ replaced: 'up' });
    expect(Number(r.headers['content-length'])).toBe(Buffer.byteLength(r.text));
    const warnings = logs.filter((l) => l.level === 40 && l.msg.startsWith('exit: '));
    expect(warnings.map((l) => l.msg)).toEqual([
      "exit: node 'LATE' cannot set status when processing response body, headers already sent; set 'warn_headers_sent' to false to silence this warning",
    ]);
    await call(gw.proxyUrl, '/bodyexit');
    expect(logs.filter((l) => l.level === 40 && l.msg.startsWith('exit: '))).toHaveLength(1);
  });

  it('examples/call_headers: a jq node builds the call\'s headers from $req (request.headers), `$req.apikey // "default value"` unparenthesised', async () => {
    const withKey = await call(gw.proxyUrl, '/callheaders', { headers: { apikey: 'k-1' } });
    expect(withKey.status).toBe(200);
    expect(withKey.json.headers['x-forwarded-key']).toBe('k-1');
    const without = await call(gw.proxyUrl, '/callheaders');
    expect(without.json.headers['x-forwarded-key']).toBe('default value');
  });

  it('examples/facts: two calls joined by a jq node reading $cat-style variables (a trailing comma in the object)', async () => {
    const r = await call(gw.proxyUrl, '/facts');
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ weather_fact: 'it rains', quote: 'stay curious' });
  });

  it('examples/service_request: jq sets service_request.headers and handlebars service_request.body from a call', async () => {
    const r = await call(gw.proxyUrl, '/servicerequest');
    expect(r.status).toBe(200);
    const seen = echoed(r);
    expect(seen.headers['x-hello']).toBe('World');
    expect(seen.headers['x-country']).toBe('Brazil');
    expect(seen.body).toBe('Coordinates for Sapucaia do Sul, Brazil are (-29.8, -51.1).');
  });

  it('src/filter.rs set_http_request_headers: that header map replaces the client\'s headers; Host, the body\'s framing and the gateway\'s proxy headers are the gateway\'s', async () => {
    const r = await call(gw.proxyUrl, '/servicerequest', { headers: { 'user-agent': 'tester', 'x-client': 'c', accept: 'text/html' } });
    const seen = echoed(r);
    expect(Object.keys(seen.headers).filter((k) => !k.startsWith('x-forwarded-')).sort()).toEqual(
      // no content-type: the map removed the client's, and a text handlebars body has none (src/payload.rs: only Payload::Json has one)
      ['connection', 'content-length', 'host', 'x-country', 'x-datakit-request-id', 'x-hello', 'x-real-ip'],
    );
  });

  it('src/payload.rs to_pwm_query: a query map\'s `true` and numbers reach the service as their JSON text, `null` as the bare name', async () => {
    const r = await call(gw.proxyUrl, '/queryflags?old=1');
    expect(r.status).toBe(200);
    expect(echoed(r).url).toBe('/?flag=true&n=2&bare');
  });

  it('src/filter.rs set_http_response_headers: a header map into response.headers replaces the service\'s headers; the body, its framing and the gateway\'s own headers stay', async () => {
    const r = await call(gw.proxyUrl, '/responseheaders');
    expect(r.status).toBe(200);
    expect(r.headers['x-flow']).toBe('f');
    expect(r.headers['x-upstream']).toBeUndefined();
    expect(r.headers['content-type']).toBeUndefined();
    expect(echoed(r).upstream).toBe('up');
    // the service answered chunked: the framing kept is its transfer-encoding; the gateway's own headers come after the flow
    expect(r.headers['transfer-encoding']).toBe('chunked');
    expect(r.headers.via).toMatch(/datakit-gateway/);
  });

  it('examples/property: properties read and written, map-shaped inputs read as $variables in a filter chain, an unset one is null, a set one has no output', async () => {
    const r = await call(gw.proxyUrl, '/props');
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ ROUTE_NAME: 'props', UNSET: null, PLAIN: 'my string', ENCODED: '"my string"', DECODED: 'my string' });
  });

  it('src/nodes/exit.rs: `warn_headers_sent: false` silences that warning', async () => {
    logs.length = 0;
    const r = await call(gw.proxyUrl, '/quietexit');
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ quiet: true });
    expect(logs.filter((l) => l.msg?.startsWith('exit: '))).toEqual([]);
  });
});
