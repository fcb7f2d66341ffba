// The module is written never to trap; the host still survives one.
import { describe, expect, it } from 'vitest';
import { EngineTrap } from '../../host/engine/runtime.js';
import { bodyJson, engine } from '../helpers/engine.js';

describe('trap recovery', () => {
  it('a trap answers live requests 500, replaces the instance, and flows keep working', async () => {
    const dk = await engine();
    const flow = dk.load({
      nodes: [
        { name: 'J', type: 'jq', input: 'request.query', jq: '{q: .q}' },
        { name: 'EXIT', type: 'exit', inputs: { body: 'J' } },
      ],
    });
    const before = await flow.run({ method: 'GET', path: '/', query: 'q=1' });
    expect(bodyJson(before.response.body)).toEqual({ q: '1' });

    const rt = dk.runtime;
    const generation = rt.generation;
    // force a real trap: hand the module a pointer far outside its memory
    expect(() => rt.call(() => rt.exports.dk_on_request(1, 0x7ffffff0, 16, 0, -1))).toThrow(EngineTrap);
    expect(rt.generation).toBe(generation + 1);

    // the flow re-configures itself on the new instance
    const after = await flow.run({ method: 'GET', path: '/', query: 'q=2' });
    expect(bodyJson(after.response.body)).toEqual({ q: '2' });
    await dk.close();
  });
});
