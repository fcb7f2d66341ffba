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
    const text = JSON.stringify({ url: req.url, headers: req.headers, body: req.body });
    res.writeHead(req.url.startsWith('/missing') ? 404 : 200, { 'Content-Type': 'application/json', 'X-API': 'yes' });
    res.end(text);
  });
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

  it('src/nodes/exit.rs: `warn_headers_sent: false` silences that warning', async () => {
    logs.length = 0;
    const r = await call(gw.proxyUrl, '/quietexit');
    expect(r.status).toBe(200);
    expect(r.json).toEqual({ quiet: true });
    expect(logs.filter((l) => l.msg?.startsWith('exit: '))).toEqual([]);
  });
});
