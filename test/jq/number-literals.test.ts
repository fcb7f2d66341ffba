// Number literals kept as jq 1.7.1 (decNumber) keeps them: printed as written until
// arithmetic reads their double. Every expected text below is jq 1.7.1's (jq-wasm).
import { describe, it, expect, afterAll } from 'vitest';
import { Readable, Writable } from 'node:stream';
import { compile, JqRuntimeError } from '../../host/jq/index.js';
import { dump } from '../../host/jq/values.js';
import { numberFromLiteral, LiteralNumber } from '../../host/jq/numbers.js';
import { jqCli } from '../../host/cli/jq.js';
import { parseJsonText } from '../../host/jq/json.js';
import { ReferenceJq } from './fuzz/reference.js';

/** The outputs as `jq -c` prints them, and the error message if the run failed. */
function exact(filter: string, input: unknown = null): string {
  const lines: string[] = [];
  try {
    for (const v of compile(filter, { exactNumbers: true }).run(input)) lines.push(dump(v));
  } catch (e) {
    if (!(e instanceof JqRuntimeError)) throw e;
    for (const v of e.outputs) lines.push(dump(v));
    lines.push(`error: ${e.message}`);
  }
  return lines.join('\n');
}

describe('how a kept literal prints (decNumber to-scientific-string)', () => {
  const cases: [string, string][] = [
    ['1.0', '1.0'],
    ['[1.0,100000000000000000000,5e-324,1e1000]', '[1.0,100000000000000000000,5E-324,1E+1000]'],
    ['100e-2', '1.00'],
    ['9E999999999', '9E+999999999'],
    ['9999999999E999999990', '9.999999999E+999999999'],
    ['0.000000001E-999999990', '1E-999999999'],
    ['1e-5, 1e-6, 1e-7', '0.00001\n0.000001\n1E-7'],
    ['1.0e2, 1.5e1, 0.0001234, 1e2, 12e-1, 0.10', '1.0E+2\n15\n0.0001234\n1E+2\n1.2\n0.10'],
    ['1.23e+5, 123e-10, 0.00000123, 1.23e-7', '1.23E+5\n1.23E-8\n0.00000123\n1.23E-7'],
    ['.5, 1., 00012, 1.0e0, 0e10, 0.0e-10', '0.5\n1\n12\n1.0\n0E+10\n0E-11'],
    ['123456789012345678, 1.7976931348623157e309', '123456789012345678\n1.7976931348623157E+309'],
  ];
  for (const [filter, out] of cases) it(filter, () => expect(exact(filter)).toBe(out));

  it('negation computes: -1.0 is -1, -0 and -0.0 are -0, -1e1000 is -DBL_MAX', () => {
    expect(exact('-1.0, -0, -0.0, -1e1000')).toBe('-1\n-0\n-0\n-1.7976931348623157e+308');
  });
  it('a literal past decNumber\'s exponent range is the double jq reads: DBL_MAX', () => {
    expect(exact('1e1000000000')).toBe('1.7976931348623157e+308');
  });
});

