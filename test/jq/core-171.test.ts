// Core language edge cases as jq 1.7.1 answers them (expected values checked
// with jq-wasm, a jq 1.7.1 build): foreach with an empty update, break as an
// error value, the order of several slice bounds, object value precedence,
// string-key shorthand, fractional indices, `%` at 2^63, string escapes.
import { describe, it, expect } from 'vitest';
import { compile, JqCompileError, JqRuntimeError } from '../../host/jq/index.js';

const run = (filter: string, input: unknown = null) => compile(filter).run(input);

function compileError(filter: string): string {
  try {
    compile(filter);
  } catch (e) {
    expect(e).toBeInstanceOf(JqCompileError);
    return (e as Error).message;
  }
  throw new Error(`expected ${filter} not to compile`);
}

describe('foreach', () => {
  it('an update without outputs leaves the state null (jq moves the state out first)', () => {
    expect(run('[foreach (1,2,3) as $x (10; if $x == 2 then empty else . + $x end)]')).toEqual([[11, 3]]);
    expect(run('[foreach (1,2,3) as $x (10; if $x == 1 then empty else . + $x end)]')).toEqual([[2, 5]]);
    expect(run('[foreach (1,2,3) as $x (0; if $x == 2 then empty else . + $x end; [$x, .])]')).toEqual([[[1, 1], [3, 3]]]);
  });
  it('several update outputs: each is extracted, the last is the state', () => {
    expect(run('[foreach (1,2,3) as $x (10; if $x == 2 then (.+100, .+200) else . + $x end)]')).toEqual([[11, 111, 211, 214]]);
  });
  it("an init's later outputs run the source on null (jq's DUPN left it there)", () => {
    expect(run('reduce . as $y (.[]; $y)', { b: 1, a: 1 })).toEqual([{ b: 1, a: 1 }, null]);
    expect(() => run('[foreach .[] as $v (., .; $v)]', [1])).toThrow('Cannot iterate over null (null)');
    expect(() => run('path(reduce .a as $x (., .; .))', {})).toThrow('Invalid path expression near attempt to access element "a" of null');
  });
  it('reduce keeps its jq 1.7.1 answers', () => {
    expect(run('reduce (1,2,3) as $x (10; if $x == 2 then empty else . + $x end)')).toEqual([3]);
    expect(run('reduce (1,2,3) as $x (10; if $x == 3 then empty else . + $x end)')).toEqual([null]);
  });
});

describe('label and break', () => {
  it('break raises the label value {"__jq": n}, which try catches', () => {
    expect(run('[label $y | try break $y catch .]')).toEqual([[{ __jq: 0 }]]);
    expect(run('[range(3) | label $f | try break $f catch .]')).toEqual([[{ __jq: 0 }, { __jq: 1 }, { __jq: 2 }]]);
    expect(run('[label $a | label $b | try break $b catch .]')).toEqual([[{ __jq: 1 }]]);
    expect(run('[label $a | label $b | try break $a catch .]')).toEqual([[{ __jq: 0 }]]);
    expect(run('[label $f | 1, (try break $f catch .), 3]')).toEqual([[1, { __jq: 0 }, 3]]);
  });
  it('? swallows a break; an error carrying the label value breaks', () => {
    expect(run('[label $f | 1, (break $f)?, 3]')).toEqual([[1, 3]]);
    expect(run('[label $f | 1, error({__jq: 0}), 3]')).toEqual([[1]]);
    expect(run('[label $f | 1, ((break $f) // 2), 3]')).toEqual([[1]]);
    expect(run('[label $f | 1, (try error("x") catch break $f), 3]')).toEqual([[1]]);
  });
  it('breaks still stop generators and pass through try downstream', () => {
    expect(run('[label $f | range(5) | if . == 2 then break $f else . end]')).toEqual([[0, 1]]);
    expect(run('[label $f | (try (1, 2) catch "c") | if . == 2 then break $f else . end]')).toEqual([[1]]);
    expect(run('[.[] | label $f | ., break $f]', [1, 2])).toEqual([[1, 2]]);
    expect(run('[first(range(10;0;-1))], [limit(2; 1, 2, 3)]')).toEqual([[10], [1, 2]]);
  });
});

describe('several index and slice bounds', () => {
  it('iterate start bounds outside, end bounds inside', () => {
    expect(run('[.[1,2:3,4]]', [0, 1, 2, 3, 4, 5])).toEqual([
      [
        [1, 2],
        [1, 2, 3],
        [2],
        [2, 3],
      ],
    ]);
    expect(run('[path(.a[1,2:3,4])]')).toEqual([
      [
        ['a', { start: 1, end: 3 }],
        ['a', { start: 1, end: 4 }],
        ['a', { start: 2, end: 3 }],
        ['a', { start: 2, end: 4 }],
      ],
    ]);
    expect(run('[.[1,2]]', [0, 1, 2])).toEqual([[1, 2]]);
    expect(run('[.["a","b"]]', { a: 1, b: 2 })).toEqual([[1, 2]]);
  });
});

