import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Datakit } from '../../host/index.js';
import { bodyJson, engine, text } from '../helpers/engine.js';
import { json, startServer, type TestServer } from '../helpers/http.js';

let dk: Datakit;
let api: TestServer;
const aborted: string[] = [];

beforeAll(async () => {
  dk = await engine();
  api = await startServer((req, res) => {
    const u = new URL(req.url, 'http://x');
    const delay = Number(u.searchParams.get('delay') ?? 0);
    if (u.pathname === '/fail') {
      setTimeout(() => json(res, 503, { down: true }), delay);
      return;
    }
    res.on('close', () => {
      if (!res.writableEnded) aborted.push(u.pathname);
    });
    setTimeout(() => json(res, 200, { path: u.pathname, id: u.searchParams.get('id') }), delay);
  });
});

afterAll(async () => {
  await api.close();
  await dk.close();
});

describe('scheduling', () => {
  it('independent calls are in flight together: two 300 ms calls finish well under 600 ms', async () => {
    const flow = dk.load({
      nodes: [
        { name: 'A', type: 'call', url: `${api.url}/a?delay=300` },
        { name: 'B', type: 'call', url: `${api.url}/b?delay=300` },
        { name: 'JOIN', type: 'jq', inputs: { a: 'A.body', b: 'B.body' }, jq: '[.a.path, .b.path]' },
        { name: 'EXIT', type: 'exit', inputs: { body: 'JOIN' } },
      ],
    });
    const t0 = performance.now();
    const r = await flow.run({ method: 'GET', path: '/' });
    const elapsed = performance.now() - t0;
    expect(bodyJson(r.response.body)).toEqual(['/a', '/b']);
    expect(elapsed).toBeLessThan(550);
  });

  it('execution order follows dependencies, not configuration order', async () => {
    const flow = dk.load({
      nodes: [
        { name: 'EXIT', type: 'exit', inputs: { body: 'THIRD' } },
        { name: 'THIRD', type: 'jq', input: 'SECOND', jq: '. + ["third"]' },
        { name: 'SECOND', type: 'jq', input: 'FIRST', jq: '. + ["second"]' },
        { name: 'FIRST', type: 'jq', jq: '["first"]' },
      ],
    });
    expect(bodyJson((await flow.run({ method: 'GET', path: '/' })).response.body)).toEqual(['first', 'second', 'third']);
  });

  it('a failing node cancels running and pending nodes', async () => {
    const flow = dk.load({
      debug: true,
      nodes: [
        { name: 'SLOW', type: 'call', url: `${api.url}/slow-canceled?delay=2000` },
        { name: 'FAILS', type: 'call', url: `${api.url}/fail?delay=20` },
        { name: 'AFTER', type: 'jq', inputs: { s: 'SLOW.body', f: 'FAILS.body' }, jq: '.' },
      ],
    });
    const t0 = performance.now();
    const r = await flow.run({ method: 'GET', path: '/', headers: { 'x-datakit-debug-trace': 'yes' } });
    expect(performance.now() - t0).toBeLessThan(1500);
    expect(r.response.status).toBe(500);
    const trace = bodyJson(r.response.body) as { status: string; nodes: Array<{ name: string; status: string }> };
    expect(trace.status).toBe('PLAN_ERROR');
    expect(trace.nodes).toEqual([
      { name: 'SLOW', type: 'call', status: 'NODE_CANCELED' },
      { name: 'FAILS', type: 'call', status: 'NODE_ERROR', error: 'non-2XX response code: 503' },
      { name: 'AFTER', type: 'jq', status: 'NODE_CANCELED' },
      { name: 'request', type: 'request', status: 'NODE_COMPLETE' },
      { name: 'response', type: 'response', status: 'NODE_SKIPPED' },
    ]);
    // the host aborted the in-flight call
    await new Promise((r) => setTimeout(r, 100));
    expect(aborted).toContain('/slow-canceled');
  });

  it('an exit answers without calling the upstream, canceling the rest', async () => {
    const flow = dk.load({
      nodes: [
        { name: 'SLOW', type: 'call', url: `${api.url}/slow-exit?delay=2000` },
        { name: 'EXIT', type: 'exit', status: 204 },
      ],
    });
    const r = await flow.run({ method: 'GET', path: '/' }, { upstream: async () => { throw new Error('upstream must not be called'); } });
    expect(r.response.status).toBe(204);
    expect(r.proxied).toBe(false);
  });

  it('200 concurrent requests with distinct data each get their own answer', async () => {
    const flow = dk.load({
      nodes: [
        { name: 'ID', type: 'jq', input: 'request.query', jq: '{id: .id}' },
        { name: 'C', type: 'call', url: `${api.url}/echo?delay=5`, inputs: { query: 'ID' } },
        { name: 'OUT', type: 'jq', inputs: { c: 'C.body', q: 'request.query', h: 'request.headers' }, jq: '{called: .c.id, asked: .q.id, header: .h["x-id"]}' },
        { name: 'EXIT', type: 'exit', inputs: { body: 'OUT' } },
      ],
    });
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) => flow.run({ method: 'GET', path: '/', query: `id=${i}`, headers: { 'x-id': String(i) } })),
    );
    results.forEach((r, i) => {
      expect(bodyJson(r.response.body)).toEqual({ called: String(i), asked: String(i), header: String(i) });
    });
    expect(dk.stats()).toMatchObject({ contexts: 0, arenas: 0 });
  });

  it('contexts waiting on calls hold little arena memory, and give it all back', async () => {
    const flow = dk.load({
      nodes: [
        { name: 'ID', type: 'jq', input: 'request.query', jq: '{id: .id}' },
        { name: 'C', type: 'call', url: `${api.url}/held?delay=50`, inputs: { query: 'ID' } },
        { name: 'EXIT', type: 'exit', inputs: { body: 'C.body' } },
      ],
    });
    const pending = Array.from({ length: 300 }, (_, i) => flow.run({ method: 'GET', path: '/', query: `id=${i}`, headers: { 'user-agent': 'test', accept: '*/*' } }));
    await new Promise((r) => setTimeout(r, 20));
    const waiting = dk.stats();
    expect(waiting.arenas).toBe(300);
    // a few KiB each (4 KiB chunks), not a large fixed reservation
    expect(waiting.arena_bytes / 300).toBeLessThanOrEqual(8 * 1024);
    const results = await Promise.all(pending);
    results.forEach((r, i) => expect(bodyJson(r.response.body)).toEqual({ path: '/held', id: String(i) }));
    expect(dk.stats()).toMatchObject({ contexts: 0, arenas: 0, arena_bytes: 0 });
    flow.close();
  });

  it('a flow closed while its requests wait on calls: they finish intact, across a collection, and nothing is left', async () => {
    // contexts live in request arenas the collector does not trace; their
    // plan must stay alive until the last of them is done
    const flow = dk.load({
      nodes: [
        { name: 'ID', type: 'jq', input: 'request.query', jq: '{id: .id}' },
        { name: 'C', type: 'call', url: `${api.url}/late?delay=30`, inputs: { query: 'ID' } },
        { name: 'EXIT', type: 'exit', inputs: { body: 'C.body', headers: 'request.headers' } },
      ],
    });
    const plansBefore = dk.stats().plans;
    const pending = Array.from({ length: 20 }, (_, i) => flow.run({ method: 'GET', path: '/', query: `id=${i}`, headers: { 'x-n': `n${i}` } }));
    await new Promise((r) => setTimeout(r, 5));
    flow.close();
    expect(dk.stats().plans).toBe(plansBefore - 1);
    // a collection while the 20 wait, then new plans that would reuse any freed memory
    dk.runtime.collect();
    const others = Array.from({ length: 5 }, (_, k) =>
      dk.load({ nodes: [{ name: `J${k}`, type: 'jq', input: 'request.query', jq: '[range(0; 50)] | map(tostring)' }, { name: 'E', type: 'exit', inputs: { body: `J${k}` } }] }),
    );
    for (const o of others) await o.run({ method: 'GET', path: '/' });
    const results = await Promise.all(pending);
    results.forEach((r, i) => {
      expect(r.response.status).toBe(200);
      expect(bodyJson(r.response.body)).toEqual({ path: '/late', id: String(i) });
      expect(r.response.headers['x-n']).toBe(`n${i}`);
    });
    for (const o of others) o.close();
    dk.runtime.collect();
    expect(dk.stats()).toMatchObject({ plans: plansBefore - 1, contexts: 0, arenas: 0 });
  });
});