describe('what keeps the literal', () => {
  it('to text: tostring, tojson, @text, @json, @csv, @tsv, @sh, @html, interpolation', () => {
    expect(exact('[1.0] | tostring, tojson, (.[0]|tostring), (.[0]|tojson), @text, @json, @csv, @tsv, @sh, @html, "\\(.[0])"')).toBe(
      '"[1.0]"\n"[1.0]"\n"1.0"\n"1.0"\n"[1.0]"\n"[1.0]"\n"1.0"\n"1.0"\n"1.0"\n"[1.0]"\n"1.0"',
    );
    expect(exact('1e1000 | "\\(.)"')).toBe('"1E+1000"');
    expect(exact('[1.0,2.00] | @csv, @tsv, @sh, join(","), map(tostring)')).toBe('"1.0,2.00"\n"1.0\\t2.00"\n"1.0 2.00"\n"1.0,2.00"\n["1.0","2.00"]');
    expect(exact('{"b":2.0,"a":1.0} | tojson')).toBe('"{\\"b\\":2.0,\\"a\\":1.0}"');
    expect(exact('1E2 | ., tostring, @text')).toBe('1E+2\n"1E+2"\n"1E+2"');
  });
  it('error values and messages', () => {
    expect(exact('9223372036854775807 | error')).toBe('error: 9223372036854775807 (not a string)');
    expect(exact('{"a":1.000} | error')).toBe('error: {"a":1.000} (not a string)');
    expect(exact('1.0/0')).toBe('error: number (1.0) and number (0) cannot be divided because the divisor is zero');
    expect(exact('{} + 1.0')).toBe('error: object ({}) and number (1.0) cannot be added');
    expect(exact('1.0 % 0.5')).toBe('error: number (1.0) and number (0.5) cannot be divided (remainder) because the divisor is zero');
    expect(exact('1.0 | keys')).toBe('error: number (1.0) has no keys');
    expect(exact('"a" | test(1.0)')).toBe('error: number not a string or array');
    expect(exact('[1,2] | path(.[1.0])')).toBe('[1.0]');
  });
  it('values passed along: variables, paths, sort, min/max, null + x, add of one, tonumber', () => {
    expect(exact('[3.0, 1.0, 2.0, 1.00] | sort, unique, min, max, group_by(.)')).toBe('[1.0,1.00,2.0,3.0]\n[1.0,2.0,3.0]\n1.0\n3.0\n[[1.0,1.00],[2.0],[3.0]]');
    expect(exact('[1.0, 2.0] | getpath([0]), .[1.0], .[0:1.0], has(1.0)')).toBe('1.0\n2.0\n[1.0]\ntrue');
    expect(exact('[1.0] | tostream')).toBe('[[0],1.0]\n[[0]]');
    expect(exact('{"a":1.0} | to_entries, .[]')).toBe('[{"key":"a","value":1.0}]\n1.0');
    expect(exact('[1.0]|add, (null + 1.0), (1.0 + null)')).toBe('1.0\n1.0\n1.0');
    expect(exact('"1.0"|tonumber, ("+1.0"|tonumber), (1.0|tojson|fromjson)')).toBe('1.0\n1.0\n1.0');
    expect(exact('1.0 as $x | $x, ([1.0] | .[0] |= .)')).toBe('1.0\n[1.0]');
    expect(exact('[1.0, 2] | min_by(.), max_by(.)')).toBe('1.0\n2');
    expect(exact('1.0 | abs')).toBe('1.0');
    // range's first output is its start as given
    expect(exact('range(1.0;3)')).toBe('1.0\n2');
  });
});

describe('what computes a double', () => {
  it('arithmetic and numeric builtins', () => {
    expect(exact('1.0 | length, floor, -., . + 0, . * 1, sqrt, fabs')).toBe('1\n1\n-1\n1\n1\n1\n1');
    expect(exact('[3.0, 1.0, 2.0, 1.00] | add, keys')).toBe('7\n[0,1,2,3]');
    expect(exact('100000000000000000000 | length')).toBe('1e+20');
    expect(exact('1.10 | floor, ceil, round, sqrt, pow(.; 2), log')).toBe('1\n2\n1\n1.0488088481701516\n1.2100000000000002\n0.09531017980432493');
    expect(exact('1e1000 | . + 0')).toBe('1.7976931348623157e+308');
    expect(exact('{"a": 1.0} | .a += 0')).toBe('{"a":1}');
    expect(exact('-1.0 | abs')).toBe('1');
    expect(exact('[limit(2.0; 1,2,3)], ([65.0]|implode), ("x" * 2.0)')).toBe('[1,2]\n"A"\n"xx"');
  });
  it('numbers used as indexes, paths and counts read the double', () => {
    expect(exact('[1,2,3] | .[1.0:], del(.[0:1.0]), (.[1.0] = 5), (.[1.0] |= . + 1), del(.[1.0])')).toBe('[2,3]\n[2,3]\n[1,5,3]\n[1,3,3]\n[1,3]');
    expect(exact('[1,2] | setpath([1.0]; 5)')).toBe('[1,5]');
    expect(exact('1e3 | todate')).toBe('"1970-01-01T00:16:40Z"');
  });
});

describe('comparison (jq\'s jvp_number_cmp)', () => {
  it('two literals compare as decimals', () => {
    expect(exact('13911860366432393 == 13911860366432392')).toBe('false');
    expect(exact('[13911860366432393] | .[0] | tostring')).toBe('"13911860366432393"');
    expect(exact('10000000000000000000000000000001 | . as $big | [$big, $big + 1] | map(. > 10000000000000000000000000000000)')).toBe('[true,false]');
    expect(exact('0.12345678901234567890123456789 | . < 0.12345678901234567890123456788')).toBe('false');
    expect(exact('[1, 1.000, 1.0, 100e-2] | map([., . == 1]) | tojson')).toBe('"[[1,true],[1.000,true],[1.0,true],[1.00,true]]"');
  });
  it('the same value written differently is equal, in == and in sort order', () => {
    expect(exact('1.0 == 1, [1.0] == [1], {"a":1.0} == {"a":1}, (1.0 | [., 1] | unique), ([1, 1.0] | unique)')).toBe('true\ntrue\ntrue\n[1.0]\n[1]');
    expect(exact('[1.0, 1.00, 1] | sort')).toBe('[1.0,1.00,1]');
    expect(exact('-0.0 == 0, 0.0 < 0.00001, -1.5e3 < -1.4e3')).toBe('true\ntrue\ntrue');
  });
});

