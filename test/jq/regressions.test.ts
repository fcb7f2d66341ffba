// Differences from jq 1.7.1 found by the differential runs, each kept as a
// plain case with jq 1.7.1's answer.
import { describe, expect, it } from 'vitest';
import { compile, JqRuntimeError } from '../../host/jq/index.js';
import { itAnswers, itFails } from '../helpers/jq-cases.js';

const cases: Array<[string, unknown, unknown[]]> = [
  // a UTF-8 sequence cut off by the end of the data is one U+FFFD for all the bytes left
  ['@base64d', null, ['\ufffd\ufffd']],
  ['@base64d', '6Q', ['\ufffd']],
  ['@base64d', '8J+Y', ['\ufffd']],
  ['@base64d', '6WE=', ['\ufffd']], // E9 61: the lead byte wants three bytes, two are left
  ['@base64d', 'w6k=', ['é']],
  // C's modf: the fraction keeps the sign (-0 for a negative integer)
  ['modf | map(tojson)', -1, [['-0', '-1']]],
  ['modf | map(tojson)', 2.5, [['0.5', '2']]],
  // IEEE remainder, exact (x - y*rint(x/y) rounded twice and gave 0), the zero taking x's sign
  ['remainder(.; 0.1)', 1, [-5.551115123125783e-17]],
  ['[drem(-2; 2), drem(2; 2), remainder(5; 3), remainder(7; 2), remainder(-7; 2)] | map(tojson)', null, [['-0', '0', '-1', '-1', '1']]],
  ['[remainder(1; 0), remainder(infinite; 1)] | map(isnan)', null, [[true, true]]],
  ['remainder(3; infinite)', null, [3]],
  // paths(f) is path(recurse | select(f)) | select(length > 0): f also sees the input itself
  ['[paths(type == "number")]', { a: 1, b: [2] }, [[['a'], ['b', 0]]]],
  ['[paths(..)]', [[1]], [[[0], [0], [0, 0]]]],
  ['strptime("%Y")', '2020\u0000x', [[2020, 0, 1, 0, 0, 0, 3, 0]]],
  // $re is bound before $flags (scan, sub, gsub); splits collects the matches of every flags output
  ['[scan("a", "b"; "", "g")]', 'ab', [['a', 'a', 'b', 'b']]],
  ['[sub("a","b"; "x"; "g", "")]', 'ab', [['xb', 'xb', 'ax', 'ax']]],
  ['[splits("a", "b"; null, "g")]', 'ab', [['', '', 'b', 'a', '', '']]],
  ['[split("a", "b"; null, "g")]', 'ab', [[['', '', 'b'], ['a', '', '']]]],
  ["[match(\"(?'n'a)\") | .captures[0].name]", 'a', [['n']]],
  // fma rounds once
  ['[fma(0.1; 7; 0.5), fma(-0.1; 3; 0.3), fma(0.1; 0.1; -0.01), fma(1e-170; 1e-170; 1e-320)] | map(tojson)', null, [['1.2', '-2.7755575615628914e-17', '9.020562075079397e-19', '1e-320']]],
  // tgamma as musl's Lanczos approximation computes it, to the last digit
  [
    '[0.1, 0.5, 1.5, 4.7, 10.3, -0.5, -2.5, 100.5, 0.001, 23, 1e-20] | map(tgamma | tojson)',
    null,
    [
      [
        '9.51350769866873', '1.7724538509055159', '0.8862269254527583', '15.431411600047436', '716430.6890623766',
        '-3.544907701811032', '-0.9453087204829418', '9.320963104082718e+156', '999.4237724845955', '1124000727777607700000', '1e+20',
      ],
    ],
  ],
  // Bessel functions as musl's fdlibm code computes them, to the last digit
  [
    '[(10|y0), yn(0; 4), (1.5|j1), (0.5|y1), jn(5; 0.01), jn(300; 60), jn(-3; -4), yn(-3; 4), (1e-300|j1), (-1|j1), jn(2; 1e305), yn(3; 1e305), (0|j0)] | map(tojson)',
    null,
    [
      [
        '0.055671167283599395', '-0.016940739325064996', '0.5579365079100997', '-1.4714723926702433', '2.6041558159915982e-14',
        '2.2156640835390777e-173', '0.43017147387562193', '0.18202211595348503', '5e-301', '-0.4400505857449335',
        '2.519768205251382e-153', '-2.519768205251382e-153', '1',
      ],
    ],
  ],
];

const errors: Array<[string, unknown, string]> = [
  ['paths(.[])', 1, 'Cannot iterate over number (1)'],
  // jq 1.7.1's jv_aux.c parse_slice
  ['.[:"a"]', '', 'Array/string slice indices must be integers'],
  ['.[{"start": 1}]', [1, 2], 'Array/string slice indices must be integers'],
  ['setpath([{"start": 1}]; [1])', [0], 'Array/string slice indices must be integers'],
  ['fromstream(.)', [[{}], 1], 'Array/string slice indices must be integers'],
  // getpath on a value no path reached leaves the path alone (_jq_path_append)
  ['path([1] | getpath([0]))', 1, 'Invalid path expression with result 1'],
  // an empty slice is a new array, not the input (jvp_array_slice)
  ['path(last(.[0:]))', [], 'Invalid path expression with result []'],
  // jq 1.7.1 has no base32 format (src/builtin.c); gojq's @base32 is not jq's
  ['@base32', 'a', 'base32 is not a valid format'],
  ['@base32d', 'ME======', 'base32d is not a valid format'],
  // a slice's bounds run start first, then end, then the target (jq's gen_slice_index)
  ['.[.[2]:.b]', true, 'Cannot index boolean with number'],
  ['.[error("start"):error("end")]', 1, 'start'],
  // jv_get shows a string key only when it is under 30 bytes
  ['.["aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"]', 1, 'Cannot index number with string'],
  ['.["éééééééééééééé"]', 1, 'Cannot index number with string "éééééééééééééé"'],
  ['.["ééééééééééééééé"]', 1, 'Cannot index number with string'],
  ['. as {"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa": $x} | $x', 1, 'Cannot index number with string'],
  // strptime reads its input and format as C strings, up to a NUL
  ['strptime("\u0000")', '[1]', 'date "[1]" does not match format ""'],
  ['scan(add; ."")', '', 'Cannot iterate over string ("")'],
  ['strftime(.)', [], 'strftime/1 requires a string format'],
  // the path check comes before the slice's own error
  ['path(3 | .[:3])', 1, 'Invalid path expression near attempt to access element {"start":nu... of 3'],
  // execute.c INDEX dumps the key into 15 bytes
  ['(paths | .[-3:]) |= .', [1], 'Invalid path expression near attempt to access element {"start":-3... of [0]'],
  // Oniguruma's texts for bad groups, escapes, backreferences and repeat counts
  ['gsub("["; .; "n")', '', 'Regex failure: premature end of char-class'],
  ['test("(?")', 'a', 'Regex failure: end pattern in group'],
  ['test("(?i")', 'a', 'Regex failure: end pattern in group'],
  ['test("(?#")', 'a', 'Regex failure: end pattern in group'],
  ['test("(?iz)")', 'a', 'Regex failure: undefined group option'],
  ['test("(?P<a>x)")', 'a', 'Regex failure: undefined group option'],
  ['test("(?<")', 'a', 'Regex failure: end pattern with unmatched parenthesis'],
  ['test("(?<a")', 'a', 'Regex failure: invalid group name <a>'],
  ['test("(?<1a>x)")', 'a', 'Regex failure: invalid group name <1a>'],
  ['test("\\\\c")', 'a', 'Regex failure: end pattern at control'],
  ['test("(a)\\\\2")', 'a', 'Regex failure: invalid backref number/name'],
  ['test("a{2,100001}")', 'a', 'Regex failure: too big number for repeat range'],
];

