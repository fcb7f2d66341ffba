// Deep recursion as jq 1.7.1 runs it: calls in tail position are loops (no
// depth limit), `recurse(f)` follows a chain without nesting, and recursion
// that really nests ends with a clear error. Expected values are jq-wasm's.
import { describe, it, expect } from 'vitest';
import { compile, JqRuntimeError, LimitExceeded, type CompileOptions } from '../../host/jq/index.js';

// long loops take more than the default 50 ms on a loaded machine; steps still count
const roomy: CompileOptions = { limits: { jq_time_ms: 60_000 } };
const run = (filter: string, input: unknown = null, options: CompileOptions = roomy) => compile(filter, options).run(input);

function failure(filter: string, input: unknown = null, options: CompileOptions = roomy): Error {
  try {
    run(filter, input, options);
  } catch (e) {
    return e as Error;
  }
  throw new Error(`expected ${filter} to fail`);
}

describe('tail calls are loops', () => {
  it.each([
    ['a def recursing through if/else', '100000 as $x | def f: if . == $x then . else . + 1 | f end; f', 0, [100000]],
    ['$params in tail position', 'def f($n): if $n == 0 then . else . + 1 | f($n - 1) end; 0 | f(50000)', null, [50000]],
    [
      'two $params through elif',
      'def f($n; $acc): if $n == 0 then $acc elif $n % 2 == 0 then f($n - 1; $acc + 2) else f($n - 1; $acc + 1) end; f(200000; 0)',
      null,
      [300000],
    ],
    ['a filter parameter passed on', 'def f(g): if . >= 100000 then . else g | f(g) end; 0 | f(. + 1)', null, [100000]],
    ['filter and $param together', 'def f(g; $n): if $n == 0 then . else g | f(g; $n - 1) end; 0 | f(. + 2; 100000)', null, [200000]],
    ['after an `as` binding', 'def f: if . >= 100000 then . else (. + 1) as $y | $y | f end; 0 | f', null, [100000]],
    ['after a comma (a generator)', 'def f: if . < 100000 then ., (. + 1 | f) else empty end; [0 | f] | length', null, [100000]],
    ['after reduce', 'def f: reduce range(3) as $i (.; . + $i) | if . > 100000 then . else f end; 0 | f', null, [100002]],
    ['stopped by first', 'first(def f: if . > 50000 then . else . + 1 | f end; 0 | f)', null, [50001]],
    ['stopped by a label', 'label $out | def f: if . > 100000 then ., break $out else . + 1 | f end; 0 | f', null, [100001]],
    ['its error caught', 'try (def f: if . > 100000 then error("big") else . + 1 | f end; 0 | f) catch .', null, ['big']],
    ['mutual recursion through a nested def', 'def f: def g: if . >= 100000 then . else . + 1 | f end; g; 0 | f', null, [100000]],
    [
      'even/odd',
      'def e: if . == 0 then true else . - 1 | def o: if . == 0 then false else . - 1 | e end; o end; 100001 | e',
      null,
      [false],
    ],
    ['a tail call of another def', 'def g: . * 2; def f: if . > 1000 then . else g | f end; 1 | f', null, [1024]],
  ])('%s', (_name, filter, input, expected) => {
    expect(run(filter, input)).toEqual(expected);
  });

  it('a generator before the tail call keeps jq order', () => {
    expect(run('def f: if . > 2 then . else (. + 1, . + 10) | f end; [f]', 0)).toEqual([[3, 12, 11, 10]]);
    expect(run('def f: if . > 2 then . else (. + 1, . + 10) as $x | $x | f end; [f]', 0)).toEqual([[3, 12, 11, 10]]);
    expect(run('def f: if (. > 2, . > 5) then . else . + 1 | f end; [f] | length', 0)).toEqual([40]);
    expect(run('[limit(5; def f: ., (. + 1 | f); f)]', 0)).toEqual([[0, 1, 2, 3, 4]]);
    // $params with several values: every combination, as `a as $a | b as $b | ...`
    expect(run('def f($a; $b): if $a > 2 then [$a, $b] else f($a + 1; $b) end; f(1,2; 3,4)')).toEqual([
      [3, 3],
      [3, 4],
      [3, 3],
      [3, 4],
    ]);
  });

  it('an error of the generator comes after the outputs of the value before it', () => {
    const e = failure('def f: if . > 3 then . else ((. + 1), error("e")) | f end; f', 0) as JqRuntimeError;
    expect(e).toBeInstanceOf(JqRuntimeError);
    expect(e.message).toBe('e');
    expect(e.outputs).toEqual([4]);
  });

  it('path expressions through a recursive def still work', () => {
    expect(run('def f: if type == "object" then .a | f else . end; path(f)', { a: { a: { a: 1 } } })).toEqual([['a', 'a', 'a']]);
  });

  it('an endless tail call runs until a budget ends it, as jq would loop', () => {
    const e = failure('def f: f; f', null, { limits: { jq_steps: 100_000, jq_time_ms: 60_000 } });
    expect(e).toBeInstanceOf(LimitExceeded);
    expect((e as LimitExceeded).limit).toBe('jq_steps');
  });
});

