// Safety: syntax errors with positions, bounded evaluation, prototype pollution, no eval.
import { describe, it, expect } from 'vitest';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { compile, JqCompileError, JqRuntimeError, LimitExceeded } from '../../host/jq/index.js';

function compileError(filter: string): JqCompileError {
  try {
    compile(filter);
  } catch (e) {
    expect(e).toBeInstanceOf(JqCompileError);
    return e as JqCompileError;
  }
  throw new Error(`expected ${filter} not to compile`);
}

function runtimeError(filter: string, input: unknown = null, opts = {}): JqRuntimeError {
  try {
    compile(filter).run(input, opts);
  } catch (e) {
    expect(e).toBeInstanceOf(JqRuntimeError);
    return e as JqRuntimeError;
  }
  throw new Error(`expected ${filter} to fail`);
}

describe('compile errors carry jq messages and positions', () => {
  it('invalid character', () => {
    const e = compileError('.a | }');
    // jq's lexer makes a closer that matches no opener an INVALID_CHARACTER
    expect(e.message).toBe('syntax error, unexpected INVALID_CHARACTER (Unix shell quoting issues?) at <top-level>, line 1:');
    expect(e.position).toBe(5);
  });
  it('unexpected invalid character', () => {
    const e = compileError('.a ^ 1');
    expect(e.message).toBe('syntax error, unexpected INVALID_CHARACTER, expecting end of file (Unix shell quoting issues?) at <top-level>, line 1:');
    expect(e.position).toBe(3);
  });
  it('end of file and line numbers', () => {
    expect(compileError('.a[').message).toBe('syntax error, unexpected end of file (Unix shell quoting issues?) at <top-level>, line 1:');
    const e = compileError('.a |\n\n  (1 +');
    expect(e.message).toMatch(/line 3:$/);
    expect(e.position).toBe(12);
  });
  it('undefined functions, variables and labels', () => {
    expect(compileError('foo(1)').message).toBe('foo/1 is not defined at <top-level>, line 1:');
    expect(compileError('$nope').message).toBe('$nope is not defined at <top-level>, line 1:');
    expect(compileError('break $x').message).toBe('$*label-x is not defined at <top-level>, line 1:');
    expect(compileError('{(0):1}').message).toBe('Cannot use number (0) as object key at <top-level>, line 1:');
  });
});

describe('evaluation is bounded', () => {
  it('endless tail recursion is a loop, as in jq: a budget ends it', () => {
    const loop = compile('def f: f; f', { limits: { jq_time_ms: 60_000 } });
    expect(() => loop.run(null, { maxSteps: 100_000 })).toThrow(/step budget/);
  });
  it('non-tail deep recursion is stopped, not a crash', () => {
    const e = runtimeError('def f: 1 + f; f');
    expect(e.message).toMatch(/recursion|stack/);
  });
  it('huge ranges hit the step budget', () => {
    const noClock = { limits: { jq_time_ms: 60_000 } };
    expect(() => compile('[range(1e9)]', noClock).run(null, { maxSteps: 100_000 })).toThrow('jq: evaluation exceeded its 100000 step budget');
    expect(() => compile('[range(1e9)] | length', noClock).run(null, { maxSteps: 1_000_000 })).toThrow(LimitExceeded);
  });
  it('infinite generators are bounded', () => {
    // the step budget, not the clock: a loaded machine may take longer than the default 50 ms
    const noClock = { limits: { jq_time_ms: 60_000 } };
    expect(() => compile('[repeat(1)]', noClock).run(null, { maxSteps: 100_000 })).toThrow(/step budget/);
    expect(() => compile('last(repeat(1))', noClock).run(null, { maxSteps: 100_000 })).toThrow(/step budget/);
    expect(() => compile('[recurse(.+1)] | length', noClock).run(0, { maxSteps: 100_000 })).toThrow(/step budget/);
    expect(() => compile('until(false; .)', noClock).run(0, { maxSteps: 100_000 })).toThrow(/step budget/);
    expect(compile('[limit(3; repeat(1))]').run(null)).toEqual([[1, 1, 1]]);
  });
  it('deep input nesting is handled', () => {
    let v: unknown = 1;
    for (let i = 0; i < 5000; i++) v = [v];
    expect(compile('[..] | length').run(v)).toEqual([5001]);
    expect(compile('flatten').run(v)).toEqual([[1]]);
  });
  it('a failed run does not poison later runs', () => {
    const p = compile('.a');
    expect(() => compile('def f: [f]; f').run(null)).toThrow(JqRuntimeError);
    expect(p.run({ a: 1 })).toEqual([1]);
  });
  it('stack overflow (RangeError) becomes a JqRuntimeError', () => {
    // a very deep non-function recursion through path expressions
    const e = runtimeError('def f: [f]; f', null, { maxDepth: 1e9 });
    expect(e.message).toMatch(/stack overflow|recursion/);
  });
});

