// Answers a host gives after the module stopped waiting for them
// (docs/host-abi.md, "Answers nobody waits for"): the module is driven
// through its raw exports, with imports that only record.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { WASM_PATH } from '../../host/engine/runtime.js';

const encoder = new TextEncoder();
const PAUSE = 0;
const RESPOND = 2;
const NONE = 3;
const UNKNOWN_CONTEXT = -1;

function engine() {
  let result = new Uint8Array(0);
  const dispatched: number[] = [];
  const canceled: number[] = [];
  let nextToken = 100;
  let x!: Record<string, CallableFunction> & { memory: WebAssembly.Memory };
  const put = (text: string): [number, number] => {
    const bytes = encoder.encode(text);
    const ptr = x.dk_alloc(bytes.length) as number;
    new Uint8Array(x.memory.buffer).set(bytes, ptr);
    return [ptr, bytes.length];
  };
  const nothing = () => 0;
  const imports = {
    log: nothing,
    clock_ms: () => performance.now(),
    result_read: (dst: number) => new Uint8Array(x.memory.buffer).set(result, dst),
    return_data: nothing,
    jq_compile: nothing, jq_run: nothing, jq_input_paths: nothing, jq_simple: nothing, jq_free: nothing,
    template_compile: nothing, template_render: nothing, template_free: nothing,
    property_get: () => { result = encoder.encode('null'); return 4; },
    property_set: nothing,
    secret_get: nothing,
    http_dispatch: () => { dispatched.push(nextToken); return nextToken++; },
    host_call: () => { result = encoder.encode('[]'); return 2; },
    async_dispatch: nothing,
    async_cancel: (_ctx: number, token: number) => { canceled.push(token); },
    phase_timings: nothing,
    phase_result: nothing,
  };
  x = new WebAssembly.Instance(new WebAssembly.Module(readFileSync(WASM_PATH)), { datakit: imports }).exports as typeof x;
  const configure = (config: object) => x.dk_configure(...put(JSON.stringify(config))) as number;
  const request = (plan: number) => {
    const ctx = x.dk_request_new(plan) as number;
    const action = x.dk_on_request(ctx, ...put('{"request_id":"r","method":"GET","path":"/","raw_path":"/"}'), 0, -1) as number;
    return { ctx, action };
  };
  const answer = (ctx: number, token: number, status: number) => x.dk_on_http_response(ctx, token, status, ...put('{"headers":{}}'), 0, -1) as number;
  return { x, configure, request, answer, dispatched, canceled };
}

const twoCalls = {
  nodes: [
    { name: 'A', type: 'call', url: 'http://127.0.0.1:9/a' },
    { name: 'B', type: 'call', url: 'http://127.0.0.1:9/b' },
    { name: 'OUT', type: 'exit', status: 200, inputs: { body: 'A.body', headers: 'B.headers' } },
  ],
};

describe('answers nobody waits for', () => {
  it('an unknown token on a live context: NONE (3), and the request goes on', () => {
    const e = engine();
    const { ctx, action } = e.request(e.configure(twoCalls));
    expect(action).toBe(PAUSE);
    expect(e.dispatched).toHaveLength(2);
    expect(e.answer(ctx, 99_999, 200)).toBe(NONE);
    expect(e.answer(ctx, e.dispatched[0], 200)).toBe(PAUSE);
    e.x.dk_done(ctx);
  });

  it('a canceled call answered anyway after the request failed: NONE (3) while the context lives', () => {
    const e = engine();
    const { ctx } = e.request(e.configure(twoCalls));
    const [a, b] = e.dispatched;
    expect(e.answer(ctx, a, 503)).toBe(RESPOND);
    expect(e.canceled).toEqual([b]);
    expect(e.answer(ctx, b, 200)).toBe(NONE);
    e.x.dk_done(ctx);
  });

  it('any answer after dk_done: -1 (the context is unknown)', () => {
    const e = engine();
    const { ctx } = e.request(e.configure(twoCalls));
    e.x.dk_done(ctx);
    expect(e.canceled).toEqual(e.dispatched);
    expect(e.answer(ctx, e.dispatched[0], 200)).toBe(UNKNOWN_CONTEXT);
    expect(e.x.dk_on_async_result(ctx, e.dispatched[1], 1, 0, -1)).toBe(UNKNOWN_CONTEXT);
  });
});