describe('jq 1.7.1 answers', () => {
  itAnswers(cases);
  itFails(errors);
});

// Texts jq 1.7.1 prints for bad regexes, bad program escapes and error messages with a NUL.
describe('jq 1.7.1 texts: regex, escapes, NUL in error messages', () => {
  function failure(filter: string, input: unknown): Error {
    try {
      compile(filter).run(input);
    } catch (e) {
      return e as Error;
    }
    throw new Error(`${filter} did not fail`);
  }
  const runtime: Array<[string, unknown, string]> = [
    // Oniguruma: `(?<>` is an empty name; a leading `]` with no `]` after it is an empty class
    ['test("(?<>")', 'a', 'Regex failure: group name is empty'],
    ['test("(?<>a)")', 'a', 'Regex failure: group name is empty'],
    ['match("[]")', '', 'Regex failure: empty char-class'],
    ['match("[^]")', 'a', 'Regex failure: empty char-class'],
    ['match("x[]a")', 'a', 'Regex failure: empty char-class'],
    // jq prints the message with %s: it ends at the NUL
    ['"\\u0000" | error', null, ''],
    ['"a\\u0000b" | error', null, 'a'],
  ];
  for (const [filter, input, message] of runtime) {
    it(`${filter} fails: ${JSON.stringify(message)}`, () => {
      const e = failure(filter, input);
      expect(e).toBeInstanceOf(JqRuntimeError);
      expect(e.message).toBe(message);
    });
  }
  it('a leading ] with a later ] is a literal', () => {
    expect(compile('[match("[]a]"; "g").string]').run('a]')).toEqual([['a', ']']]);
  });
  it('try keeps the NUL in the caught value', () => {
    expect(compile('try ("a\\u0000b" | error) catch .').run(null)).toEqual(['a\u0000b']);
  });
  // jq's lexer cuts a non-ASCII character after a backslash to its lead byte: the quoted
  // run shows U+FFFD (3 bytes) and the column counts bytes
  const escapes: Array<[string, string]> = [
    ['"\\ß"', `Invalid escape at line 1, column 6 (while parsing '"\\\ufffd"') at <top-level>, line 1:`],
    ['"\\\u0301', `Invalid escape at line 1, column 6 (while parsing '"\\\ufffd"') at <top-level>, line 1:`],
    ['"ab\\ßb"', `Invalid escape at line 1, column 6 (while parsing '"\\\ufffd"') at <top-level>, line 1:`],
    ['"\\n\\ß"', `Invalid escape at line 1, column 8 (while parsing '"\\n\\\ufffd"') at <top-level>, line 1:`],
  ];
  for (const [filter, message] of escapes) {
    it(`${filter} is a compile error: ${message}`, () => {
      const e = failure(filter, null);
      expect(e.name).toBe('JqCompileError');
      expect(e.message).toBe(message);
    });
  }
});

// fromjson parses every byte of its string (jv_parse_sized), a NUL being a literal
// token byte cut off when the token is read as a number; the message quotes up to the NUL
describe('jq 1.7.1: fromjson and tonumber with a NUL', () => {
  const ok: Array<[string, unknown]> = [
    ['"1\\u00002" | fromjson', 1],
    ['"[1\\u0000]" | fromjson', [1]],
    ['"1\\u00002" | tonumber', 1],
  ];
  for (const [filter, out] of ok) it(filter, () => expect(compile(filter).run(null)).toEqual([out]));
  const fails: Array<[string, string]> = [
    ['"\\u0000" | fromjson', "Invalid numeric literal at EOF at line 1, column 1 (while parsing '')"],
    ['"MFRGG===\\u0000" | fromjson', "Invalid numeric literal at EOF at line 1, column 9 (while parsing 'MFRGG===')"],
    ['"[1,\\u0000" | fromjson', "Invalid numeric literal at EOF at line 1, column 4 (while parsing '[1,')"],
    ['"true\\u0000" | fromjson', "Invalid literal at EOF at line 1, column 5 (while parsing 'true')"],
    ['"\\u0000" | tonumber', "Expected JSON value (while parsing '')"],
  ];
  for (const [filter, message] of fails) {
    it(`${filter} fails: ${message}`, () => {
      expect(() => compile(filter).run(null)).toThrow(JqRuntimeError);
      expect(() => compile(filter).run(null)).toThrow(message);
    });
  }
});

// jq checks a constant object key when the pair is reduced: after its value is read,
// so a syntax error inside the value comes first; object constants fold too
describe('jq 1.7.1: constant object keys and syntax errors', () => {
  const cases: Array<[string, string]> = [
    ['{(0):[)', 'syntax error, unexpected INVALID_CHARACTER (Unix shell quoting issues?) at <top-level>, line 1:'],
    ['{(0):"', 'syntax error, unexpected end of file, expecting QQSTRING_TEXT or QQSTRING_INTERP_START or QQSTRING_END (Unix shell quoting issues?) at <top-level>, line 1:'],
    ['{(0):(1}', 'syntax error, unexpected INVALID_CHARACTER (Unix shell quoting issues?) at <top-level>, line 1:'],
    ['{(0):1 2}', 'Cannot use number (0) as object key at <top-level>, line 1:'],
    ['{(0):1)', 'Cannot use number (0) as object key at <top-level>, line 1:'],
    ['{(.): " "}, {({"__proto__": ""}): ""}', 'Cannot use object ({"__proto__...) as object key at <top-level>, line 1:'],
  ];
  for (const [filter, message] of cases) {
    it(`${filter} is a compile error: ${message}`, () => {
      let error: unknown = null;
      try {
        compile(filter);
      } catch (e) {
        error = e;
      }
      expect((error as Error).name).toBe('JqCompileError');
      expect((error as Error).message).toBe(message);
    });
  }
});

