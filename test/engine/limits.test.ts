// Buffer limits in the engine: value_bytes on everything written into the
// module, call_response_body_bytes per flow, values the module would build
// too big, and traps that fail only the requests they interrupt.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Datakit } from '../../host/index.js';
import { DEFAULT_LIMITS, limitHits } from '../../host/limits.js';
import { valueBytes, VALUE_BYTES_CEILING } from '../../host/engine/runtime.js';
import { bodyJson, engine, memoryLogger, text } from '../helpers/engine.js';
import { json, startServer, sleep, type TestServer } from '../helpers/http.js';

let dk: Datakit;
let api: TestServer;
/** requests whose connection closed before the answer was written */
const dropped: string[] = [];

beforeAll(async () => {
  dk = await engine();
  api = await startServer((req, res) => {
    const u = new URL(req.url, 'http://x');
    res.on('close', () => {
      if (!res.writableEnded) dropped.push(u.pathname);
    });
    const delay = Number(u.searchParams.get('delay') ?? 0);
    const size = Number(u.searchParams.get('size') ?? 0);
    setTimeout(() => {
      if (u.pathname === '/big') {
        // the declared length says it all: the client should not read the body
        res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': size });
        res.end('x'.repeat(size));
      } else if (u.pathname === '/chunked') {
        // no length: the client finds out while reading, then drops the connection
        res.writeHead(200, { 'Content-Type': 'text/plain' });
        const chunk = 'y'.repeat(16 * 1024);
        const timer = setInterval(() => {
          if (!res.write(chunk)) return;
        }, 5);
        res.on('close', () => clearInterval(timer));
      } else json(res, 200, { path: u.pathname, size });
    }, delay);
  });
});

afterAll(async () => {
  await api.close();
  await dk.close();
});

const hits = (name: string) => limitHits()[name] ?? 0;