describe('the boundary', () => {
  it('only a literal jq would print differently, or with more digits than a double holds, is kept', () => {
    for (const t of ['1', '42', '-3', '-0', '1.5', '0.1', '0.0001', '123456789012345', '99999999999999.9', '1e-3', '0', '1.', '10.', '.5'])
      expect(typeof numberFromLiteral(t)).toBe('number');
    for (const t of ['1.0', '12.50', '1e2', '5e-324', '0.00001', '1234567890123456', '1000000000000000', '1e1000', '0.0', '-0.0'])
      expect(numberFromLiteral(t)).toBeInstanceOf(LiteralNumber);
    expect(Object.is(numberFromLiteral('-0'), -0)).toBe(true);
  });
  it('library callers get doubles unless they ask for exact numbers', () => {
    const p = compile('1.0, [1e1000, {"a": 100e-2}]');
    expect(p.run(null)).toEqual([1, [Number.MAX_VALUE, { a: 1 }]]);
    const [first] = compile('1.0, [1e1000, {"a": 100e-2}]', { exactNumbers: true }).run(null);
    expect(first).toBeInstanceOf(LiteralNumber);
    try {
      compile('1.0 | error').run(null);
      expect.unreachable();
    } catch (e) {
      expect((e as JqRuntimeError).value).toBe(1);
      expect((e as JqRuntimeError).message).toBe('1.0 (not a string)');
    }
  });
  // not a jq 1.7.1 builtin (jq 1.8 has it): the engine answers what it does
  it('have_literal_numbers is true', () => {
    expect(exact('have_literal_numbers')).toBe('true');
  });
  it('datakit jq prints kept literals', async () => {
    let out = '';
    const code = await jqCli(['-nc', '[1.0, 1e2, 9223372036854775807, 1.0 + 1]'], {
      stdin: Readable.from(['']),
      stdout: new Writable({ write: (c, _e, cb) => ((out += c.toString()), cb()) }),
      stderr: new Writable({ write: (_c, _e, cb) => cb() }),
    });
    expect(code).toBe(0);
    expect(out).toBe('[1.0,1E+2,9223372036854775807,2]\n');
  });
});

// Many literals at once against jq 1.7.1 itself (jq-wasm): how each prints, the order sort gives
// them (decimal comparison), and the double each becomes (through 17 digits).
describe('random literals against jq-wasm', () => {
  const ref = new ReferenceJq(30_000);
  afterAll(() => ref.close());
  let seed = 12345;
  const rand = (n: number) => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed % n;
  };
  const digits = (n: number) => Array.from({ length: n }, () => String(rand(10))).join('');
  const literal = (): string => {
    const int = rand(4) === 0 ? '0' : String(1 + rand(9)) + digits(rand(22));
    const frac = rand(2) ? '.' + digits(rand(20)) : '';
    const exp = rand(3) === 0 ? (rand(2) ? 'e' : 'E') + ['', '+', '-'][rand(3)] + String(rand(rand(4) === 0 ? 1000 : 30)) : '';
    return int + frac + exp;
  };
  const lits = Array.from({ length: 400 }, literal);
  // equal-valued neighbours written differently, and ties a 17-digit rounding decides
  lits.push('1', '1.0', '1.00', '100e-2', '0.1', '0.10000000000000001', '0.100000000000000005551115123125783', '9007199254740993', '9007199254740992.5', '9007199254740993.0000000001');
  const program = `[${lits.join(',')}]`;

  for (const [what, filter] of [
    ['print as written', '.'],
    ['sort as decimals', 'sort'],
    ['become doubles', 'map(. + 0)'],
  ] as const) {
    it(what, async () => {
      const r = await ref.run('null', `${program} | ${filter}`);
      if (r.kind !== 'done') throw new Error(`jq-wasm: ${r.kind}`);
      expect(exact(`${program} | ${filter}`)).toBe(r.stdout.trim().replace(/\n/g, ''));
    }, 60_000);
  }
});

describe('unwrapping for library callers stays inside the budgets', () => {
  it('a kept literal shared 2^40 times fails on a budget, not in the unwrapping', () => {
    expect(() => compile('reduce range(40) as $i ([1.0]; [., .])').run(null)).toThrow(/jq: evaluation exceeded its/);
  });
  it('a literal made during the run (fromjson) leaves as a double', () => {
    expect(compile('"1.0" | fromjson, [tonumber]').run(null)).toEqual([1, [1]]);
    expect(compile('"1.0" | fromjson, [tonumber]', { exactNumbers: true }).run(null).map((v) => dump(v))).toEqual(['1.0', '[1.0]']);
  });
});