// Oniguruma's Unicode [[:alpha:]] is the Alphabetic property: not every mark (U+0301, U+20DD),
// but some symbols (U+24B6) and marks (U+0345, U+0903)
describe('jq 1.7.1: [[:alpha:]] on Unicode text', () => {
  const input = '\u0301\u0345\u2160\u0903\u20dd\u00aa\u24b6a';
  it('[[:alpha:]]', () =>
    expect(compile('[explode[] | [.] | implode | test("[[:alpha:]]")]').run(input)).toEqual([[false, true, true, true, false, true, true, true]]));
  it('[[:^alpha:]]', () =>
    expect(compile('[explode[] | [.] | implode | test("[[:^alpha:]]")]').run(input)).toEqual([[true, false, false, false, true, false, false, false]]));
  it('[[:alnum:]]', () =>
    expect(compile('[explode[] | [.] | implode | test("[[:alnum:]]")]').run(input + '\u0663\u00b2')).toEqual([[false, true, true, true, false, true, true, true, true, false]]));
  it('a combining mark after an emoji is not a letter', () =>
    expect(compile('split("[[:alpha:]]+"; "x")').run('😀\u0301')).toEqual([['😀\u0301']]));
});

describe('jq 1.7.1 answers: object keys starting with U+0000, update paths, path-keeping builtins', () => {
  const outputs: [string, unknown, unknown[]][] = [
    // "\u0000" is a key of its own, not the empty key
    ['.["\\u0000"], has("\\u0000"), has("")', { '': 9 }, [null, false, true]],
    ['rindex("\\u0000"), index("\\u0000")', { '': 9 }, [null, null]],
    ['.["\\u00000"], has("\\u00000")', { '0': 1 }, [null, false]],
    ['{"\\u0000": 9} | .["\\u0000"], has("\\u0000"), has("")', null, [9, true, false]],
    // musl's exp10: a table power of ten times exp2 of the rest
    ['pow10, exp10', 1.5, [31.62277660168379, 31.62277660168379]],
    ['@base64 "\\(pow10)"', 1.5, ['MzEuNjIyNzc2NjAxNjgzNzk=']],
    ['[pow10, exp10]', -3, [[0.001, 0.001]]],
    // an integer exponent rounds once
    ['pow(10000000000000000000; -3), pow(10; -57), pow(-3; 41)', null, [1e-57, 1e-57, -36472996377170786403]],
    // _modify's break retried by a `?//` whose next alternative gives nothing: its delete branch runs on null
    ['[.[0] |= (. as [$x] ?// $x | select($x == 1))]', [[1]], [[null]]],
    ['[(.[0], .[1]) |= (. as $x ?// [$x] | empty)]', [5, null], [[[]]]],
    // with `?//` alternatives every binder of a name stores: the one matched last (an array's first) wins
    ['path(.b) as [$v, $z, $v] ?// {$a, $x} | $v', null, ['b']],
    ['{"v": 1, "w": 2} as {$v, w: $v} ?// [$v] | $v', null, [2]],
    ['["b", null] as [$v, $v] | $v', null, [null]],
    // C's pow(1, y) and pow(-1, ±inf) are 1; modf keeps the sign of -0
    ['[pow(1; 1e1000), pow(1; nan), pow(-1; -1e1000), pow(nan; 0)]', null, [[1, 1, 1, 1]]],
    ['-0 | modf | map(tostring)', null, [['-0', '-0']]],
  ];
  const failures: [string, unknown, string][] = [
    ['pow(10000000000000000000;-3)-to_entries', [], 'number (1e-57) and array ([]) cannot be subtracted'],
    // jv_setpath sets each level's key to null before going deeper, so a bad index fails before the slice below it
    ['getpath([3,-1,{"start":1,"end":null}]) = 1', [], 'Out of bounds negative array index'],
    ['getpath([-2,1,{"start":1,"end":null}]) |= .', [], 'Out of bounds negative array index'],
    ['setpath([{"start":0,"end":1}, -5]; 1)', [1], 'Out of bounds negative array index'],
    // _modify's break after the update's first output makes a `?//` in it retry its next alternative
    ['.[5] |= (. as $x ?// {"0": $v, "é": $z} | .)', [], 'Paths must be specified as an array'],
    ['[(.a, .b) |= (. as [$x] ?// $x | 2)]', { a: [1], b: 3 }, 'Paths must be specified as an array'],
    // an error from a recursive call in tail position still reaches the `?//` before it
    ['def rec0($n): (.[] as $z ?// [$z, $y, $k] | false) | rec0(.); rec0(1)', { c: 1, toString: '' }, 'Cannot index number with number'],
    // jq's collect runs its body with path tracking on: a step on a value reached by no path fails as such
    ['[@html[]] = 1', 1, 'Invalid path expression near attempt to iterate through "1"'],
    ['path(.a | [.b, (1|.c)])', null, 'Invalid path expression near attempt to access element "c" of 1'],
    ['path([.a])', { a: 1 }, 'Invalid path expression with result [1]'],
    // jv_get on null: only a string, number or slice key gives null
    ['fromstream(.)', [[[], {}], 1], 'Cannot index null with array'],
    ['setpath(["a", true]; 1)', null, 'Cannot index null with boolean'],
  ];
  itAnswers(outputs);
  itFails(failures);
});

describe('jq 1.7.1 compile errors: the first one jq reports', () => {
  // jq's grammar wants a Term after reduce/foreach; `'-' Exp` is an Exp, so the `-` itself is unexpected
  const syntaxErrors: [string, string][] = [
    ['reduce-3)', "syntax error, unexpected '-' (Unix shell quoting issues?) at <top-level>, line 1:"],
    ['foreach-3)', "syntax error, unexpected '-' (Unix shell quoting issues?) at <top-level>, line 1:"],
    ['reduce -(3) as $x (0;1)', "syntax error, unexpected '-' (Unix shell quoting issues?) at <top-level>, line 1:"],
    // a backslash then a 3- or 4-byte character: jq's UTF-8 repair of the quoted run swallows its closing quote
    ['"\\😀', `Unfinished string at EOF at line 1, column 5 (while parsing '"\\\uFFFD') at <top-level>, line 1:`],
    ['"\\€x"', `Unfinished string at EOF at line 1, column 5 (while parsing '"\\\uFFFD') at <top-level>, line 1:`],
    ['"\\n\\😀', `Unfinished string at EOF at line 1, column 7 (while parsing '"\\n\\\uFFFD') at <top-level>, line 1:`],
    // a 2-byte character keeps the quote
    ['"\\ß"', `Invalid escape at line 1, column 6 (while parsing '"\\\uFFFD"') at <top-level>, line 1:`],
  ];
  for (const [filter, message] of syntaxErrors) {
    it(`${filter} fails: ${message}`, () => expect(() => compile(filter)).toThrow(message));
  }
});

