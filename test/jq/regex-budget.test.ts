// jq regexes have a guaranteed bound: patterns run in linear time (re2js), and the few that
// need backtracking (lookahead, backreferences) are interrupted at the jq time budget.
import { describe, it, expect, afterEach } from 'vitest';
import { compile } from '../../host/jq/index.js';
import { regexBudget } from '../../host/jq/regex.js';
import { compileLinear, NotLinear } from '../../host/linear-regex.js';
import { LimitExceeded, limitHits, DEFAULT_LIMITS } from '../../host/limits.js';
import { limitError } from '../helpers/limits.js';

const run = (filter: string, input: unknown) => compile(filter).run(input);

function timed<T>(f: () => T): { value: T; ms: number } {
  const t = performance.now();
  const value = f();
  return { value, ms: performance.now() - t };
}


describe('patterns that backtrack exponentially run in linear time', () => {
  // each of these took seconds on RegExp (1.7 s for the first)
  const cases: Array<[string, string, unknown]> = [
    ['test("^(a+)+$")', 'a'.repeat(28) + 'b', false],
    ['test("^(a|aa)+$")', 'a'.repeat(40) + 'b', false],
    ['[match("(\\\\w+/?)+\\\\.json$")] | length', '/files/' + 'abc/'.repeat(20) + 'x', 0],
    ['test("^(\\\\s*,?\\\\s*)*$")', ' , '.repeat(30) + 'x', false],
    // quadratic on RegExp: every start position scans the rest of the input
    ['test("\\\\s+$")', ' '.repeat(100_000) + 'x', false],
    ['[scan("a*b")] | length', 'a'.repeat(50_000), 0],
  ];
  for (const [filter, input, want] of cases) {
    it(filter, () => {
      const { value, ms } = timed(() => run(filter, input));
      expect(value).toEqual([want]);
      expect(ms).toBeLessThan(500);
    });
  }
  it('gsub on a long input stays linear', () => {
    const input = 'ab'.repeat(50_000);
    const { value, ms } = timed(() => run('gsub("(?<x>a)b"; "\\(.x)")', input));
    expect(value).toEqual(['a'.repeat(50_000)]);
    expect(ms).toBeLessThan(2000);
  });
});