describe('object construction', () => {
  it('a value is jq ExpD: unary minus binds tighter than |', () => {
    expect(run('{x: -. | abs}', -3)).toEqual([{ x: 3 }]);
    expect(run('{x: -1 | abs}')).toEqual([{ x: 1 }]);
    expect(run('{x: - - 2 | tostring}')).toEqual([{ x: '2' }]);
  });
  it('other operators in a value still need parentheses', () => {
    expect(compileError('{x: 1 + 2 | tostring}')).toMatch(/^syntax error, unexpected '\+'/);
  });
  it('a string key shorthand indexes by each key it yields', () => {
    expect(run('[{"\\(.a,.b)"}]', { a: 'x', b: 'y' })).toEqual([[{ x: null }, { y: null }]]);
    expect(run('[{"\\("x","y")"}]', { x: 1, y: 2 })).toEqual([[{ x: 1 }, { y: 2 }]]);
    expect(run('[{"\\("x","y")": 1}]')).toEqual([[{ x: 1 }, { y: 1 }]]);
    expect(run('{"a", $__loc__, b}', { a: 1, b: 2 })).toEqual([{ a: 1, __loc__: { file: '<top-level>', line: 1 }, b: 2 }]);
  });
});

describe('unary minus', () => {
  it('has the precedence of binary minus: -a % b is -(a % b)', () => {
    expect(run('[-1 + 2, -2 - 1, -2 * 3, -5 % 3, 1 - -1, -.[0] + 1]', [4])).toEqual([[1, -3, -6, -2, 2, -3]]);
    expect(run('[-1e19 % 7] | tojson')).toEqual(['[-0]']);
    expect(run('-9223372036854775808 % 7')).toEqual([1]);
    expect(run('try (-"a" * 2) catch .')).toEqual(['string ("aa") cannot be negated']);
  });
});

describe('indices', () => {
  it('fractional indices truncate toward zero', () => {
    expect(run('[.[-2.8], .[-1.5], .[-0.5], .[-3.5], .[1.7]]', [1, 2, 3])).toEqual([[2, 3, 1, 1, 2]]);
    expect(run('[.[1.1,1.5,1.7]]', [0, 1, 2])).toEqual([[1, 1, 1]]);
  });
  it('an empty array index finds nothing', () => {
    expect(run('.[[]]', [1, 2, 1])).toEqual([[]]);
    expect(run('.[[1]], .[[1,2]]', [1, 2, 1, 2])).toEqual([
      [0, 2],
      [0, 2],
    ]);
  });
});

describe('% on large numbers (intmax_t as jq 1.7.1 casts)', () => {
  it('2^63 itself is INTMAX_MIN, beyond it clamps', () => {
    expect(run('[9223372036854775807 % 2, 9223372036854775808 % 3, 1e19 % 7]')).toEqual([[0, -2, 0]]);
    expect(run('[(infinite, -infinite) % (1, -1, infinite)]')).toEqual([[0, 0, 0, 0, 0, -1]]);
    expect(run('[5 % infinite, infinite % 5, 5 % -infinite, 1e300 % 7, 5 % -1, 5.9 % 3.9]')).toEqual([[5, 2, 5, 0, 0, 2]]);
    expect(run('[nan % 1, 1 % nan | isnan]')).toEqual([[true, true]]);
    expect(() => run('5 % 0.5')).toThrow('number (5) and number (0.5) cannot be divided (remainder) because the divisor is zero');
  });
});

describe('string escapes in the program', () => {
  it.each([
    ['"\\q"', 'Invalid escape at line 1, column 4 (while parsing \'"\\q"\')'],
    ['"ab\\q"', 'Invalid escape at line 1, column 4 (while parsing \'"\\q"\')'],
    ['"\\n\\qz\\q"', 'Invalid escape at line 1, column 6 (while parsing \'"\\n\\q"\')'],
    ['"x\\(1)\\q"', 'Invalid escape at line 1, column 4 (while parsing \'"\\q"\')'],
    ['"\\u12"', 'Invalid \\uXXXX escape at line 1, column 6 (while parsing \'"\\u12"\')'],
    ['"\\u"', 'Invalid \\uXXXX escape at line 1, column 4 (while parsing \'"\\u"\')'],
    ['"\\u12x"', 'Invalid \\uXXXX escape at line 1, column 7 (while parsing \'"\\u12x"\')'],
    ['"\\u12xy"', 'Invalid characters in \\uXXXX escape at line 1, column 8 (while parsing \'"\\u12xy"\')'],
    ['"\\ud83dx"', 'Invalid \\uXXXX\\uXXXX surrogate pair escape at line 1, column 8 (while parsing \'"\\ud83d"\')'],
    ['"\\ud83d\\u0041"', 'Invalid \\uXXXX\\uXXXX surrogate pair escape at line 1, column 14 (while parsing \'"\\ud83d\\u0041"\')'],
  ])('%s', (filter, message) => {
    expect(compileError(filter)).toBe(`${message} at <top-level>, line 1:`);
  });
  it('valid escapes, surrogate pairs and a lone low surrogate (U+FFFD)', () => {
    expect(run('"\\u00e9\\ud83d\\ude00\\n\\t\\/\\"" | explode')).toEqual([[233, 128512, 10, 9, 47, 34]]);
    expect(run('"\\udc00" | explode')).toEqual([[65533]]);
  });
});