describe('jq 1.7.1 compile errors: which undefined name comes first', () => {
  // jq checks a function's own code first, then the sub-functions it made (closure arguments of
  // jq-defined functions, both sides of = and |=, the left side of +=, def bodies), depth-first
  const firstUndefined: [string, string][] = [
    ['((.)=endswi|th)', 'th/0'],
    ['(try nexttoward(4;([])) catch (label $t | (.|= break $o,ut)?))?', 'ut/0'],
    ['f(a;b)', 'f/2'],
    ['map(a) | b', 'b/0'],
    ['a + b', 'a/0'],
    ['def f: x; f | y', 'y/0'],
    ['path(a) , b', 'b/0'],
    ['break $o | x', '$*label-o'],
    ['.a += (q) | r', 'q/0'],
    ['(.a|x) += 1 | r', 'r/0'],
    ['(. = (a | (. |= b))) | c', 'c/0'],
    ['(. = (a | (. |= b)))', 'a/0'],
    ['(. = (. |= b)), $v', '$v'],
  ];
  for (const [filter, name] of firstUndefined) {
    it(`${filter} fails: ${name} is not defined`, () =>
      expect(() => compile(filter)).toThrow(`${name} is not defined at <top-level>, line 1:`));
  }
});

describe('jq 1.7.1 syntax errors: a keyword that cannot start a Term', () => {
  // after reduce/foreach jq's grammar wants a Term: if, reduce, foreach, try, label and def start
  // an Exp that is none, so bison reports that keyword itself; `break` is a keyword token, so
  // `. break` has no `. name` recovery either
  const unexpectedKeyword: [string, string][] = [
    ['foreach def f(g):.;f)', 'def'],
    ['reduce if as', 'if'],
    ['reduce if. then. end,', 'if'],
    ['reduce if""as$x(', 'if'],
    ['reduce try 1 as $x (0;0)', 'try'],
    ['reduce label $f | 1 as $x (0;0)', 'label'],
    ['foreach foreach', 'foreach'],
    ['. break$o', 'break'],
    ['. break', 'break'],
  ];
  for (const [filter, keyword] of unexpectedKeyword) {
    it(`${filter} fails: unexpected ${keyword}`, () =>
      expect(() => compile(filter)).toThrow(
        `syntax error, unexpected ${keyword} (Unix shell quoting issues?) at <top-level>, line 1:`,
      ));
  }
  it('reduce of a parenthesised if still runs', () =>
    expect(compile('reduce (if . then 1 else 2 end) as $x (0; . + $x)').run(1)).toEqual([1]));
});

describe('jq 1.7.1 error texts: @base64d and Oniguruma', () => {
  const errors: [string, unknown, string][] = [
    // jq decodes up to the first '=' whatever follows it
    ['@base64d "\\(add)"', ['MFRGG===', '0'], 'string ("MFRGG===0") trailing base64 byte found'],
    // (?) names no option
    ['splits("(?)A")', '', 'Regex failure: undefined group option'],
    // an unclosed class, even after a '{' that RegExp's u mode would reject first
    ['try min catch capture(.; "n")', { if: [1e308] }, 'Regex failure: premature end of char-class'],
    // Oniguruma parses left to right: a stray ')' before an unclosed class; backreferences last
    ['test(")[")', '', 'Regex failure: unmatched close parenthesis'],
    ['test("\\\\1[")', '', 'Regex failure: premature end of char-class'],
  ];
  for (const [filter, input, message] of errors) {
    it(`${filter} on ${JSON.stringify(input)} fails: ${message}`, () =>
      expect(() => compile(filter).run(input)).toThrow(message));
  }
  it('@base64d stops at the first "="', () => expect(compile('@base64d').run('YQ==YWJj')).toEqual(['a']));
  it('(?-) and (?i) are options', () => expect(compile('[test("(?-)a"), test("(?i)A")]').run('a')).toEqual([[true, true]]));
});

describe('jq 1.7.1 path expressions: recurse after a value that has no path', () => {
  // `..` is recurse(.[]?): EACH_OPT checks the path first, so no `?` hides the error
  const errors: [string, unknown, string][] = [
    ['path(last(tostring | ..))', [1, ''], 'Invalid path expression near attempt to iterate through "[1,\\"\\"]"'],
    ['path(last([1] | ..))', 1, 'Invalid path expression near attempt to iterate through [1]'],
    [
      'path((((.[] | .[]) | last(."")) | recurse) // .)',
      [[{}], ['a,b;c', [[-3, 9007199254740993, '\\', '[1,2]']]]],
      'Invalid path expression near attempt to iterate through null',
    ],
  ];
  for (const [filter, input, message] of errors) {
    it(`${filter} fails: ${message}`, () => expect(() => compile(filter).run(input)).toThrow(message));
  }
  it('path(..) still lists every path', () => expect(compile('[path(..)]').run([[1]])).toEqual([[[], [0], [0, 0]]]));
});

describe('jq 1.7.1 ?// inside recurse: a break downstream retries the next alternative', () => {
  // limit's break is an error to the ?// in recurse's filter (jq's label is try/catch): each
  // pending ?// runs its next alternative, so limit(3; ...) prints more than three
  const cases: [string, unknown, unknown[]][] = [
    ['limit(3; recurse(. as $y ?// {c: $x} | .))', {}, [{}, {}, {}, {}, {}]],
    ['limit(3; recurse(null as {("a"): [$v, [$v, $v, $z]]} ?// [$x] | .))', 1, [1, 1, 1, 1, 1]],
    ['[recurse(.[]? as [$a] ?// $a | $a)]', [[1], [[2]]], [[[[1], [[2]]], 1, [2], 2]]],
    ['[limit(5; recurse(if . < 3 then .+1 else empty end))]', 0, [[0, 1, 2, 3]]],
  ];
  itAnswers(cases);
});

