import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Datakit } from '../../host/index.js';
import { bodyJson, engine } from '../helpers/engine.js';

let dk: Datakit;
beforeAll(async () => {
  dk = await engine();
});
afterAll(async () => {
  await dk.close();
});

/** Deterministic pseudo-random generator for fuzzing. */
function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function randomJson(r: () => number, depth = 0): unknown {
  const k = Math.floor(r() * (depth > 3 ? 5 : 8));
  switch (k) {
    case 0: return null;
    case 1: return r() < 0.5;
    case 2: return Math.floor(r() * 1000) - 500;
    case 3: return ['', 'a', 'request', 'x.y', 'GET', '{vault://env/x}', 'http://h/', '$self', 'service_request.headers'][Math.floor(r() * 9)];
    case 4: return r() * 1e6;
    case 5: return Array.from({ length: Math.floor(r() * 4) }, () => randomJson(r, depth + 1));
    default: {
      const keys = ['name', 'type', 'input', 'inputs', 'output', 'outputs', 'url', 'jq', 'values', 'status', 'then', 'else', 'property', 'nodes', 'debug', 'body', 'headers'];
      const o: Record<string, unknown> = {};
      for (let i = 0; i < Math.floor(r() * 5); i++) o[keys[Math.floor(r() * keys.length)]] = randomJson(r, depth + 1);
      return o;
    }
  }
}

describe('bad configuration never traps the module', () => {
  it('random configurations give errors as data', () => {
    const r = rng(42);
    const types = ['static', 'jq', 'call', 'exit', 'property', 'branch', 'handlebars', 'nope'];
    for (let i = 0; i < 500; i++) {
      const nodes = Array.from({ length: Math.floor(r() * 5) }, (_, j) => {
        const n = randomJson(r) as Record<string, unknown>;
        const node = n && typeof n === 'object' && !Array.isArray(n) ? n : {};
        if (r() < 0.8) node.type = types[Math.floor(r() * types.length)];
        if (r() < 0.8) node.name = `N${j}`;
        return node;
      });
      const cfg = r() < 0.1 ? randomJson(r) : { nodes, ...(r() < 0.3 ? { debug: randomJson(r) } : {}) };
      const errors = dk.validate(cfg as object);
      expect(Array.isArray(errors)).toBe(true);
    }
    // the module is still the same instance and works
    expect(dk.runtime.generation).toBe(0);
    expect(dk.validate({ nodes: [{ name: 'A', type: 'static', values: { a: 1 } }] })).toEqual([]);
  });

  it('deeply nested and huge configs are rejected cleanly', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 1000; i++) deep = [deep];
    expect(dk.validate({ nodes: [{ name: 'S', type: 'static', values: { deep } }] })[0].message).toMatch(/nested too deeply/);
    let deeper: unknown = 1;
    for (let i = 0; i < 200_000; i++) deeper = { a: deeper };
    expect(dk.validate({ nodes: [{ name: 'S', type: 'static', values: { deeper } }] })[0].message).toMatch(/nested too deeply/);
    // Kong's schema allows 64 nodes: 2000 are refused with one error, not a trap
    const many = Array.from({ length: 2000 }, (_, i) => ({ name: `S${i}`, type: 'static', values: { v: i } }));
    expect(dk.validate({ nodes: many }).map((e) => e.message)).toEqual(['nodes: length must be at most 64']);
    expect(dk.validate({ nodes: many.slice(0, 64) })).toEqual([]);
  });
});

describe('bad request data never traps the module', () => {
  const bodyFlow = () =>
    dk.load({ debug: true, nodes: [{ name: 'J', type: 'jq', input: 'request.body', jq: '.a', output: 'service_request.headers' }] });

  it('a malformed JSON body fails the request with a clear error', async () => {
    const r = await bodyFlow().run({ method: 'POST', path: '/', headers: { 'Content-Type': 'application/json' }, body: '{"a": [1,' });
    expect(r.response.status).toBe(500);
    expect((bodyJson(r.response.body) as { error: string; node: { name: string } }).error).toMatch(/^invalid JSON in request body/);
  });

  it('non-object headers from jq fail the node that receives them', async () => {
    for (const body of ['{"a":"a string"}', '{"a":[1,2]}', '{"a":42}']) {
      const r = await bodyFlow().run({ method: 'POST', path: '/', headers: { 'content-type': 'application/json' }, body });
      expect(r.response.status).toBe(500);
      expect((bodyJson(r.response.body) as { error: string }).error).toMatch(/invalid/);
    }
  });

  it('huge strings and many headers pass through', async () => {
    const big = 'x'.repeat(5 * 1024 * 1024);
    const headers: Record<string, string> = {};
    for (let i = 0; i < 500; i++) headers[`x-h-${i}`] = `v${i}`;
    const flow = dk.load({
      nodes: [
        { name: 'LEN', type: 'jq', inputs: { b: 'request.body', h: 'request.headers' }, jq: '{len: (.b.s | length), n: (.h | length)}' },
        { name: 'EXIT', type: 'exit', inputs: { body: 'LEN' } },
      ],
    });
    const r = await flow.run({ method: 'POST', path: '/', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify({ s: big }) });
    expect(bodyJson(r.response.body)).toEqual({ len: big.length, n: 501 });
  });

  it('odd unicode and binary bodies survive', async () => {
    const flow = dk.load({ nodes: [{ name: 'EXIT', type: 'exit', inputs: { body: 'request.body' } }] });
    const bytes = new Uint8Array([0xff, 0xfe, 0x00, 0x41, 0xc3, 0x28]);
    const r = await flow.run({ method: 'POST', path: '/', headers: { 'content-type': 'application/octet-stream' }, body: bytes });
    expect(Array.from(r.response.body)).toEqual(Array.from(bytes));
    const u = await flow.run({ method: 'POST', path: '/', headers: { 'content-type': 'application/json' }, body: '"\\ud83d\\ude00 \\u0000 é"' });
    // a JSON string body is a string value: sent as its text
    expect(Buffer.from(u.response.body).toString('utf8')).toBe('😀 \u0000 é');
  });
});