describe('errors stay JqRuntimeError', () => {
  it('an uncaught error value', () => {
    expect(() => run('error({a: 1})')).toThrow(JqRuntimeError);
  });
});

// Compile errors of broken programs, exactly as jq 1.7.1 (bison) words them:
// ` @N:` stands for ` (Unix shell quoting issues?) at <top-level>, line N:`,
// ` @@N:` for ` at <top-level>, line N:`.
const SYNTAX_ERRORS: [string, string][] = [
    ["$<=", "syntax error, unexpected <=, expecting '$' @1:"],
    ["$", "syntax error, unexpected end of file, expecting '$' @1:"],
    ["path(.?.if)", "syntax error, unexpected FIELD, expecting ';' or ')' @1:"],
    ["del((3)?.x)", "syntax error, unexpected FIELD, expecting ';' or ')' @1:"],
    ["foreach ..a as $x (0; .)", "syntax error, unexpected IDENT, expecting FIELD or as or '.' or '[' @1:"],
    ["reduce t{", "syntax error, unexpected '{', expecting FIELD or as or '.' or '[' @1:"],
    ["n.(", "syntax error, unexpected '(', expecting FORMAT or QQSTRING_START or '[' @1:"],
    [". e}", "syntax error, unexpected INVALID_CHARACTER @1:"],
    [". n$d", "syntax error, unexpected BINDING @1:"],
    ["if(3)then. n|", "syntax error, unexpected '|' @1:"],
    [". n", "syntax error, unexpected end of file @1:"],
    [". if", "syntax error, unexpected if @1:"],
    ["{({}): .}", "Cannot use object ({}) as object key @@1:"],
    ["{([1,2]): 1}", "Cannot use array ([1,2]) as object key @@1:"],
    [".][0]", "syntax error, unexpected INVALID_CHARACTER @1:"],
    [". 1", "syntax error, unexpected LITERAL @1:"],
    [".[0] 1", "syntax error, unexpected LITERAL, expecting end of file @1:"],
    ["{a: .?}", "syntax error, unexpected '?', expecting '}' @1:"],
    ["{a: (.)?}", "syntax error, unexpected '?', expecting '}' @1:"],
    ["reduce .? as $x (.;.)", "syntax error, unexpected '?', expecting FIELD or as or '.' or '[' @1:"],
    ["try .? catch .", "syntax error, unexpected catch, expecting end of file @1:"],
    ["e(3", "syntax error, unexpected end of file, expecting ';' or ')' @1:"],
    ["path(..a)", "syntax error, unexpected IDENT, expecting ';' or ')' @1:"],
    [".? as [$k, $z] | .", "syntax error, unexpected as, expecting end of file @1:"],
    ["if .? as [$z] | . then . end", "syntax error, unexpected as @1:"],
    [".?[:0.5]", "syntax error, unexpected '[', expecting end of file @1:"],
    [". as [$a, $] | .", "syntax error, unexpected '$', expecting BINDING or '[' or '{' @1:"],
    ["reduce . as 1 (0;1)", "syntax error, unexpected LITERAL, expecting BINDING or '[' or '{' @1:"],
    ["{1:2}", "syntax error, unexpected LITERAL @1:"],
    ["{(1):2", "Cannot use number (1) as object key @@1:"],
    ["{(null):1}", "Cannot use null (null) as object key @@1:"],
    ["import", "syntax error, unexpected end of file, expecting FORMAT or QQSTRING_START @1:"],
    ["include", "syntax error, unexpected end of file, expecting FORMAT or QQSTRING_START @1:"],
    ["{x: 1 + 2}", "syntax error, unexpected '+', expecting '}' @1:"],
    ["{(.a,.b)}", "syntax error, unexpected '}', expecting ':' @1:"],
    [".a |", "syntax error, unexpected end of file @1:"],
    ["[1,2", "syntax error, unexpected end of file @1:"],
    ["{a: 1", "syntax error, unexpected end of file, expecting '}' @1:"],
    ["(1", "syntax error, unexpected end of file @1:"],
    [".[", "syntax error, unexpected end of file @1:"],
    [".a.[", "syntax error, unexpected end of file @1:"],
    ["if . then 1", "syntax error, unexpected end of file @1:"],
    ["if . then 1 else 2", "syntax error, unexpected end of file @1:"],
    ["if . 1 end", "syntax error, unexpected LITERAL @1:"],
    ["reduce . as $x (0)", "syntax error, unexpected ')' @1:"],
    ["reduce . as $x (0; .", "syntax error, unexpected end of file @1:"],
    ["foreach . as $x", "syntax error, unexpected end of file, expecting '(' @1:"],
    ["def f: 1", "syntax error, unexpected end of file @1:"],
    ["def f 1; f", "syntax error, unexpected LITERAL, expecting '(' or ':' @1:"],
    ["def (x): 1; 1", "syntax error, unexpected '(', expecting IDENT @1:"],
    [". as [$a] 1", "syntax error, unexpected LITERAL, expecting '|' @1:"],
    [". as $x", "syntax error, unexpected end of file, expecting '|' @1:"],
    ["try", "syntax error, unexpected end of file @1:"],
    ["1 +", "syntax error, unexpected end of file @1:"],
    ["1 ==", "syntax error, unexpected end of file @1:"],
    ["1 == 2 == 3", "syntax error, unexpected == @1:"],
    ["1 < 2 < 3", "syntax error, unexpected '<' @1:"],
    [".a = 1 = 2", "syntax error, unexpected '=' @1:"],
    ["label $x", "syntax error, unexpected end of file, expecting '|' @1:"],
    ["label x | 1", "syntax error, unexpected IDENT, expecting BINDING @1:"],
    ["break", "syntax error, unexpected end of file, expecting BINDING @1:"],
    ["@", "syntax error, unexpected INVALID_CHARACTER, expecting end of file @1:"],
    ["{", "syntax error, unexpected end of file @1:"],
    ["}", "syntax error, unexpected INVALID_CHARACTER, expecting end of file @1:"],
    ["]", "syntax error, unexpected INVALID_CHARACTER, expecting end of file @1:"],
    [")", "syntax error, unexpected INVALID_CHARACTER, expecting end of file @1:"],
    [".a..b", "syntax error, unexpected .., expecting end of file @1:"],
    ["..a", "syntax error, unexpected IDENT, expecting end of file @1:"],
    ["1 as $x | $x +", "syntax error, unexpected end of file @1:"],
    ["{a:}", "syntax error, unexpected '}' @1:"],
    ["{\"a\" 1}", "syntax error, unexpected LITERAL, expecting '}' @1:"],
    ["{a: 1,,}", "syntax error, unexpected ',' @1:"],
    ["[1,,2]", "syntax error, unexpected ',' @1:"],
    ["f(", "syntax error, unexpected end of file @1:"],
    ["f(1;", "syntax error, unexpected end of file @1:"],
    [". |= ", "syntax error, unexpected end of file @1:"],
    ["1 ?// 2", "syntax error, unexpected ?//, expecting end of file @1:"],
    ["\"abc", "syntax error, unexpected end of file, expecting QQSTRING_TEXT or QQSTRING_INTERP_START or QQSTRING_END @1:"],
    ["\"\\(1\"", "syntax error, unexpected QQSTRING_START @1:"],
    [".a[]]", "syntax error, unexpected INVALID_CHARACTER, expecting end of file @1:"],
    ["%", "syntax error, unexpected '%', expecting end of file @1:"],
    ["and", "syntax error, unexpected and, expecting end of file @1:"],
    ["or 1", "syntax error, unexpected or, expecting end of file @1:"],
    [".[1:2:3]", "syntax error, unexpected ':' @1:"],
    ["$__loc__ | .a b", "syntax error, unexpected IDENT, expecting end of file @1:"],
    ["def f: ; 1", "syntax error, unexpected ';' @1:"],
    ["if then else end", "syntax error, unexpected then @1:"],
    ["{a: reduce . as $x (0; .)}", "syntax error, unexpected reduce @1:"],
    ["[.[] as $x | $x]]", "syntax error, unexpected INVALID_CHARACTER, expecting end of file @1:"],
    ["`", "syntax error, unexpected INVALID_CHARACTER, expecting end of file @1:"],
    ["1 as $x $y", "syntax error, unexpected BINDING, expecting '|' @1:"],
    ["[%]", "syntax error, unexpected '%' @1:"],
    ["(%)", "syntax error, unexpected '%' @1:"],
    ["1 + %", "syntax error, unexpected '%' @1:"],
    ["1 2", "syntax error, unexpected LITERAL, expecting end of file @1:"],
    ["[1)", "syntax error, unexpected INVALID_CHARACTER @1:"],
    ["{a:1]", "syntax error, unexpected INVALID_CHARACTER, expecting '}' @1:"],
    ["\"\\(1]\"", "syntax error, unexpected INVALID_CHARACTER @1:"],
    ["def f(a) 1; f", "syntax error, unexpected LITERAL, expecting ':' @1:"],
    ["def f(a; $b: 1; 1", "syntax error, unexpected ':', expecting ';' or ')' @1:"],
    [". as {a} | 1", "syntax error, unexpected '}', expecting ':' @1:"],
    ["reduce . as [$x] 1", "syntax error, unexpected LITERAL, expecting '(' @1:"],
    ["if . then 1 elif", "syntax error, unexpected end of file @1:"],
    ["try 1 catch", "syntax error, unexpected end of file @1:"],
    ["[.[]", "syntax error, unexpected end of file @1:"],
    ["{a: 1 b: 2}", "syntax error, unexpected IDENT, expecting '}' @1:"],
    ["1 | ]", "syntax error, unexpected INVALID_CHARACTER @1:"],
    ["{\"a\":1} | .a.\"b", "syntax error, unexpected end of file, expecting QQSTRING_TEXT or QQSTRING_INTERP_START or QQSTRING_END @1:"],
    [".a + ", "syntax error, unexpected end of file @1:"],
    ["map(.)  )", "syntax error, unexpected INVALID_CHARACTER, expecting end of file @1:"],
    ["$__loc__ $x", "syntax error, unexpected BINDING, expecting end of file @1:"],
    ["[1] | .[1:2:]", "syntax error, unexpected ':' @1:"],
];