describe('jq 1.7.1 ?// in the paths of an arithmetic update', () => {
  // an update's error reaches the ?// in the paths, whose next alternative runs after the
  // reduce state was moved out: _modify ends in delpaths(null)
  const errors: [string, unknown, string][] = [
    ['(.if | select(0 as $x ?// $y | $x)) /= 4', {}, 'Paths must be specified as an array'],
    ['(.[] | select(. as $x ?// $y | $x)) -= 1', [1, 'a', 2], 'Paths must be specified as an array'],
    ['(.[] | select(. as [$x] ?// $x | $x)) -= 1', ['a', 1], 'string ("a") and number (1) cannot be subtracted'],
  ];
  for (const [filter, input, message] of errors) {
    it(`${filter} on ${JSON.stringify(input)} fails: ${message}`, () => expect(() => compile(filter).run(input)).toThrow(message));
  }
  it('without an error the update is plain', () =>
    expect(compile('(.a | select(0 as $x ?// $y | $x)) += 4').run({})).toEqual([{ a: 4 }]));
});

describe('jq 1.7.1 hypot: the libm result, which y1 near a zero amplifies', () => {
  const cases: [string, unknown][] = [
    ['hypot(.; 100)', 100.00499987500625],
    ['yn(1; hypot(.; 100))', -0.02075723947950084],
    ['hypot(1e300; 1e300)', 1.4142135623730952e300],
    ['hypot(1e-300; 1e-300)', 1.414213562373095e-300],
    ['hypot(nan; infinite)', 1.7976931348623157e308],
    ['hypot(5e-324; 5e-324)', 5e-324],
    ['hypot(1.5; 2.7)', 3.0886890422961004],
  ];
  for (const [filter, out] of cases) it(`${filter} on 1`, () => expect(compile(filter).run(1)).toEqual([out]));
});

describe('jq 1.7.1 setpath with an array key: read as indices, then refused by jv_set before going deeper', () => {
  itFails([
    ['setpath(.; .)', [[], ''], 'Cannot update field at array index of array'],
    ['setpath([[]]; 1)', [1], 'Cannot update field at array index of array'],
    ['setpath([[3]]; 1)', [1], 'Cannot update field at array index of array'],
    ['.[[1]] = 5', [1, 2], 'Cannot update field at array index of array'],
    ['setpath([[1]]; 1)', null, 'Cannot index null with array'],
  ]);
  itAnswers([['getpath([[3]])', [1], [[]]]]);
});

describe('jq 1.7.1 ?// in the condition or update of while/until', () => {
  // each step runs inside the cond and update outputs it came from: the break of first/limit/label
  // (or an error) after an output makes their ?// run its next alternative, whose error surfaces
  itFails([
    ['first(while(. as $k ?// [[$y, $v], [$x], $z] | .; .))', '', 'Cannot index string with number', ['']],
    ['first(while(. as $k ?// [$z] | true; .))', '', 'Cannot index string with number', ['']],
    ['limit(1; while(. as $k ?// [$z] | .; .))', '', 'Cannot index string with number', ['']],
    ['label $out | while(. as $k ?// [$z] | true; .) | ., break $out', '', 'Cannot index string with number', ['']],
    ['first(until(. as $k ?// [$z] | true; .))', '', 'Cannot index string with number', ['']],
    ['isempty(while(. as $k ?// [$z] | true; .))', '', 'Cannot index string with number', [false]],
  ]);
  itAnswers([
    // the next alternative succeeds: the rest runs again, the output twice
    ['[first(while(. as $k ?// [$z] | true; .))]', [], [[[], []]]],
    ['[first(until(. as $k ?// [$z] | true; .))]', [], [[[], []]]],
    ['[limit(2; while(. as $k ?// [$z] | length < 3; . + [1]))]', [], [[[], [1], [1], []]]],
    ['[limit(3; while(length < 3; . as [$z] ?// $k | $k + [1]))]', [], [[[], [1], [1], [1, 1], [1]]]],
    // the first alternative fails: nothing to retry
    ['[first(until(. as [$z] ?// $k | true; .))]', '', [['']]],
    ['[limit(2; while(. < 3; . as [$z] ?// $k | $k + 1))]', 0, [[0, 1]]],
    ['[while(. < 3; . as [$z] ?// $k | $k + 1)]', 0, [[0, 1, 2]]],
    ['[until(. > 3; . as [$z] ?// $k | $k + 1)]', 0, [[4]]],
    ['[first(while(. as $k ?// [$z] | true; .))?]', '', [['']]],
    ['try first(while(. as $k ?// [$z] | true; .)) catch "c"', '', ['', 'c']],
    ['[path(first(while(. as [$a] ?// $k | true; .[0])))]', [[1]], [[[], []]]],
    ['[path(limit(2; while(. as [$a] ?// $k | true; .a)))]', { a: [1] }, [[[], ['a'], ['a']]]],
    ['any(while(. as [$z] ?// $k | true; .); true)', 0, [true]],
    // a long loop: nested for its first steps, then stackless
    ['[while(. < 3000; . as [$z] ?// $k | $k + 1)] | length', 0, [3000]],
    ['[until(. > 3000; . as [$z] ?// $k | $k + 1)]', 0, [[3001]]],
    ['[limit(250; while(true; . as [$z] ?// $k | $k + 1))] | length', 0, [250]],
  ]);
});

describe('jq 1.7.1 ?// in the paths of |= and =', () => {
  // each path is updated as it is generated: an update's error makes the paths' ?// retry its
  // next alternative, after the reduce state was moved out (what the retry generates meets null)
  itFails([
    ['(select(2 as $k ?// [{b: $v, a: $v}, $v, $k] | .) | .[-2]) |= .', [], 'Cannot index number with number'],
    ['(select(2 as $k ?// [$k] | .) | .[-2]) |= .', [], 'Cannot index number with number'],
    ['(select(2 as $k ?// [$k] | .) | .[-2]) = 1', [], 'Cannot index number with number'],
    ['(.[] | select(. as $k ?// [$k] | true)) |= . + 1', [1, 'a'], 'Cannot index string with number'],
    ['(.[] | select(. as $k ?// $k | true)) |= . + 1', [1, 'a'], 'Paths must be specified as an array'],
    ['(.[] | select(. as $k ?// $k | true)) |= . + 1', ['a', 1], 'Paths must be specified as an array'],
    ['(.a, .b | select(. as $k ?// $k | true)) |= . + 1', { a: 'x' }, 'Paths must be specified as an array'],
    ['(.[] | .[] | select(. as $k ?// $k | true)) |= if . == 2 then error("two") else . end', [[1, 2]], 'Paths must be specified as an array'],
    // the first alternative fails: no retry
    ['(select(2 as $k ?// $k | .) | .[-2]) |= .', [], 'Out of bounds negative array index'],
    ['(select(2 as [$k] ?// $k | .) | .[-2]) = 1', [], 'Out of bounds negative array index'],
  ]);
  itAnswers([
    ['(.[] as [$k] ?// $k | .[$k]) |= 5', [1, 2], [[1, 5, 5]]],
    ['(.[] | select(. as [$k] ?// $k | $k > 1)) |= . + 1', [1, 2], [[1, 3]]],
    ['(.a, .b | select(. as $k ?// $k | true)) |= empty', { a: 'x' }, [{}]],
    ['(.[] | select(. as $k ?// [$k] | $k > 1)) |= empty', [1, 2, 3], [[1]]],
    ['(.[] | select(. as $k ?// $k | true)) = (3, 4)', [1, 'a'], [[3, 3], [4, 4]]],
    ['try ((.[] | select(. as $k ?// $k | true)) |= (. + 1)) catch .', { a: 'x', b: 2 }, ['Paths must be specified as an array']],
  ]);
});

