// Regular expressions: Oniguruma (Perl_NT syntax) patterns translated to JS RegExp syntax, then
// run in linear time (host/linear-regex.ts). Patterns with no linear-time form (lookahead,
// backreferences) run on RegExp, interrupted when they exceed the jq time budget.
import vm from 'node:vm';
import { JqError, describe, hasSurrogates, strLength, setKey, typeOf, type Obj } from './values.js';
import type { NativeDef } from './compile.js';
import type { Fn, Emit, Path } from './runtime.js';
import { badPath, sliceValue, opAdd } from './runtime.js';
import { RE2JS } from 're2js';
import { compileLinear, toRe2, NotLinear } from '../linear-regex.js';
import { work } from './budget.js';
import { DEFAULT_LIMITS, LimitExceeded } from '../limits.js';

interface Compiled {
  /** the jq pattern, for messages */
  source: string;
  /** linear-time matcher, or null when the pattern needs backtracking */
  lin: RE2JS | null;
  /** backtracking fallback (flags g, d) */
  re: RegExp | null;
  names: (string | null)[];
  global: boolean;
  noEmpty: boolean;
  /** flag l: a leftmost-longest matcher, to find the longest match of the whole search (null: not linear) */
  longest: RE2JS | null;
}

/**
 * Wall-clock cap (ms) of one backtracking regex call: the jq run sets it to
 * what is left of its `jq_time_ms` budget before each regex builtin.
 */
export const regexBudget = { timeMs: DEFAULT_LIMITS.jq_time_ms };

// Patterns by text and flags. Small: a linear matcher keeps up to 8 MB of DFA
// states, and a filter can build patterns from its input.
const cache = new Map<string, Compiled>();
const CACHE_SIZE = 256;

const POSIX: Record<string, string> = {
  alpha: 'a-zA-Z', digit: '0-9', alnum: 'a-zA-Z0-9', upper: 'A-Z', lower: 'a-z', space: ' \\t\\n\\r\\f\\v',
  blank: ' \\t', punct: '!-\\/:-@\\[-`{-~', xdigit: '0-9A-Fa-f', word: '\\w', cntrl: '\\x00-\\x1f\\x7f',
  print: '\\x20-\\x7e', graph: '\\x21-\\x7e', ascii: '\\x00-\\x7f',
};

// Oniguruma's classes are Unicode-aware (UTF-8 encoding): \w is a letter, mark, number or
// connector punctuation, \d a decimal digit, \s White_Space. On ASCII text they are the
// ASCII classes, so the Unicode forms are used only for input with other characters.
const WORD = '\\p{L}\\p{M}\\p{N}\\p{Pc}';
const SPACE = '\\t\\n\\v\\f\\r \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const POSIX_UNICODE: Record<string, string> = {
  ...POSIX,
  alpha: '\\p{Alphabetic}', digit: '\\p{Nd}', alnum: '\\p{Alphabetic}\\p{Nd}', upper: '\\p{Lu}', lower: '\\p{Ll}',
  space: SPACE, blank: ' \\t\\p{Zs}', punct: '\\p{P}\\p{S}', word: WORD, cntrl: '\\p{Cc}',
};
// [:^name:] inside brackets, where no [^...] can nest: complements that agree with Oniguruma on
// ASCII text and on the Unicode classes
const POSIX_NEGATED: Record<string, string> = {
  alpha: '\\P{Alphabetic}', digit: '\\P{Nd}', upper: '\\P{Lu}', lower: '\\P{Ll}', space: '\\P{White_Space}', punct: '\\P{P}',
};
// a word boundary by Unicode word characters (lookarounds: such patterns run on RegExp)
const W = `[${WORD}]`;
const UNICODE_B = `(?:(?<=${W})(?!${W})|(?<!${W})(?=${W}))`;
const UNICODE_NOT_B = `(?:(?<=${W})(?=${W})|(?<!${W})(?!${W}))`;
// Perl_NT syntax with ONIG_OPTION_SINGLELINE: $ (like \Z) also matches before a final newline
const END_OR_FINAL_NEWLINE = '(?=\\n?$)';

/** What of the input changes a pattern's translation (one compiled form per kind of input). */
interface InputKind {
  /** has characters beyond ASCII: \w \d \s \b and POSIX classes take their Unicode forms */
  wide: boolean;
  /** ends with a newline: $ and \Z need the lookahead form */
  finalNewline: boolean;
}

const JS_SYNTAX = '^$\\.*+?()[]{}|/';

/** The name of a group the translation adds (atomic groups): not reported as a capture. */
const HIDDEN = '\u0000';

/** Both cases of a letter, for a case-insensitive part of a pattern (RegExp has no inline options). */
function bothCases(c: string, inClass: boolean): string {
  const lo = c.toLowerCase();
  const up = c.toUpperCase();
  if (lo === up || lo.length !== 1 || up.length !== 1) return c;
  return inClass ? lo + up : `[${lo}${up}]`;
}

/** The options in force inside a group: Oniguruma's inline (?imx) and (?imx:...) */
interface Inline {
  ci: boolean;
  /** (?s) */
  dotAll: boolean;
  /** (?m): ^ and $ at every line */
  multiline: boolean;
  extended: boolean;
}

