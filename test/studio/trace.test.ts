/**
 * The studio's trace reader on traces the engine really answers with: Kong
 * 3.11+'s object for a 3.11 flow and the 3.10 filter's list of actions for a
 * 3.10-shaped flow (docs/flows.md, "Traces"; docs/compat.md).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Datakit } from '../../host/index.js';
import { overlayFromTrace } from '../../host/studio/trace.js';
import { engine } from '../helpers/engine.js';

let dk: Datakit;
beforeAll(async () => {
  dk = await engine();
});
afterAll(async () => {
  await dk?.close?.();
});

const nodes = (shape: 'list' | 'map') => [
  { name: 'J', type: 'jq', inputs: shape === 'list' ? [{ h: 'request.headers' }] : { h: 'request.headers' }, jq: shape === 'list' ? '{who: $h["x-who"]}' : '{who: (.h["X-Who"] // .h["x-who"])}' },
  { name: 'BAD', type: 'jq', inputs: shape === 'list' ? [{ j: 'J' }] : { j: 'J' }, jq: 'error("no luck")' },
  { name: 'X', type: 'exit', status: 201, inputs: shape === 'list' ? [{ body: 'J' }] : { body: 'J' } },
];

async function traceOf(cfg: object): Promise<string> {
  const r = await dk.load({ debug: true, ...cfg }).run({ method: 'GET', path: '/', headers: { 'X-DataKit-Debug-Trace': 'true', 'X-Who': 'kong' } });
  return Buffer.from(r.response.body ?? new Uint8Array()).toString('utf8');
}

describe('overlayFromTrace reads both trace formats', () => {
  it('a 3.10-shaped flow: the list of run/value/fail actions gives each node its status, outputs, error and time', async () => {
    const text = await traceOf({ dialect: '3.10', nodes: nodes('list') });
    expect(Array.isArray(JSON.parse(text))).toBe(true);
    const o = overlayFromTrace(text);
    expect(o.J).toMatchObject({ status: 'complete', outputs: { who: 'kong' } });
    expect(o.J.ms).toBeGreaterThanOrEqual(0);
    expect(o.BAD).toMatchObject({ status: 'error', error: expect.stringContaining('no luck') });
    expect(o.request.status).toBe('complete');
  });

  it('a 3.11 flow: the nodes/events object, same overlay', async () => {
    const o = overlayFromTrace(await traceOf({ nodes: nodes('map') }));
    expect(o.J).toMatchObject({ status: 'complete', outputs: { who: 'kong' } });
    expect(o.BAD).toMatchObject({ status: 'error', error: expect.stringContaining('no luck') });
  });

  it('anything else is refused with a reason', () => {
    expect(() => overlayFromTrace('{"a":1}')).toThrow(/not a datakit debug trace/);
    expect(() => overlayFromTrace('[1,2]')).toThrow(/not a datakit debug trace/);
  });
});
