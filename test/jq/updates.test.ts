// del/delpaths: jq 1.7.1's semantics (paths sorted, grouped per container,
// the keys of one container deleted in one pass relative to that container)
// and their cost, which must grow linearly (n log n) with the number of paths.
import { describe, it, expect, beforeAll } from 'vitest';
import { compile, LimitExceeded, type CompileOptions } from '../../host/jq/index.js';
import { state } from '../../host/jq/budget.js';
import { ReferenceJq } from './jqwasm.js';

type Case = [input: string, filter: string, out: string[] | { error: string }];

// jq 1.7.1's answers (checked against jq-wasm below)
const cases: Case[] = [
  ['[0,1,2,3,4,5]', 'del(.[1], .[2])', ['[0,3,4,5]']],
  ['[0,1,2,3,4,5]', 'del(.[3], .[3])', ['[0,1,2,4,5]']], // a duplicate deletes once
  ['[0,1,2,3,4,5]', 'del(.[-1], .[5])', ['[0,1,2,3,4]']], // -1 and 5 are the same element
  ['[0,1,2,3,4,5]', 'del(.[-10], .[10])', ['[0,1,2,3,4,5]']], // out of range: nothing
  ['[0,1,2,3,4,5]', 'del(.[0], .[-1], .[1:2])', ['[2,3,4]']],
  ['[0,1,2,3,4,5]', 'del(.[1:3], .[2])', ['[0,3,4,5]']], // slice and index of the original array
  ['[0,1,2,3,4,5]', 'del(.[1:3], .[1])', ['[0,3,4,5]']],
  ['[0,1,2,3,4,5]', 'del(.[1:3], .[2:5])', ['[0,5]']], // overlapping slices
  ['[0,1,2,3,4,5]', 'del(.[4:], .[1:3])', ['[0,3]']],
  ['[0,1,2,3,4,5]', 'del(.[1.5], .[1])', ['[0,2,3,4,5]']],
  ['[0,1,2,3,4,5]', 'del(.[2.7])', ['[0,1,3,4,5]']],
  ['[0,1,2,3]', 'delpaths([[-1.5]])', ['[0,1,2]']], // C's (int) truncates toward zero
  ['[1,2,3]', 'delpaths([[{"start":1.5,"end":2.5}]])', ['[1]']],
  ['[0,1,2]', 'delpaths([[{"start":null,"end":null}]])', ['[]']],
  ['[0,1,2,3,4,5]', 'del(.[1:3][0], .[4])', ['[0,2,3,4]']], // inside a slice
  ['[0,1,2,3,4,5]', 'del(.[2:4][0], .[1:2][0])', ['[0,2,4,5]']],
  ['[[0,1,2],[3]]', 'del(.[0][1:], .[0][0])', ['[[],[3]]']],
  ['[[1,2],[3,4]]', 'del(.[0][1], .[1][0], .[0])', ['[[4]]']], // deeper paths under a deleted one are moot
  ['[[0,1,2],[3,4]]', 'del(.[0][0,2], .[1][-1], .[0][1:2])', ['[[],[3]]']],
  ['{"a":[1,2]}', 'del(.a[0], .a)', ['{}']],
  ['{"a":{"b":1,"c":2},"d":[1,2]}', 'del(.a.b, .d[0], .a.c, .x)', ['{"a":{},"d":[2]}']],
  ['{"a":1,"b":2,"c":3}', 'del(.c, .a, .a)', ['{"b":2}']],
  ['{"a":1,"b":2,"c":3,"d":4}', 'del(.[] | select(. % 2 == 0))', ['{"a":1,"c":3}']],
  ['[1,2,3,4,5,6]', 'del(.[] | select(. % 2 == 0))', ['[1,3,5]']],
  ['[1,null,3]', 'delpaths([[1,"a"]])', ['[1,null,3]']], // a null on the way: nothing to delete
  ['null', 'del(.a, .[0])', ['null']],
  ['null', 'delpaths([[true]])', ['null']],
  ['{"a":1}', 'del(.)', ['null']],
  ['{"a":1}', 'delpaths([])', ['{"a":1}']],
  ['"abc"', 'del(.[0:1])', { error: 'Cannot delete fields from string' }],
  ['[1,2,3]', 'delpaths([[1,"a"]])', { error: 'Cannot delete fields from number' }],
  ['{"a":[1,2]}', 'delpaths([["a",0,"x"]])', { error: 'Cannot delete fields from number' }],
  ['[1,2,3]', 'delpaths([[true]])', { error: 'Cannot delete boolean element of array' }],
  ['[1,2,3]', 'delpaths([[null]])', { error: 'Cannot delete null element of array' }],
  ['{"a":1}', 'delpaths([[true]])', { error: 'Cannot delete boolean field of object' }],
  ['{"a":1}', 'delpaths([[0]])', { error: 'Cannot delete number field of object' }],
  ['[1,2,3]', 'delpaths([[{"start":1,"end":"x"}]])', { error: 'Array/string slice indices must be integers' }],
  ['[0,1,2]', 'delpaths([[{}]])', { error: 'Array/string slice indices must be integers' }],
  ['[1,2,3]', 'delpaths([[{"start":"a"},0]])', { error: 'Array/string slice indices must be integers' }],
  ['null', 'delpaths([[true,1]])', { error: 'Cannot index null with boolean' }],
  ['[1,2]', 'delpaths([["a",1]])', { error: 'Cannot index array with string "a"' }],
  ['[1,2]', 'delpaths([[[1],1]])', { error: 'Cannot update field at array index of array' }],
  ['[1,2]', 'delpaths(1)', { error: 'Paths must be specified as an array' }],
  ['[1,2]', 'delpaths([1])', { error: 'Path must be specified as array, not number' }],
  // `|= empty` deletes the paths whose update was empty, all at once at the end (jq's _modify)
  ['[1,5,3,0,7]', '(.[] | select(. >= 2)) |= empty', ['[1,0]']],
  ['[1,2,3]', '.[] |= empty', ['[]']],
  ['{"a":1,"b":2,"c":3}', '(.a, .b) |= empty', ['{"c":3}']],
  ['[0,1,2,3,4]', '.[1:3] |= empty', ['[0,3,4]']],
];