describe('syntax error texts', () => {
  it.each(SYNTAX_ERRORS)('%j', (filter, short) => {
    const message = short.replace(/ @@(\d+):$/, ' at <top-level>, line $1:').replace(/ @(\d+):$/, ' (Unix shell quoting issues?) at <top-level>, line $1:');
    expect(compileError(filter)).toBe(message);
  });
});

describe('path expressions', () => {
  it('a value identical to the one at the path keeps the path (jv_identical: null, booleans, the same container)', () => {
    expect(run('path(. = .x)')).toEqual([[]]);
    expect(run('path(null)')).toEqual([[]]);
    expect(run('path(.a | null)', { a: null })).toEqual([['a']]);
    expect(run('[path(.a | true)]', { a: true })).toEqual([[['a']]]);
    expect(run('path(. as $x | $x)', 'a')).toEqual([[]]);
    expect(run('[path(.a | . as $x | $x | .[0])]', { a: [1] })).toEqual([[['a', 0]]]);
    expect(run('path(null | getpath(["a"]))')).toEqual([['a']]);
  });
  it('anything else is still an invalid path', () => {
    expect(() => run('path(1)', 1)).toThrow('Invalid path expression with result 1');
    expect(() => run('path(null)', {})).toThrow('Invalid path expression with result null');
    expect(() => run('path(.a | {})', { a: {} })).toThrow('Invalid path expression with result {}');
    expect(() => run('path(.a = 1)')).toThrow('Invalid path expression with result {"a":1}');
    expect(() => run('[1] as $x | path($x.[0])')).toThrow('Invalid path expression near attempt to access element 0 of [1]');
  });
  it("getpath's own error comes first", () => {
    expect(() => run('path(1 | getpath(["a"]))')).toThrow('Cannot index number with string "a"');
    expect(() => run('path(getpath(["a","b"]))', { a: 1 })).toThrow('Cannot index number with string "b"');
    expect(run('.[] | try (getpath(["a",0,"b"]) |= 5) catch .', [{ a: 0 }, { a: [{ c: 3 }] }])).toEqual([
      'Cannot index number with number',
      { a: [{ c: 3, b: 5 }] },
    ]);
  });
});

