// Where jq-wasm is not the jq 1.7.1 we follow, or where two correct jq 1.7.1
// builds may print different things. A disagreement matching an entry is
// counted under the entry's id and not reported. Every entry needs evidence
// (jq 1.7.1's own test suite, its source or manual); a bug of ours is never
// an entry: fix it, or list it as KNOWN_OPEN in test/jq/fuzz.test.ts.
import type { DisagreementKind, OursOutcome } from './compare.js';
import type { Outcome } from './outcome.js';

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

// the libm functions whose last bits may still differ from musl's (sqrt, floor, ldexp, fmod, frexp ... are
// exact; sin, cos, tan, asin, acos, atan, atan2, cbrt, j0, j1 and jn give musl's bits: libm-trig.ts and V8's
// identical fdlibm code; lgamma, tgamma, y0, y1 and yn are musl's code but call log, exp and pow)
const LIBM = /\b(a?sinh|a?cosh|a?tanh|exp(2|10|m1)?|log(2|10|1p)?|pow|pow10|[lt]?gamma|lgamma_r|y[01n]|hypot)\b/;

/** within 4 units in the last place, and not the same number spelled differently */
function closeUlps(x: number, y: number): boolean {
  if (x === y) return true;
  if (!Number.isFinite(x) || !Number.isFinite(y)) return false;
  const ulp = Math.max(Number.EPSILON * Math.max(Math.abs(x), Math.abs(y)), Number.MIN_VALUE);
  return Math.abs(x - y) <= 4 * ulp;
}

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
          (`${filter} ${input}`.match(/\d+(?:\.\d+)?(?:[eE][-+]?\d+)?/g) ?? []).some((n) => Math.abs(Number(n)) >= 8.64e12))
      );
    },
  },
  {
    id: 'string-repeat-overflow',
    why:
      'a string times a number beyond int ("ß" * 1e1000): jq 1.7.1 converts the double to int, which C leaves undefined ' +
      '(jq-wasm repeats it 0 times and gives ""); we fail with "Repeat string result too long"',
    evidence: 'jq 1.7.1 src/builtin.c binop_multiply: int n = jv_number_value(num); C17 6.3.1.4: an out-of-range conversion is undefined',
    matches: ({ ours }) => ours.status === 'error' && ours.message === 'Repeat string result too long',
  },
  {
    id: 'strftime-unknown-conversion',
    why:
      'strftime with a conversion the C standard does not define (%:): jq 1.7.1 passes the format to the C library; musl ' +
      '(jq-wasm) fails ("strftime/1: unknown system failure"), glibc copies it; we copy it',
    evidence: 'C17 7.27.3.5p6: an unknown conversion specifier is undefined behaviour; jq 1.7.1 src/builtin.c f_strftime calls strftime',
    matches: ({ ref }) => ref.status === 'error' && ref.message === 'strftime/1: unknown system failure',
  },
  {
    id: 'libm-last-digits',
    why:
      'transcendental functions (pow, exp, log, sinh, lgamma, y0 ...) are not correctly rounded: musl (jq-wasm), glibc ' +
      '(a distribution jq) and V8 (ours) may differ in the last bits, which %.17g shows',
    evidence: 'C17 7.12 leaves their accuracy implementation-defined; jq 1.7.1 calls the platform libm (src/builtin.c LIBM_DD)',
    matches: ({ filter, kind, ours, ref }) =>
      LIBM.test(filter) &&
      ((kind === 'outputs' &&
        ours.outputs.some((o, i) => o !== ref.outputs[i]) &&
        ours.outputs.length === ref.outputs.length &&
        ours.outputs.every((o, i) => numbersOnlyDiffer(o, ref.outputs[i], closeUlps))) ||
        // the number printed whole (%.17g) inside an error text; a truncated dump ("1.000000000...") is not close
        (kind === 'error-text' &&
          ours.status === 'error' &&
          ref.status === 'error' &&
          numbersOnlyDiffer(ours.message, ref.message, closeUlps))),
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
    id: 'implode-empty-string-unterminated',
    why:
      'the empty string implode makes ([] | implode) has no terminating NUL in jq 1.7.1, so an error text that quotes it ' +
      '(.[implode] on []: Cannot index array with string "...") prints whatever bytes the allocator left there ' +
      '(jq-wasm: four U+FFFD); we print the empty string',
    evidence:
      'jq 1.7.1 src/jv.c: jv_string_implode starts from jv_string_empty(len), whose jvp_string_empty_new does ' +
      'memset(s->data, 0, length) with length 0 (data[0] never written); jv_string_value of it goes to a %s',
    matches: ({ filter, ours, ref }) => {
      if (!/\bimplode\b/.test(filter) || ours.status !== 'error' || ref.status !== 'error') return false;
      const at = ours.message.indexOf('""');
      if (at < 0) return false;
      const before = ours.message.slice(0, at + 1);
      const after = ours.message.slice(at + 1);
      return ref.message.length > ours.message.length && ref.message.startsWith(before) && ref.message.endsWith(after);
    },
  },
  {
    id: 'sort-with-nan-keys',
    why:
      'sorting keys that hold nan: jq 1.7.1 orders nan below every number but also nan below nan (jv_cmp(nan, nan) is -1 ' +
      'both ways), which is no total order, so qsort may leave such items in any order (jq-wasm: musl\'s smoothsort ' +
      'reverses [1,0] in group_by(drem(1e1000; 1)); glibc\'s merge sort keeps it, as we do)',
    evidence:
      'jq 1.7.1 src/jv_aux.c: jv_cmp compares a nan as null (below any number), sort_items calls qsort with it; C17 7.22.5p4: ' +
      'the comparison results must be consistent (a total ordering), else the behaviour is undefined',
    matches: ({ filter, kind, ours, ref }) => {
      if (kind !== 'outputs' || ours.status !== 'ok' || ref.status !== 'ok' || ours.outputs.length !== ref.outputs.length) return false;
      if (!/\b(sort|sort_by|group_by|unique|unique_by)\b/.test(filter)) return false;
      // the same items, in another order
      const items = (text: string): string[] | null => {
        const v: unknown = JSON.parse(text);
        return Array.isArray(v) ? v.map((x) => JSON.stringify(x)).sort() : null;
      };
      return ours.outputs.every((o, i) => {
        const a = items(o);
        const b = items(ref.outputs[i]);
        return a !== null && b !== null && a.join('\n') === b.join('\n');
      });
    },
  },
];

export function acceptedDivergence(c: Parameters<Divergence['matches']>[0]): Divergence | undefined {
  return DIVERGENCES.find((d) => d.matches(c));
}
