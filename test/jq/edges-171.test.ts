// Edges of jq 1.7.1 that come from its C code (int conversions, the C library's strftime and
// strptime, strings without a terminating NUL): every expected value or error text below was
// produced by jq 1.7.1 (the jq-wasm reference build), except where a comment says otherwise.
import { describe, it, expect } from 'vitest';
import { compile } from '../../host/jq/index.js';
import { acceptedDivergence } from './fuzz/divergences.js';
import { itAnswers, itFails } from '../helpers/jq-cases.js';

type Case = { f: string; in?: unknown; out?: unknown[]; err?: string };

function table(name: string, cases: Case[]): void {
  describe(name, () => {
    itAnswers(cases.filter((c) => c.err === undefined).map((c) => [c.f, c.in ?? null, c.out ?? []]));
    itFails(cases.filter((c) => c.err !== undefined).map((c) => [c.f, c.in ?? null, c.err!]));
  });
}

// string * number: a negative or nan count gives null, a count is truncated to a C int, and a
// count beyond int (INT_MIN once converted) gives "" for an even number of UTF-8 bytes
table('string repetition counts', [
  { f: '. * 0', in: 'ab', out: [''] },
  { f: '. * -0', in: 'ab', out: [''] },
  { f: '. * 0.3', in: 'ab', out: [''] },
  { f: '. * 0.999', in: 'ab', out: [''] },
  { f: '. * 1', in: 'ab', out: ['ab'] },
  { f: '. * 1.5', in: 'ab', out: ['ab'] },
  { f: '2.7 * .', in: 'ab', out: ['abab'] },
  { f: '. * -1', in: 'ab', out: [null] },
  { f: '. * -0.5', in: 'ab', out: [null] },
  { f: '. * nan', in: 'ab', out: [null] },
  { f: '. * -infinite', in: 'ab', out: [null] },
  { f: '. * 2147483648', in: 'ab', out: [''] },
  { f: '. * 4294967296', in: 'ab', out: [''] },
  { f: '. * 9007199254740992', in: 'ab', out: [''] },
  { f: '. * 9223372036854775808', in: 'MFRGG===', out: [''] },
  { f: '. * 1e308', in: '😀', out: [''] },
  { f: '1e1000 * .', in: 'ß', out: [''] },
  { f: '. * infinite', in: '', out: [''] },
  { f: '. * 2147483646', in: '', out: [''] },
  { f: '(. * "😀")?', in: 1e308, out: [''] },
  { f: '[. * 1e308, . * 0] | map(length)', in: 'ab', out: [[0, 0]] },
  { f: 'try (. * "MFRGG===") catch true.c - .', in: 9223372036854775808, err: 'string ("") and number (92233720368...) cannot be subtracted' },
  // jq-wasm aborts here (an odd byte length times INT_MIN asks for 2 GiB)
  { f: '. * 1e308', in: 'a', err: 'Repeat string result too long' },
  { f: '. * 2147483648', in: 'abc', err: 'Repeat string result too long' },
]);

describe('accepted divergences stay narrow', () => {
  const error = (message: string) => ({ status: 'error' as const, outputs: [], message });
  it('an unterminated empty string from implode or a repetition below one', () => {
    const quoted = (filter: string, ref: string) =>
      acceptedDivergence({ filter, input: '"ab"', kind: 'error-text', ours: error('Cannot index string with string ""'), ref: error(ref) })?.id;
    expect(quoted('.[. * 0.1]', 'Cannot index string with string "add"')).toBe('empty-string-unterminated');
    expect(quoted('.[[] | implode]', 'Cannot index string with string "\u0018"')).toBe('empty-string-unterminated');
    // no string of ours that jq would print unterminated
    expect(quoted('.[""]', 'Cannot index string with string "add"')).toBeUndefined();
    expect(quoted('.[. * 0.1]', 'Cannot index string with strin "add"')).toBeUndefined();
    const whole = (filter: string, ref: string) =>
      acceptedDivergence({ filter, input: '[]', kind: 'error-text', ours: error(''), ref: error(ref) })?.id;
    expect(whole('error(implode)', '\b')).toBe('empty-string-unterminated');
    expect(whole('error(. * 0)', 'es |\u000b\u0004')).toBe('empty-string-unterminated');
    expect(whole('error("")', 'add')).toBeUndefined();
    expect(whole('error(implode)', '')).toBeUndefined();
  });
});