describe('value_bytes: nothing bigger is written into the module', () => {
  it('no configuration raises it past the engine\'s own ceiling (256 MiB: blocks of 1 GiB trap AssemblyScript)', () => {
    expect(VALUE_BYTES_CEILING).toBe(256 * 1024 * 1024);
    expect(valueBytes({ ...DEFAULT_LIMITS, value_bytes: 2 ** 31 - 1 })).toBe(VALUE_BYTES_CEILING);
    expect(valueBytes(DEFAULT_LIMITS)).toBe(16 * 1024 * 1024);
  });

  it('a request body over the limit: 413 outcome blamed on the request, no context left', async () => {
    const flow = dk.load({ nodes: [{ name: 'E', type: 'exit', inputs: { body: 'request.body' } }] }, { limits: { value_bytes: 1000 } });
    const before = hits('value_bytes');
    const r = await flow.run({ method: 'POST', path: '/', headers: { 'content-type': 'text/plain' }, body: 'z'.repeat(2000), requestId: 'r-413' });
    expect(r.response.status).toBe(413);
    expect(bodyJson(r.response.body)).toEqual({ message: 'Request size limit exceeded', request_id: 'r-413' });
    expect(r.failure).toEqual({
      message: 'request body of 2000 bytes exceeds the value_bytes limit (1000 bytes)',
      node: { index: 0, name: 'request', type: 'request' },
    });
    expect(hits('value_bytes')).toBe(before + 1);
    expect(dk.stats().contexts).toBe(0);
    // under the limit it runs
    const ok = await flow.run({ method: 'POST', path: '/', headers: { 'content-type': 'text/plain' }, body: 'z'.repeat(900) });
    expect(text(ok.response.body)).toBe('z'.repeat(900));
  });

  it('a service response body over the limit: 502 outcome blamed on service_response', async () => {
    const flow = dk.load(
      { nodes: [{ name: 'J', type: 'jq', input: 'service_response.body', output: 'response.body', jq: '{n: length}' }] },
      { limits: { value_bytes: 1000 } },
    );
    const r = await flow.run({ method: 'GET', path: '/', requestId: 'r-502' }, { upstream: { status: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify('w'.repeat(5000)) } });
    expect(r.response.status).toBe(502);
    expect(bodyJson(r.response.body)).toEqual({ message: 'An invalid response was received from the upstream server', request_id: 'r-502' });
    expect(r.failure?.node.name).toBe('service_response');
    expect(r.failure?.message).toBe('service response body of 5002 bytes exceeds the value_bytes limit (1000 bytes)');
    expect(dk.stats().contexts).toBe(0);
  });

  it('a jq result over the limit fails its node cleanly', async () => {
    const log = memoryLogger();
    const own = await engine({ logger: log });
    try {
      const flow = own.load(
        { nodes: [{ name: 'BIG', type: 'jq', jq: '[range(2000)] | map("abcdefgh") | join("")' }, { name: 'E', type: 'exit', inputs: { body: 'BIG' } }] },
        { limits: { value_bytes: 10_000 } },
      );
      const r = await flow.run({ method: 'GET', path: '/' });
      expect(r.response.status).toBe(500);
      expect(r.failure).toEqual({ message: 'jq result of 16004 bytes exceeds the value_bytes limit (10000 bytes)', node: { index: 1, name: 'BIG', type: 'jq' } });
      expect(log.lines.find((l) => l.message === 'node execution error')?.fields).toMatchObject({ node: { name: 'BIG' } });
      expect(own.runtime.generation).toBe(0);
    } finally {
      await own.close();
    }
  });

  it('a value the module would build too big (nested references) fails its node, never traps', async () => {
    // each node doubles the text of the one before: 2^24 copies of the request body
    const nodes: Record<string, unknown>[] = [{ name: 'N0', type: 'jq', input: 'request.body', jq: '.' }];
    for (let i = 1; i <= 24; i++) nodes.push({ name: `N${i}`, type: 'jq', input: `N${i - 1}`, jq: '{a: ., b: .}' });
    nodes.push({ name: 'E', type: 'exit', inputs: { body: 'N24' } });
    const flow = dk.load({ nodes }, { limits: { value_bytes: 1024 * 1024 } });
    const generation = dk.runtime.generation;
    const t0 = performance.now();
    const r = await flow.run({ method: 'POST', path: '/', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ s: 'q'.repeat(1000) }) });
    expect(performance.now() - t0).toBeLessThan(2000);
    expect(r.response.status).toBe(500);
    // the module leaves a result this big to the host's jq, whose answer is refused
    expect(r.failure?.message).toMatch(/^jq result of \d+ bytes exceeds the value_bytes limit \(1048576 bytes\)$/);
    expect(dk.runtime.generation).toBe(generation);
    // the same flow still answers small inputs
    const small = dk.load({ nodes: nodes.slice(0, 4).concat([{ name: 'E', type: 'exit', inputs: { body: 'N3' } }]) });
    const ok = await small.run({ method: 'POST', path: '/', headers: { 'content-type': 'application/json' }, body: '1' });
    expect(bodyJson(ok.response.body)).toEqual({ a: { a: { a: 1, b: 1 }, b: { a: 1, b: 1 } }, b: { a: { a: 1, b: 1 }, b: { a: 1, b: 1 } } });
  });

  it('an encoding that outgrows the limit in the module fails the node that writes it', async () => {
    // 200 KB of control characters: 1.2 MB once escaped as JSON
    const flow = dk.load(
      { nodes: [{ name: 'WRAP', type: 'jq', input: 'request.body', jq: '{x: .}' }, { name: 'E', type: 'exit', inputs: { body: 'WRAP' } }] },
      { limits: { value_bytes: 1024 * 1024 } },
    );
    const before = hits('value_bytes');
    const r = await flow.run({ method: 'POST', path: '/', headers: { 'content-type': 'text/plain' }, body: '\u0001'.repeat(200_000) });
    expect(r.failure).toEqual({ message: 'value exceeds the value_bytes limit (1048576 bytes)', node: { index: 2, name: 'E', type: 'exit' } });
    expect(hits('value_bytes')).toBe(before + 1);
    const fine = await flow.run({ method: 'POST', path: '/', headers: { 'content-type': 'text/plain' }, body: '\u0001'.repeat(1000) });
    expect(bodyJson(fine.response.body)).toEqual({ x: '\u0001'.repeat(1000) });
  });
});

