// Postfix `?` as in jq 1.7.1's grammar (src/parser.y): `Term FIELD '?'`, `Term '[' Exp ']' '?'`,
// `Term '[' ']' '?'` and the slice forms make only that indexing step optional (INDEX_OPT /
// EACH_OPT: the term before it, the key, and later steps still raise); any other `X?` is
// `Exp '?'`, i.e. `try X` (if/reduce/foreach/parenthesized/literal ...).
// Each answer is jq 1.7.1's, checked against jq-wasm. jq-wasm (a 1.7.1+ development build)
// words index errors `Cannot index number with string "bar"`; jq 1.7.1 says
// `Cannot index number with string "bar"`, as here. It agrees on every other case below.
import { describe, expect, it } from 'vitest';
import { compile } from '../../host/jq/index.js';

type Case = [filter: string, input: unknown, out: unknown[] | { error: string }];

const cases: Case[] = [
  // the reproductions
  ['[.[].name?]', [1, { name: 2 }, 3, { name: 4 }], [[2, 4]]],
  ['.foo.bar.baz?', { foo: 128 }, { error: 'Cannot index number with string "bar"' }],
  ['.x[]?', 0, { error: 'Cannot index number with string "x"' }],
  ['.[].foo?', 128, { error: 'Cannot iterate over number (128)' }],
  ['if . then tonumber end ?', '1', [1]],
  ['reduce range(3) as $x (0; . + $x) ?', null, [3]],
  ['[(1,2)?]', null, [[1, 2]]],
  // neighbours: only the last step is optional
  ['[.[] | .a?]', [{ a: 1 }, 2], [[1]]],
  ['[.[][]?]', [[1], 2, [3]], [[1, 3]]],
  ['[.[][0]?]', [1, [2]], [[2]]],
  ['[.a[]?]', 1, { error: 'Cannot index number with string "a"' }],
  ['[.a[]?]', {}, [[]]],
  ['[.a[]?]', { a: 3 }, [[]]],
  ['[.a.b?, 9]', { a: 3 }, [[9]]],
  ['[.a?.b]', { a: 1 }, { error: 'Cannot index number with string "b"' }],
  ['[.a?.b]', { a: { b: 1 } }, [[1]]],
  ['[.a?.b?]', { a: 1 }, [[]]],
  ['[.a[1:]?]', { a: 5 }, [[]]],
  ['[.[1:]?]', 'abc', [['bc']]],
  ['[.["a"]?]', [1], [[]]],
  ['[."a"?]', [1], [[]]],
  ['[.[]?]', 1, [[]]],
  // the key's errors are not covered by the step's `?`
  ['[.[error("k")]?]', {}, { error: 'k' }],
  // nor are errors of later steps
  ['try (.[]? | error("down")) catch .', [1], ['down']],
  // Exp '?' is try: a generator stops at its first error
  ['[(1,error("x"),3)?]', null, [[1]]],
  ['[foreach (1,2) as $x (0; .+$x) ?]', null, [[1, 3]]],
  ['[.a??]', 1, [[]]],
  ['[try .a?]', 1, [[]]],
  ['[..?]', 1, [[1]]],
  ['[path(..)?]', 1, [[[]]]],
  // paths and assignment through optional steps
  ['path(.a?)', { a: 1 }, [['a']]],
  ['[path(.a[]?)]', { a: 1 }, [[]]],
  ['del(.a[]?)', { a: [1] }, [{ a: [] }]],
  ['.a? = 1', { a: [1] }, [{ a: 1 }]],
  ['.[]? |= .+1', [1, 2], [[2, 3]]],
  ['[path(1|.[]?)]', 1, { error: 'Invalid path expression near attempt to iterate through 1' }],
];

const syntaxErrors = ['if . then 1 end ? as $x | $x', '(1)?.a', 'reduce .[] as $x (0; .) ?.a'];

describe('postfix ? (jq 1.7.1)', () => {
  for (const [filter, input, out] of cases) {
    it(`${filter} on ${JSON.stringify(input)}`, () => {
      const p = compile(filter);
      if (Array.isArray(out)) expect(p.run(input)).toEqual(out);
      else expect(() => p.run(input)).toThrow(out.error);
    });
  }
  for (const filter of syntaxErrors) {
    it(`${filter} is a syntax error`, () => expect(() => compile(filter)).toThrow(/syntax error/));
  }
});
