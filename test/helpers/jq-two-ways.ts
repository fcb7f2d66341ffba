// Runs a jq filter in a flow two ways: through the module's own evaluator
// for simple filters (counting the runs it hands to the host's jq), and with
// the simple form hidden so the host's jq answers every run. Shared by the
// jq-simple tests and their conformance twin.
import { afterAll, beforeAll } from 'vitest';
import type { Datakit, JqEngine } from '../../host/index.js';
import { nativeJq } from '../../host/engine/jq-engine.js';
import { compile } from '../../host/jq/index.js';
import { engine, text } from './engine.js';

/** The built-in jq with its simple form hidden: the module always asks the host. */
const hostOnlyJq: JqEngine = {
  compile(filter, vars) {
    const c = nativeJq.compile(filter, vars);
    return { run: (input, v) => c.run(input, v), inputPaths: c.inputPaths };
  },
};

/** The built-in jq, counting the runs the module asks the host for. */
function countingJq(counter: { runs: number }): JqEngine {
  return {
    compile(filter, vars) {
      const c = nativeJq.compile(filter, vars);
      return { run: (input, v) => (counter.runs++, c.run(input, v)), inputPaths: c.inputPaths, simple: c.simple };
    },
  };
}

// the call's answer (raw JSON bytes) for the next run
let answer: Buffer = Buffer.from('{}');
const transport = {
  send: async () => ({ status: 200, headers: { 'content-type': 'application/json' }, body: answer }),
  close: async () => {},
};
export const counter = { runs: 0 };
export let viaModule: Datakit;
export let viaHost: Datakit;

beforeAll(async () => {
  viaModule = await engine({ transport, jq: countingJq(counter) });
  viaHost = await engine({ transport, jq: hostOnlyJq });
});
afterAll(async () => {
  await viaModule.close();
  await viaHost.close();
});

/** One filter on one answer: the exit body (or the failure), as the client would see it. */
export async function outcome(dk: Datakit, filter: string, body: Buffer | string, named: boolean) {
  answer = Buffer.from(body);
  const nodes = [
    { name: 'S', type: 'static', values: { extra: { k: 'v', n: 2 }, headers: { 'Content-Type': 'application/x-www-form-urlencoded' } } },
    { name: 'C', type: 'call', url: 'http://127.0.0.1:9/x' },
    named
      ? { name: 'J', type: 'jq', inputs: { body: 'C.body', static: 'S', query: 'request.query' }, jq: filter }
      : { name: 'J', type: 'jq', input: 'C.body', jq: filter },
    { name: 'EXIT', type: 'exit', inputs: { body: 'J' }, status: 200 },
  ];
  const r = await dk.load({ nodes }).run({ method: 'GET', path: '/', query: 'api_key=k1&x=%E2%82%AC', requestId: 'same-id' });
  return { status: r.response.status, body: text(r.response.body), failure: r.failure?.message ?? null };
}

/** Whether a filter compiles and has a simple form. */
export function compileOk(prog: string): boolean {
  try {
    return compile(prog).simple !== null;
  } catch {
    return false;
  }
}
