// jq 1.7.1's own test suites (jq/*.test of the conformance folder), every case as its own test.
// Cases we cannot pass are listed in EXCLUDED with a reason (also in docs/jq.md); for those the
// test asserts they still fail, so the list stays honest.
import { describe, it, expect, afterAll } from 'vitest';
import { compile, JqCompileError, JqRuntimeError } from '../../host/jq/index.js';
import { parseJsonText } from '../../host/jq/json.js';
import { equals, typeOf } from '../../host/jq/values.js';
import { toDouble } from '../../host/jq/numbers.js';
import { loadSuites, type SuiteCase } from './jq-suite.js';
import { EXCLUDED } from './jq-exclusions.js';


type Outcome = { pass: boolean; detail: string };

// numbers compare as jq's test runner compares them (jv_equal: two kept literals as decimals, else doubles)
function sameValue(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeOf(a) === 'number' && typeOf(b) === 'number') {
    const x = toDouble(a);
    const y = toDouble(b);
    return (x !== x && y !== y) || equals(a, b);
  }
  if (a === null || b === null || typeof a !== 'object' || typeof b !== 'object') return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  if (ka.length !== kb.length) return false;
  return ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && sameValue((a as never)[k], (b as never)[k]));
}

function runCase(c: SuiteCase): Outcome {
  if (c.kind === 'fail') {
    try {
      compile(c.prog, { exactNumbers: true });
      return { pass: false, detail: 'compiled, but jq rejects this program' };
    } catch (e) {
      if (!(e instanceof JqCompileError)) return { pass: false, detail: `not a JqCompileError: ${e}` };
      if (c.ignoreMsg) return { pass: true, detail: '' };
      const got = `jq: error: ${e.message}`;
      const want = c.msg.split('\n')[0];
      return { pass: got === want, detail: `message ${JSON.stringify(got)} expected ${JSON.stringify(want)}` };
    }
  }
  let outputs: unknown[];
  try {
    // jq's test runner reads the input and the expected lines as jq reads JSON: every number a literal
    const input = parseJsonText(c.input.replace(/^\uFEFF/, ''), undefined, 'all');
    const expected = c.out.map((l) => parseJsonText(l, undefined, 'all'));
    try {
      // the suites read $ENV and run a few long loops: the process environment, no time budget
      outputs = compile(c.prog, { env: process.env, limits: { jq_time_ms: Infinity }, exactNumbers: true }).runValues(input, { maxSteps: 20_000_000 });
    } catch (e) {
      // like jq's test runner, a runtime error ends the output stream
      if (!(e instanceof JqRuntimeError)) throw e;
      outputs = e.outputs;
    }
    const pass = outputs.length === expected.length && outputs.every((o, i) => sameValue(o, expected[i]));
    return { pass, detail: `got ${JSON.stringify(outputs)} expected ${JSON.stringify(expected)}` };
  } catch (e) {
    return { pass: false, detail: String(e) };
  }
}

const cases = loadSuites();
const results = { passed: 0, failed: 0, excluded: 0, excludedStillFailing: 0 };
process.env.PAGER = 'less'; // man.test reads $ENV.PAGER

describe('jq 1.7.1 conformance suites', () => {
  for (const c of cases) {
    const reason = EXCLUDED[c.id];
    const title = `${c.id} ${c.prog}`;
    if (reason === undefined) {
      it(title, () => {
        const r = runCase(c);
        if (r.pass) results.passed++;
        else results.failed++;
        expect(r.pass, r.detail).toBe(true);
      });
    } else {
      it(`[excluded: ${reason}] ${title}`, () => {
        const r = runCase(c);
        results.excluded++;
        if (!r.pass) results.excludedStillFailing++;
        // an excluded case that starts passing must be removed from the list
        expect(r.pass, `excluded case ${c.id} now passes: remove it from EXCLUDED`).toBe(false);
      });
    }
  }
  it('exclusion list only names existing cases', () => {
    const ids = new Set(cases.map((c) => c.id));
    for (const id of Object.keys(EXCLUDED)) expect(ids.has(id), id).toBe(true);
  });
  afterAll(() => {
    const total = cases.length;
    const rate = ((results.passed / total) * 100).toFixed(1);
    console.log(
      `jq conformance: ${results.passed}/${total} passed (${rate}%), ${results.failed} failed, ${results.excluded} excluded`,
    );
  });
  it('pass rate is at least 95% of all cases', () => {
    let passed = 0;
    for (const c of cases) if (runCase(c).pass) passed++;
    expect(passed / cases.length).toBeGreaterThanOrEqual(0.95);
  });
});
