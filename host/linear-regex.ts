/**
 * JavaScript regular expressions run in linear time: a JS RegExp source is
 * rewritten to RE2 syntax and compiled with re2js (a pure-JS port of RE2),
 * which matches in time linear in the input, so no pattern can backtrack
 * exponentially. Used by jq's regex builtins and by the gateway's route
 * regexes.
 *
 * The rewrite keeps JavaScript's meaning where RE2 reads the same text
 * differently: `.` excludes \r, U+2028 and U+2029, `\s` is JavaScript's
 * whitespace set, `[` inside a class is a literal, `\uXXXX` escapes. Patterns
 * RE2 cannot run in linear time (backreferences, lookahead, capturing
 * lookbehind, repeat counts over 1000, lone surrogates) raise `NotLinear`;
 * the caller decides (jq runs them on RegExp under a time cap, routes reject
 * them).
 */
import { RE2JS } from 're2js';

export class NotLinear extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'NotLinear';
  }
}

export interface LinearOptions {
  /** the source is valid with the RegExp `u` flag and means what it means there */
  unicode: boolean;
  ignoreCase?: boolean;
  /** `.` matches line terminators too (RegExp `s`) */
  dotAll?: boolean;
}

// JavaScript's \s: WhiteSpace and LineTerminator code points
const SPACE = '\\t\\n\\x{b}\\f\\r \\x{a0}\\x{1680}\\x{2000}-\\x{200a}\\x{2028}\\x{2029}\\x{202f}\\x{205f}\\x{3000}\\x{feff}';
const DOT = '[^\\n\\r\\x{2028}\\x{2029}]';
const SYNTAX = '^$\\.*+?()[]{}|/';
// characters RE2 reads as syntax (outside or inside a class)
const META = '\\^$.|?*+()[]{}-';
// general categories (short names) and scripts RE2 knows under the same name
const GC = /^(?:L|Lu|Ll|Lt|Lm|Lo|M|Mn|Mc|Me|N|Nd|Nl|No|P|Pc|Pd|Ps|Pe|Pi|Pf|Po|S|Sm|Sc|Sk|So|Z|Zs|Zl|Zp|C|Cc|Cf|Cs|Co)$/;
const SCRIPT = /^(?:Script|sc)=([A-Za-z_]+)$/;

const hex = (cp: number) => `\\x{${cp.toString(16)}}`;

/** RE2 text for one code point given literally (escaped when RE2 would read it as syntax). */
function literal(cp: number): string {
  if (cp >= 0xd800 && cp <= 0xdfff) throw new NotLinear('lone surrogate in the pattern');
  if (cp < 0x20 || cp === 0x7f) return hex(cp);
  const ch = String.fromCodePoint(cp);
  return META.includes(ch) ? '\\' + ch : ch;
}

/**
 * Rewrites a RegExp source to RE2 syntax with the same meaning.
 * Returns the RE2 source and whether it uses lookbehind (a re2js flag).
 */
