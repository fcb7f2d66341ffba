// Group names, class ranges, POSIX brackets and quantifier targets as jq 1.7.1's Oniguruma reads them; every answer and
// message below is what jq 1.7.1 gives.
import { describe } from 'vitest';
import { itAnswers, itFails } from '../helpers/jq-cases.js';

describe('group definitions: the first character is checked, the later ones are not', () => {
  itAnswers([
    ['scan("(?<l@>)")', '', [['']]],
    ['[match("(?<l@>a)") | .captures[].name]', 'a', [['l@']]],
    ['scan("(?<a1>)")', '', [['']]],
    ['scan("(?<_a>)")', '', [['']]],
    ['scan("(?<a-b>)")', '', [['']]],
    ['scan("(?<a b>)")', '', [['']]],
    ['scan("(?<a<b>)")', '', [['']]],
    ['scan("(?<a😀>)")', '', [['']]],
    ['[match("(?<é>.)") | .captures[].name]', 'é', [['é']]],
    ['[match("(?<aé>.)") | .captures[].name]', 'é', [['aé']]],
    ["scan(\"(?'l@')\")", '', [['']]],
    ["[match(\"(?'x y'a)\") | .captures | map(.name)]", 'a', [[['x y']]]],
    // a name RegExp cannot spell next to a backreference by name
    ['[match("(?<l@>a)(?<x>a)\\\\k<x>") | .captures | map(.name)]', 'aaa', [[['l@', 'x']]]],
    ['[match("(?<a b>a)(?<x>a)\\\\k<x>") | .captures | map(.name)]', 'aaa', [[['a b', 'x']]]],
    ['[match("(?<x>a)\\\\k<x>") | .captures[].name]', 'aa', [['x']]],
  ]);
  itFails([
    // a first character that is no word character
    ['scan("(?<.n>)")', '', 'Regex failure: invalid char in group name <.n>'],
    ['scan("(?<·a>)")', '', 'Regex failure: invalid char in group name <·a>'],
    ['scan("(?<😀>)")', '', 'Regex failure: invalid char in group name <😀>'],
    ["scan(\"(?'.n')\")", '', 'Regex failure: invalid char in group name <.n>'],
    // the name reported takes the last character along when the pattern ends there
    ['scan("(?<.a)b>)")', '', 'Regex failure: invalid char in group name <.a>'],
    ['scan("(?<.ab")', '', 'Regex failure: invalid char in group name <.ab>'],
    ['scan("(?<.n>")', '', 'Regex failure: invalid char in group name <.n>>'],
    ['scan("(?<.n)")', '', 'Regex failure: invalid char in group name <.n)>'],
    // a digit, + or - first: numbers only name references
    ['scan("(?<1a>)")', '', 'Regex failure: invalid group name <1a>'],
    ['scan("(?<-a>)")', '', 'Regex failure: invalid group name <-a>'],
    ['scan("(?<+a>)")', '', 'Regex failure: invalid group name <+a>'],
    ["scan(\"(?'1')\")", '', 'Regex failure: invalid group name <1>'],
    // empty
    ['scan("(?<>)")', '', 'Regex failure: group name is empty'],
    ["scan(\"(?''x)\")", '', 'Regex failure: group name is empty'],
    // not closed: stopped by ) or by the end of the pattern (the last character read is left out)
    ['scan("(?<a)")', '', 'Regex failure: invalid group name <a>'],
    ["scan(\"(?'ab)\")", '', 'Regex failure: invalid group name <ab>'],
    ['scan("(?<ab")', '', 'Regex failure: invalid group name <a>'],
    ['scan("(?<a")', '', 'Regex failure: invalid group name <a>'],
    ['scan("(?<")', '', 'Regex failure: end pattern with unmatched parenthesis'],
  ]);
});

describe('backreferences by name: every character is checked', () => {
  itFails([
    ['[match("(?<l@>a)\\\\k<l@>") | .string]', 'aa', 'Regex failure: invalid char in group name <l@>'],
    ['[match("(?<x>a)\\\\k<>") | .string]', 'aa', 'Regex failure: group name is empty'],
    ['[match("(?<x>a)\\\\k<") | .string]', 'aa', 'Regex failure: group name is empty'],
    ['[match("(?<x>a)\\\\k<x@>") | .string]', 'aa', 'Regex failure: invalid char in group name <x@>'],
    ['[match("(?<x>a)\\\\k<@x>") | .string]', 'aa', 'Regex failure: invalid char in group name <@x>'],
    ['[match("(?<x>a)\\\\k<x@") | .string]', 'aa', 'Regex failure: invalid char in group name <x>'],
    ['[match("(?<x>a)\\\\k<x") | .string]', 'aa', 'Regex failure: invalid group name <x>'],
    ['[match("(?<xy>a)\\\\k<xy") | .string]', 'aa', 'Regex failure: invalid group name <xy>'],
    ['[match("(?<x>a)\\\\k<x)") | .string]', 'aa', 'Regex failure: invalid group name <x)>'],
    ['[match("(?<x>a)\\\\k<x)a") | .string]', 'aa', 'Regex failure: invalid group name <x)a>'],
  ]);
});