describe('copies', () => {
  it('a body a jq filter reads most of crosses into the module once (no projection copy)', async () => {
    const own = await engine();
    try {
      const flow = own.load({ nodes: [{ name: 'J', type: 'jq', input: 'request.body', jq: '{n: (.items | length)}' }, { name: 'E', type: 'exit', inputs: { body: 'J' } }] });
      const body = JSON.stringify({ items: Array.from({ length: 6000 }, () => 'i'.repeat(1000)) });
      const r = await flow.run({ method: 'POST', path: '/', headers: { 'content-type': 'application/json' }, body });
      expect(bodyJson(r.response.body)).toEqual({ n: 6000 });
      expect(own.stats().memory_bytes).toBeLessThan(body.length * 1.5);
    } finally {
      await own.close();
    }
  });
});

describe('call_response_body_bytes: per flow', () => {
  it('an answer whose length is over the flow limit fails the call without reading it', async () => {
    const flow = dk.load(
      { nodes: [{ name: 'CALL', type: 'call', url: `${api.url}/big?size=50000` }, { name: 'E', type: 'exit', inputs: { body: 'CALL.body' } }] },
      { limits: { call_response_body_bytes: 10_000 } },
    );
    const before = hits('call_response_body_bytes');
    const r = await flow.run({ method: 'GET', path: '/' });
    expect(r.response.status).toBe(500);
    expect(r.failure).toEqual({
      message: `response body exceeds the call_response_body_bytes limit (10000 bytes) calling ${api.url}/big`,
      node: { index: 1, name: 'CALL', type: 'call' },
    });
    expect(hits('call_response_body_bytes')).toBe(before + 1);
  });

  it('an answer without a length is cut off once over the limit, and its connection dropped', async () => {
    dropped.length = 0;
    const flow = dk.load(
      { nodes: [{ name: 'CALL', type: 'call', url: `${api.url}/chunked` }, { name: 'E', type: 'exit', inputs: { body: 'CALL.body' } }] },
      { limits: { call_response_body_bytes: 100_000 } },
    );
    const r = await flow.run({ method: 'GET', path: '/' });
    expect(r.failure?.message).toBe(`response body exceeds the call_response_body_bytes limit (100000 bytes) calling ${api.url}/chunked`);
    for (let i = 0; i < 50 && !dropped.includes('/chunked'); i++) await sleep(20);
    expect(dropped).toContain('/chunked');
  });

  it("a flow's own limit may be above the engine's default", async () => {
    const small = await engine({ limits: { call_response_body_bytes: 1000 } });
    try {
      const flow = small.load(
        { nodes: [{ name: 'CALL', type: 'call', url: `${api.url}/big?size=5000` }, { name: 'E', type: 'exit', inputs: { body: 'CALL.body' } }] },
        { limits: { call_response_body_bytes: 10_000 } },
      );
      const r = await flow.run({ method: 'GET', path: '/' });
      expect(r.response.status).toBe(200);
      expect(r.response.body.byteLength).toBe(5000);
      const strict = small.load({ nodes: [{ name: 'CALL', type: 'call', url: `${api.url}/big?size=5000` }] });
      expect((await strict.run({ method: 'GET', path: '/' })).failure?.message).toMatch(/call_response_body_bytes limit \(1000 bytes\)/);
    } finally {
      await small.close();
    }
  });
});