describe('trace', () => {
  const cfg = (debug: boolean) => ({
    debug,
    nodes: [
      { name: 'S', type: 'static', values: { v: 1, headers: { Authorization: 'Bearer abc', 'X-Ok': 'fine' } } },
      { name: 'J', type: 'jq', input: 'S.v', jq: '. + 1' },
      { name: 'C', type: 'call', url: `${api.url}/traced`, inputs: { headers: 'S.headers' } },
      { name: 'EXIT', type: 'exit', inputs: { body: 'J' } },
    ],
  });

  it('reports nodes, events and values with types; sensitive headers are masked', async () => {
    const r = await dk.load(cfg(true)).run({ method: 'GET', path: '/', headers: { 'X-DataKit-Debug-Trace': 'on' } });
    const t = bodyJson(r.response.body) as {
      started_at: number;
      ended_at: number;
      duration: number;
      status: string;
      nodes: unknown[];
      events: Array<{ name: string; type: string; action: string; at: number; values?: Array<{ key?: string; type: string; value?: unknown }>; value?: unknown }>;
    };
    expect(r.response.headers['Content-Type']).toBe('application/json');
    expect(t.status).toBe('PLAN_COMPLETE');
    expect(t.ended_at).toBeGreaterThanOrEqual(t.started_at);
    expect(t.duration).toBeGreaterThanOrEqual(0);
    expect(t.nodes).toContainEqual({ name: 'J', type: 'jq', status: 'NODE_COMPLETE' });
    const actions = new Set(t.events.map((e) => e.action));
    for (const a of ['run', 'dispatch', 'complete', 'cancel']) expect(actions).toContain(a);
    const jDone = t.events.find((e) => e.name === 'J' && e.action === 'complete')!;
    expect(jDone.values).toEqual([{ type: 'any', value: 2 }]);
    expect(jDone.value).toBe(2);
    const sDone = t.events.find((e) => e.name === 'S' && e.action === 'complete')!;
    expect(sDone.values).toContainEqual({ key: 'headers', type: 'map', value: { Authorization: '********', 'X-Ok': 'fine' } });
    for (const e of t.events) expect(typeof e.at).toBe('number');
    // the exit happened before the call answered: the call is canceled
    expect(t.nodes).toContainEqual({ name: 'C', type: 'call', status: 'NODE_CANCELED' });
  });

  it('dispatch and resume events for async nodes; proxied requests get the trace as the response body', async () => {
    const flow = dk.load({ debug: true, nodes: [{ name: 'C', type: 'call', url: `${api.url}/t2` }] });
    const r = await flow.run(
      { method: 'GET', path: '/', headers: { 'X-DataKit-Debug-Trace': '1' } },
      { upstream: { status: 200, headers: { 'content-type': 'text/plain' }, body: 'upstream body' } },
    );
    const t = bodyJson(r.response.body) as { events: Array<{ action: string }>; status: string };
    expect(t.status).toBe('PLAN_COMPLETE');
    expect(t.events.map((e) => e.action)).toEqual(expect.arrayContaining(['dispatch', 'resume', 'complete']));
  });

  it('needs debug: true and a true header value', async () => {
    for (const [debug, header] of [[false, 'true'], [true, 'false'], [true, 'nope']] as const) {
      const r = await dk.load(cfg(debug)).run({ method: 'GET', path: '/', headers: { 'X-DataKit-Debug-Trace': header } });
      expect(text(r.response.body)).toBe('2');
    }
    for (const v of ['true', 'yes', 'on', '1', 'enabled', 'TRUE']) {
      const r = await dk.load(cfg(true)).run({ method: 'GET', path: '/', headers: { 'x-datakit-debug-trace': v } });
      expect((bodyJson(r.response.body) as { status: string }).status).toBe('PLAN_COMPLETE');
    }
  });

  it('without debug, a failure answers the generic 500 and logs the details', async () => {
    const r = await dk.load({ nodes: [{ name: 'BAD', type: 'jq', jq: 'error("boom")' }] }).run({ method: 'GET', path: '/', requestId: 'req-123' });
    expect(r.response.status).toBe(500);
    expect(bodyJson(r.response.body)).toEqual({ message: 'An unexpected error occurred', request_id: 'req-123' });
    expect(r.failure).toEqual({ message: 'boom', node: { index: 1, name: 'BAD', type: 'jq' } });
  });
});