describe('a reversed range in a class fails where Oniguruma meets it', () => {
  itFails([
    ['test("[z-a]")', 'a', 'Regex failure: empty range in char class'],
    ['test("[^z-a]")', 'a', 'Regex failure: empty range in char class'],
    ['test("[😀-a]")', 'a', 'Regex failure: empty range in char class'],
    ['test("[4e-3]")', 'a', 'Regex failure: empty range in char class'],
    // before the class that never closes
    ['test("[2e-3][]")', 'a', 'Regex failure: empty range in char class'],
  ]);
  itAnswers([
    ['[test("[a-z]"), test("[%--]"), test("[a-]"), test("[a-😀]"), test("[a-a]")]', 'a', [[true, false, true, true, true]]],
  ]);
});

describe('POSIX brackets in a class as Oniguruma reads them: letters ending in :] name a class, an unknown one fails', () => {
  itAnswers([
    ['test("[[:alpha:]]")', "a", [true]],
    ['test("[[:abc]")', "a", [true]],
    ['test("[[:]")', "a", [false]],
    ['test("[[::]]")', "a", [false]],
    ['test("[[:a]b:]]")', "a", [false]],
    ['test("[[:^alpha:]]")', "1", [true]],
    ['test("[[:alpha]:]]")', "a", [false]],
    ['test("[[:x1:]]")', "a", [false]],
    ['test("[[:^alpha]")', "a", [true]],
    ['test("[[:word:]]")', "a", [true]],
  ]);
  itFails([
    ['split("[[:h:]";"")', "", 'Regex failure: invalid POSIX bracket type'],
    ['test("[[:h:]]")', "a", 'Regex failure: invalid POSIX bracket type'],
    ['test("[[:^h:]]")', "a", 'Regex failure: invalid POSIX bracket type'],
    ['test("[[:alph:]]+")', "a", 'Regex failure: invalid POSIX bracket type'],
    ['test("[[:abcdefghijklmnopqrstuvwxyz:]]")', "a", 'Regex failure: invalid POSIX bracket type'],
    ['test("[[:^:]]")', "a", 'Regex failure: invalid POSIX bracket type'],
    ['test("[[:é:]]")', "a", 'Regex failure: invalid POSIX bracket type'],
    ['test("[[:Alpha:]]")', "a", 'Regex failure: invalid POSIX bracket type'],
  ]);
});

describe('a quantifier on an anchor or at the start of a named group fails as in Oniguruma', () => {
  itAnswers([
    ['match("(^)?")', "1", [{"offset":0,"length":0,"string":"","captures":[{"offset":0,"string":"","length":0,"name":null}]}]],
    ['match("a??")', "a", [{"offset":0,"length":0,"string":"","captures":[]}]],
    ['match("a*?")', "a", [{"offset":0,"length":0,"string":"","captures":[]}]],
    ['match("\\\\^?")', "^", [{"offset":0,"length":1,"string":"^","captures":[]}]],
    ['match("\\\\$*")', "$", [{"offset":0,"length":1,"string":"$","captures":[]}]],
    ['match("[^]?]")', "a", [{"offset":0,"length":1,"string":"a","captures":[]}]],
    ['match("x\\\\\\\\b?")', "x\\b", [{"offset":0,"length":3,"string":"x\\b","captures":[]}]],
    ['match("(?<n>a)?")', "a", [{"offset":0,"length":1,"string":"a","captures":[{"offset":0,"length":1,"string":"a","name":"n"}]}]],
    ['[match("^a|b?";"g").string]', "ab", [["a","b",""]]],
  ]);
  itFails([
    ['match("(?<n>?[9])";null)', "1", 'Regex failure: target of repeat operator is not specified'],
    ['match("(?<n>?)")', "1", 'Regex failure: target of repeat operator is not specified'],
    ['match("(?<n>*)")', "1", 'Regex failure: target of repeat operator is not specified'],
    ['match("(?<n>+a)")', "1", 'Regex failure: target of repeat operator is not specified'],
    ['match("(??)")', "1", 'Regex failure: undefined group option'],
    ['match("(?<n>{2})")', "1", 'Regex failure: target of repeat operator is not specified'],
    ['match("(?:?)")', "1", 'Regex failure: target of repeat operator is not specified'],
    ['match("(a|?)")', "1", 'Regex failure: target of repeat operator is not specified'],
    ['match("^?")', "1", 'Regex failure: target of repeat operator is invalid'],
    ['match("(?=?)")', "1", 'Regex failure: target of repeat operator is not specified'],
    ['match("^*")', "1", 'Regex failure: target of repeat operator is invalid'],
    ['match("$+")', "1", 'Regex failure: target of repeat operator is invalid'],
    ['match("\\\\b?")', "1", 'Regex failure: target of repeat operator is invalid'],
    ['match("\\\\A*")', "1", 'Regex failure: target of repeat operator is invalid'],
    ['match("\\\\z?")', "1", 'Regex failure: target of repeat operator is invalid'],
    ['match("^{2}")', "1", 'Regex failure: target of repeat operator is invalid'],
    ['match("a^?")', "1", 'Regex failure: target of repeat operator is invalid'],
    ['match("\\\\B+")', "1", 'Regex failure: target of repeat operator is invalid'],
    ['match("\\\\G?")', "1", 'Regex failure: target of repeat operator is invalid'],
    ['match("^??")', "1", 'Regex failure: target of repeat operator is invalid'],
    ['match("(?i)?")', "a", 'Regex failure: target of repeat operator is not specified'],
  ]);
});