function ours(input: string, filter: string): string[] | { error: string } {
  try {
    return compile(filter).run(JSON.parse(input)).map((x) => JSON.stringify(x));
  } catch (e) {
    return { error: (e as Error).message };
  }
}

describe('del/delpaths: jq 1.7.1 answers', () => {
  it.each(cases)('%s | %s', (input, filter, out) => {
    expect(ours(input, filter)).toEqual(out);
  });
});

describe('del/delpaths: the answers are jq-wasm\'s', () => {
  let ref: ReferenceJq;
  beforeAll(() => {
    ref = new ReferenceJq();
  });
  it('every case above', async () => {
    for (const [input, filter, out] of cases) {
      let theirs: string[] | { error: string };
      try {
        theirs = await ref.run(input, filter);
      } catch (e) {
        theirs = { error: String((e as Error).message ?? e).replace(/^jq: error \(at [^)]*\): /, '').trim() };
      }
      expect(theirs, `${input} | ${filter}`).toEqual(out);
    }
  });
});

describe('del/delpaths scale linearly', () => {
  const unlimited: CompileOptions = { limits: { jq_time_ms: Infinity, jq_steps: Infinity, jq_memory_bytes: Infinity } };
  const filters = ['del(.[] | select(. % 2 == 0))', 'delpaths([paths])', 'del(.[] | select(. > 3)) | length', '(.[] | select(. % 2 == 0)) |= empty'];
  const arr = (n: number) => Array.from({ length: n }, (_, i) => i);
  const obj = (n: number) => Object.fromEntries(arr(n).map((i) => [`k${i}`, i]));

  /** Steps and bytes the budget counted for one run (counters stay as the run left them). */
  function cost(filter: string, input: unknown): { steps: number; bytes: number } {
    compile(filter, unlimited).run(input);
    return { steps: state.steps, bytes: state.bytes };
  }

  it.each(filters)('%s: 4x the elements cost < 8x the steps and bytes', (filter) => {
    for (const make of [arr, obj]) {
      const small = cost(filter, make(5_000));
      const big = cost(filter, make(20_000));
      // quadratic (a copy per deleted path) would be 16x
      expect(big.steps / small.steps).toBeLessThan(8);
      expect(big.bytes / small.bytes).toBeLessThan(8);
    }
  });

  it('50,000 deletions from one array fit the default memory budget (one copy per container)', () => {
    const p = compile('del(.[] | select(. % 2 == 0)) | length', { limits: { jq_time_ms: Infinity } });
    expect(p.run(arr(50_000))).toEqual([25_000]);
  });

  it('the copies are charged to the memory budget', () => {
    const p = compile('del(.[] | select(. % 2 == 0))', { limits: { jq_time_ms: Infinity, jq_memory_bytes: 100_000 } });
    expect(() => p.run(arr(50_000))).toThrow(LimitExceeded);
  });
});