export function toRe2(src: string, opts: LinearOptions): { source: string; lookbehind: boolean } {
  const u = opts.unicode;
  let out = opts.ignoreCase ? '(?i)' : '';
  let lookbehind = false;
  let i = 0;
  const n = src.length;
  const cpAt = (k: number) => src.codePointAt(k)!;

  /** one escape at src[i] === '\\'; returns RE2 text, advances i */
  const escape = (inClass: boolean): string => {
    const d = src[i + 1];
    i += 2;
    if (d === undefined) throw new NotLinear('trailing backslash');
    switch (d) {
      case 'd': case 'D': case 'w': case 'W': case 'n': case 'r': case 't': case 'f': case 'v':
        return '\\' + d;
      case 'b':
        return inClass ? hex(8) : '\\b';
      case 'B':
        if (inClass) break;
        return '\\B';
      case 's':
        return inClass ? SPACE : `[${SPACE}]`;
      case 'S':
        if (inClass) throw new NotLinear('\\S inside a character class');
        return `[^${SPACE}]`;
      case '0':
        if (u && !/[0-9]/.test(src[i] ?? '')) return hex(0);
        throw new NotLinear('octal escape');
      case 'x': {
        const m = /^[0-9A-Fa-f]{2}/.exec(src.slice(i));
        if (m) {
          i += 2;
          return literal(parseInt(m[0], 16));
        }
        if (u) throw new NotLinear('bad \\x escape');
        return 'x';
      }
      case 'u': {
        const br = u ? /^\{([0-9A-Fa-f]+)\}/.exec(src.slice(i)) : null;
        if (br) {
          i += br[0].length;
          return literal(parseInt(br[1], 16));
        }
        const m = /^[0-9A-Fa-f]{4}/.exec(src.slice(i));
        if (!m) {
          if (u) throw new NotLinear('bad \\u escape');
          return 'u';
        }
        i += 4;
        let cp = parseInt(m[0], 16);
        const lo = /^\\u([dD][c-fC-F][0-9A-Fa-f]{2})/.exec(src.slice(i));
        if (cp >= 0xd800 && cp <= 0xdbff && lo) {
          cp = 0x10000 + ((cp - 0xd800) << 10) + (parseInt(lo[1], 16) - 0xdc00);
          i += 6;
        }
        return literal(cp);
      }
      case 'c': {
        const l = src[i];
        if (l && /[A-Za-z]/.test(l)) {
          i++;
          return hex(l.charCodeAt(0) % 32);
        }
        throw new NotLinear('bad \\c escape');
      }
      case 'p': case 'P': {
        if (!u) return d;
        const m = /^\{([^}]*)\}/.exec(src.slice(i));
        if (!m) throw new NotLinear('bad property escape');
        i += m[0].length;
        const sc = SCRIPT.exec(m[1]);
        const name = GC.test(m[1]) || m[1] === 'Any' ? m[1] : sc ? sc[1] : null;
        if (name === null) throw new NotLinear(`Unicode property ${m[1]}`);
        return `\\${d}{${name}}`;
      }
      case 'k':
        if (u || src[i] === '<') throw new NotLinear('backreference');
        return 'k';
    }
    if (/[1-9]/.test(d)) throw new NotLinear('backreference');
    if (d === '-' && inClass) return '\\-';
    if (u && !SYNTAX.includes(d)) throw new NotLinear(`escape \\${d}`);
    // an identity escape: the character itself
    i--;
    const cp = cpAt(i);
    i += cp > 0xffff ? 2 : 1;
    return literal(cp);
  };

  while (i < n) {
    const c = src[i];
    if (c === '\\') {
      out += escape(false);
      continue;
    }
    if (c === '[') {
      i++;
      let neg = false;
      if (src[i] === '^') {
        neg = true;
        i++;
      }
      let body = '';
      while (i < n && src[i] !== ']') {
        if (src[i] === '\\') body += escape(true);
        else if (src[i] === '-') (body += '-'), i++;
        else {
          const cp = cpAt(i);
          i += cp > 0xffff ? 2 : 1;
          body += literal(cp);
        }
      }
      if (i >= n) throw new NotLinear('unterminated character class');
      i++;
      // JS `[]` matches nothing and `[^]` anything; RE2 would read `]` as a member
      if (body === '') out += neg ? '(?s:.)' : '[^\\x{0}-\\x{10ffff}]';
      else out += (neg ? '[^' : '[') + body + ']';
      continue;
    }
    if (c === '(') {
      if (src[i + 1] !== '?') {
        out += '(';
        i++;
        continue;
      }
      const rest = src.slice(i + 2, i + 4);
      if (rest.startsWith(':')) {
        out += '(?:';
        i += 3;
      } else if (rest.startsWith('=') || rest.startsWith('!')) {
        throw new NotLinear('lookahead');
      } else if (rest === '<=' || rest === '<!') {
        lookbehind = true;
        out += '(?' + rest;
        i += 4;
      } else {
        const m = /^\(\?<([A-Za-z_$][A-Za-z0-9_$]*)>/.exec(src.slice(i));
        if (!m) throw new NotLinear('group syntax');
        if (m[1].includes('$')) throw new NotLinear('group name');
        out += `(?P<${m[1]}>`;
        i += m[0].length;
      }
      continue;
    }
    if (c === '{') {
      const m = /^\{\d+(?:,\d*)?\}/.exec(src.slice(i, i + 24));
      out += m ? m[0] : '\\{';
      i += m ? m[0].length : 1;
      continue;
    }
    if (c === '.') {
      out += opts.dotAll ? '(?s:.)' : DOT;
      i++;
      continue;
    }
    if ('*+?|)^$'.includes(c)) {
      out += c;
      i++;
      continue;
    }
    const cp = cpAt(i);
    i += cp > 0xffff ? 2 : 1;
    out += literal(cp);
  }
  return { source: out, lookbehind };
}

/** Compiles a RegExp source for linear-time matching, or throws NotLinear. */
export function compileLinear(src: string, opts: LinearOptions): RE2JS {
  const { source, lookbehind } = toRe2(src, opts);
  try {
    return RE2JS.compile(source, lookbehind ? RE2JS.LOOKBEHINDS : 0);
  } catch (e) {
    throw new NotLinear((e as Error).message);
  }
}

export type { RE2JS };