// strptime: literal characters match exactly (glibc); jq-wasm's Emscripten strptime ignores their case
// (the strptime-literal-case divergence), and it starts from 1970 where glibc leaves 1900
// (strptime-unparsed-fields): these expectations are glibc's
table('strptime literal characters', [
  { f: 'strptime("AbC")', in: 'abc', err: 'date "abc" does not match format "AbC"' },
  { f: '{label: strptime("AbC"), null: todateiso8601}', in: 'abc', err: 'date "abc" does not match format "AbC"' },
  { f: 'strptime("abc")', in: 'abc', out: [[1900, 0, 1, 0, 0, 0, 1, 0]] },
  { f: 'strptime(" abc")', in: 'abc', out: [[1900, 0, 1, 0, 0, 0, 1, 0]] },
  { f: 'strptime("a  bc")', in: 'abc', out: [[1900, 0, 1, 0, 0, 0, 1, 0]] },
  { f: 'strptime("abd")', in: 'abc', err: 'date "abc" does not match format "abd"' },
  { f: 'strptime("a.c")', in: 'abc', err: 'date "abc" does not match format "a.c"' },
  { f: 'strptime("%YT%H")', in: '2020T05', out: [[2020, 0, 1, 5, 0, 0, 3, 0]] },
  { f: 'strptime("%b %d")', in: 'JAN 05', out: [[1900, 0, 5, 0, 0, 0, 5, 4]] },
]);

describe('strptime-literal-case stays narrow', () => {
  const error = (message: string) => ({ status: 'error' as const, outputs: [], message });
  const ref = { status: 'ok' as const, outputs: ['[1970,0,1,0,0,0,4,0]'] };
  const accepted = (filter: string, message: string) =>
    acceptedDivergence({ filter, input: '"abc"', kind: 'error-only-ours', ours: error(message), ref })?.id;
  it('accepts a case-only mismatch of literal characters', () => {
    expect(accepted('strptime("AbC")', 'date "abc" does not match format "AbC"')).toBe('strptime-literal-case');
    expect(accepted('strptime("%YT%H")', 'date "2020t05" does not match format "%YT%H"')).toBe('strptime-literal-case');
  });
  it('not other mismatches', () => {
    expect(accepted('strptime("abd")', 'date "abc" does not match format "abd"')).toBeUndefined();
    expect(accepted('strptime("AbD")', 'date "abc" does not match format "AbD"')).toBeUndefined();
    expect(accepted('strptime("%Y")', 'date "abc" does not match format "%Y"')).toBeUndefined();
  });
});

// strftime: jq 1.7.1 fails when strftime returns 0 (an empty result, or one longer than the
// format's bytes + 99) and passes the format as a C string (up to a NUL). Conversions and flags
// follow glibc, checked against a glibc strftime; musl (jq-wasm) fails on the conversions it
// lacks (%| %Q %k %l %P ... the strftime-unknown-conversion divergence)
table('strftime', [
  { f: 'strftime("")', in: 1, err: 'strftime/1: unknown system failure' },
  { f: 'strftime("\\u0000%Y")', in: 1, err: 'strftime/1: unknown system failure' },
  { f: 'strftime("x\\u0000%Q")', in: 1e9, out: ['x'] },
  { f: 'strflocaltime("")', in: 1, err: 'strflocaltime/1: unknown system failure' },
  { f: '[strftime(""), 1]', in: [2024, 0, 1, 0, 0, 0, 1, 0], err: 'strftime/1: unknown system failure' },
  { f: 'strftime("%c%c%c%c")', in: 1e9, out: ['Sun Sep  9 01:46:40 2001'.repeat(4)] },
  { f: 'strftime("%c%c%c%c%c")', in: 1e9, err: 'strftime/1: unknown system failure' },
  { f: 'strftime("%")', in: 1e9, out: ['%'] },
  { f: 'strftime("%%")', in: 1e9, out: ['%'] },
  { f: 'strftime("%-d %_d %0e %-e %-j %_H %-y")', in: 1e9, out: ['9  9 09 9 252  1 1'] },
  { f: 'strftime("%5Y %05Y %5C %+6Y")', in: 1e9, out: ['02001 02001 00020 %+6Y'] },
  // glibc, not musl: widths apply to every conversion
  { f: 'strftime("%3d|%_5d|%-5Y|%10a|%12D")', in: 1e9, out: ['009|    9| 2001|       Sun|    09/09/01'] },
  { f: 'strftime("%^a %#b %#p %^B")', in: 1e9, out: ['SUN SEP am SEPTEMBER'] },
  { f: 'strftime("%Oy %Ey %EY %Od %Ed %Ek")', in: 1e9, out: ['01 01 2001 09 %Ed %Ek'] },
  { f: 'strftime("%|")', in: 1, out: ['%|'] },
  { f: 'strftime("%5Q|%-Q|%5")', in: 1, out: ['  %5Q|%-Q|   %5'] },
  { f: 'strftime("%s")', in: [5, 0, 1, 0, 0, 0, 6, 0], out: ['-62009366400'] },
]);

