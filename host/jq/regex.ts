// Regular expressions: Oniguruma (Perl_NT syntax) patterns translated to JS RegExp.
import { JqError, describe, hasSurrogates, strLength, setKey, type Obj } from './values.js';
import type { NativeDef } from './compile.js';
import type { Fn, Emit, Path } from './runtime.js';
import { badPath, sliceValue, opAdd } from './runtime.js';

interface Compiled {
  re: RegExp;
  names: (string | null)[];
  global: boolean;
  noEmpty: boolean;
}

const cache = new Map<string, Compiled>();

const POSIX: Record<string, string> = {
  alpha: 'a-zA-Z', digit: '0-9', alnum: 'a-zA-Z0-9', upper: 'A-Z', lower: 'a-z', space: ' \\t\\n\\r\\f\\v',
  blank: ' \\t', punct: '!-\\/:-@\\[-`{-~', xdigit: '0-9A-Fa-f', word: '\\w', cntrl: '\\x00-\\x1f\\x7f',
  print: '\\x20-\\x7e', graph: '\\x21-\\x7e', ascii: '\\x00-\\x7f',
};

function translate(src: string, extended: boolean): { pattern: string; names: (string | null)[] } {
  let out = '';
  const names: (string | null)[] = [];
  let inClass = false;
  for (let i = 0; i < src.length; i++) {
    const c = src[i];
    if (c === '\\') {
      const d = src[i + 1];
      i++;
      if (d === undefined) {
        out += '\\\\';
        continue;
      }
      if (!inClass) {
        if (d === 'A') { out += '^'; continue; }
        if (d === 'z') { out += '$'; continue; }
        if (d === 'Z') { out += '(?=\\n?$)'; continue; }
      }
      if (d === 'h') { out += inClass ? '0-9a-fA-F' : '[0-9a-fA-F]'; continue; }
      if (d === 'H') { out += inClass ? '' : '[^0-9a-fA-F]'; continue; }
      out += '\\' + d;
      continue;
    }
    if (inClass) {
      if (c === '[' && src[i + 1] === ':') {
        const end = src.indexOf(':]', i + 2);
        if (end > 0) {
          const nm = src.slice(i + 2, end);
          const neg = nm.startsWith('^');
          const cls = POSIX[neg ? nm.slice(1) : nm];
          if (cls !== undefined && !neg) {
            out += cls;
            i = end + 1;
            continue;
          }
        }
      }
      if (c === '[') {
        out += '\\[';
        continue;
      }
      if (c === ']') inClass = false;
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
        out += '\\]';
        i++;
      }
      continue;
    }
    if (c === '(') {
      if (src[i + 1] === '?') {
        const rest = src.slice(i + 2);
        const m = /^<([A-Za-z_][A-Za-z0-9_]*)>/.exec(rest) || /^P<([A-Za-z_][A-Za-z0-9_]*)>/.exec(rest);
        if (m) {
          names.push(m[1]);
          out += '(?<' + m[1] + '>';
          i += 1 + m[0].length;
          continue;
        }
        if (rest.startsWith('>')) {
          out += '(?:';
          i += 2;
          continue;
        }
        out += c;
        continue;
      }
      names.push(null);
      out += c;
      continue;
    }
    if ((c === '+') && i > 0 && /[*+?}]/.test(src[i - 1]) && src[i - 2] !== '\\') {
      // possessive quantifier: approximate as greedy
      continue;
    }
    out += c;
  }
  return { pattern: out, names };
}

function compileRegex(re: unknown, flags: unknown): Compiled {
  if (typeof re !== 'string') throw new JqError(`${describe(re)} cannot be matched, as it is not a string`);
  if (flags !== null && typeof flags !== 'string') throw new JqError(`${describe(flags)} is not a string`);
  const key = re + '\u0000' + (flags ?? '');
  const hit = cache.get(key);
  if (hit) return hit;
  let global = false;
  let noEmpty = false;
  let jsFlags = 'g';
  let extended = false;
  for (const f of (flags as string | null) ?? '') {
    switch (f) {
      case 'g': global = true; break;
      case 'i': if (!jsFlags.includes('i')) jsFlags += 'i'; break;
      case 'x': extended = true; break;
      case 'n': noEmpty = true; break;
      case 's': break;
      case 'p': if (!jsFlags.includes('s')) jsFlags += 's'; break;
      case 'l': break;
      default:
        throw new JqError(`${flags} is not a valid modifier string`);
    }
  }
  const { pattern, names } = translate(re, extended);
  let rx: RegExp;
  try {
    rx = new RegExp(pattern, jsFlags + 'u');
  } catch {
    try {
      rx = new RegExp(pattern, jsFlags);
    } catch (e) {
      throw new JqError(`${re} (at offset 0) is not a valid regex: ${(e as Error).message}`);
    }
  }
  const c: Compiled = { re: rx, names, global, noEmpty };
  if (cache.size > 1000) cache.clear();
  cache.set(key, c);
  return c;
}

function cpOffset(s: string, idx: number, sur: boolean): number {
  return sur ? strLength(s.slice(0, idx)) : idx;
}