describe('patterns that need backtracking are held to the jq time budget', () => {
  afterEach(() => {
    regexBudget.timeMs = DEFAULT_LIMITS.jq_time_ms;
  });

  it('a backreference that backtracks exponentially fails with LimitExceeded(jq_time_ms)', () => {
    const before = limitHits().jq_time_ms ?? 0;
    const { value: e, ms } = timed(() => limitError(() => run('test("^(a+)+\\\\1$")', 'a'.repeat(30) + 'b')));
    expect(e.limit).toBe('jq_time_ms');
    expect(e.message).toBe('jq: regex "^(a+)+\\\\1$" exceeded the evaluation\'s time budget (limits.jq_time_ms)');
    expect(limitHits().jq_time_ms).toBe(before + 1);
    expect(ms).toBeLessThan(500);
  });

  it('a lookahead behind a nested quantifier likewise', () => {
    const e = limitError(() => run('[match("^(a|a)*(?=b)c"; "g")]', 'a'.repeat(40) + 'b'));
    expect(e.message).toMatch(/^jq: regex "\^\(a\|a\)\*\(\?=b\)c" exceeded the evaluation's time budget/);
  });

  it('a run with its own budget gets the same error', () => {
    // the cap a run gives its regexes (what is left of its jq_time_ms)
    regexBudget.timeMs = 5;
    const filter = compile('test("(x+x+)+\\\\1y")', { limits: { jq_time_ms: 5 } } as Parameters<typeof compile>[1]);
    const { value: e, ms } = timed(() => limitError(() => filter.run('x'.repeat(40))));
    expect(e.limit).toBe('jq_time_ms');
    expect(ms).toBeLessThan(500);
  });

  it('jq try does not catch a budget error', () => {
    expect(() => run('try test("^(a+)+\\\\1$") catch "caught"', 'a'.repeat(30) + 'b')).toThrow(LimitExceeded);
  });

  it('such patterns still answer normally within the budget', () => {
    expect(run('[match("(a)\\\\1"; "g") | .offset]', 'aaxaa')).toEqual([[0, 3]]);
    expect(run('gsub("(?=u)"; "u")', 'qux')).toEqual(['quux']);
    expect(run('[match("(?<!a)b"; "g") | .offset]', 'abcb')).toEqual([[3]]);
    expect(run('test("foo\\\\Z")', 'foo\n')).toEqual([true]);
    expect(run('capture("(?<w>\\\\w+) \\\\k<w>")', 'hey hey')).toEqual([{ w: 'hey' }]);
  });
});

describe('matches keep their meaning', () => {
  const cases: Array<[string, unknown, unknown[]]> = [
    // `.` stops at \n, \r, U+2028 and U+2029 (as before), except with the p flag
    ['[match("a.b"; "g") | .string]', 'a\rb a\nb a\u2028b axb', [['axb']]],
    ['[match("a.b"; "gp") | .string]', 'a\rb a\nb', [['a\rb', 'a\nb']]],
    // \s is JavaScript's whitespace set (no-break space, line separator ...)
    ['[scan("\\\\s")] | length', 'a\u00a0b\u2028c\td\u000be', [4]],
    ['[scan("[\\\\s,]+")]', 'a ,\u00a0b', [[' ,\u00a0']]],
    ['[scan("[[:alpha:]]+")]', 'ab1cd', [['ab', 'cd']]],
    // the Perl_NT syntax has no \h escape: it is the letter h (jq 1.7.1)
    ['[scan("\\\\h+")]', 'xfa0z', [[]]],
    ['test("\\\\Afoo\\\\z")', 'foo', [true]],
    ['[scan("\\\\x{41}")]', 'ABA', [['A', 'A']]],
    // Oniguruma escapes any punctuation
    ['[scan("\\\\-\\\\:\\\\ \\\\#")]', 'a-: #b', [['-: #']]],
    ['[scan("[]a]+")]', 'x]a]y', [[']a]']]],
    ['[scan("[^]a]+")]', ']]xy]', [['xy']]],
    ['[scan("ß|k"; "gi")]', 'ẞ K', [['ẞ', 'K']]],
    // offsets and lengths count code points
    ['[match("b."; "g") | [.offset, .length]]', '😀b😀b', [[[1, 2]]]],
    ['[match("."; "g") | .offset]', 'a😀b', [[0, 1, 2]]],
    // jq 1.7.1 resumes one byte after an empty match: three more inside the 4-byte emoji
    ['[match(""; "g") | .offset]', '😀x', [[0, 1, 1, 1, 1, 2]]],
    ['[match("( )*"; "gn")]', 'abc', [[]]],
    ['capture("(?<a>[a-z]+)-(?<n>[0-9]+)")', 'xyzzy-14', [{ a: 'xyzzy', n: '14' }]],
    ['[match("foo (?<bar123>bar)? foo"; "ig") | .captures[0].offset]', 'foo bar foo foo  foo', [[4, -1]]],
    // a group repeated by a quantifier keeps its last iteration, as in Oniguruma
    ['[match("(?:(a)|b)+") | .captures[0].string]', 'ab', [['a']]],
    ['[match("(?<=a)b"; "g") | .offset]', 'abcb', [[1]]],
    ['[splits(", *")]', 'a, b,c', [['a', 'b', 'c']]],
    ['sub("(?<x>\\\\d+)"; "<\\(.x)>")', 'ab12cd', ['ab<12>cd']],
    ['[scan("b+"; "i")]', 'abcABBBC', [['b', 'BBB']]],
    ['test("a b # comment"; "x")', 'ab', [true]],
  ];
  for (const [filter, input, want] of cases) {
    it(`${filter} on ${JSON.stringify(input)}`, () => expect(run(filter, input)).toEqual(want));
  }
  it('invalid patterns and flags keep their errors', () => {
    expect(() => run('test("(")', 'a')).toThrow('Regex failure: end pattern with unmatched parenthesis');
    expect(() => run('test("a"; "q")', 'a')).toThrow('q is not a valid modifier string');
    expect(() => run('test("a")', 1)).toThrow('number (1) cannot be matched, as it is not a string');
  });
});

describe('the linear engine matches what RegExp matches', () => {
  // patterns in RegExp `u` syntax, as host/jq/regex.ts produces them
  const patterns = [
    'a', 'a+?', '^ab', 'b$', '.', '.+', '(a)|b', '\\d+', '\\w+', '\\W+', '\\s+', '\\S+', '\\b\\w', '\\B.', '[a-c]+', '[^a-c]+',
    '[\\s\\d]+', '[\\w-]+', '[.]', '\\.', '(?<x>\\w)(?<y>\\d)', 'a.*?c', 'x*', '', '^', '$', 'ab|a', 'a{2}', 'a{1,2}', 'a{2,}',
    '\\u00e9', '\\u{1F600}', '\\uD83D\\uDE00', '😀', '(.)(.)', '[😀a]', '[^😀]', '\\x41', '\\cJ', '\\0', '[\\b]', '\\t|\\n|\\r|\\v|\\f',
    '\\p{L}+', '\\p{Lu}', '\\P{L}', '\\p{Script=Greek}', '[\\p{N}x]+', '(?<=a)b', '(?<!a)b', '(?:a|b)c', '[]', '[^]', '[\\]]', '[\\-]',
    '[a\\-z]', '\\/', '\\$', '(?:)', 'é+', '[ä-ü]+', '\\u2028',
  ];
  const inputs = ['', 'a', 'abc', 'aab', 'ABC abc', 'a1b2 c3', 'x\ny\r\nz\u2028', 'é😀a😀', 'ñáé ÉÑ', 'ba', 'a-b:c d', 'αβγ 12', '\u000b\u00a0\f\t'];
  const flagSets: Array<{ i: boolean; s: boolean }> = [
    { i: false, s: false },
    { i: true, s: false },
    { i: false, s: true },
  ];
  it('same offsets for every group, every match', () => {
    let compared = 0;
    for (const p of patterns) {
      for (const f of flagSets) {
        const rx = new RegExp(p, 'gdu' + (f.i ? 'i' : '') + (f.s ? 's' : ''));
        const lin = compileLinear(p, { unicode: true, ignoreCase: f.i, dotAll: f.s });
        for (const input of inputs) {
          const want: number[][] = [];
          rx.lastIndex = 0;
          for (let m = rx.exec(input); m; m = rx.exec(input)) {
            want.push(m.indices!.flatMap((ix) => (ix ? ix : [-1, -1])));
            if (m[0] === '') rx.lastIndex += input.codePointAt(m.index)! > 0xffff ? 2 : 1;
          }
          const got: number[][] = [];
          const m = lin.matcher(input);
          let pos = 0;
          while (pos <= input.length && m.find(pos)) {
            const sp: number[] = [];
            for (let g = 0; g <= m.groupCount(); g++) sp.push(m.start(g), m.end(g));
            got.push(sp);
            pos = sp[1] > sp[0] ? sp[1] : sp[1] + (input.codePointAt(sp[1])! > 0xffff ? 2 : 1);
          }
          expect(got, `/${p}/${f.i ? 'i' : ''}${f.s ? 's' : ''} on ${JSON.stringify(input)}`).toEqual(want);
          compared++;
        }
      }
    }
    expect(compared).toBe(patterns.length * flagSets.length * inputs.length);
  });
  it('constructs without a linear-time form are named', () => {
    const reason = (p: string) => {
      try {
        compileLinear(p, { unicode: true });
      } catch (e) {
        expect(e).toBeInstanceOf(NotLinear);
        return (e as Error).message;
      }
      return 'linear';
    };
    expect(reason('(a)\\1')).toBe('backreference');
    expect(reason('(?<n>a)\\k<n>')).toBe('backreference');
    expect(reason('a(?=b)')).toBe('lookahead');
    expect(reason('a(?!b)')).toBe('lookahead');
    expect(reason('(?<=(a))b')).toMatch(/lookbehind|capture|group/i);
    expect(reason('a{1001}')).toMatch(/repeat/);
    expect(reason('(?<=a)b')).toBe('linear');
  });
});