describe('reduce and foreach in path expressions', () => {
  // jq restores init's path whenever it backtracks to the next source value
  it('each update starts from the path of init', () => {
    expect(run('[path(reduce (1,2) as $k (.a; .))]', { a: { b: 1 } })).toEqual([[['a']]]);
    expect(run('[path(foreach (1,2) as $k (.a; .; .b))]', { a: { b: 1 } })).toEqual([[['a', 'b'], ['a', 'b']]]);
    expect(run('[path(foreach ("a") as $k (.; .[$k]))]', { a: { b: 1 } })).toEqual([[['a']]]);
    expect(run('[path(reduce ("a","b") as $k (.; .[$k]))]')).toEqual([[[]]]);
    expect(run('[path(foreach ("a","b") as $k (.; .[$k]))]')).toEqual([[['a'], ['b']]]);
  });
  it('a state that is no longer init value is not a path', () => {
    expect(() => run('path(reduce ("a") as $k (.; .[$k]))', { a: { b: 1 } })).toThrow('Invalid path expression with result {"b":1}');
    expect(() => run('[path(reduce ("a","b") as $k (.; .[$k]))]', { a: { b: 1 } })).toThrow(
      'Invalid path expression near attempt to access element "b" of {"b":1}',
    );
    expect(() => run('[path(foreach (1,2) as $k (.a; .b))]', { a: { b: 1 } })).toThrow('Invalid path expression near attempt to access element "b" of 1');
  });
});

describe('Exp ? where jq wants a term', () => {
  it('still parses where an expression may stand', () => {
    expect(run('[try error("x")?]')).toEqual([[]]);
    expect(run('try .?', 1)).toEqual([1]);
    expect(run('try . catch .?', 1)).toEqual([1]);
    expect(run('{a: .b?}', { b: 2 })).toEqual([{ a: 2 }]);
    expect(run('[reduce .[]? as $x (0; . + $x)]', [1, 2])).toEqual([[3]]);
  });
});