describe('native loops run 100,000+ iterations', () => {
  it.each([
    ['range/3', '[range(0; 300000; 1)] | length', [300000]],
    ['until', '0 | until(. >= 200000; . + 1)', [200000]],
    ['while', '[0 | while(. < 200000; . + 1)] | length', [200000]],
    ['repeat', '[limit(200000; repeat(1))] | length', [200000]],
    ['recurse/1 on a chain', '[0 | recurse(if . < 200000 then . + 1 else empty end)] | length', [200001]],
    ['recurse/2 (a jq def)', 'last(0 | recurse(if . < 200000 then . + 1 else empty end; . < 300000))', [200000]],
  ])('%s', (_name, filter, expected) => {
    expect(run(filter)).toEqual(expected);
  });

  it('recurse keeps jq order with several outputs, errors and breaks', () => {
    expect(run('0 | [recurse(if . < 2 then . + 1, . + 10 else empty end)]')).toEqual([[0, 1, 2, 11, 10]]);
    expect(run('[1 | recurse(if . < 20 then . * 2, . * 3 else empty end)] | length')).toEqual([31]);
    const e = failure('0 | recurse(if . < 3 then . + 1, error("x") else empty end)') as JqRuntimeError;
    expect(e.message).toBe('x');
    expect(e.outputs).toEqual([0, 1, 2, 3]);
    expect(run('[1 | label $o | recurse(if . < 20 then . * 2, (if . > 8 then break $o else empty end) else empty end)]')).toEqual([
      [1, 2, 4, 8, 16, 32],
    ]);
    expect(run('[path(recurse(.a?; . != null))]', { a: { a: { a: 1 } } })).toEqual([[[], ['a'], ['a', 'a'], ['a', 'a', 'a']]]);
  });
});

describe('recursion that nests', () => {
  it('ends with the depth error, not a JS stack overflow', () => {
    for (const filter of [
      'def f: if . == 0 then 0 else (. - 1 | f) + 1 end; 100000 | f',
      'def f(x): if . == 0 then 0 else (. - 1 | f(x)) + 1 end; 100000 | f(1)',
      'def f: [f]; f',
      // each first output of the generator nests before the last one loops
      'def f: (1, 2) | f; f',
    ]) {
      const e = failure(filter);
      expect(e, filter).toBeInstanceOf(JqRuntimeError);
      expect(e.message).toBe('jq recursion depth limit exceeded');
    }
  });

  it('try does not catch it', () => {
    expect(failure('try (def f: [f]; f) catch "caught"')).toBeInstanceOf(JqRuntimeError);
  });

  it('runs below the limit', () => {
    expect(run('def f: if . == 0 then 0 else (. - 1 | f) + 1 end; 500 | f')).toEqual([500]);
    expect(run('def f: if . < 3 then [., (. + 1 | f)] else . end; 0 | f')).toEqual([[0, [1, [2, 3]]]]);
  });
});