describe('re-entry: a host calling the engine from inside an import', () => {
  // a property provider runs inside the module's export (property_get);
  // calling exports from there must not leave the outer request allocating
  // in the wrong place, nor free a context whose export is still running
  it('another request started from inside a property read: both finish intact, across a collection', async () => {
    const inner = dk.load({
      nodes: [
        { name: 'J', type: 'jq', input: 'request.query', jq: '{inner: .id, pad: [range(0; 20)] | map(tostring)}' },
        { name: 'EXIT', type: 'exit', inputs: { body: 'J' } },
      ],
    });
    const outer = dk.load({
      nodes: [
        { name: 'P', type: 'property', property: 'kong.ctx.shared.x' },
        { name: 'J', type: 'jq', inputs: { p: 'P', q: 'request.query' }, jq: '{p: .p, id: .q.id, list: [range(0; 30)] | map({k: tostring})}' },
        { name: 'C', type: 'call', url: `${api.url}/reentry?delay=30`, inputs: { query: 'J' } },
        { name: 'OUT', type: 'jq', inputs: { j: 'J', c: 'C.body' }, jq: '{p: .j.p, id: .j.id, n: (.j.list | length), last: .j.list[-1].k, called: .c.id}' },
        { name: 'EXIT', type: 'exit', inputs: { body: 'OUT' } },
      ],
    });
    const innerRuns: Array<Promise<unknown>> = [];
    const outers = Array.from({ length: 10 }, (_, i) => {
      const props = {
        get(name: string) {
          if (name !== 'kong.ctx.shared.x') return undefined;
          const run = inner.newRequest({ method: 'GET', path: '/', query: `id=in${i}` });
          innerRuns.push(run.request().finally(() => run.done()));
          return `p${i}`;
        },
        set() {},
      };
      return outer.run({ method: 'GET', path: '/', query: `id=${i}` }, { properties: props });
    });
    // while the outer requests wait on their calls: a collection, then new plans reusing any freed memory
    await new Promise((r) => setTimeout(r, 5));
    dk.runtime.collect();
    const others = Array.from({ length: 5 }, () => dk.load({ nodes: [{ name: 'J', type: 'jq', input: 'request.query', jq: '[range(0; 40)] | map(tostring)' }, { name: 'E', type: 'exit', inputs: { body: 'J' } }] }));
    for (const o of others) await o.run({ method: 'GET', path: '/' });
    const results = await Promise.all(outers);
    results.forEach((r, i) => expect(bodyJson(r.response.body)).toEqual({ p: `p${i}`, id: String(i), n: 30, last: '29', called: String(i) }));
    const innerResults = (await Promise.all(innerRuns)) as Array<{ response: { body: Uint8Array } }>;
    innerResults.forEach((r, i) => expect((bodyJson(r.response.body) as { inner: string }).inner).toBe(`in${i}`));
    for (const f of [inner, outer, ...others]) f.close();
    expect(dk.stats()).toMatchObject({ contexts: 0, arenas: 0, arena_bytes: 0 });
  });

  it('a request ended from inside its own property read: no crash, nothing left, later requests fine', async () => {
    const flow = dk.load({
      nodes: [
        { name: 'P', type: 'property', property: 'kong.ctx.shared.x' },
        { name: 'J', type: 'jq', input: 'P', jq: '{p: ., list: [range(0; 30)]}' },
        { name: 'EXIT', type: 'exit', inputs: { body: 'J' } },
      ],
    });
    let run: ReturnType<typeof flow.newRequest> | undefined;
    const props = {
      get(name: string) {
        run?.done();
        return name;
      },
      set() {},
    };
    run = flow.newRequest({ method: 'GET', path: '/' }, props);
    // the engine finishes the phase; the host has already let go of the request
    await run.request().then(
      () => undefined,
      () => undefined,
    );
    expect(dk.stats()).toMatchObject({ contexts: 0, arenas: 0 });
    const after = await flow.run({ method: 'GET', path: '/' }, { properties: { get: () => 'ok', set() {} } });
    expect(bodyJson(after.response.body)).toEqual({ p: 'ok', list: Array.from({ length: 30 }, (_, i) => i) });
    flow.close();
  });
});
