/**
 * The browser host's own rules, run in Node (the module uses only web
 * APIs): the ABI version check, which call node a call belongs to, canned
 * answers, and replaying a run's answers (the page's traced replay).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { BrowserHost, type RunResult } from '../../host/studio/browser-host.js';

const root = join(import.meta.dirname, '..', '..');
let host: BrowserHost;

beforeAll(async () => {
  host = await BrowserHost.load(readFileSync(process.env.DATAKIT_WASM ?? join(root, 'build', 'datakit.wasm')));
});

const json = { 'Content-Type': 'application/json' };
// two call nodes on one url, and one whose url is an input
const flow = {
  nodes: [
    { name: 'FIRST', type: 'call', url: 'http://127.0.0.1:9/same' },
    { name: 'SECOND', type: 'call', url: 'http://127.0.0.1:9/same', inputs: { body: 'FIRST.body' }, method: 'POST' },
    { name: 'WHERE', type: 'static', values: { url: 'http://127.0.0.1:9/dynamic' } },
    { name: 'DYNAMIC', type: 'call', inputs: { url: 'WHERE.url' } },
    { name: 'OUT', type: 'jq', inputs: { a: 'FIRST.body', b: 'SECOND.body', c: 'DYNAMIC.body' }, jq: '[.a.n, .b.n, .c.n]' },
    { name: 'EXIT', type: 'exit', status: 200, inputs: { body: 'OUT' } },
  ],
};

describe('browser host', () => {
  it('refuses a module without the datakit_abi section, before instantiating it', async () => {
    const empty = new Uint8Array([0, 0x61, 0x73, 0x6d, 1, 0, 0, 0]);
    await expect(BrowserHost.load(empty)).rejects.toThrow('engine ABI (no datakit_abi section) does not match host ABI 4');
  });

  it('answers each call node from its canned answer; a node without one fails with a clear text', async () => {
    const calls = { FIRST: { body: { n: 1 }, headers: json }, SECOND: { body: { n: 2 }, headers: json }, DYNAMIC: { body: { n: 3 }, headers: json } };
    const r = (await host.run(flow, {}, { calls })) as RunResult;
    expect(r.status).toBe(200);
    expect(JSON.parse(r.body)).toEqual([1, 2, 3]);
    expect(r.calls.map((c) => [c.node, c.source, c.status])).toEqual([
      ['FIRST', 'canned', 200],
      ['DYNAMIC', 'canned', 200],
      ['SECOND', 'canned', 200],
    ]);
    for (const n of ['FIRST', 'SECOND', 'WHERE', 'DYNAMIC', 'OUT', 'EXIT']) expect(r.timings[n]?.status).toBe('complete');
    const missing = (await host.run(flow, {}, { calls: { FIRST: calls.FIRST, SECOND: calls.SECOND } })) as RunResult;
    expect(missing.failure?.message).toBe('call to http://127.0.0.1:9/dynamic failed: no canned answer for DYNAMIC (enter one, or allow fetch)');
    expect(missing.timings.DYNAMIC.status).toBe('error');
    expect(missing.timings.OUT).toBeUndefined(); // pending: never ran
  });

  it("replays a run's answers to the same calls, before any canned answer", async () => {
    const calls = { FIRST: { body: { n: 1 }, headers: json }, SECOND: { body: { n: 2 }, headers: json }, DYNAMIC: { body: { n: 3 }, headers: json } };
    const first = (await host.run(flow, {}, { calls })) as RunResult;
    const other = { FIRST: { body: { n: 10 }, headers: json }, SECOND: { body: { n: 20 }, headers: json }, DYNAMIC: { body: { n: 30 }, headers: json } };
    const again = (await host.run(flow, {}, { calls: other, replay: first.calls })) as RunResult;
    expect(JSON.parse(again.body)).toEqual([1, 2, 3]);
    expect(JSON.parse(((await host.run(flow, {}, { calls: other })) as RunResult).body)).toEqual([10, 20, 30]);
  });

  it('gives a refused flow its configure errors', async () => {
    const r = await host.run({ nodes: [{ name: 'BAD', type: 'jq', jq: '.a |' }] }, {});
    expect(r).toEqual({ errors: [expect.objectContaining({ message: expect.stringContaining('node #1 (BAD): jq: syntax error'), node: { index: 1, name: 'BAD', type: 'jq' } })] });
  });
});