// years 0 to 99 are those years (glibc's timegm), not 1900 to 1999 (Emscripten's Date.UTC in jq-wasm)
table('mktime and gmtime in the years 0 to 99', [
  { f: 'mktime', in: [5, 0, 1, 0, 0, 0, 0, 0], out: [-62009366400] },
  { f: 'mktime', in: [0, 1, 29, 0, 0, 0, 0, 0], out: [-62162121600] },
  { f: 'mktime', in: [-1, 0, 1, 0, 0, 0, 0, 0], out: [-62198755200] },
  { f: 'mktime', in: [100, 0, 1, 0, 0, 0, 0, 0], out: [-59011459200] },
  { f: 'gmtime', in: -62009366400, out: [[5, 0, 1, 0, 0, 0, 6, 0]] },
  { f: 'gmtime', in: -62162121600, out: [[0, 1, 29, 0, 0, 0, 2, 59]] },
  { f: 'mktime', in: [2024, 0, 1, 0, 0, 0, 0, 0], out: [1704067200] },
]);

describe('strftime and time divergences stay narrow', () => {
  const ok = (...outputs: string[]) => ({ status: 'ok' as const, outputs });
  const accepted = (filter: string, ours: string, ref: string) =>
    acceptedDivergence({ filter, input: 'null', kind: 'outputs', ours: ok(ours), ref: ok(ref) })?.id;
  it('a 1900-year shift of Emscripten time functions', () => {
    expect(accepted('mktime', '-62130311694', '-2172167694')).toBe('emscripten-time-years-0-to-99');
    expect(accepted('gmtime', '[5,0,1,0,0,0,6,0]', '[5,0,1,0,0,0,6,-693960]')).toBe('emscripten-time-years-0-to-99');
    expect(accepted('mktime', '-62130311694', '-2172167695')).toBeUndefined();
    expect(accepted('mktime', '[5,0,1,0,0,0,6,0]', '[5,0,1,0,0,0,5,0]')).toBeUndefined();
    expect(accepted('tostring', '-62130311694', '-2172167694')).toBeUndefined();
  });
  it('strftime conversions musl lacks, not the failures both C libraries share', () => {
    const failed = { status: 'error' as const, outputs: [], message: 'strftime/1: unknown system failure' };
    const unknown = (filter: string, ours: { status: 'ok'; outputs: string[] }) =>
      acceptedDivergence({ filter, input: '1', kind: 'error-only-ref', ours, ref: failed })?.id;
    expect(unknown('strftime("%|")', ok('"%|"'))).toBe('strftime-unknown-conversion');
    expect(unknown('strftime("%k:%M")', ok('" 0:00"'))).toBe('strftime-unknown-conversion');
    expect(unknown('strftime("%3d")', ok('"001"'))).toBe('strftime-unknown-conversion');
    expect(unknown('strftime("%Y")', ok('"1970"'))).toBeUndefined();
    expect(unknown('strftime(.)', ok('""'))).toBeUndefined();
    // under try or ?, jq-wasm's failure leaves no output
    expect(
      acceptedDivergence({ filter: 'strftime("%|")?', input: '1', kind: 'outputs', ours: ok('"%|"'), ref: ok() })?.id,
    ).toBe('strftime-unknown-conversion');
  });
});

// a nan's sign is the host CPU's in jq-wasm (the nan-sign divergence); ours is positive
table('copysign with a nan', [
  { f: 'copysign(2; 3|atanh)', out: [2] },
  { f: 'copysign(-2; nan)', out: [2] },
  { f: 'copysign(2; -0)', out: [-2] },
]);

describe('nan-sign stays narrow', () => {
  const ok = (...outputs: string[]) => ({ status: 'ok' as const, outputs });
  const accepted = (filter: string, ours: string, ref: string) =>
    acceptedDivergence({ filter, input: 'null', kind: 'outputs', ours: ok(ours), ref: ok(ref) })?.id;
  it('only a sign, only through copysign', () => {
    expect(accepted('copysign(2; 3|atanh)', '2', '-2')).toBe('nan-sign');
    expect(accepted('[copysign(2; 3|atanh), 5]', '[2,5]', '[-2,5]')).toBe('nan-sign');
    expect(accepted('copysign(2; 3|atanh)', '2', '-3')).toBeUndefined();
    expect(accepted('2 | -.', '2', '-2')).toBeUndefined();
  });
});

