// Where jq-wasm is not the jq 1.7.1 we follow, or where two correct jq 1.7.1
// builds may print different things. A disagreement matching an entry is
// counted under the entry's id and not reported. Every entry needs evidence
// (jq 1.7.1's own test suite, its source or manual); a bug of ours is never
// an entry: fix it, or list it as KNOWN_OPEN in test/jq/fuzz.test.ts.
import type { DisagreementKind, OursOutcome } from './compare.js';
import type { Outcome } from './outcome.js';
import { compile } from '../../../host/jq/index.js';

export interface Divergence {
  id: string;
  why: string;
  evidence: string;
  matches(c: { filter: string; input: string; kind: DisagreementKind; ours: OursOutcome; ref: Outcome }): boolean;
}

/** Numbers in two JSON texts at the same places, the rest of the texts equal. */
function numbersOnlyDiffer(a: string, b: string, close: (x: number, y: number) => boolean): boolean {
  const NUM = /-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?/g;
  if (a.replace(NUM, '#') !== b.replace(NUM, '#')) return false;
  const xs = a.match(NUM) ?? [];
  const ys = b.match(NUM) ?? [];
  return xs.length === ys.length && xs.every((x, i) => close(Number(x), Number(ys[i])));
}

/**
 * Days between a date in the years 0 to 99 (and its neighbours) and the same date 1900 years
 * later, which is where Emscripten's Date.UTC-based time functions put it.
 */
const DAYS_TO_1900_LATER: ReadonlySet<number> = (() => {
  const days = new Set<number>();
  const utc = (y: number, m: number) => {
    const t = new Date(0);
    t.setUTCFullYear(y, m, 1);
    return t.getTime();
  };
  for (let y = -1; y <= 100; y++) for (let m = 0; m <= 12; m++) days.add(Math.round((utc(y + 1900, m) - utc(y, m)) / 86400000));
  return days;
})();