describe('jq 1.7.1 ?// alternatives in the patterns of reduce and foreach', () => {
  itAnswers([
    ['reduce (1,2) as $x ?// [$z] (0; . + $x)', null, [3]],
    ['reduce .[] as [$x] ?// $x (0; . + $x)', [[1], 2, [3]], [6]],
    ['[foreach .[] as [$x] ?// $x (0; . + $x; [., $x])]', [[1], 2, [3]], [[[1, 1], [3, 2], [6, 3]]]],
    ['reduce .[] as {$a} ?// [$a] (0; . + $a)', [{ a: 1 }, [2]], [3]],
    ['[foreach .[] as {$a} ?// [$a] ?// $a (0; . + $a; $a)]', [{ a: 1 }, [2]], [[1, 2]]],
    ['def f: "a"; reduce .[] as {(f): $x} ?// [$x] ?// $x (0; . + $x)', [1], [1]],
    // an update's error retries the next alternative, on the state moved out: null
    ['reduce .[] as $x ?// $x (0; . + $x)', [1, 'a'], ['a']],
    ['[foreach .[] as $x ?// $x (0; . + $x)]', [1, 'a'], [[1, 'a']]],
    ['reduce .[] as $x ?// $x (0; if $x == 2 and . != null then error("e") else . + $x end)', [1, 2], [2]],
    ['first(foreach .[] as [$x] ?// $x (0; . + $x))', [1, 2], [1]],
  ]);
  itFails([
    ['reduce .[] as $x ?// [$x] (0; . + $x)', [1, 'a'], 'Cannot index string with number'],
    ['[foreach .[] as $x ?// [$x] (0; . + $x)]', [1, 'a'], 'Cannot index string with number'],
    // the break of limit retries the next alternative, whose error surfaces
    ['[limit(1; foreach .[] as $x ?// [$x] (0; . + $x))]', [1, 2], 'Cannot index number with number'],
  ]);
  it('a ?// with no pattern after it is a syntax error', () =>
    expect(() => compile('reduce .[] as [$x] ?// (0; .)')).toThrow("syntax error, unexpected '(', expecting BINDING or '[' or '{'"));
});

describe('jq 1.7.1 ?// in the arguments of recurse(f; cond): a downstream error or break retries them', () => {
  itFails([
    ['recurse(. as $k ?// $z | $z; modf)', {}, 'object ({}) number required'],
    ['[limit(3; recurse("a" as $k ?// {"constructor": $x, $x} | .; .))] as {$b} | .', 1, 'Cannot index string with string "constructor"'],
    ['first(recurse(. as [$k] ?// $k | $k + 1; . < 5)) | .[0]', 1, 'Cannot index number with number'],
  ]);
  itAnswers([
    ['[recurse(if . < 3 then . + 1 else empty end; . as [$a] ?// $a | true)]', 0, [[0, 1, 2, 3]]],
    ['[limit(5; recurse(. as [$a] ?// $a | $a + 1; . < 3))]', 0, [[0, 1, 2]]],
    ['[recurse(.[]?; . as [$x] ?// $x | true)]', [[1], [2, [3]]], [[[[1], [2, [3]]], [1], 1, [2, [3]], 2, [3], 3]]],
    // a recurse/2 of the program's own is called as written
    ['def recurse(f; g): 7; recurse(. as $k ?// $z | $z; modf)', {}, [7]],
  ]);
});

describe('jq 1.7.1 destructuring in a path expression: each element a pattern reads is a path step (INDEX)', () => {
  itAnswers([
    ['path(. as [$k] | $k)', [1], [[0]]],
    ['path(. as {$a} | $a)', {"a":1}, [["a"]]],
    ['path(. as $x | $x)', [1], [[]]],
    ['path(null as [$a, $b] | $a)', null, [[1,0]]],
    ['path(. as [$a, $b] | $a)', null, [[1,0]]],
    ['path(. as {a: [$x]} | $x)', {"a":[5]}, [["a",0]]],
    ['path(. as {a: [$x]} | $x | .b)', {"a":[{"b":1}]}, [["a",0,"b"]]],
    ['path(. as {$a: [$x]} | $x)', {"a":[5]}, [["a",0]]],
    ['path(. as [[$k]] | $k)', [[1]], [[0,0]]],
    ['path(. as [$k] | $k | .[0])', [[1]], [[0,0]]],
    ['path(. as [$k] | $k as [$j] | $j)', [[1]], [[0,0]]],
    ['path(. as [$k] ?// $k | $k)', [1], [[0]]],
    ['path(. as [$k] ?// $k | $k)', 1, [[]]],
    ['path(. as {("a","b"): $x} | $x)', {"a":1,"b":2}, [["a"], ["b"]]],
    ['[paths] | length', [[1]], [2]],
    ['try path(. as [$k] | 1) catch .', [1], ["Invalid path expression with result 1"]],
    ['del(. as [$k] | $k)', [1,2], [[2]]],
    ['(. as [$k] | $k) |= 5', [1,2], [[5,2]]],
    ['to_entries', [1], [[{"key":0,"value":1}]]],
  ]);
  itFails([
    ['path(. as [$k] | .)', [1], 'Invalid path expression with result [1]'],
    ['[paths(. as [$k] | true)]', [[1]], 'Cannot index number with number'],
    ['path(.[] as [$k] | $k)', [[1]], 'Invalid path expression near attempt to access element 0 of [1]'],
    ['path(. as [$a, $b] | $a)', [1,2], 'Invalid path expression near attempt to access element 0 of [1,2]'],
    ['path(. as [$a, $b] | $b)', [1,2], 'Invalid path expression near attempt to access element 0 of [1,2]'],
    ['path(. as {$a: [$x]} | $a)', {"a":[5]}, 'Invalid path expression with result [5]'],
    ['path(. as [$k] | . as [$j] | $j)', [[1]], 'Invalid path expression near attempt to access element 0 of [[1]]'],
    ['path(. as [$k] | .[0])', [1], 'Invalid path expression near attempt to access element 0 of [1]'],
    ['path(.a as [$k] | $k)', {"a":[1]}, 'Invalid path expression near attempt to access element 0 of [1]'],
    ['path(. as [$a] | $a)', 5, 'Cannot index number with number'],
    ['path(. as [$a] | $a)', "s", 'Cannot index string with number'],
    ['path(. as [$x] | getpath([]))', [1], 'Invalid path expression with result [1]'],
    ['path(. as {$a} | $a)', 1, 'Cannot index number with string "a"'],
  ]);
});