// frexp of a nan or infinite: musl leaves the exponent unset (jq-wasm prints stack garbage), glibc and we give 0
table('frexp of a non-finite number', [
  { f: '[frexp]', in: Infinity, out: [[[Number.MAX_VALUE, 0]]] },
  { f: 'nan | frexp | .[1]', out: [0] },
  { f: '8 | frexp', out: [[0.5, 4]] },
]);

describe('frexp-exponent-unset stays narrow', () => {
  const ok = (...outputs: string[]) => ({ status: 'ok' as const, outputs });
  const accepted = (filter: string, ours: string, ref: string) =>
    acceptedDivergence({ filter, input: 'null', kind: 'outputs', ours: ok(ours), ref: ok(ref) })?.id;
  it('only the exponent, only through frexp, ours 0', () => {
    expect(accepted('{label: frexp}', '{"label":[-1.7976931348623157e+308,0]}', '{"label":[-1.7976931348623157e+308,133]}')).toBe('frexp-exponent-unset');
    expect(accepted('{label: frexp}', '{"label":[-1.7976931348623157e+308,1]}', '{"label":[-1.7976931348623157e+308,133]}')).toBeUndefined();
    expect(accepted('frexp', '[0.5,4]', '[0.25,4]')).toBeUndefined();
    expect(accepted('ldexp(1; 2)', '0', '4')).toBeUndefined();
  });
});

describe('empty-string-unterminated covers ascii_downcase/ascii_upcase of "" (implode in jq 1.7.1)', () => {
  const err = (message: string) => ({ status: 'error' as const, outputs: [], message });
  const accepted = (filter: string, ours: string, ref: string) =>
    acceptedDivergence({ filter, input: '1', kind: 'error-text', ours: err(ours), ref: err(ref) })?.id;
  it('quoted as a string or as parsed text, bytes only where the empty string is', () => {
    expect(accepted('.[ascii_upcase]', 'Cannot index string with string ""', 'Cannot index string with string "\uFFFDC\u001d"')).toBe('empty-string-unterminated');
    expect(accepted('("" | ascii_downcase) | fromjson', "Expected JSON value (while parsing '')", "Expected JSON value (while parsing 'fromjson ')")).toBe('empty-string-unterminated');
    expect(accepted('("" | ascii_downcase) | fromjson', "Expected JSON value (while parsing '')", "Unfinished JSON term (while parsing 'fromjson ')")).toBeUndefined();
    expect(accepted('"" | fromjson', "Expected JSON value (while parsing '')", "Expected JSON value (while parsing 'x')")).toBeUndefined();
  });
});

describe('empty-string-unterminated: leftover bytes that make jq fail where we go on', () => {
  const run = (filter: string, ours: { status: 'ok'; outputs: string[] }, message: string) =>
    acceptedDivergence({ filter, input: '[]', kind: 'outputs', ours, ref: { status: 'error', outputs: [], message } })?.id;
  it('only with a control character jq quotes and we never made', () => {
    expect(run('implode | strptime("")', { status: 'ok', outputs: ['[1900,0,1,0,0,0,1,0]'] }, 'date "\u0018" does not match format ""')).toBe('empty-string-unterminated');
    expect(run('implode | strptime("")', { status: 'ok', outputs: ['[1900,0,1,0,0,0,1,0]'] }, 'date "x" does not match format ""')).toBeUndefined();
    expect(run('. | strptime("")', { status: 'ok', outputs: ['1'] }, 'date "\u0018" does not match format ""')).toBeUndefined();
  });
});

describe('strftime: a field as wide as jq\'s buffer fails before it is built', () => {
  it('%999999999Y is the unknown system failure, at once', () => {
    expect(() => compile('0 | strftime("%999999999Y")').run(null)).toThrow('strftime/1: unknown system failure');
    expect(() => compile('0 | strftime("%105Y")').run(null)).toThrow('strftime/1: unknown system failure');
    expect(compile('0 | strftime("%104Y") | length').run(null)).toEqual([104]);
    expect(compile('0 | strftime("%10Y")').run(null)).toEqual(['0000001970']);
  });
});

describe('time-beyond-libc-range covers a nan a math builtin makes before a time builtin', () => {
  it('pow(-2; 0.1) | strftime("%s") under a try', () => {
    const c = {
      filter: '.[] <= (pow(-2; 0.1) | strftime("%s"))?',
      input: '3',
      kind: 'error-only-ref' as const,
      ours: { status: 'ok' as const, outputs: [] },
      ref: { status: 'error' as const, outputs: [], message: 'Cannot iterate over number (3)' },
    };
    expect(acceptedDivergence(c)?.id).toBe('time-beyond-libc-range');
    expect(acceptedDivergence({ ...c, filter: '.[] <= (pow(2; 0.1) | tostring)?' })).toBeUndefined();
  });
});