export const DIVERGENCES: Divergence[] = [
  {
    id: 'libm-function-missing-in-jq-wasm',
    why:
      'jq-wasm was built without gamma (its libm lacks it), so jq answers "Error: gamma/0 not found at build time" ' +
      '(which try/catch can turn into anything); a jq 1.7.1 built on glibc has it',
    evidence: 'jq 1.7.1 src/builtin.c: LIBM_DD_NO(name) defines the function as that error when configure did not find it in libm',
    matches: ({ filter, ref }) => /\bgamma\b/.test(filter) || (ref.status === 'error' && /^Error: \w+\/\d not found at build time$/.test(ref.message)),
  },
  {
    id: 'time-beyond-libc-range',
    why:
      'seconds beyond what a JS Date holds (±8.64e12, infinite, nan): jq 1.7.1 converts the double to time_t and calls gmtime_r/timegm, ' +
      'so the answer is the C library\'s (musl in jq-wasm prints year 1900 for 2^53, glibc a year near 285 million); ' +
      'we fail with jq\'s own "error converting number of seconds since epoch to datetime" (which a try may turn into anything)',
    evidence:
      'jq 1.7.1 src/builtin.c f_gmtime: time_t secs = fsecs; if (gmtime_r(&secs, &tm) == NULL) return ret_error(..., ' +
      '"error converting number of seconds since epoch to datetime"); C17 6.3.1.4: an out-of-range conversion (nan, ' +
      'infinite) is undefined: glibc\'s gmtime_r fails (EOVERFLOW) where musl (jq-wasm) prints a date or strftime("%s") a number',
    matches: ({ filter, input, ours }) => {
      const failed = ours.status === 'error' && ours.message === 'error converting number of seconds since epoch to datetime';
      const timeBuiltin = /\b(todate|strftime|strflocaltime|gmtime|localtime|mktime|todateiso8601|dateadd|datesub|date)\b/.test(filter);
      // host/jq/time.ts fails this way only for seconds a JS Date cannot hold (nan, ±infinite, beyond ±8.64e12),
      // whatever computed them (log of 0, remainder(0; 0), atanh of 1, drem(.; 0) ...)
      if (failed && timeBuiltin) return true;
      return (
        (failed || timeBuiltin) &&
        (/\b(infinite|nan)\b/.test(filter) ||
          // a math builtin that can make a nan or an infinite before a time builtin (pow(-2; 0.1) | strftime("%s"),
          // which musl prints as "0" and glibc fails), whatever a try then makes of it
          (timeBuiltin && /\b(pow|log|log2|log10|log1p|sqrt|acos|asin|acosh|atanh|drem|remainder|fmod|exp|exp2|exp10|pow10|ldexp|scalb|scalbln|gamma|lgamma|tgamma|significand|logb)\b/.test(filter)) ||
          (`${filter} ${input}`.match(/\d+(?:\.\d+)?(?:[eE][-+]?\d+)?/g) ?? []).some((n) => Math.abs(Number(n)) >= 8.64e12))
      );
    },
  },
  {
    id: 'emscripten-time-years-0-to-99',
    why:
      "years 0 to 99 in jq-wasm's time functions: its timegm (mktime), gmtime's day of the year and strptime are " +
      "Emscripten's JavaScript ones, built on Date.UTC, which reads the years 0 to 99 as 1900 to 1999 ([1,2,3,4,5,6,7,8] " +
      '| mktime is -2172167694, 1901-03-03); glibc counts them as the years they are (-62130311694), as we do',
    evidence:
      'jq 1.7.1 src/builtin.c my_mktime calls timegm, f_gmtime gmtime_r, f_strptime strptime; jq-wasm dist/build/jq.js ' +
      '__timegm_js: Date.UTC(tm_year + 1900, ...); __gmtime_js: yday from Date.UTC(date.getUTCFullYear(), 0, 1); ' +
      'ECMA-262 Date.UTC: MakeFullYear maps a year 0..99 to 1900 + year',
    matches: ({ filter, kind, ours, ref }) => {
      if (!/\b(mktime|gmtime|localtime|strptime|fromdate|fromdateiso8601|dateadd|datesub|date|timegm)\b/.test(filter)) return false;
      if (kind !== 'outputs' && kind !== 'error-text') return false;
      // each differing number is 1900 years off: in seconds, in days (the day of the year) or the year itself
      const shifted = (x: number, y: number) => {
        const d = Math.abs(x - y);
        return x === y || d === 1900 || DAYS_TO_1900_LATER.has(d) || DAYS_TO_1900_LATER.has(d / 86400);
      };
      const text = (o: OursOutcome | Outcome) => o.outputs.join('\n') + ('message' in o ? `\n${o.message}` : '');
      const o = text(ours);
      const r = text(ref);
      return o !== r && numbersOnlyDiffer(o, r, shifted);
    },
  },
  {
    id: 'frexp-exponent-unset',
    why:
      "frexp of a nan or an infinite: musl's frexp returns it without setting the exponent, and jq 1.7.1 passes " +
      'an uninitialised int, so jq-wasm prints whatever the stack held ([-1.7976931348623157e+308,133]); glibc sets ' +
      'it to 0, as we do',
    evidence: 'jq 1.7.1 src/builtin.c f_frexp: int exp; frexp(x, &exp); musl 1.2.4 src/math/frexp.c: if (ee == 0x7ff) return x;',
    matches: ({ filter, kind, ours, ref }) => {
      if (!/\bfrexp\b/.test(filter) || (kind !== 'outputs' && kind !== 'error-text')) return false;
      const text = (o: OursOutcome | Outcome) => o.outputs.join('\n') + ('message' in o ? `\n${o.message}` : '');
      // only integers differ (the exponent), ours being glibc's 0
      return numbersOnlyDiffer(text(ours), text(ref), (x, y) => x === y || (x === 0 && Number.isInteger(y)));
    },
  },
  {
    id: 'nan-sign',
    why:
      "the sign of a nan, which only copysign shows (copysign(2; 3|atanh)): jq-wasm's nans made by an invalid " +
      'operation (infinite - infinite, sqrt(-1), log(-1), atanh(3)) carry the sign the host CPU gives them (x86: ' +
      "negative, so -2; ARM: positive), a nan literal is positive; V8 keeps no reliable sign (Math.log(-1) is " +
      'positive there, and it may canonicalize a nan it stores), so we give the sign of a positive nan',
    evidence:
      'WebAssembly core spec 4.3.3 (NaN propagation): the sign of a NaN result is non-deterministic; jq 1.7.1 ' +
      'src/builtin.c LIBM_DDD(copysign) passes the double through',
    matches: ({ filter, kind, ours, ref }) => {
      if (!/\bcopysign\b/.test(filter) || (kind !== 'outputs' && kind !== 'error-text')) return false;
      const text = (o: OursOutcome | Outcome) => o.outputs.join('\n') + ('message' in o ? `\n${o.message}` : '');
      return numbersOnlyDiffer(text(ours), text(ref), (x, y) => x === y || x === -y);
    },
  },
  {
    id: 'string-repeat-overflow',
    why:
      'a string repeated into more than we build (over 1e9 characters, or an odd number of UTF-8 bytes times a count ' +
      'beyond int): jq 1.7.1 allocates the whole result first, which jq-wasm cannot (it aborts: memory access out ' +
      'of bounds, or out of memory for the 2 GiB an INT_MIN count asks for) and a 64-bit jq may; we fail with ' +
      '"Repeat string result too long"',
    evidence:
      'jq 1.7.1 src/builtin.c binop_multiply: int n = d; res = jv_string_empty(alen * n), then n appends; ' +
      'src/jv.c jvp_string_alloc(size) mallocs size + 1 bytes up front',
    matches: ({ ours }) => ours.status === 'error' && ours.message === 'Repeat string result too long',
  },
  {
    id: 'strftime-unknown-conversion',
    why:
      'strftime with a conversion, flag or field width where the C libraries differ (%| %: %Q, the GNU %k %l %P, ' +
      '%Z, %^a, %#b, %3d, %-5Y, %Ed): jq 1.7.1 passes the format to the C library; musl (jq-wasm) fails on what ' +
      'it lacks ("strftime/1: unknown system failure", which try/? turn into no output) and applies widths to ' +
      '%C %F %G %Y only; glibc copies unknown conversions and applies flags and widths to all, as we do',
    evidence:
      'C17 7.27.3.5p6: an unknown conversion specifier is undefined behaviour; jq 1.7.1 src/builtin.c f_strftime ' +
      'calls strftime and fails when it returns 0; musl src/time/strftime.c __strftime_fmt_1: default: return 0',
    matches: ({ filter }) => {
      if (!/\bstrf(local)?time\b/.test(filter)) return false;
      for (const [, flags, width, modifier, conv] of filter.matchAll(/%([-_0^#+]*)(\d*)([EO]?)(.)/g)) {
        if (/[#^+]/.test(flags) || flags.length > 1 || width !== '') return true;
        if (!/[aAbBcCdDeFgGhHIjmMnprRsStTuUVwWxXyYz%]/.test(conv)) return true;
        if (modifier === 'E' && !/[cCxXyY]/.test(conv)) return true;
        if (modifier === 'O' && !/[bBhdeHIklmMSuUVWwy]/.test(conv)) return true;
      }
      return false;
    },
  },
  {
    id: 'lone-surrogate-in-program',
    why:
      'a program whose text holds a lone UTF-16 surrogate (the generator can make one; a program read as UTF-8 bytes ' +
      "cannot): jq-wasm's Emscripten stringToUTF8 takes the next code unit as its low half, so the character after it " +
      '(often the closing quote) disappears before jq sees the program',
    evidence:
      'jq 1.7.1 reads its program as bytes (src/main.c); jq-wasm dist/build/jq.js stringToUTF8Array: a unit in ' +
      '0xD800..0xDFFF is combined with the following one, ((u & 1023) << 10) | (next & 1023), without checking it',
    matches: ({ filter }) => /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(filter),
  },
  {
    id: 'strptime-unparsed-fields',
    why:
      'strptime with a format that leaves the year or the day of the month unparsed: jq 1.7.1 hands a zeroed struct tm ' +
      "to the C library's strptime; jq-wasm's is Emscripten's JavaScript one, which starts from 1970-01-01 (so \"\" | " +
      'strptime("") is [1970,0,1,0,0,0,4,0]); glibc leaves the year at 1900, and we start from 1900-01-01',
    evidence:
      'jq 1.7.1 src/builtin.c f_strptime: memset(&tm, 0, ...); strptime(input, fmt, &tm); POSIX strptime leaves fields the ' +
      'format does not name unspecified; jq-wasm dist/build/jq.js _strptime: fixup(tm_year + 1900, 1970, 9999)',
    matches: ({ filter, ours, ref }) => {
      if (!/\bstrptime\b/.test(filter)) return false;
      const text = (o: OursOutcome | Outcome) => o.outputs.join(' ') + ('message' in o ? ` ${o.message}` : '');
      const o = text(ours);
      const r = text(ref);
      if (/\[19(69|70),/.test(r) && /\[1900,/.test(o)) return true;
      // the year shown later on, e.g. inside an error text (string ("1900") and boolean ...)
      return /\b1900\b/.test(o) && (o.replace(/\b1900\b/g, '1970') === r || o.replace(/\b1900\b/g, '1969') === r);
    },
  },
  {
    id: 'strptime-literal-case',
    why:
      "strptime with a format whose literal letters differ from the input's only in case (\"abc\" | strptime(\"AbC\")): " +
      "jq-wasm's strptime is Emscripten's JavaScript one, which turns the format into a case-insensitive RegExp and " +
      'matches; glibc compares literal characters exactly and fails, as we do ("date ... does not match format ...")',
    evidence:
      'jq 1.7.1 src/builtin.c f_strptime calls the C library\'s strptime; glibc time/strptime_l.c: "Any character but ' +
      '`%\' must be matched by the same character" (match_char); jq-wasm dist/build/jq.js _strptime: new RegExp("^" + ' +
      'pattern_out, "i")',
    matches: ({ filter, ours }) => {
      if (!/\bstrptime\b/.test(filter) || ours.status !== 'error') return false;
      const m = /^date "([^]*)" does not match format "([^]*)"$/.exec(ours.message);
      if (!m) return false;
      const [, date, format] = m;
      // the literal characters (outside %x conversions) in lower case
      const folded = format.replace(/(%[EO]?.)|([^%]+)/g, (_, conv: string | undefined, lit: string | undefined) => conv ?? lit!.toLowerCase());
      const parses = (input: string) => {
        try {
          compile('strptime($f)', { variables: ['f'] }).run(input, { variables: { f: folded } });
          return true;
        } catch {
          return false;
        }
      };
      return folded !== format || date.toLowerCase() !== date ? parses(date) || parses(date.toLowerCase()) : false;
    },
  },
  {
    id: 'builtin-from-another-jq-version',
    why:
      'a name jq 1.7.1 lacks that we define from another jq version (docs/jq.md lists them: trim, ltrim, rtrim, toarray, ' +
      'add/1, have_literal_numbers, have_decnum, ascii, leaf_paths, date, dateadd, datesub, to_array, error/2, timegm): ' +
      'jq 1.7.1 reports it undefined, we run it (the shrinker makes them from rtrimstr, ltrimstr, ...)',
    evidence: 'jq 1.7.1 src/builtin.jq and src/builtin.c define none of these names; jq 1.8 defines trim/ltrim/rtrim/toarray/add/1',
    matches: ({ ref }) =>
      ref.status === 'compile-error' &&
      /^(trim\/0|ltrim\/0|rtrim\/0|toarray\/0|add\/1|have_literal_numbers\/0|have_decnum\/0|ascii\/0|leaf_paths\/0|date\/0|dateadd\/2|datesub\/2|to_array\/0|error\/2|timegm\/0) is not defined\b/.test(ref.message),
  },
  {
    id: 'empty-string-unterminated',
    why:
      'the empty string that implode makes ([] | implode, and "" | ascii_downcase or ascii_upcase, which jq 1.7.1 ' +
      'defines as explode | map(...) | implode) or a string repeated fewer than once ("ab" * 0.5, "ab" * 0, ' +
      'or an even byte length times a count beyond int) has no terminating NUL in jq 1.7.1, so an error text that ' +
      'quotes it (.[implode] on []: Cannot index array with string "...") or is it (error(. * 0)) holds whatever ' +
      'bytes the allocator left there (jq-wasm: "add", "type\\u000b\\u0004", "\\b" ... from run to run); we print the ' +
      'empty string',
    evidence:
      'jq 1.7.1 src/jv.c: jv_string_implode and src/builtin.c binop_multiply start from jv_string_empty(len), whose ' +
      'jvp_string_empty_new does memset(s->data, 0, length) with length 0 (data[0] never written) and nothing is ' +
      'appended; jv_string_value of it goes to a %s (src/main.c: "jq: error (at %s): %s"); src/builtin.jq: def ' +
      'ascii_downcase: explode | map(...) | implode',
    matches: ({ filter, ours, ref }) => {
      if (!/\b(implode|ascii_downcase|ascii_upcase)\b|\*/.test(filter)) return false;
      // the leftover bytes made jq fail where we go on: its message quotes a control character we never made
      if (ours.status === 'ok' && ref.status === 'error') {
        const garbage = /[\u0001-\u0008\u000b\u000c\u000e-\u001f]/.exec(ref.message);
        return garbage !== null && !ours.outputs.join('').includes(JSON.stringify(garbage[0]).slice(1, -1));
      }
      if (ours.status !== 'error' || ref.status !== 'error') return false;
      // the whole message is the string: error(. * 0)
      if (ours.message === '') return /\berror\b/.test(filter) && ref.message !== '' && !ref.message.includes('\n');
      // quoted as a string ("") or as parsed text ('': fromjson's "while parsing")
      let at = ours.message.indexOf('""');
      if (at < 0) at = ours.message.indexOf("''");
      if (at < 0) return false;
      const before = ours.message.slice(0, at + 1);
      const after = ours.message.slice(at + 1);
      return ref.message.length > ours.message.length && ref.message.startsWith(before) && ref.message.endsWith(after);
    },
  },

];

export function acceptedDivergence(c: Parameters<Divergence['matches']>[0]): Divergence | undefined {
  return DIVERGENCES.find((d) => d.matches(c));
}
