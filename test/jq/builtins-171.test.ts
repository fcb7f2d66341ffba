// Builtins as jq 1.7.1 defines them: every expected value or error text below was produced by
// jq 1.7.1 (the jq-wasm reference build, test/jq/jqwasm.ts), except where a comment says otherwise.
import { describe, it, expect } from 'vitest';
import { compile } from '../../host/jq/index.js';

type Case = { f: string; in?: unknown; out?: unknown[]; err?: string };

function run(c: Case): unknown[] {
  return compile(c.f, { limits: { jq_time_ms: Infinity } }).run(c.in ?? null);
}

function table(name: string, cases: Case[]): void {
  describe(name, () => {
    for (const c of cases) {
      it(`${JSON.stringify(c.in ?? null)} | ${c.f}`, () => {
        if (c.err !== undefined) expect(() => run(c)).toThrow(c.err);
        else expect(run(c)).toEqual(c.out);
      });
    }
  });
}

const MAX = 1.7976931348623157e308;

table('missing builtins', [
  { f: 'map(isfinite)', in: [1, 1.5, null, 'a'], out: [[true, true, false, false]] },
  { f: '[nan, infinite, -infinite, 0] | map(isfinite)', out: [[true, false, false, true]] },
  { f: '"csv" as $f | format($f)', in: [1, 'a,b'], out: ['1,"a,b"'] },
  { f: 'format("tsv"), format("sh"), format("json"), format("text"), format("base64")', in: [1, 'a'], out: ['1\ta', "1 'a'", '[1,"a"]', '[1,"a"]', 'WzEsImEiXQ=='] },
  { f: 'try format("foo") catch .', in: [1], out: ['foo is not a valid format'] },
  { f: 'try format(1) catch .', in: [1], out: ['number (1) is not a valid format'] },
  { f: '[get_jq_origin, get_prog_origin]', out: [[null, null]] },
  { f: '"Thu Mar  5 14:02:03 2015" | strptime("%c")', out: [[2015, 2, 5, 14, 2, 3, 4, 63]] },
  { f: '"Thu Mar  5 14:02:03 2015" | strptime("%c") | mktime', out: [1425564123] },
]);

table('jq 1.7.1 where later versions differ', [
  // last/1 is a reduce from null in 1.7.1
  { f: '[first(.[]), last(.[]), nth(0; .[])]', in: [], out: [[null]] },
  { f: '[first(empty), last(empty), nth(0; empty)]', out: [[null]] },
  { f: '[first(.[]), last(.[]), nth(0; .[])]', in: [1, 2], out: [[1, 2, 1]] },
  { f: '[path(last(empty))]', out: [[[]]] },
  { f: 'path(last(.[]))', in: [1, 2], err: 'Invalid path expression with result 2' },
  { f: '.a |= last(.[])', in: { a: [1, 2] }, out: [{ a: 2 }] },
  // byte offsets into the UTF-8 text
  { f: 'indices("b"), index("b"), rindex("b")', in: 'aéb', out: [[3], 3, 3] },
  { f: 'indices("c"), index("é"), rindex("c")', in: 'aéb€c', out: [[7], 1, 7] },
  { f: 'indices("aé"), indices("é")', in: 'aéaé', out: [[0, 3], [1, 4]] },
  { f: 'indices("aa")', in: 'aaa', out: [[0, 1]] },
  { f: 'indices(""), index(""), rindex("")', in: 'abc', out: [[], null, null] },
  { f: 'indices([]), indices(1), indices([1])', in: [1, 2, 1], out: [[], [0, 2], [0, 2]] },
  { f: 'try indices(1) catch .', in: 'x', out: ['Cannot index string with number'] },
]);

