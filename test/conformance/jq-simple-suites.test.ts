// jq 1.7.1's own suite cases whose filter has a simple form: the module's
// evaluator and the host's jq give the same answers (test/engine/jq-simple.test.ts
// does the same on the project's own filters).
import { describe, expect, it } from 'vitest';
import { compileOk, counter, outcome, viaHost, viaModule } from '../helpers/jq-two-ways.js';
import { loadSuites } from './jq-suite.js';

describe("jq 1.7.1's own test cases with a simple form", () => {
  it('give the same answers through the module and through the host', async () => {
    const cases = loadSuites().filter((c) => c.kind === 'ok' && compileOk(c.prog));
    expect(cases.length).toBeGreaterThan(40);
    const mismatches: string[] = [];
    let answeredByModule = 0;
    for (const c of cases) {
      if (c.kind !== 'ok') continue;
      counter.runs = 0;
      const a = await outcome(viaModule, c.prog, c.input, false);
      if (counter.runs === 0) answeredByModule++;
      const b = await outcome(viaHost, c.prog, c.input, false);
      if (JSON.stringify(a) !== JSON.stringify(b)) mismatches.push(`${c.id} ${c.prog} on ${c.input}: ${JSON.stringify(a)} vs ${JSON.stringify(b)}`);
    }
    expect(mismatches).toEqual([]);
    console.log(`jq suites: ${cases.length} cases with a simple form, ${answeredByModule} answered by the module`);
    expect(answeredByModule).toBeGreaterThan(cases.length / 3);
  });
});