describe('prototype pollution', () => {
  it('__proto__ round-trips as an ordinary key', () => {
    const input = JSON.parse('{"__proto__": 1}');
    expect(compile('.').run(input)).toEqual([input]);
    expect(compile('.["__proto__"]').run(input)).toEqual([1]);
    const [out] = compile('{"__proto__": {"polluted": true}} | .x = 1').run(null) as Record<string, unknown>[];
    expect(JSON.stringify(out)).toBe('{"__proto__":{"polluted":true},"x":1}');
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
  it('inherited properties are not visible', () => {
    expect(compile('[.constructor, .toString, .__proto__, has("constructor")]').run({})).toEqual([[null, null, null, false]]);
    expect(compile('.__proto__.x = 1 | keys').run({})).toEqual([['__proto__']]);
    expect(compile('setpath(["__proto__","polluted"]; 1) | .__proto__').run({})).toEqual([{ polluted: 1 }]);
    expect(compile('{} | .["__proto__"] |= 5').run(null)).toEqual([JSON.parse('{"__proto__":5}')]);
    expect(compile('[{key: "__proto__", value: 1}] | from_entries | keys').run(null)).toEqual([['__proto__']]);
    expect(compile('{"a":{"b":1}} * {"__proto__":{"c":2}} | keys').run(null)).toEqual([['__proto__', 'a']]);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(({} as Record<string, unknown>).c).toBeUndefined();
  });
  it('never mutates its input', () => {
    const input = { a: [1, 2, { b: 3 }], c: { d: 4 } };
    const snap = JSON.stringify(input);
    compile('.a[2].b = 5 | .c.d |= .+1 | del(.a[0]) | .a += [9] | to_entries').run(input);
    compile('.. |= (if type == "number" then . + 1 else . end)').run(input);
    expect(JSON.stringify(input)).toBe(snap);
  });
});

describe('no eval', () => {
  it('engine sources contain no eval or Function constructor', () => {
    const dir = path.resolve(__dirname, '../../host/jq');
    for (const f of readdirSync(dir)) {
      const src = readFileSync(path.join(dir, f), 'utf8');
      expect(src, f).not.toMatch(/\beval\s*\(/);
      expect(src, f).not.toMatch(/new\s+Function\b/);
      expect(src, f).not.toMatch(/\bFunction\s*\(/);
    }
  });
  it('user text is data, never code', () => {
    expect(compile('"); process.exit(1); ("').run(null)).toEqual(['); process.exit(1); (']);
    expect(() => compile('constructor.constructor("return process")()')).toThrow(JqCompileError);
  });
});

describe('runtime errors', () => {
  it('jq messages', () => {
    expect(runtimeError('.a', [1]).message).toBe('Cannot index array with string "a"');
    expect(runtimeError('.[]', 5).message).toBe('Cannot iterate over number (5)');
    expect(runtimeError('null + {"a":1} | . - 1').message).toBe('object ({"a":1}) and number (1) cannot be subtracted');
    expect(runtimeError('{} + 1').message).toBe('object ({}) and number (1) cannot be added');
  });
  it('error(x) with a non-string value', () => {
    const e = runtimeError('error({a: 1})');
    expect(e.value).toEqual({ a: 1 });
    expect(e.message).toBe('{"a":1} (not a string)');
    expect(runtimeError('error(null)').value).toBe(null);
    expect(runtimeError('error("x")').message).toBe('x');
  });
});