table('builtin edge semantics', [
  { f: 'flatten(1.5), flatten(0.5), flatten(infinite), flatten(0)', in: [1, [2, [3]]], out: [[1, 2, 3], [1, 2, 3], [1, 2, 3], [1, [2, [3]]]] },
  { f: 'try flatten(nan) catch .', in: [1, [2]], out: ['flatten depth must not be negative'] },
  { f: 'try flatten(-1) catch .', in: [1, [2]], out: ['flatten depth must not be negative'] },
  { f: '[try flatten(null) catch ., try flatten(false) catch ., try flatten(true) catch .]', in: [1, [2]], out: [Array(3).fill('flatten depth must not be negative')] },
  { f: 'try flatten("a") catch .', in: [[1, [2]], [1]], out: ['string ("a") and number (1) cannot be subtracted'] },
  { f: 'try flatten([]) catch ., try flatten({}) catch .', in: [1, [2]], out: ['array ([]) and number (1) cannot be subtracted', 'object ({}) and number (1) cannot be subtracted'] },
  { f: 'flatten("a")', in: [1, 2], out: [[1, 2]] },
  { f: 'try flatten(1) catch .', in: 1, out: ['Cannot iterate over number (1)'] },
  { f: '[fdim(1;nan), fdim(nan;1), fdim(3;1), fdim(-1;2)]', out: [[null, null, 2, 0]] },
  { f: '[ldexp(1;2.5), ldexp(1;nan), ldexp(3;-1.5), ldexp(1;1e10)]', out: [[4, 0, 1.5, 0]] },
  { f: '[scalb(2;3), scalb(1;2.5)]', out: [[16, null]] },
  { f: '[2.5, 3.5, -2.5, nan, 0.5] | map(nearbyint)', out: [[2, 4, -2, null, 0]] },
  { f: '[drem(5;2), drem(5;nan), drem(5.5;2), drem(7;2.5), drem(1;0)]', out: [[1, null, -0.5, -0.5, null]] },
  { f: '[1,"a\\u0000b",nan,true] | @csv, @tsv, @sh, @html', out: ['1,"a\\0b",,true', '1\ta\\0b\t\ttrue', "1 'a\\0b' null true", '[1,&quot;a\\u0000b&quot;,null,true]'] },
  { f: '"a\\u0000<b" | (@html, @sh)', out: ['a\\0&lt;b', "'a\\0<b'"] },
  { f: '[1,"a\\u0000b\\tc\\\\",nan,true] | @tsv', out: ['1\ta\\0b\\tc\\\\\t\ttrue'] },
  {
    f: '["+4.2"," 1","1 ","nan","0x10","-1","","  ",".5","5.","1e","-","NaN","Infinity","-nan","infinity","1_0","01"][] | try tonumber catch .',
    out: [4.2, 1, 1, null, "Invalid numeric literal at EOF at line 1, column 4 (while parsing '0x10')", -1, "Expected JSON value (while parsing '')",
      "Expected JSON value (while parsing '  ')", 0.5, 5, "Invalid numeric literal at EOF at line 1, column 2 (while parsing '1e')",
      "Invalid numeric literal at EOF at line 1, column 1 (while parsing '-')", null, MAX, null, MAX,
      "Invalid numeric literal at EOF at line 1, column 3 (while parsing '1_0')", 1],
  },
  {
    f: '["[1]","true","1 2","\\"a\\"","-Infinity","inf","00","1.","+","+-1","nan1","NAN","nul","null","1\\n","1 /","\\t2"][] | try tonumber catch .',
    out: ['string ("[1]") cannot be parsed as a number', 'string ("true") cannot be parsed as a number', "Unexpected extra JSON values (while parsing '1 2')",
      'string ("\\"a\\"") cannot be parsed as a number', -MAX, MAX, 0, 1, "Invalid numeric literal at EOF at line 1, column 1 (while parsing '+')",
      "Invalid numeric literal at EOF at line 1, column 3 (while parsing '+-1')", null, null, "Invalid literal at EOF at line 1, column 3 (while parsing 'nul')",
      'string ("null") cannot be parsed as a number', 1, "Invalid numeric literal at EOF at line 1, column 3 (while parsing '1 /')", 2],
  },
  { f: '["+4.2", "nul", "1 2", "0x10"][] | try fromjson catch .', out: [4.2, "Invalid literal at EOF at line 1, column 3 (while parsing 'nul')", "Unexpected extra JSON values (while parsing '1 2')", "Invalid numeric literal at EOF at line 1, column 4 (while parsing '0x10')"] },
  { f: 'try unique catch .', in: { a: 1 }, out: ['object ({"a":1}) and array ([[1]]) cannot be sorted, as they are not both arrays'] },
  { f: 'try unique catch .', in: 'a', out: ['Cannot iterate over string ("a")'] },
  { f: 'try unique catch .', in: null, out: ['Cannot iterate over null (null)'] },
  { f: 'try sort_by(.) catch ., try group_by(.) catch ., try unique_by(.) catch .', in: { a: 1 }, out: Array(3).fill('object ({"a":1}) and array ([[1]]) cannot be sorted, as they are not both arrays') },
  { f: 'try min_by(.) catch ., try max_by(.) catch .', in: { a: 1 }, out: Array(2).fill('object ({"a":1}) and array ([[1]]) cannot be iterated over') },
  { f: 'try range(0;1;[]) catch .', out: [0, 'number (0) and array ([]) cannot be added'] },
  { f: '[limit(5; range(0;10;"a"))]', err: 'number (0) and string ("a") cannot be added' },
  { f: '[range(0;3;0.5)] | length', out: [6] },
  { f: '[range(0;1;0)]', out: [[]] },
  { f: 'try range(0;[]) catch .', out: ['Range bounds must be numeric'] },
  { f: '[true|contains(true)], [false|contains(false)], [null|contains(null)], [1|contains(1)], [2|contains(1)]', out: [[true], [true], [true], [true], [false]] },
  { f: 'try (true|contains(false)) catch .', out: ['boolean (true) and boolean (false) cannot have their containment checked'] },
  { f: 'try (1|contains("a")) catch .', out: ['number (1) and string ("a") cannot have their containment checked'] },
  { f: '[1,nan,infinite,0,1e-310] | map(finites)', out: [[1, null, 0, 1e-310]] },
  { f: '[1,nan,infinite,0,1e-310,-1] | map(normals)', out: [[1, -1]] },
  { f: '[1,nan,infinite,"a",null] | map(isnormal, isinfinite, isnan)', out: [[true, false, false, false, false, true, false, true, false, false, false, false, false, false, false]] },
  { f: '[splits(",";null)], [splits(",")]', in: 'a,b', out: [['a', 'b'], ['a', 'b']] },
  { f: '[(1|ltrimstr("a")), ("ab"|ltrimstr(1)), (1|rtrimstr("a")), ("ab"|rtrimstr(null)), ("ab"|rtrimstr(""))]', out: [[1, 'ab', 1, 'ab', 'ab']] },
  { f: '[(nan|tostring), (infinite|tostring), (-infinite|tostring), (nan|tojson)]', out: [['null', '1.7976931348623157e+308', '-1.7976931348623157e+308', 'null']] },
  { f: 'try ([1,"a"]|implode) catch .', out: ['string ("a") can\'t be imploded, unicode codepoint needs to be numeric'] },
  { f: 'try ([nan]|implode) catch .', out: ['number (null) can\'t be imploded, unicode codepoint needs to be numeric'] },
  { f: '[-1,1114112,55296,65.7]|implode', out: ['\ufffd\ufffd\ufffdA'] },
  { f: 'try ("a"|implode) catch .', out: ['implode input must be an array'] },
  { f: 'try getpath(["a","b"]) catch .', in: { a: 1 }, out: ['Cannot index number with string "b"'] },
  { f: 'try getpath("a") catch .', in: { a: 1 }, out: ['Path must be specified as an array'] },
  { f: '[0,-1,1.9,-1.9,1425599621.25] | map(gmtime)', out: [[[1970, 0, 1, 0, 0, 0, 4, 0], [1969, 11, 31, 23, 59, 59, 3, 364], [1970, 0, 1, 0, 0, 1.9, 4, 0], [1969, 11, 31, 23, 59, 59.1, 3, 364], [2015, 2, 5, 23, 53, 41.25, 4, 63]]] },
  { f: '[1425599621,0,1.5,-1] | map(todate)', out: [['2015-03-05T23:53:41Z', '1970-01-01T00:00:00Z', '1970-01-01T00:00:01Z', '1969-12-31T23:59:59Z']] },
  { f: 'try (-1|gmtime|mktime) catch .', out: ['invalid gmtime representation'] },
  { f: '[2015,2,5,23,51,47.9,4,63] | mktime', out: [1425599507] },
  { f: '[2015,2,5,23,51,47,0,0,"x"] | mktime', out: [1425599507] },
  { f: 'try ([2015,2,5,23,51,47]|mktime) catch .', out: ['mktime requires parsed datetime inputs'] },
  { f: 'try ([2015,2,5,23,51,47,"a",0]|mktime) catch .', out: ['mktime requires parsed datetime inputs'] },
  { f: 'try ("a"|mktime) catch .', out: ['mktime requires array inputs'] },
  { f: 'try ("a"|gmtime) catch ., try ("a"|localtime) catch .', out: ['gmtime() requires numeric inputs', 'localtime() requires numeric inputs'] },
  { f: '[0,nan,infinite,-infinite,1,8,0.1] | map(significand)', out: [[0, null, MAX, -MAX, 1, 1, 1.6]] },
  { f: '[0,nan,infinite,-infinite,1,8,0.1] | map(logb)', out: [[-MAX, null, MAX, MAX, 0, 3, -4]] },
  // computed numbers (jq 1.7.1 prints number literals that pass through unchanged in their own text)
  { f: '[1e17 + 1, 1.5e300 * 1, 0.1 + 0, 1e-7 * 1, 123456789012 + 0, 1e1000 * 1, 3.0 * 1] | map(tojson)', out: [['1e+17', '1.5e+300', '0.1', '1e-07', '123456789012', '1.7976931348623157e+308', '3']] },
]);