describe('memory', () => {
  it('a burst of large requests does not grow module memory without bound', async () => {
    const flow = dk.load({
      nodes: [
        { name: 'LEN', type: 'jq', input: 'request.body', jq: '.s | length' },
        { name: 'EXIT', type: 'exit', inputs: { body: 'LEN' } },
      ],
    });
    const body = JSON.stringify({ s: 'y'.repeat(4 * 1024 * 1024) });
    const burst = async (n: number) => {
      for (let i = 0; i < n; i++) {
        const r = await flow.run({ method: 'POST', path: '/', headers: { 'content-type': 'application/json' }, body });
        expect(Buffer.from(r.response.body).toString()).toBe(String(4 * 1024 * 1024));
      }
    };
    await burst(20);
    const plateau = dk.stats().memory_bytes;
    await burst(40);
    // the host collects after every 16 MiB handed to the module, not only
    // every 32 requests: memory stays on a plateau (collecting only when
    // memory grew let garbage double it each time, past 1 GiB here)
    expect(dk.stats().memory_bytes).toBe(plateau);
    expect(plateau).toBeLessThan(128 * 1024 * 1024);
  });

  it('objects of every size around the small-block cache limit keep their contents', async () => {
    // the allocator serves blocks up to ~1 KiB from exact-size free lists and
    // larger ones from TLSF; strings and arrays that grow across that limit
    // move between the two (assembly/rt/small-blocks.ts)
    const flow = dk.load({
      nodes: [
        { name: 'ECHO', type: 'jq', input: 'request.body', jq: '{n: (.items | length), last: .items[-1], text: .text}' },
        { name: 'EXIT', type: 'exit', inputs: { body: 'ECHO' } },
      ],
    });
    for (let round = 0; round < 3; round++) {
      for (const size of [1, 7, 60, 62, 63, 64, 65, 120, 250, 251, 252, 253, 260, 500, 1000, 1003, 1004, 1005, 1020, 2048, 5000]) {
        const items = Array.from({ length: size }, (_, i) => `v${i}`);
        const text = 'é'.repeat(size);
        const r = await flow.run({ method: 'POST', path: '/', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ items, text }) });
        expect(bodyJson(r.response.body)).toEqual({ n: size, last: `v${size - 1}`, text });
      }
    }
    // the engine itself builds these: a header object resolved key by key
    // (its key and value arrays grow past the limit) and written out
    const headersFlow = dk.load({
      nodes: [
        { name: 'H', type: 'jq', input: 'request.query', jq: '[range(0; (.n | tonumber))] | map({key: "x-h\\(.)", value: "v\\(.)"}) | from_entries' },
        { name: 'EXIT', type: 'exit', inputs: { headers: 'H' }, status: 200 },
      ],
    });
    for (const n of [10, 200, 250, 251, 252, 260, 400]) {
      const r = await headersFlow.run({ method: 'GET', path: '/', query: `n=${n}` });
      const names = Object.keys(r.response.headers).filter((k) => k.startsWith('x-h'));
      expect(names.length).toBe(n);
      expect(r.response.headers[`x-h${n - 1}`]).toBe(`v${n - 1}`);
    }
    expect(dk.stats().contexts).toBe(0);
  });

  it('contexts are freed after done, and memory stays flat', async () => {
    const flow = dk.load({
      nodes: [
        { name: 'J', type: 'jq', input: 'request.query', jq: '{q: .}' },
        { name: 'EXIT', type: 'exit', inputs: { body: 'J' } },
      ],
    });
    for (let i = 0; i < 2000; i++) await flow.run({ method: 'GET', path: '/', query: `i=${i}` });
    const before = dk.stats().memory_bytes;
    for (let i = 0; i < 5000; i++) await flow.run({ method: 'GET', path: '/', query: `i=${i}` });
    const after = dk.stats();
    expect(after.contexts).toBe(0);
    expect(after.arenas).toBe(0);
    expect(after.memory_bytes).toBeLessThanOrEqual(before + 1024 * 1024);
  });
});