describe('assignments', () => {
  it("an update's error comes before the error of generating a later path (jq updates each path as it comes)", () => {
    expect(() => run('(., .[2]) %= .', true)).toThrow('boolean (true) and boolean (true) cannot be divided (remainder)');
    expect(() => run('(.a, .[0]) |= error("first")', {})).toThrow('first');
    expect(() => run('(.a, .[0]) = 1', {})).toThrow('Cannot index object with number');
    expect(() => run('(.[], .x) += 1', [1, 2])).toThrow('Cannot index array with string "x"');
  });
});

describe('object construction order', () => {
  it("the value is evaluated before the key's type is checked (jq checks it on insert)", () => {
    expect(() => run('{(255, .): .[]}', '')).toThrow('Cannot iterate over string ("")');
    expect(() => run('{(.): has(4)}', {})).toThrow('Cannot check whether object has a number key');
    expect(() => run('{(1,"a"): (3,4)}', {})).toThrow('Cannot use number (1) as object key');
    expect(run('[{("a","b"): (1,2)}]')).toEqual([[{ a: 1 }, { a: 2 }, { b: 1 }, { b: 2 }]]);
    expect(run('{([1,.]): 1}?')).toEqual([]);
  });
});

describe('getpath', () => {
  it('null indexed by a key that is not a string, number or slice fails, as jq jv_get', () => {
    expect(() => run('getpath([null])')).toThrow('Cannot index null with null');
    expect(() => run('getpath(["a",[1]])', { a: null })).toThrow('Cannot index null with array');
    expect(run('getpath(["a",0,"b"]), getpath(["a",{"start":0,"end":1}])')).toEqual([null, null]);
  });
});

describe('programs with nothing to run', () => {
  it.each(['', '  ', '# only a comment', 'def f: 1;', 'def f: 1; def g: 2;'])('%j', (filter) => {
    expect(compileError(filter)).toBe('Top-level program not given (try ".")');
  });
  it('index errors write a string key raw, up to a NUL, as jq does', () => {
    expect(() => run('.["a\\"b"]', 1)).toThrow('Cannot index number with string "a"b"');
    expect(() => run('.["a\\u0000b"]', 1)).toThrow('Cannot index number with string "a"');
  });
});

describe('definitions nothing calls', () => {
  it('are dropped before names are resolved, as jq binds each def to what follows it', () => {
    expect(run('def f: nosuch; .', 1)).toEqual([1]);
    expect(run('def f(p): b; .', 1)).toEqual([1]);
    expect(run('def f: $nosuch; 2')).toEqual([2]);
    // a call from a def that is itself unused does not count
    expect(run('def g: nosuch; def f: g; .', 1)).toEqual([1]);
    // a later def of the same name and arity takes every call after it; a recursive call is not a use
    expect(run('def f: nosuch; def f: 1; f')).toEqual([1]);
    expect(run('def f: nosuch | f; 3')).toEqual([3]);
    // a parameter of the same name takes the calls in its def
    expect(run('def f: nosuch; def g(f): f; g(1)')).toEqual([1]);
    expect(run('def f: nosuch; def g($f): f; g(4)')).toEqual([4]);
    expect(run('[.[] | (def f: nosuch; .)]', [5])).toEqual([[5]]);
  });
  it('of several undefined names, the first in bytecode order is reported', () => {
    expect(compileError('a[b]')).toBe('b/0 is not defined at <top-level>, line 1:');
    expect(compileError('a[b:c]')).toBe('b/0 is not defined at <top-level>, line 1:');
    expect(compileError('reduce a as $x (b; c)')).toBe('b/0 is not defined at <top-level>, line 1:');
    expect(compileError('foreach a as $x (b; c; d)')).toBe('b/0 is not defined at <top-level>, line 1:');
    expect(compileError('a += b')).toBe('b/0 is not defined at <top-level>, line 1:');
    expect(compileError('a |= b')).toBe('a/0 is not defined at <top-level>, line 1:');
  });
  it('a def that is called is still checked', () => {
    expect(compileError('def f: nosuch; f')).toBe('nosuch/0 is not defined at <top-level>, line 1:');
    expect(compileError('def f: nosuch; def f(a): 1; f')).toBe('nosuch/0 is not defined at <top-level>, line 1:');
    expect(compileError('def f: g; def g: 1; f')).toBe('g/0 is not defined at <top-level>, line 1:');
    expect(compileError('def f: 1; f(2)')).toBe('f/1 is not defined at <top-level>, line 1:');
  });
});