table('regex as Oniguruma runs it in jq 1.7.1', [
  // flags: m is Oniguruma's "dot matches newline", s (single line) is the default; $ also matches before a final newline
  { f: '[test("^b"), test("a$"), test("a$";"s"), test("a\\\\Z"), test("a.b"), test("a.b";"m"), test("a.b";"p"), test("^b";"p"), test("^b";"s")]', in: 'a\nb', out: [[false, false, false, false, false, true, true, false, false]] },
  { f: '[test("a$"), test("a\\\\z"), test("a\\\\Z"), test("a$";"s")]', in: 'a\n', out: [[true, false, true, true]] },
  { f: '[match("b$").offset], [match("b\\\\Z").offset], [match("$";"g").offset]', in: 'ab\n', out: [[1], [1], [2, 3]] },
  { f: 'sub("$";"!")', in: 'é\n', out: ['é!\n'] },
  { f: 'try test("a"; "q") catch .', in: 'x', out: ['q is not a valid modifier string'] },
  { f: 'try test("a"; "gq") catch .', in: 'x', out: ['gq is not a valid modifier string'] },
  { f: 'try test("a"; 1) catch .', in: 'x', out: ['number (1) is not a string'] },
  // Unicode classes
  { f: '[match("\\\\w+";"g").string]', in: 'a1_é٣ b', out: [['a1_é٣', 'b']] },
  { f: '[match("\\\\w";"g").string]', in: 'a²½Ⅻ_‿é\u0301', out: [['a', '²', '½', 'Ⅻ', '_', '‿', 'é', '\u0301']] },
  { f: '[match("\\\\d";"g").string]', in: 'a1_é٣ b', out: [['1', '٣']] },
  { f: '[match("\\\\s";"g").offset]', in: 'a\u0085\ufeff\u00a0\u000b', out: [[1, 3, 4]] },
  { f: '[match("\\\\b";"g").offset]', in: 'éa bé', out: [[0, 1, 2, 3, 5]] },
  { f: '[match("\\\\B";"g").offset]', in: 'éa bé', out: [[1, 4]] },
  { f: '[match("\\\\b";"g").offset]', in: 'ab cd', out: [[0, 2, 3, 5]] },
  { f: '[match(".+?\\\\b").string]', in: 'ā two-codepoint grapheme', out: [['ā']] },
  { f: '[match("[[:alpha:]]";"g").string]', in: 'aé', out: [['a', 'é']] },
  { f: '[match("[[:punct:]]";"g").string]', in: 'a!$+<~¡€', out: [['!', '$', '+', '<', '~', '¡', '€']] },
  { f: '[match("[[:upper:]]";"g").string], [match("[[:lower:]]";"g").string], [match("[[:digit:]]";"g").string], [match("[[:alnum:]]";"g").string]', in: 'aÉé٣', out: [['É'], ['a', 'é'], ['٣'], ['a', 'É', 'é', '٣']] },
  // no \h escape in the Perl_NT syntax: the letter itself
  { f: '[match("\\\\h";"g").string], [match("\\\\H";"g").string]', in: 'h \t9a', out: [['h'], []] },
  { f: '[match("(?i)A";"g").string]', in: 'ab', out: [['a']] },
  { f: '[match("s|k";"gi").string]', in: 'ſ K k', out: [['ſ', 'K', 'k']] },
  // captures: an empty match reports every group as empty there; unmatched groups are null
  { f: '[match("( )*"; "g")] | length, .[0].captures', in: 'abc', out: [4, [{ offset: 0, string: '', length: 0, name: null }]] },
  { f: '[match("(x)?b").captures], [match("(x)?").captures], [match("(?<n>x)?c").captures]', in: 'abc', out: [[[{ offset: -1, string: null, length: 0, name: null }]], [[{ offset: 0, string: '', length: 0, name: null }]], [[{ offset: -1, string: null, length: 0, name: 'n' }]]] },
  { f: '[match("a(b?)c").captures[0]]', in: 'ac', out: [[{ offset: 1, string: '', length: 0, name: null }]] },
  // after an empty match jq resumes one byte further, inside a multi-byte character
  { f: '[match("";"g")] | length', in: 'é', out: [3] },
  { f: '[match("";"g") | .offset]', in: 'éa', out: [[0, 1, 1, 2]] },
  { f: 'gsub("";"-")', in: 'aé', out: ['-a-é--'] },
  { f: '[match("(?=u)";"g") | .offset]', in: 'éuu', out: [[1, 2]] },
  // Oniguruma's error texts
  { f: 'try test("(") catch .', in: 'x', out: ['Regex failure: end pattern with unmatched parenthesis'] },
  { f: 'try test(")") catch .', in: 'x', out: ['Regex failure: unmatched close parenthesis'] },
  { f: 'try test("[a") catch .', in: 'x', out: ['Regex failure: premature end of char-class'] },
  { f: 'try test("a{2,1}") catch .', in: 'x', out: ['Regex failure: upper is smaller than lower in repeat range'] },
  { f: 'try test("*a") catch .', in: 'x', out: ['Regex failure: target of repeat operator is not specified'] },
  { f: 'try test("\\\\") catch .', in: 'x', out: ['Regex failure: end pattern at escape'] },
  { f: 'try test("(?<n>a)\\\\k<m>") catch .', in: 'x', out: ['Regex failure: undefined name <m> reference'] },
]);