function translate(src: string, extended: boolean, kind: InputKind, ignoreCase = false): { pattern: string; names: (string | null)[] } {
  const { wide, finalNewline } = kind;
  let out = '';
  const names: (string | null)[] = [];
  // named groups are written as plain groups (the names are kept here), so a name may repeat as
  // Oniguruma allows; only a pattern with \k<name> needs RegExp's named groups
  const namedRefs = src.includes('\\k<');
  let inClass = false;
  let opts: Inline = { ci: false, dotAll: false, multiline: false, extended };
  // per open group: the options to restore, where the group starts, and its atomic group name
  const saved: { opts: Inline; start: number; groups: number; atomic: string | null }[] = [];
  // the last atom (where it starts in `out`, how many groups precede it), for possessive quantifiers
  let atomStart = 0;
  let atomGroups = 0;
  // atomic groups become (?=(?<n>X))\k<n>: no backtracking into X. Numbered backreferences would
  // count the added group, so patterns with them keep the plain-group approximation.
  const emulateAtomic = !/\\[1-9]/.test(src);
  let atomics = 0;
  for (let i = 0; i < src.length; i++) {
    const c = src[i];
    extended = opts.extended;
    // Oniguruma: a quantifier cannot repeat an anchor (^ $ \A \z \Z \b \B \G)
    if (!inClass && quantifierAt(src, i) && anchorBefore(src, i)) throw new RegexSyntaxError('target of repeat operator is invalid');
    if (!inClass && c === '{') {
      // a repeat count is part of the quantifier, not an atom
      const q = /^\{\d*,?\d*\}/.exec(src.slice(i));
      if (q) {
        // ONIG_MAX_REPEAT_NUM
        if ((q[0].match(/\d+/g) ?? []).some((n) => Number(n) > 100000)) throw new RegexSyntaxError('too big number for repeat range');
        out += q[0];
        i += q[0].length - 1;
        continue;
      }
    }
    if (!inClass && !'*+?{)|'.includes(c)) {
      atomStart = out.length;
      atomGroups = names.length;
    }
    if (opts.ci && !ignoreCase && /\p{L}/u.test(c) && !(c === '\\')) {
      if (inClass && src[i + 1] === '-' && src[i + 2] !== undefined && src[i + 2] !== ']' && /[A-Za-z]/.test(c) && /[A-Za-z]/.test(src[i + 2])) {
        // a letter range: both cases of it
        const a = c;
        const b = src[i + 2];
        out += `${a.toLowerCase()}-${b.toLowerCase()}${a.toUpperCase()}-${b.toUpperCase()}`;
        i += 2;
        continue;
      }
      if (!(extended && !inClass && c === '#')) {
        out += bothCases(c, inClass);
        continue;
      }
    }
    if (c === '\\') {
      const d = src[i + 1];
      i++;
      if (d === undefined) throw new RegexSyntaxError('end pattern at escape');
      if (d === 'c' && src[i + 1] === undefined) throw new RegexSyntaxError('end pattern at control');
      if (d === 'k' && src[i + 1] === '<' && !inClass) backrefName(src.slice(i + 2));
      if (!inClass) {
        if (d === 'A') { out += '^'; continue; }
        if (d === 'z') { out += '$'; continue; }
        if (d === 'Z') { out += finalNewline ? END_OR_FINAL_NEWLINE : '$'; continue; }
        if (wide && d === 'b') { out += UNICODE_B; continue; }
        if (wide && d === 'B') { out += UNICODE_NOT_B; continue; }
        if (wide && d === 'W') { out += `[^${WORD}]`; continue; }
        if (wide && d === 'S') { out += `[^${SPACE}]`; continue; }
        if (wide && d === 'D') { out += '\\P{Nd}'; continue; }
      }
      if (wide && d === 'w') { out += inClass ? WORD : `[${WORD}]`; continue; }
      if (wide && d === 's') { out += inClass ? SPACE : `[${SPACE}]`; continue; }
      if (wide && d === 'd') { out += '\\p{Nd}'; continue; }
      // the Perl_NT syntax has no \h (hex digit) nor \u escape: the letter, like other unknown escapes
      if (d === 'h' || d === 'H' || d === 'u') { out += d; continue; }
      if (d === 'e') { out += '\\x1b'; continue; }
      if (d === 'a') { out += '\\x07'; continue; }
      if (d === 'p' && src[i + 1] === '{' && src[i + 2] === '^') {
        // \p{^X} is \P{X}
        out += '\\P{';
        i += 2;
        continue;
      }
      if (!inClass) {
        if (d === 'R') { out += '(?:\\r\\n|[\\n\\v\\f\\r\\x85\\u2028\\u2029])'; continue; }
        if (d === 'N') { out += '[^\\n]'; continue; }
        if (d === 'O') { out += '[\\s\\S]'; continue; }
        // an extended grapheme cluster, approximated as a character and its combining marks
        if (d === 'X') { out += '(?:\\r\\n|\\P{M}\\p{M}*)'; continue; }
        if (d === 'K' && saved.length === 0 && !src.slice(0, i).includes('|')) {
          // \K (keep): what came before only has to precede the match
          out = `(?<=${out})`;
          continue;
        }
        if (d === 'Q') {
          // \Q...\E: literal text
          const end = src.indexOf('\\E', i + 1);
          const lit = src.slice(i + 1, end < 0 ? src.length : end);
          out += lit.replace(/[\\^$.*+?()[\]{}|\/-]/g, '\\$&');
          i = end < 0 ? src.length : end + 1;
          continue;
        }
      }
      if (d === 'x' && src[i + 1] === '{') {
        // \x{HHHH}: a code point
        const m = /^\{([0-9A-Fa-f]{1,8})\}/.exec(src.slice(i + 1));
        if (m) {
          out += '\\u{' + m[1] + '}';
          i += m[0].length;
          continue;
        }
      }
      // Oniguruma escapes any punctuation; RegExp's u mode only its own syntax characters
      if (/[!-\/:-@\[-`{-~]/.test(d) && !JS_SYNTAX.includes(d) && !(inClass && d === '-')) {
        out += d;
        continue;
      }
      out += '\\' + d;
      continue;
    }
    if (inClass) {
      if (c === '[' && src[i + 1] === ':') {
        const end = src.indexOf(':]', i + 2);
        if (end > 0) {
          const nm = src.slice(i + 2, end);
          const neg = nm.startsWith('^');
          const cls = neg ? POSIX_NEGATED[nm.slice(1)] : (wide ? POSIX_UNICODE : POSIX)[nm];
          if (cls !== undefined) {
            out += cls;
            i = end + 1;
            continue;
          }
        }
        if (unknownPosixBracket(src, i + 2)) throw new RegexSyntaxError('invalid POSIX bracket type');
      }
      if (c === '[') {
        out += '\\[';
        continue;
      }
      if (c === ']') inClass = false;
      // a range of literal characters whose end is below its start: Oniguruma fails here, where its parse meets it
      else if (reversedRange(src, i)) throw new RegexSyntaxError('empty range in char class');
      out += c;
      continue;
    }
    if (extended) {
      if (c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f' || c === '\v') continue;
      if (c === '#') {
        while (i < src.length && src[i] !== '\n') i++;
        continue;
      }
    }
    if (c === '[') {
      inClass = true;
      out += c;
      if (src[i + 1] === '^') {
        out += '^';
        i++;
      }
      if (src[i + 1] === ']') {
        // Oniguruma: a leading `]` is literal only if an unescaped `]` follows somewhere
        if (!unescapedCloseFollows(src, i + 2)) throw new RegexSyntaxError('empty char-class');
        out += '\\]';
        i++;
      }
      continue;
    }
    if (c === '(') {
      saved.push({ opts, start: out.length, groups: names.length, atomic: null });
      if (src[i + 1] === '?') {
        const rest = src.slice(i + 2);
        groupSyntax(rest);
        const named = (rest[0] === '<' && rest[1] !== '=' && rest[1] !== '!') || rest[0] === "'" ? groupName(rest.slice(1), rest[0] === '<' ? '>' : "'") : null;
        if (named) {
          names.push(named.name);
          // a name RegExp cannot spell has non-word characters, which \k<...> rejects: no reference reaches it
          out += namedRefs && JS_GROUP_NAME.test(named.name) ? '(?<' + named.name + '>' : '(';
          i += 2 + named.length;
          // nothing to repeat at the group's start (RegExp would read a bare `(` then `?` as a group syntax)
          if (quantifierAt(src, i + 1)) throw new RegexSyntaxError('target of repeat operator is not specified');
          continue;
        }
        if (rest.startsWith('>')) {
          if (emulateAtomic) {
            const name = `ǂ${++atomics}`;
            saved[saved.length - 1].atomic = name;
            names.push(HIDDEN);
            out += `(?=(?<${name}>`;
          } else out += '(?:';
          i += 2;
          continue;
        }
        if (rest.startsWith('#')) {
          // (?#comment)
          saved.pop();
          const end = src.indexOf(')', i + 2);
          if (end < 0) throw new RegexSyntaxError('end pattern in group');
          i = end;
          continue;
        }
        const o = /^([imsx]*)(?:-([imsx]*))?(:|\))/.exec(rest);
        if (o && (o[1] || o[2] !== undefined)) {
          const next: Inline = { ...opts };
          for (const f of o[1]) set(next, f, true);
          for (const f of o[2] ?? '') set(next, f, false);
          i += 1 + o[0].length;
          if (o[3] === ':') {
            opts = next;
            out += '(?:';
          } else {
            // (?i) alone: to the end of the enclosing group
            saved.pop();
            opts = next;
          }
          continue;
        }
        out += c;
        continue;
      }
      names.push(null);
      out += c;
      continue;
    }
    if (c === ')') {
      const group = saved.pop();
      if (!group) throw new RegexSyntaxError('unmatched close parenthesis');
      if (group) {
        opts = group.opts;
        atomStart = group.start;
        atomGroups = group.groups;
        if (group.atomic) {
          out += `))\\k<${group.atomic}>`;
          continue;
        }
      }
      out += c;
      continue;
    }
    if (c === '.' && opts.dotAll) {
      out += '[\\s\\S]';
      continue;
    }
    if (c === '$') {
      out += opts.multiline ? '(?=\\n|$)' : finalNewline ? END_OR_FINAL_NEWLINE : '$';
      continue;
    }
    if (c === '^' && opts.multiline) {
      out += '(?:^|(?<=\\n))';
      continue;
    }
    if ((c === '+') && i > 0 && /[*+?}]/.test(src[i - 1]) && src[i - 2] !== '\\') {
      // possessive quantifier: the atom and its quantifier as an atomic group
      if (emulateAtomic) {
        const name = `ǂ${++atomics}`;
        out = `${out.slice(0, atomStart)}(?=(?<${name}>${out.slice(atomStart)}))\\k<${name}>`;
        names.splice(atomGroups, 0, HIDDEN);
      }
      continue;
    }
    out += c;
  }
  // said here, as RegExp may first reject something Oniguruma reads as a literal ({ in u mode);
  // Oniguruma checks backreferences after the whole parse
  if (inClass) throw new RegexSyntaxError('premature end of char-class');
  backrefsDefined(src, names.filter((n) => n !== HIDDEN).length);
  return { pattern: out, names };
}

function unescapedCloseFollows(src: string, from: number): boolean {
  for (let i = from; i < src.length; i++) {
    if (src[i] === '\\') i++;
    else if (src[i] === ']') return true;
  }
  return false;
}

/** Oniguruma's errors for what follows `(?` (the constructs RegExp lacks are rejected elsewhere) */
function groupSyntax(rest: string): void {
  if (rest === '') throw new RegexSyntaxError('end pattern in group');
  const c = rest[0];
  if (c === '<' && rest[1] !== '=' && rest[1] !== '!') {
    if (rest.length === 1) throw new RegexSyntaxError('end pattern with unmatched parenthesis');
    groupName(rest.slice(1), '>');
    return;
  }
  if (c === "'") {
    groupName(rest.slice(1), "'");
    return;
  }
  if (':=!<>#~(\''.includes(c)) return;
  const o = /^[imsx]*(?:-[imsx]*)?/.exec(rest)![0];
  if (o.length === rest.length) throw new RegexSyntaxError('end pattern in group');
  // (?) names no option
  if (o.length === 0 && rest[0] === ')') throw new RegexSyntaxError('undefined group option');
  if (rest[o.length] !== ':' && rest[o.length] !== ')') throw new RegexSyntaxError('undefined group option');
}

/** a character Oniguruma's Unicode encoding counts as a word character (ONIGENC_CTYPE_WORD) */
const ONIG_WORD = /^[\p{Alphabetic}\p{M}\p{Nd}\p{Pc}\p{Join_Control}]$/u;
const JS_GROUP_NAME = /^[\p{ID_Start}$_][\p{ID_Continue}$\u200c\u200d]*$/u;

/**
 * The name of a group definition, `src` starting after its `<` or `'`, read as Oniguruma 6.9.8's
 * fetch_name reads it: the first character must be a word character and not an ASCII digit, `+`
 * or `-`; the later ones are not checked (fetch_name notes a non-word one but still succeeds once
 * the closing `end` follows). `length` counts the name and its closing character, in UTF-16 units.
 * The name in an error message spans what fetch_name had read, as Oniguruma reports it.
 */
function groupName(src: string, end: string): { name: string; length: number } {
  const cps = Array.from(src);
  if (cps.length === 0 || cps[0] === end) throw new RegexSyntaxError('group name is empty');
  const first = cps[0];
  const firstError = /[0-9+-]/.test(first) ? 'invalid group name' : ONIG_WORD.test(first) ? null : 'invalid char in group name';
  // the name ends at `end` or at `)`
  let stop = 1;
  while (stop < cps.length && cps[stop] !== end && cps[stop] !== ')') stop++;
  if (firstError === null) {
    const name = cps.slice(0, stop).join('');
    if (stop < cps.length && cps[stop] === end) return { name, length: name.length + 1 };
    // stopped at `)`, or the pattern ended: the name reported is up to the last character read
    const read = stop < cps.length ? stop : Math.max(1, cps.length - 1);
    throw new RegexSyntaxError(`invalid group name <${cps.slice(0, read).join('')}>`);
  }
  // the reported name takes the stopping character along when the pattern ends with it
  const read = stop >= cps.length - 1 ? cps.length : stop;
  throw new RegexSyntaxError(`${firstError} <${cps.slice(0, read).join('')}>`);
}

/**
 * A named backreference `\k<name>` (`src` starting after the `<`): unlike a definition, every
 * character of the name must be a word character and `>` must close it. Numbered and relative
 * references (a digit, `+` or `-` first) and the levels after the name are left to RegExp.
 */
function backrefName(src: string): void {
  const cps = Array.from(src);
  if (cps.length === 0 || cps[0] === '>') throw new RegexSyntaxError('group name is empty');
  if (/[0-9+-]/.test(cps[0])) return;
  let stop = 0;
  while (stop < cps.length && !'>)+-'.includes(cps[stop])) stop++;
  const read = stop < cps.length ? stop : Math.max(1, cps.length - 1);
  const name = cps.slice(0, read).join('');
  if (!cps.slice(0, stop).every((c) => ONIG_WORD.test(c))) throw new RegexSyntaxError(`invalid char in group name <${name}>`);
  // no closing `>`: the name reported runs to the end of the pattern
  if (stop === cps.length || cps[stop] === ')') throw new RegexSyntaxError(`invalid group name <${src}>`);
}

/** a numbered backreference \1..\9 to a group the pattern does not have */
function backrefsDefined(src: string, groups: number): void {
  let inClass = false;
  for (let i = 0; i < src.length; i++) {
    const c = src[i];
    if (c === '\\') {
      const d = src[i + 1];
      if (!inClass && d >= '1' && d <= '9' && !/[0-9]/.test(src[i + 2] ?? '') && Number(d) > groups) {
        throw new RegexSyntaxError('invalid backref number/name');
      }
      i++;
    } else if (c === '[') inClass = true;
    else if (c === ']') inClass = false;
  }
}

// inline options as the Perl_NT syntax reads them (unlike jq's flag m, (?m) is about lines)
function set(o: Inline, flag: string, on: boolean): void {
  if (flag === 'i') o.ci = on;
  else if (flag === 's') o.dotAll = on;
  else if (flag === 'm') o.multiline = on;
  else o.extended = on;
}

/**
 * After `[:` (at i) inside a class, Oniguruma (jq 1.7.1's, is_posix_bracket_start) reads a POSIX
 * bracket when letters (after an optional `^`) end in `:]`; one naming no class it knows is an
 * error. Anything else leaves the `[` a literal character.
 */
function unknownPosixBracket(src: string, i: number): boolean {
  let n = 0;
  let p = i;
  while (p < src.length) {
    const x = src.codePointAt(p)!;
    p += x > 0xffff ? 2 : 1;
    if (x === 58) return n > 0 && src[p] === ']';
    if (!(x === 94 && n === 0) && !ALPHABETIC.test(String.fromCodePoint(x))) return false;
    n++;
  }
  return false;
}
const ALPHABETIC = /^\p{Alphabetic}$/u;

/** a quantifier starts at i: ? * + or a repeat count {n}, {n,}, {,m}, {n,m} */
function quantifierAt(src: string, i: number): boolean {
  const c = src[i];
  if (c === '?' || c === '*' || c === '+') return true;
  return c === '{' && /^\{(?:\d+,?\d*|,\d+)\}/.test(src.slice(i, i + 24));
}

/** the token before i is an anchor (outside a class): ^ or $ unescaped, or \A \z \Z \b \B \G */
function anchorBefore(src: string, i: number): boolean {
  if (i === 0) return false;
  let slashes = 0;
  const prev = src[i - 1];
  if (prev === '^' || prev === '$') {
    for (let j = i - 2; j >= 0 && src[j] === '\\'; j--) slashes++;
    return slashes % 2 === 0;
  }
  if (i < 2 || src[i - 2] !== '\\' || !'AzZbBG'.includes(prev)) return false;
  for (let j = i - 3; j >= 0 && src[j] === '\\'; j--) slashes++;
  return slashes % 2 === 0;
}

/** `x-y` at i inside a class, both literal characters, with y's code point below x's. */
function reversedRange(src: string, i: number): boolean {
  const from = src.codePointAt(i)!;
  if (from >= 0xdc00 && from <= 0xdfff) return false;
  const dash = i + (from > 0xffff ? 2 : 1);
  if (src[dash] !== '-') return false;
  const end = src[dash + 1];
  if (end === undefined || end === ']' || end === '\\' || end === '[') return false;
  return src.codePointAt(dash + 1)! < from;
}

/** A pattern Oniguruma rejects, with Oniguruma's message. */
class RegexSyntaxError extends Error {}

// JS RegExp's messages for patterns Oniguruma also rejects, in Oniguruma's words
const ONIG_MESSAGES: [RegExp, string][] = [
  [/Unterminated group/, 'end pattern with unmatched parenthesis'],
  [/Unmatched '\)'/, 'unmatched close parenthesis'],
  [/Unterminated character class/, 'premature end of char-class'],
  [/numbers out of order/, 'upper is smaller than lower in repeat range'],
  [/Nothing to repeat/, 'target of repeat operator is not specified'],
  [/\\ at end of pattern/, 'end pattern at escape'],
  [/Range out of order in character class/, 'empty range in char class'],
];

function regexFailure(re: string, message: string): JqError {
  const onig = ONIG_MESSAGES.find(([js]) => js.test(message))?.[1];
  const named = /Invalid named capture referenced/.test(message) ? /\\k<([^>]*)>/.exec(re) : null;
  return new JqError(`Regex failure: ${named ? `undefined name <${named[1]}> reference` : onig ?? message}`);
}

function compileRegex(re: unknown, flags: unknown, input: string): Compiled {
  if (typeof re !== 'string') throw new JqError(`${describe(re)} is not a string`);
  if (flags !== null && typeof flags !== 'string') throw new JqError(`${describe(flags)} is not a string`);
  const kind: InputKind = { wide: /[^\x00-\x7f]/.test(input), finalNewline: input.endsWith('\n') };
  const key = re + '\u0000' + (flags ?? '') + '\u0000' + (kind.wide ? 'w' : '') + (kind.finalNewline ? 'n' : '');
  const hit = cache.get(key);
  if (hit) return hit;
  let global = false;
  let noEmpty = false;
  let jsFlags = 'g';
  let extended = false;
  let longest = false;
  for (const f of (flags as string | null) ?? '') {
    switch (f) {
      case 'g': global = true; break;
      case 'i': if (!jsFlags.includes('i')) jsFlags += 'i'; break;
      case 'x': extended = true; break;
      case 'n': noEmpty = true; break;
      // ONIG_OPTION_SINGLELINE: what the Perl_NT syntax does already
      case 's': break;
      // ONIG_OPTION_MULTILINE is Oniguruma's "dot matches newline"; p is m and s
      case 'm': case 'p': if (!jsFlags.includes('s')) jsFlags += 's'; break;
      case 'l': longest = true; break;
      default:
        throw new JqError(`${flags} is not a valid modifier string`);
    }
  }
  // a leading (?i) applies to the whole pattern (RegExp has no inline options)
  let src = re;
  if (src.startsWith('(?i)')) {
    src = src.slice(4);
    if (!jsFlags.includes('i')) jsFlags += 'i';
  }
  let translated: { pattern: string; names: (string | null)[] };
  try {
    translated = translate(src, extended, kind, jsFlags.includes('i'));
  } catch (e) {
    if (e instanceof RegexSyntaxError) throw new JqError(`Regex failure: ${e.message}`);
    throw e;
  }
  let { pattern, names } = translated;
  if (noEmpty && !/\\[1-9]/.test(re)) {
    // a pattern RegExp rejects reports its own error, not one of the wrapper below
    try {
      new RegExp(pattern, jsFlags + 'u');
    } catch (e) {
      try {
        new RegExp(pattern, jsFlags);
      } catch {
        throw regexFailure(re, (e as Error).message);
      }
    }
    // flag n (ONIG_OPTION_FIND_NOT_EMPTY): an empty match is refused during matching, so the
    // engine looks on for a non-empty one. The rest of the input is captured at the start and
    // must not be all that is left at the end. (Numbered backreferences would count the added
    // group: such patterns only drop empty matches afterwards.)
    pattern = `(?=(?<ǂrest>[\\s\\S]*))(?:${pattern})(?!\\k<ǂrest>$)`;
    names = [HIDDEN, ...names];
  }
  const c: Compiled = { source: re, lin: null, re: null, names, global, noEmpty, longest: null };
  let unicode = true;
  try {
    new RegExp(pattern, 'u');
  } catch {
    unicode = false;
  }
  if (unicode) {
    try {
      const options = { unicode, ignoreCase: jsFlags.includes('i'), dotAll: jsFlags.includes('s') };
      c.lin = compileLinear(pattern, options);
      if (longest) {
        const { source, lookbehind } = toRe2(pattern, options);
        c.longest = RE2JS.compile(source, RE2JS.LONGEST_MATCH | (lookbehind ? RE2JS.LOOKBEHINDS : 0));
      }
    } catch (e) {
      if (!(e instanceof NotLinear)) throw e;
    }
  }
  if (!c.lin) {
    try {
      c.re = new RegExp(pattern, jsFlags + 'd' + (unicode ? 'u' : ''));
    } catch (e) {
      throw regexFailure(re, (e as Error).message);
    }
  }
  if (cache.size >= CACHE_SIZE) cache.clear();
  cache.set(key, c);
  return c;
}

function cpOffset(s: string, idx: number, sur: boolean): number {
  return sur ? strLength(s.slice(0, idx)) : idx;
}

/** Offsets of one match and its groups in UTF-16 units: [start0, end0, start1, end1, ...]; -1 for a group that did not take part. */
type Spans = number[];

/** Where the next search starts: after the match, or one code point further after an empty one. */
function advance(input: string, start: number, end: number, sur: boolean): number {
  if (end > start) return end;
  return end + (sur && input.codePointAt(end)! > 0xffff ? 2 : 1);
}

/**
 * Flag l (ONIG_OPTION_FIND_LONGEST): the longest match anywhere in what is left to search (the
 * first of equally long ones), not the leftmost; with g, the search goes on after it. Every
 * start position is tried, so each search costs a scan per position (counted as work).
 */
function longestSpans(lin: RE2JS, input: string, global: boolean, sur: boolean): Spans[] {
  const out: Spans[] = [];
  const m = lin.matcher(input);
  const groups = m.groupCount();
  let from = 0;
  while (from <= input.length) {
    let best: Spans | null = null;
    let bestBytes = -1;
    for (let pos = from; pos <= input.length && m.find(pos); ) {
      work(((input.length - pos) >>> 10) + 1);
      const start = m.start(0);
      // Oniguruma compares lengths in UTF-8 bytes
      const bytes = Buffer.byteLength(input.slice(start, m.end(0)));
      if (bytes > bestBytes) {
        bestBytes = bytes;
        best = [];
        for (let g = 0; g <= groups; g++) best.push(m.start(g), m.end(g));
      }
      pos = start + (sur && input.codePointAt(start)! > 0xffff ? 2 : 1);
    }
    if (best === null) break;
    out.push(best);
    if (!global) break;
    from = advance(input, best[0], best[1], sur);
  }
  return out;
}

function linearSpans(lin: RE2JS, input: string, global: boolean, sur: boolean): Spans[] {
  const out: Spans[] = [];
  const m = lin.matcher(input);
  const groups = m.groupCount();
  let pos = 0;
  while (pos <= input.length && m.find(pos)) {
    const sp: Spans = [];
    for (let g = 0; g <= groups; g++) sp.push(m.start(g), m.end(g));
    out.push(sp);
    if (!global) break;
    pos = advance(input, sp[0], sp[1], sur);
  }
  return out;
}

function backtrackSpans(c: Compiled, input: string, global: boolean, sur: boolean): Spans[] {
  const rx = c.re!;
  return bounded(c.source, () => {
    const out: Spans[] = [];
    rx.lastIndex = 0;
    for (;;) {
      const m = rx.exec(input);
      if (!m) break;
      const sp: Spans = [];
      for (const ix of m.indices!) sp.push(ix ? ix[0] : -1, ix ? ix[1] : -1);
      out.push(sp);
      if (!global) break;
      rx.lastIndex = advance(input, sp[0], sp[1], sur);
      if (rx.lastIndex > input.length) break;
    }
    return out;
  });
}

// A backtracking RegExp cannot be stopped from inside; V8 interrupts a script
// run with a timeout, whatever it is executing (≈50 µs per call).
let sandbox: vm.Context | null = null;
let call: vm.Script | null = null;

function bounded<T>(source: string, fn: () => T): T {
  if (!sandbox) {
    sandbox = vm.createContext({ fn: null });
    call = new vm.Script('fn()');
  }
  const ms = Math.max(1, Math.ceil(regexBudget.timeMs));
  sandbox.fn = fn;
  try {
    return call!.runInContext(sandbox, { timeout: ms }) as T;
  } catch (e) {
    if ((e as { code?: string }).code === 'ERR_SCRIPT_EXECUTION_TIMEOUT') {
      const shown = source.length > 40 ? source.slice(0, 40) + '...' : source;
      throw new LimitExceeded('jq_time_ms', `jq: regex ${JSON.stringify(shown)} exceeded the evaluation's time budget (limits.jq_time_ms)`);
    }
    throw e;
  } finally {
    sandbox.fn = null;
  }
}

function matchAll(input: unknown, re: unknown, flags: unknown, forceGlobal = false): Obj[] {
  if (typeof input !== 'string') throw new JqError(`${describe(input)} cannot be matched, as it is not a string`);
  const c = compileRegex(re, flags, input);
  const sur = hasSurrogates(input);
  const global = c.global || forceGlobal;
  const all = c.longest
    ? longestSpans(c.longest, input, global, sur)
    : c.lin
      ? linearSpans(c.lin, input, global, sur)
      : backtrackSpans(c, input, global, sur);
  const out: Obj[] = [];
  for (const sp of all) {
    if (c.noEmpty && sp[0] === sp[1]) continue;
    const caps: Obj[] = [];
    const empty = sp[0] === sp[1];
    for (let g = 1; 2 * g < sp.length; g++) {
      const name = c.names[g - 1] ?? null;
      if (name === HIDDEN) continue;
      const s0 = sp[2 * g];
      // jq 1.7.1 reports every group of an empty match as an empty string at the match
      // (whether it took part or not); key order as jq builds these objects
      if (empty) {
        caps.push({ offset: cpOffset(input, sp[0], sur), string: '', length: 0, name });
        continue;
      }
      if (s0 < 0) {
        caps.push({ offset: -1, string: null, length: 0, name });
        continue;
      }
      if (s0 === sp[2 * g + 1]) {
        caps.push({ offset: cpOffset(input, s0, sur), string: '', length: 0, name });
        continue;
      }
      const str = input.slice(s0, sp[2 * g + 1]);
      caps.push({ offset: cpOffset(input, s0, sur), length: strLength(str), string: str, name });
    }
    const str = input.slice(sp[0], sp[1]);
    out.push({ offset: cpOffset(input, sp[0], sur), length: strLength(str), string: str, captures: caps });
    if (global && empty && input.charCodeAt(sp[0]) >= 0x80) midCharMatches(c, input, sp[0], out, sur);
  }
  return out;
}

/**
 * jq 1.7.1 resumes a global search one byte after an empty match, which is inside the next
 * character when it is not ASCII; Oniguruma then matches there too if the pattern can match
 * empty between that character and a byte that is no character (`"é"|[match("";"g")]` has 3
 * matches; the extra ones report the offset of the character after). Each continuation byte
 * is such a position.
 */
function midCharMatches(c: Compiled, input: string, at: number, out: Obj[], sur: boolean): void {
  const cp = input.codePointAt(at)!;
  const ch = String.fromCodePoint(cp);
  const probe = ch + '\u0000';
  let matches: boolean;
  if (c.lin) {
    const m = c.lin.matcher(probe);
    matches = m.find(ch.length) && m.start(0) === ch.length && m.end(0) === ch.length;
  } else {
    const rx = c.re!;
    rx.lastIndex = ch.length;
    const m = bounded(c.source, () => rx.exec(probe));
    matches = m !== null && m.index === ch.length && m[0] === '';
  }
  if (!matches) return;
  const offset = cpOffset(input, at, sur) + 1;
  const bytes = cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
  for (let k = 1; k < bytes; k++) {
    const caps: Obj[] = [];
    for (const name of c.names) if (name !== HIDDEN) caps.push({ offset, string: '', length: 0, name });
    out.push({ offset, length: 0, string: '', captures: caps });
  }
}

function testRe(input: unknown, re: unknown, flags: unknown): boolean {
  if (typeof input !== 'string') throw new JqError(`${describe(input)} cannot be matched, as it is not a string`);
  const c = compileRegex(re, flags, input);
  if (c.lin && !c.noEmpty) return c.lin.test(input);
  return matchAll(input, re, flags).length > 0;
}

function reFlags(arg: unknown): [unknown, unknown] {
  if (typeof arg === 'string') return [arg, null];
  if (Array.isArray(arg) && arg.length > 1) return [arg[0], arg[1]];
  if (Array.isArray(arg) && arg.length > 0) return [arg[0], null];
  throw new JqError(`${typeOf(arg)} not a string or array`);
}

function captureObj(m: Obj): Obj {
  const o: Obj = {};
  for (const c of m.captures as Obj[]) if (c.name !== null) setKey(o, c.name as string, c.string);
  return o;
}

function emitV(k: Emit, p: Path, x: unknown): void {
  k(x, p === null ? null : badPath(x));
}

/**
 * jq 1.7.1's `def splits($re; flags): . as $s | [match($re; "g" + flags) | (.offset, .offset + .length)]
 * | [0] + . + [$s|length] | _nwise(2) | $s[.[0]:.[1]]`: the matches of every flags output in one list
 */
function splitRe(input: unknown, re: unknown, eachFlags: (k: (flags: unknown) => void) => void): string[] {
  const pts: number[] = [0];
  eachFlags((flags) => {
    for (const m of matchAll(input, re, opAdd('g', flags), true)) pts.push(m.offset as number, (m.offset as number) + (m.length as number));
  });
  const s = input as string;
  pts.push(strLength(s));
  const out: string[] = [];
  for (let i = 0; i + 1 < pts.length; i += 2) out.push(sliceValue(s, pts[i], pts[i + 1]) as string);
  return out;
}

export function regexNatives(): [string, NativeDef][] {
  const defs: [string, NativeDef][] = [];
  const vf = (name: string, f: (input: unknown, ...args: unknown[]) => unknown) => defs.push([name, { vf: f }]);
  const fn = (name: string, f: (args: Fn[]) => Fn) => defs.push([name, { fn: f }]);
  vf('_match_impl/3', (v, re, flags, test) => {
    return test === true ? testRe(v, re, flags) : matchAll(v, re, flags);
  });
  vf('test/1', (v, a) => {
    const [re, fl] = reFlags(a);
    return testRe(v, re, fl);
  });
  vf('test/2', (v, re, fl) => testRe(v, re, fl));
  fn('match/1', ([a]) => (v, p, env, k) =>
    a(v, null, env, (x) => {
      const [re, fl] = reFlags(x);
      for (const m of matchAll(v, re, fl)) emitV(k, p, m);
    }),
  );
  const match2 = (cap: boolean): ((args: Fn[]) => Fn) => ([r, f]) => (v, p, env, k) =>
    f(v, null, env, (fl) =>
      r(v, null, env, (re) => {
        for (const m of matchAll(v, re, fl)) emitV(k, p, cap ? captureObj(m) : m);
      }),
    );
  fn('match/2', match2(false));
  fn('capture/2', match2(true));
  fn('capture/1', ([a]) => (v, p, env, k) =>
    a(v, null, env, (x) => {
      const [re, fl] = reFlags(x);
      for (const m of matchAll(v, re, fl)) emitV(k, p, captureObj(m));
    }),
  );
  // jq 1.7.1 adds "g" to the flags with jq's +, so non-string flags fail as an addition
  const scan = (v: unknown, re: unknown, fl: unknown, k: Emit, p: Path) => {
    for (const m of matchAll(v, re, opAdd('g', fl), true)) {
      const caps = m.captures as Obj[];
      emitV(k, p, caps.length > 0 ? caps.map((c) => c.string) : m.string);
    }
  };
  fn('scan/1', ([r]) => (v, p, env, k) => r(v, null, env, (re) => scan(v, re, null, k, p)));
  // def scan($re; $flags): $re is bound first, so each regex takes every flags output in turn
  fn('scan/2', ([r, f]) => (v, p, env, k) => r(v, null, env, (re) => f(v, null, env, (fl) => scan(v, re, fl, k, p))));
  fn('split/2', ([r, f]) => (v, p, env, k) => r(v, null, env, (re) => emitV(k, p, splitRe(v, re, (each) => f(v, null, env, each)))));
  const sub = (global: boolean, withFlags: boolean): ((args: Fn[]) => Fn) => (args) => (v, p, env, k) => {
    const [r, s, f] = args;
    const run = (re: unknown, fl: unknown) => {
      const flags = global ? opAdd(fl, 'g') : fl;
      if (typeof v !== 'string') throw new JqError(`${describe(v)} cannot be matched, as it is not a string`);
      const ms = matchAll(v, re, flags);
      // the pieces of each output, joined once at the end (linear in the output, not quadratic)
      const results: string[][] = [];
      let prev = 0;
      for (const m of ms) {
        const gap = sliceValue(v, prev, m.offset) as string;
        const inserts: unknown[] = [];
        s(captureObj(m), null, env, (x) => inserts.push(x));
        for (let ix = 0; ix < inserts.length; ix++) {
          // gap + insert fails like jq's string addition when the insert is not a string
          const piece = opAdd(gap, inserts[ix]) as string;
          // as in jq 1.7.1, an output index the earlier matches did not reach starts afresh
          if (ix < results.length) results[ix].push(piece);
          else results[ix] = [piece];
        }
        prev = (m.offset as number) + (m.length as number);
      }
      if (results.length === 0) {
        emitV(k, p, v);
        return;
      }
      const tail = sliceValue(v, prev, null);
      for (let i = 0; i < results.length; i++) emitV(k, p, opAdd(results[i].join(''), tail));
    };
    // def sub($re; s; $flags): $re is bound before $flags
    if (withFlags) r(v, null, env, (re) => f(v, null, env, (fl) => run(re, fl)));
    else r(v, null, env, (re) => run(re, null));
  };
  fn('sub/2', sub(false, false));
  fn('sub/3', sub(false, true));
  fn('gsub/2', sub(true, false));
  fn('gsub/3', sub(true, true));
  return defs;
}