describe('?// alternatives', () => {
  it('an error raised later, outside any closer try, runs the next alternative (jq backtracks into it)', () => {
    expect(run('[nth(2; repeat(. as [$x] ?// $v | .))]')).toEqual([[null, null]]);
    // isempty is first((g|false), true): false goes out before the break
    expect(run('[isempty(. as $k ?// {c: $z} | .)]')).toEqual([[false, false]]);
    expect(run('[limit(1; . as [$a] ?// $a | $a)]', [5])).toEqual([[5, [5]]]);
    expect(run('[first(. as [$a] ?// $a | $a)]', [5])).toEqual([[5, [5]]]);
    // past the end of a try: the try lets it pass, the alternative inside it still sees it
    expect(() => run('if try (. as $z ?// $x | $x) then [.] end | cosh', {})).toThrow('array ([{}]) number required');
    // reduce moved its state out before the failed update: the retry starts from null
    expect(() => run('reduce (. as $y ?// $v | .) as $x (4; ."é" / "\\"")', 1)).toThrow('null (null) and string ("\\"") cannot be divided');
  });
});

describe('syntax error texts (bison lists the expected tokens only when there are at most four)', () => {
  it.each([
    // after a bare `.`: a token that may follow a Term is reported in a later state, others at once
    ['.;', "syntax error, unexpected ';', expecting end of file"],
    ['. then', 'syntax error, unexpected then, expecting end of file'],
    ['f(. ]', 'syntax error, unexpected INVALID_CHARACTER'],
    ['foreach.)', 'syntax error, unexpected INVALID_CHARACTER'],
    ['. @base64 1', 'syntax error, unexpected LITERAL, expecting QQSTRING_START'],
    // definitions alone are a whole program
    ['def f: .; ;', "syntax error, unexpected ';', expecting end of file"],
    ['def f:[];%', "syntax error, unexpected '%', expecting end of file"],
    ['def f: .; def g: .; )', 'syntax error, unexpected INVALID_CHARACTER, expecting end of file'],
    ['(def f: .; ;', "syntax error, unexpected ';'"],
    // destructuring patterns and parameters
    ['. as [$v, $w |', "syntax error, unexpected '|', expecting ',' or ']'"],
    ['. as {$x(', "syntax error, unexpected '(', expecting ',' or '}'"],
    ['. as [$v] ?// [$w |', "syntax error, unexpected '|', expecting ',' or ']'"],
    ['def f(a; )', "syntax error, unexpected ')', expecting IDENT or BINDING"],
    ['def f(', 'syntax error, unexpected end of file, expecting IDENT or BINDING'],
    // `$__loc__` is a token of its own, never a variable to bind; `__loc__` is a plain name
    ['. as $__loc__ | 1', "syntax error, unexpected $__loc__, expecting BINDING or '[' or '{'"],
    ['. as {$__loc__} | 1', 'syntax error, unexpected $__loc__'],
    ['def f($__loc__): 1; f(2)', 'syntax error, unexpected $__loc__, expecting IDENT or BINDING'],
    // the `)` that ends an interpolation is a token of its own
    ['"\\(if)', 'syntax error, unexpected QQSTRING_INTERP_END'],
    ['"\\(1 as)', "syntax error, unexpected QQSTRING_INTERP_END, expecting BINDING or '[' or '{'"],
    // an object key is a String (FORMAT QQSTRING_START), never a bare format
    ['{@base64}', "syntax error, unexpected '}', expecting QQSTRING_START"],
    ['. as {@base64: $x} | 1', "syntax error, unexpected ':', expecting QQSTRING_START"],
    ['h(i break', "syntax error, unexpected break, expecting ';' or ')'"],
    // `Term . [` takes an index or nothing, no slice
    ['.a.[1:2]', "syntax error, unexpected ':'"],
  ])('%s', (filter, message) => {
    expect(compileError(filter)).toBe(`${message} (Unix shell quoting issues?) at <top-level>, line 1:`);
  });
  it("an `Exp '?'` inside a suffix's brackets leaves the term a Term", () => {
    expect(run('null["a"?] as $x | 1, (null[1?] as $y | 2)')).toEqual([1, 2]);
  });
  it.each([
    ['{(1+1): 2}', 'Cannot use number (2) as object key'],
    ['"a" | map({(["a","b"] >= 10): .})', 'Cannot use boolean (true) as object key'],
    ['reduce {((def f(g): 0; 4)): ""} as $z (0; $z)', 'Cannot use number (4) as object key'],
    ['{(2 | .): .a}', 'Cannot use number (2) as object key'],
    ['{(. | [1,[2]]): ..foo}', 'Cannot use array ([1,[2]]) as object key'],
  ])('%s: a key jq folds into a constant is checked at compile time', (filter, message) => {
    expect(compileError(filter)).toBe(`${message} at <top-level>, line 1:`);
  });
  it('a syntax error before the pair is read comes first', () => {
    expect(compileError('{l,({"":[]}).x')).toBe("syntax error, unexpected FIELD, expecting ':' (Unix shell quoting issues?) at <top-level>, line 1:");
    expect(compileError('{(1): }')).toBe("syntax error, unexpected '}' (Unix shell quoting issues?) at <top-level>, line 1:");
    expect(compileError('{(1): " "?}')).toBe('Cannot use number (1) as object key at <top-level>, line 1:');
  });
  it('a folded operation that fails is a run-time error', () => {
    expect(() => run('{("x" - 1): 1}')).toThrow('string ("x") and number (1) cannot be subtracted');
  });
  it('`__loc__` is a name like any other', () => {
    expect(compileError('__loc__')).toBe('__loc__/0 is not defined at <top-level>, line 1:');
    expect(run('def __loc__: 3; __loc__, {__loc__: 1}')).toEqual([3, { __loc__: 1 }]);
  });
  it('`. String` takes a format string too', () => {
    expect(run('.@base64 "x", .a.@text "b"', { x: 1, a: { b: 2 } })).toEqual([1, 2]);
  });
});