describe('jq 1.7.1 has on an array reads the index as a C int (jv_array_get(t, (int)k))', () => {
  itAnswers([
    ['[has(-1e-5), has(-0.5), has(-1), has(0.9), has(1), has(1.9), has(nan), has(1e10), has(-1e10), has(2147483647)]', [1, 2], [[true, true, false, true, true, true, false, false, false, false]]],
  ]);
  itFails([['has(-1e-5) | unique', [1], 'Cannot iterate over boolean (true)']]);
});

describe('jq 1.7.1 sorts keys holding nan with musl qsort steps (jv_cmp orders nan below nan both ways)', () => {
  itAnswers([
    ['def rec0(g; $n): group_by(nan); [rec0(.; 0)]', [1,0], [[[[1],[0]]]]],
    ['group_by(drem(1e1000; 1))', [1,0], [[[1],[0]]]],
    ['[.[] | [., nan]] | sort', [3,1,2,5,4], [[[1,null],[2,null],[3,null],[4,null],[5,null]]]],
    ['sort_by(nan)', [3,1,2,5,4,9,8,7,6,0], [[3,2,1,4,5,9,6,7,8,0]]],
    ['sort_by(if . % 2 == 0 then nan else . end)', [3,1,2,5,4,9,8,7,6,0,11,15,13,12,14], [[2,12,0,8,4,6,14,1,3,5,7,9,11,13,15]]],
    ['group_by(if . % 3 == 0 then nan else . % 3 end)', [3,1,2,5,4,9,8,7,6,0,11,15,13,12,14], [[[3],[6],[15],[9],[0],[12],[1,4,7,13],[2,5,8,11,14]]]],
    ['unique_by(if . % 2 == 0 then nan else . end)', [3,1,2,5,4,9,8,7,6,0], [[2,6,8,0,4,1,3,5,7,9]]],
    ['[.[] | if . % 2 == 0 then nan else . end] | sort', [3,1,2,5,4,9,8,7,6,0], [[null,null,null,null,null,1,3,5,7,9]]],
    ['[.[] | if . % 2 == 0 then nan else . end] | unique', [3,1,2,5,4,9,8,7,6,0], [[null,null,null,null,null,1,3,5,7,9]]],
    ['[range(40) | [(. * 7 % 11), nan]] | sort | map(.[0])', null, [[0,0,0,0,1,1,1,2,2,2,2,3,3,3,3,4,4,4,5,5,5,6,6,6,6,7,7,7,7,8,8,8,9,9,9,9,10,10,10,10]]],
    ['[range(100) | if . % 7 == 0 then nan else (. * 37 % 101) end] | sort', null, [[null,null,null,null,null,null,null,null,null,null,null,null,null,null,null,1,2,3,4,5,6,7,9,10,11,12,14,15,16,17,18,19,20,22,23,24,25,27,28,29,30,31,32,33,35,36,37,38,40,41,42,43,44,45,46,47,48,49,50,51,53,54,55,56,58,59,60,61,62,63,66,67,68,69,71,72,73,74,75,76,77,79,80,81,82,84,85,86,87,88,89,90,92,93,94,95,97,98,99,100]]],
    ['sort_by(.a)', [{"a":2},{"a":1},{"a":2,"b":1},{"a":0}], [[{"a":0},{"a":1},{"a":2},{"a":2,"b":1}]]],
  ]);
});

describe('jq 1.7.1 reduce stores each output of its update as it comes: a ?// retry in the source sees the last one', () => {
  itAnswers([
    ['reduce (. as [$k] ?// $k | 1) as $z (5; empty)', null, [null]],
    ['try (reduce (. as [$k] ?// $k | 1) as $z (5; 7, error("e"))) catch .', null, ["e"]],
    ['reduce .[] as $x (0; . + $x)', [1,2,3], [6]],
    ['reduce .[] as [$x] ?// $x (0; . + $x)', [[1],2,[3]], [6]],
    ['reduce .[] as $x ?// $x (0; . + $x)', [1,"a"], ["a"]],
  ]);
  itFails([
    ['(1).b = reduce (. as {a: $k} ?// {$a} | 0) as $z (0; ., .[1])', null, 'Cannot index number with number'],
    ['reduce (. as {a: $k} ?// {$a} | 0) as $z (0; ., .[1])', null, 'Cannot index number with number'],
    ['reduce (. as [$k] ?// $k | 1, 2) as $z (0; . + $z, error("x"))', null, 'x'],
    ['[foreach (. as [$k] ?// $k | 1, 2) as $z (0; . + $z, error("x"))]', null, 'x'],
    ['reduce (. as [$k] ?// $k | 1) as $z (5; ., error("e"))', null, 'e'],
  ]);
});

describe('jq 1.7.1 ?// right after a bare `.` is an error in the state after `.` (no expecting list)', () => {
  const cases: [string, string][] = [
    ['.?//', 'syntax error, unexpected ?// (Unix shell quoting issues?) at <top-level>, line 1:'],
    ['[.?//]', 'syntax error, unexpected ?// (Unix shell quoting issues?) at <top-level>, line 1:'],
    // after a complete term the list is the state's own
    ['.[]?//', 'syntax error, unexpected ?//, expecting end of file (Unix shell quoting issues?) at <top-level>, line 1:'],
  ];
  for (const [filter, message] of cases) it(filter, () => expect(() => compile(filter)).toThrow(message));
});