describe('a trap fails only the requests it interrupted', () => {
  it('requests in flight on the old instance finish there; new ones get a new instance', async () => {
    const log = memoryLogger();
    const own = await engine({ logger: log });
    try {
      const slow = own.load({
        nodes: [
          { name: 'CALL', type: 'call', url: `${api.url}/slow?delay=300` },
          { name: 'E', type: 'exit', inputs: { body: 'CALL.body' } },
        ],
      });
      const victim = own.load({ nodes: [{ name: 'CALL', type: 'call', url: `${api.url}/victim?delay=300` }] });
      const rt = own.runtime;
      const old = rt.instance;
      const inFlight = slow.run({ method: 'GET', path: '/' });
      const doomed = victim.newRequest({ method: 'GET', path: '/' });
      const doomedOutcome = doomed.request();
      await sleep(50);
      expect(old.contexts.size).toBe(2);
      const [, victimCtx] = [...old.contexts.keys()];
      // a real trap while an export acts for the victim: an address far outside memory
      expect(() => old.call(() => old.exports.dk_on_request(victimCtx, 0x7ffffff0, 16, 0, -1), victimCtx)).toThrow(/engine trapped/);
      expect(old.retired).toBe(true);
      expect(rt.generation).toBe(1);
      expect(rt.draining.has(old)).toBe(true);

      const failed = await doomedOutcome;
      expect(failed.action).toBe('exit');
      expect(failed.action === 'exit' && failed.response.status).toBe(500);
      doomed.done();

      // a new request runs on a new instance while the old one still works for the slow call
      const fresh = await slow.run({ method: 'GET', path: '/' });
      expect(bodyJson(fresh.response.body)).toMatchObject({ path: '/slow' });
      expect(rt.instance).not.toBe(old);

      const survived = await inFlight;
      expect(survived.response.status).toBe(200);
      expect(bodyJson(survived.response.body)).toMatchObject({ path: '/slow' });
      // its last request done, the old instance is dropped
      expect(rt.draining.size).toBe(0);
      const line = log.lines.find((l) => l.message.startsWith('engine trapped'));
      expect(line?.fields).toMatchObject({ failed_requests: 1, requests_finishing_on_old_instance: 1 });
    } finally {
      await own.close();
    }
  });

  it('an instance whose memory grew past recycleMemoryBytes is replaced when idle', async () => {
    const own = await engine({ recycleMemoryBytes: 4 * 1024 * 1024 });
    try {
      const flow = own.load({ nodes: [{ name: 'J', type: 'jq', input: 'request.body', jq: '{n: (.s | length)}' }, { name: 'E', type: 'exit', inputs: { body: 'J' } }] });
      const first = own.runtime.instance;
      const body = JSON.stringify({ s: 'm'.repeat(6 * 1024 * 1024) });
      const r = await flow.run({ method: 'POST', path: '/', headers: { 'content-type': 'application/json' }, body });
      expect(bodyJson(r.response.body)).toEqual({ n: 6 * 1024 * 1024 });
      expect(first.retired).toBe(true);
      expect(own.runtime.draining.size).toBe(0);
      const again = await flow.run({ method: 'POST', path: '/', headers: { 'content-type': 'application/json' }, body: '{"s":"abc"}' });
      expect(bodyJson(again.response.body)).toEqual({ n: 3 });
      expect(own.runtime.instance.memoryBytes()).toBeLessThan(4 * 1024 * 1024);
    } finally {
      await own.close();
    }
  });
});

describe('header values a flow cannot send', () => {
  it('CR/LF in a service request header fails the flow naming the header and the node', async () => {
    const flow = dk.load({
      nodes: [{ name: 'SET', type: 'jq', output: 'service_request.headers', jq: '{"x-foo": "a\\r\\nInjected: 1"}' }],
    });
    const r = await flow.run({ method: 'GET', path: '/' });
    expect(r.response.status).toBe(500);
    expect(r.failure).toEqual({
      message: 'invalid header value for "x-foo" set by node "SET"',
      node: { index: 0, name: 'service_request', type: 'service_request' },
    });
  });

  it('in a response header, and a name that is not a token', async () => {
    const flow = dk.load({
      nodes: [{ name: 'HDRS', type: 'jq', input: 'service_response.headers', output: 'response.headers', jq: '{"bad name": "v"}' }],
    });
    const r = await flow.run({ method: 'GET', path: '/' }, { upstream: { status: 200, headers: {} } });
    expect(r.failure?.message).toBe('invalid header name "bad name" set by node "HDRS"');
    const exit = dk.load({ nodes: [{ name: 'E', type: 'exit', inputs: { headers: 'H' } }, { name: 'H', type: 'static', values: { 'x-a': 'ok\u0000' } }] });
    expect((await exit.run({ method: 'GET', path: '/' })).failure?.message).toBe('invalid headers: invalid header value for "x-a"');
  });

  it('tabs, latin-1 text and removals are fine', async () => {
    const flow = dk.load({
      nodes: [{ name: 'SET', type: 'jq', output: 'service_request.headers', jq: '{"x-tab": "a\\tb", "x-latin": "café", "x-gone": null}' }],
    });
    const r = await flow.run({ method: 'GET', path: '/', headers: { 'x-gone': '1' } });
    expect(r.failure).toBeUndefined();
    expect(r.serviceRequest?.headers).toMatchObject({ 'x-tab': 'a\tb', 'x-latin': 'café' });
  });
});