describe('while / until', () => {
  it('run each output of the condition and of the update in turn, lazily', () => {
    expect(run('first(while(., .x; .))', [])).toEqual([[]]);
    expect(run('[while(. < 3; . + 1, . + 2)]', 0)).toEqual([[0, 1, 2, 2]]);
    expect(run('[until(. > 2, . > 1; . + 1)]', 0)).toEqual([[3, 3, 2, 3, 3, 2, 3, 3, 2, 3, 3, 2]]);
    expect(run('[.[] | try until(. > 3; . + 1, error("y")) catch .]', [0])).toEqual([[4, 'y']]);
  });
  it('track paths as the jq definitions do', () => {
    expect(run('[path(while(type == "array"; .[]))]', [[1], [2, [3]]])).toEqual([[[], [0], [1], [1, 1]]]);
    expect(() => run('path(while(. != null; .a))', { a: { a: 1 } })).toThrow('Cannot index number with string "a"');
  });
  it('a long loop takes no stack', () => {
    expect(run('[while(. < 100000; . + 1)] | length', 0)).toEqual([100000]);
  });
});

describe('builtins that give their input back itself keep the path (jq compares the jv)', () => {
  it.each([
    ['path(tostring)', 'a', [[]]],
    ['path(.[0] | tostring)', ['a'], [[0]]],
    ['path(tonumber)', 1, [[]]],
    ['path(ltrimstr("x")), path(rtrimstr(1))', 'a', [[], []]],
    ['path(@text), path(format("text"))', 'a', [[], []]],
    ['(.a | tostring) |= . + "y"', { a: 'x' }, [{ a: 'xy' }]],
  ])('%s', (filter, input, out) => {
    expect(run(filter, input)).toEqual(out);
  });
  it("last(f) keeps the path when its value is the input's jv (jq's identity check)", () => {
    expect(run('path(last(.)), path(last(.[0:]))', [1])).toEqual([[], []]);
    expect(run('path(last(tostring))', 'a')).toEqual([[]]);
    expect(() => run('path(last(.[1:]))', '')).toThrow('Invalid path expression with result ""');
    expect(() => run('path(last(1))', 1)).toThrow('Invalid path expression with result 1');
    expect(() => run('last(.[0:]) |= .end', [[1]])).toThrow('Cannot index array with string "end"');
  });
  it('last(f) runs f as a path expression too (its path errors surface)', () => {
    expect(run('[path(paths | last(.[])? | .[3])]', [1])).toEqual([[]]);
    expect(() => run('path(last(1 | .[]))')).toThrow('Invalid path expression near attempt to iterate through 1');
  });
  it("ascii_downcase/upcase meet their definition's path error (map over explode's array)", () => {
    expect(() => run('path(ascii_downcase)', 'a')).toThrow('Invalid path expression near attempt to iterate through [97]');
    expect(() => run('path(ascii_upcase)', '')).toThrow('Invalid path expression near attempt to iterate through []');
  });
  it('but not a new value', () => {
    expect(() => run('path(tostring)', 1)).toThrow('Invalid path expression with result "1"');
    expect(() => run('path(ltrimstr(""))', 'a')).toThrow('Invalid path expression with result "a"');
    expect(() => run('try .constructor catch (tostring %= 2)', 1)).toThrow('string ("Cannot ind...) and number (2) cannot be divided (remainder)');
  });
});

describe('destructuring order', () => {
  it("matches an array pattern's elements from the last to the first, an object's entries in order", () => {
    expect(() => run('. as [$a, [$b], {if: $k}] | 1', [1, 2, 3])).toThrow('Cannot index number with string "if"');
    expect(() => run('. as {a: [$x], b: {c: $y}} | 1', { a: 1, b: 2 })).toThrow('Cannot index number with number');
  });
  it('of several binders of one name, the one matched first gives the value', () => {
    expect(run('. as [$a, $a, $a] | $a', [1, 2, 3])).toEqual([3]);
    expect(run('. as {a: $x, b: [$x]} | $x', { a: 1, b: [2] })).toEqual([1]);
    expect(run('. as {$a, b: [$a, $a]} | $a', { a: 1, b: [2, 3] })).toEqual([1]);
    expect(run('. as [$x, {$x}] | $x', [1, { x: 2 }])).toEqual([2]);
  });
});