function matchAll(input: unknown, re: unknown, flags: unknown, forceGlobal = false): Obj[] {
  if (typeof input !== 'string') throw new JqError(`${describe(input)} cannot be matched, as it is not a string`);
  const c = compileRegex(re, flags);
  const rx = c.re;
  const sur = hasSurrogates(input);
  const out: Obj[] = [];
  rx.lastIndex = 0;
  const global = c.global || forceGlobal;
  for (;;) {
    const m = rx.exec(input);
    if (!m) break;
    if (m[0] === '') {
      rx.lastIndex = m.index + (sur && input.codePointAt(m.index)! > 0xffff ? 2 : 1);
    }
    if (!(c.noEmpty && m[0] === '')) {
      const caps: Obj[] = [];
      for (let i = 1; i < m.length; i++) {
        const g = m[i];
        const name = c.names[i - 1] ?? null;
        if (g === undefined) {
          caps.push({ offset: -1, length: 0, string: null, name });
        } else {
          // find group offset: JS lacks per-group indices without the d flag; use indices when available
          caps.push({ offset: -2, length: strLength(g), string: g, name });
        }
      }
      if (caps.some((x) => x.offset === -2)) {
        const withD = new RegExp(rx.source, rx.flags + 'd');
        withD.lastIndex = m.index;
        const md = withD.exec(input) as RegExpExecArray & { indices?: [number, number][] };
        for (let i = 1; i < m.length; i++) {
          if (caps[i - 1].offset === -2) {
            const ind = md && md.indices ? md.indices[i] : undefined;
            caps[i - 1].offset = ind ? cpOffset(input, ind[0], sur) : cpOffset(input, m.index, sur);
          }
        }
      }
      out.push({
        offset: cpOffset(input, m.index, sur),
        length: strLength(m[0]),
        string: m[0],
        captures: caps,
      });
    }
    if (!global) break;
    if (rx.lastIndex > input.length) break;
  }
  return out;
}

function reFlags(arg: unknown): [unknown, unknown] {
  if (typeof arg === 'string') return [arg, null];
  if (Array.isArray(arg) && arg.length > 1) return [arg[0], arg[1]];
  if (Array.isArray(arg) && arg.length > 0) return [arg[0], null];
  throw new JqError(`${arg === null ? 'null' : Array.isArray(arg) ? 'array' : typeof arg} not a string or array`);
}

function captureObj(m: Obj): Obj {
  const o: Obj = {};
  for (const c of m.captures as Obj[]) if (c.name !== null) setKey(o, c.name as string, c.string);
  return o;
}

function emitV(k: Emit, p: Path, x: unknown): void {
  k(x, p === null ? null : badPath(x));
}

function splitRe(input: unknown, re: unknown, flags: unknown): string[] {
  const ms = matchAll(input, re, flags, true);
  const s = input as string;
  const pts: number[] = [0];
  for (const m of ms) pts.push(m.offset as number, (m.offset as number) + (m.length as number));
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
    const ms = matchAll(v, re, flags);
    return test === true ? ms.length > 0 : ms;
  });
  vf('test/1', (v, a) => {
    const [re, fl] = reFlags(a);
    return matchAll(v, re, fl).length > 0;
  });
  vf('test/2', (v, re, fl) => matchAll(v, re, fl).length > 0);
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
  const scan = (v: unknown, re: unknown, fl: unknown, k: Emit, p: Path) => {
    for (const m of matchAll(v, re, fl, true)) {
      const caps = m.captures as Obj[];
      emitV(k, p, caps.length > 0 ? caps.map((c) => c.string) : m.string);
    }
  };
  fn('scan/1', ([r]) => (v, p, env, k) => r(v, null, env, (re) => scan(v, re, null, k, p)));
  fn('scan/2', ([r, f]) => (v, p, env, k) => f(v, null, env, (fl) => r(v, null, env, (re) => scan(v, re, fl, k, p))));
  vf('split/2', (v, re, fl) => splitRe(v, re, fl));
  const sub = (global: boolean, withFlags: boolean): ((args: Fn[]) => Fn) => (args) => (v, p, env, k) => {
    const [r, s, f] = args;
    const run = (re: unknown, fl: unknown) => {
      const flags = ((fl as string | null) ?? '') + (global ? 'g' : '');
      if (typeof v !== 'string') throw new JqError(`${describe(v)} cannot be matched, as it is not a string`);
      const ms = matchAll(v, re, flags);
      const results: unknown[] = [];
      let prev = 0;
      for (const m of ms) {
        const gap = sliceValue(v, prev, m.offset) as string;
        const inserts: unknown[] = [];
        s(captureObj(m), null, env, (x) => inserts.push(x));
        for (let ix = 0; ix < inserts.length; ix++) {
          const cur = ix < results.length ? results[ix] : null;
          results[ix] = opAdd(cur ?? null, opAdd(gap, inserts[ix]));
        }
        prev = (m.offset as number) + (m.length as number);
      }
      if (results.length === 0) {
        emitV(k, p, v);
        return;
      }
      const tail = sliceValue(v, prev, null);
      for (let i = 0; i < results.length; i++) emitV(k, p, opAdd(results[i] ?? null, tail));
    };
    if (withFlags) f(v, null, env, (fl) => r(v, null, env, (re) => run(re, fl)));
    else r(v, null, env, (re) => run(re, null));
  };
  fn('sub/2', sub(false, false));
  fn('sub/3', sub(false, true));
  fn('gsub/2', sub(true, false));
  fn('gsub/3', sub(true, true));
  return defs;
}