describe("jq 1.7.1's parser reads a leading character whose UTF-8 starts like a BOM (U+F000..U+FFFF) as a malformed BOM", () => {
  itAnswers([
    ['fromjson', '\ufeff1', [1]],
    ['[.[] | try fromjson catch .]', ['\ue000', '\uf8ff', ' \uf000'], [[
      "Invalid numeric literal at EOF at line 1, column 3 (while parsing '\ue000')",
      "Malformed BOM (while parsing '\uf8ff')",
      "Invalid numeric literal at EOF at line 1, column 4 (while parsing ' \uf000')",
    ]]],
  ]);
  itFails([
    ['@base64d | fromjson', null, "Malformed BOM (while parsing '\ufffd\ufffd')"],
    ['fromjson', '\uf000', "Malformed BOM (while parsing '\uf000')"],
    ['fromjson', '\ufec01', "Malformed BOM (while parsing '\ufec01')"],
    ['tonumber', '\uffff1', "Malformed BOM (while parsing '\uffff1')"],
    ['fromjson', '\uefff', "Invalid numeric literal at EOF at line 1, column 3 (while parsing '\uefff')"],
  ]);
});

describe('jq 1.7.1 numbers the labels its definitions enter (first, isempty, any/all, limit, nth, one per path of |= and op=), and _modify in a path expression', () => {
  itAnswers([
    ['first(label $l0 | try (break $l0) catch .)', 1, [{"__jq":1}]],
    ['[first(1), (label $a | try break $a catch .)]', null, [[1,{"__jq":1}]]],
    ['[isempty(empty), (label $a | try break $a catch .)]', null, [[true,{"__jq":1}]]],
    ['[any(.[]; .), (label $a | try break $a catch .)]', [1], [[true,{"__jq":1}]]],
    ['[all(.[]; .), any, all, any(.), all(.), (label $a | try break $a catch .)]', [1], [[true,true,true,true,true,{"__jq":5}]]],
    ['[limit(2; 1, 2), (label $a | try break $a catch .)]', null, [[1,2,{"__jq":1}]]],
    ['[limit(0; 1, 2), limit(-1; 1), (label $a | try break $a catch .)]', null, [[1,{"__jq":0}]]],
    ['[nth(1; 1, 2), (label $a | try break $a catch .)]', null, [[2,{"__jq":1}]]],
    ['[(.[] |= . + 1), (label $a | try break $a catch .)]', [1,2,3], [[[2,3,4],{"__jq":3}]]],
    ['[(.[] += 1), (label $a | try break $a catch .)]', [1,2,3], [[[2,3,4],{"__jq":3}]]],
    ['[(.[] //= 1), (label $a | try break $a catch .)]', [1,null,3], [[[1,1,3],{"__jq":3}]]],
    ['[(.[] = 1), (label $a | try break $a catch .)]', [1,2,3], [[[1,1,1],{"__jq":0}]]],
    ['[IN(1, 2), IN(.[]; 5), (label $a | try break $a catch .)]', [1], [[false,false,{"__jq":2}]]],
    ['[.[] |= (label $a | try break $a catch .)]', [1,2], [[[{"__jq":1},{"__jq":3}]]]],
    ['[limit("a"; 1)?, (label $a | try break $a catch .)]', null, [[{"__jq":1}]]],
    ['try path(.a |= 1) catch .', {"a":0}, ["Invalid path expression near attempt to access element 0 of [{\"a\":1},[]]"]],
  ]);
  itFails([
    ['sin[(.[]|=."") = reduce . as $k (4; $k)]', [["x"]], 'Invalid path expression near attempt to access element "" of ["x"]'],
    ['path(.[] |= ."")', [["x"]], 'Invalid path expression near attempt to access element "" of ["x"]'],
    ['path(.[] |= .)', [1], 'Invalid path expression near attempt to access element 0 of [[1],[]]'],
    ['path(.[] += 1)', [1], 'Invalid path expression near attempt to access element 0 of [[2],[]]'],
    ['path(.[] |= empty)', [1], 'Invalid path expression near attempt to access element 0 of [[1],[[0]]]'],
    ['path(.[] //= 3)', [null], 'Invalid path expression near attempt to access element 0 of [[3],[]]'],
    ['path(.a |= (.b, .c))', {"a":{}}, 'Invalid path expression near attempt to access element "b" of {}'],
    ['[paths(.[] |= 1)]', [[1]], 'Cannot iterate over number (1)'],
    ['path(.a = 1)', {"a":0}, 'Invalid path expression with result {"a":1}'],
    ['del(.[] |= 1)', [1], 'Invalid path expression near attempt to access element 0 of [[1],[]]'],
    ['to_entries | path(.[] |= .)', [1], 'Invalid path expression near attempt to access element 0 of [[{"key":0,"value":1}],[]]'],
  ]);
});

describe('jq 1.7.1 -E is E | _negate: E runs in the path expression', () => {
  itAnswers([
    ['try path(-(.a | .b)) catch .', {"a":1}, ["Cannot index number with string \"b\""]],
    ['-(.a,.b)', {"a":1,"b":2}, [-1, -2]],
  ]);
  itFails([
    ['path((-4 .d))', 7, 'Invalid path expression near attempt to access element "d" of 4'],
    ['path(-.)', 7, 'Invalid path expression with result -7'],
    ['path(-.a)', {"a":1}, 'Invalid path expression with result -1'],
    ['[paths(-. > 0)]', [1], 'array ([1]) cannot be negated'],
    ['path(-(1,2))', null, 'Invalid path expression with result -1'],
  ]);
});

describe("jq 1.7.1's grammar: a try body ending in `Exp '?'` takes no catch, however deep", () => {
  const cases: [string, string][] = [
    ['try try 1? catch []', "syntax error, unexpected catch, expecting end of file (Unix shell quoting issues?) at <top-level>, line 1:"],
    ['[try try 1? catch 2]', 'syntax error, unexpected catch (Unix shell quoting issues?) at <top-level>, line 1:'],
    ['(try try 1? catch []) catch', 'syntax error, unexpected catch (Unix shell quoting issues?) at <top-level>, line 1:'],
  ];
  for (const [filter, message] of cases) it(filter, () => expect(() => compile(filter)).toThrow(message));
  itAnswers([
    ['try (try 1?) catch 2', 1, [1]],
    ['try try 1 catch []', 1, [1]],
    // an if/reduce is an expression, not `Exp '?'`: it takes a catch
    ['[.[] | try if . == 0 then error("foo") else . end catch .]', [0, 1], [['foo', 1]]],
    ['try reduce . as $x (0; .) catch 1', 1, [0]],
  ]);
});