/** An exactNumbers run on a JSON text read as jq reads it (every number token a literal). */
function exactOn(filter: string, inputText: string): string {
  return exact(filter, parseJsonText(inputText, undefined, 'all'));
}

describe('where a number came from (exactNumbers: every token a literal, every result computed)', () => {
  // jq 1.7.1 compares two literals as decimals and anything else as doubles
  const compares: [string, string, string][] = [
    ['1 >= 1.000000000000000000001', 'null', 'false'],
    ['(0.5 + 0.5) >= 1.000000000000000000001', 'null', 'true'],
    ['. >= 1.000000000000000000001', '1', 'false'],
    ['.[0] == 1.000000000000000000001', '[1]', 'false'],
    ['[.[] | . == 1.000000000000000000001]', '[1, 1.0, 1.000000000000000000001, 1.0000000000000000000010]', '[false,false,true,true]'],
    ['[1, 1.000000000000000000001, 1.0] | unique', 'null', '[1,1.000000000000000000001]'],
    ['[1.000000000000000000001, 1] | sort', 'null', '[1,1.000000000000000000001]'],
    // `-1` is 1 negated: computed
    ['-1 >= -1.000000000000000000001', 'null', 'true'],
    // null + x is x itself (also when folded at compile time), add and max give an element
    ['null + 1 | . >= 1.000000000000000000001', 'null', 'false'],
    ['[1] | add >= 1.000000000000000000001', 'null', 'false'],
    ['[1, 2] | max >= 2.000000000000000000001', 'null', 'false'],
    ['100000000000000000000 | . == 100000000000000000001', 'null', 'false'],
  ];
  for (const [filter, input, want] of compares) it(`${filter} on ${input}`, () => expect(exactOn(filter, input)).toBe(want));

  // path tracking: a C builtin's result is the same jv as a computed input with its bits, never a literal
  const paths: [string, string, string][] = [
    ['(2 + 4) | path(length)', 'null', '[]'],
    ['6 | path(length)', 'null', 'error: Invalid path expression with result 6'],
    ['scalb(3; 1) | length %= .', '3', '0'],
    ['atan2(.; 4) | del(length | .constructor)', '1', 'error: Cannot index number with string "constructor"'],
    ['infinite | pick(length)', 'null', '1.7976931348623157e+308'],
    ['path(. + 0)', '5', 'error: Invalid path expression with result 5'],
    ['(. + 0) | path(. + 0)', '5', '[]'],
    // range(n) is range(0; n): its first output is the builtins' literal 0, the rest computed
    ['[range(3)] | map(try path(length) catch .)', 'null', '["Invalid path expression with result 0",[],[]]'],
    // tonumber gives its input number back itself, literal or not
    ['path(tonumber)', '5', '[]'],
    ['tonumber | path(tonumber)', '"5"', '[]'],
    // a variable holding the input is the same jv; a literal with the same value is not
    ['. as $x | path($x)', '1', '[]'],
    ['1 as $x | path($x)', '1', 'error: Invalid path expression with result 1'],
    ['(1 + 0) as $x | (1 + 0) | path($x)', 'null', '[]'],
  ];
  for (const [filter, input, want] of paths) it(`${filter} on ${input}`, () => expect(exactOn(filter, input)).toBe(want));

  it('without exactNumbers a double may stand for a literal: never the same jv as a result', () => {
    expect(() => compile('(2 + 4) | path(length)').run(null)).toThrow('Invalid path expression with result 6');
    expect(compile('1 >= 1.000000000000000000001').run(null)).toEqual([true]);
  });
});

describe('runText of an exactNumbers program', () => {
  it('reads every input number as a literal and prints literals as written', () => {
    expect(compile('.', { exactNumbers: true }).runText('{"a":1.0,"b":[100000000000000000000, 2]}')).toEqual(['{"a":1.0,"b":[100000000000000000000,2]}']);
    expect(compile('[.a, 1.50, .a + 1]', { exactNumbers: true }).runText('{"a":1.0}')).toEqual(['[1.0,1.50,2]']);
    expect(compile('.a >= 1.000000000000000000001', { exactNumbers: true }).runText('{"a":1}')).toEqual(['false']);
  });
  it('without exactNumbers the same program gives doubles', () => {
    expect(compile('[.a, 1.50]').runText('{"a":1.0}')).toEqual(['[1,1.5]']);
    expect(compile('.a >= 1.000000000000000000001').runText('{"a":1}')).toEqual(['true']);
  });
});
