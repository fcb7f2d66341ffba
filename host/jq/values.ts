// Value model helpers: jq values are plain JS JSON values, and LiteralNumber (numbers.ts) for a
// number literal kept as written.
//
// Objects are plain objects, but jq keeps every key in insertion order and JS
// lists integer-like keys ("0", "42") first. So a key JS would reorder (a
// canonical array index), "__proto__", and a key that starts with KEY_MARK are
// stored with KEY_MARK in front; every other key, the vast majority, is stored
// as is. setKey/getKey/hasKey/objKeys/copyObj are the one door to an object's
// keys; a loop over raw property names decodes each with decodeKey.
//
// Plain JS objects from outside (a JSON.parse result given to run(), $ENV)
// work as values without a conversion walk: getKey falls back to the raw
// name, and copyObj re-encodes, so only their order is JS's. (A raw key that
// itself starts with KEY_MARK reads as encoded: such objects must come from
// parseJsonText.)
import { charge, chargeSlots, chargeChars, chargeKeys, work, CHAR_BYTES, KEY_BYTES } from './budget.js';
import { LiteralNumber, compareLiterals } from './numbers.js';

export type Value = unknown;
export type Obj = Record<string, unknown>;

export const hasOwn = Object.prototype.hasOwnProperty;

/** Error raised by jq programs (catchable by try/catch). */
export class JqError {
  value: unknown;
  constructor(value: unknown) {
    this.value = value;
  }
  get message(): string {
    return typeof this.value === 'string' ? this.value : errorValueMessage(this.value);
  }
}

export function errorValueMessage(v: unknown): string {
  return `${dump(v)} (not a string)`;
}

export function typeOf(v: unknown): string {
  if (v === null) return 'null';
  switch (typeof v) {
    case 'boolean':
      return 'boolean';
    case 'number':
      return 'number';
    case 'string':
      return 'string';
    case 'object':
      return Array.isArray(v) ? 'array' : v instanceof LiteralNumber ? 'number' : 'object';
  }
  return 'null';
}

export function isObject(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof LiteralNumber);
}

/** The character in front of an encoded key (U+0000: no other key starts with it unencoded). */
export const KEY_MARK = '\u0000';

/**
 * How many keys have been encoded so far in this process: a run compares it
 * before and after to know whether its outputs may hold encoded keys (most
 * runs never encode one, and then hand their values out as they are).
 */
export const keyState = { encoded: 0 };

/** Whether JS would not keep `k` in insertion order (or misread it): such keys are stored encoded. */
export function needsMark(k: string): boolean {
  const c = k.charCodeAt(0);
  if (c === 0) return true;
  if (c === 95) return k === '__proto__';
  if (c < 48 || c > 57) return false;
  // an array index ("0", "1", ..., no leading zero); past 2^32-2 JS keeps the order, encoding them anyway is harmless
  if (c === 48) return k.length === 1;
  if (k.length > 10) return false;
  for (let i = 1; i < k.length; i++) {
    const d = k.charCodeAt(i);
    if (d < 48 || d > 57) return false;
  }
  return true;
}

export function encodeKey(k: string): string {
  if (!needsMark(k)) return k;
  keyState.encoded++;
  return KEY_MARK + k;
}

/** The jq key of a stored property name. */
export function decodeKey(name: string): string {
  return name.charCodeAt(0) === 0 ? name.slice(1) : name;
}

export function setKey(o: Obj, k: string, v: unknown): void {
  if (needsMark(k)) {
    keyState.encoded++;
    o[KEY_MARK + k] = v;
  } else o[k] = v;
}

export function getKey(o: Obj, k: string): unknown {
  if (needsMark(k)) {
    const name = KEY_MARK + k;
    if (hasOwn.call(o, name)) return o[name];
    // a raw name starting with KEY_MARK is another key encoded ("\u0000" is "" encoded), never k itself
    if (k.charCodeAt(0) === 0) return null;
  }
  return hasOwn.call(o, k) ? o[k] : null;
}

export function hasKey(o: Obj, k: string): boolean {
  if (needsMark(k)) return hasOwn.call(o, KEY_MARK + k) || (k.charCodeAt(0) !== 0 && hasOwn.call(o, k));
  return hasOwn.call(o, k);
}

export function copyObj(o: Obj): Obj {
  const r: Obj = {};
  const names = Object.keys(o);
  for (let i = 0; i < names.length; i++) {
    const name = names[i];
    const c = name.charCodeAt(0);
    // stored names copy as they are; a raw index-like or __proto__ name (a plain object from outside) is encoded
    if (c === 95 || (c >= 48 && c <= 57)) setKey(r, name, o[name]);
    else r[name] = o[name];
  }
  // charged after copying: a copy is never larger than a value that already exists
  chargeKeys(names.length);
  return r;
}

/** An object's keys in order, decoded. */
export function objKeys(o: Obj): string[] {
  const names = Object.keys(o);
  for (let i = 0; i < names.length; i++) if (names[i].charCodeAt(0) === 0) return names.map(decodeKey);
  return names;
}

/**
 * A value as plain JS (keys decoded, for callers outside the engine); the
 * value itself when it holds no encoded key. Plain objects list index-like
 * keys first, whatever jq's order.
 */
export function plainValue(v: unknown): unknown {
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) {
    let r: unknown[] | null = null;
    for (let i = 0; i < v.length; i++) {
      const x = plainValue(v[i]);
      if (x !== v[i]) (r ??= v.slice())[i] = x;
    }
    return r ?? v;
  }
  const o = v as Obj;
  const names = Object.keys(o);
  let changed = false;
  const vals: unknown[] = new Array(names.length);
  for (let i = 0; i < names.length; i++) {
    vals[i] = plainValue(o[names[i]]);
    if (vals[i] !== o[names[i]] || names[i].charCodeAt(0) === 0) changed = true;
  }
  if (!changed) return o;
  const r: Obj = {};
  for (let i = 0; i < names.length; i++) {
    const k = decodeKey(names[i]);
    if (k === '__proto__') Object.defineProperty(r, k, { value: vals[i], writable: true, enumerable: true, configurable: true });
    else r[k] = vals[i];
  }
  return r;
}

// ---------- number formatting (jq 1.7.1's jvp_dtoa_fmt) ----------
// The shortest digits that read back to the same double (as JS and jq's dtoa mode 0 give them),
// placed as jq places them: exponential when the decimal point would sit 4 or more places before
// the digits or more than 15 places after them (1e-05, 1e+16, but 12000000000000000 and
// 4505170185988091700000), else plain; exponents have at least two digits.
export function numToString(n: number): string {
  if (n !== n) return 'null';
  if (n === Infinity) return '1.7976931348623157e+308';
  if (n === -Infinity) return '-1.7976931348623157e+308';
  if (n === 0) return Object.is(n, -0) ? '-0' : '0';
  // between 1e-4 and 1e16 jq's placement is always plain, as JS writes these numbers
  const a = n < 0 ? -n : n;
  if (a >= 1e-4 && a < 1e16) return String(n);
  const e = n.toExponential(); // shortest round-trip digits: d.ddde±x
  const sign = n < 0 ? '-' : '';
  const idx = e.indexOf('e');
  const digits = e.slice(sign.length, idx).replace('.', '');
  const decpt = parseInt(e.slice(idx + 1), 10) + 1;
  if (decpt <= -4 || decpt > digits.length + 15) {
    const x = decpt - 1;
    const a = Math.abs(x);
    return `${sign}${digits[0]}${digits.length > 1 ? '.' + digits.slice(1) : ''}e${x < 0 ? '-' : '+'}${a < 10 ? '0' + a : a}`;
  }
  if (decpt <= 0) return `${sign}0.${'0'.repeat(-decpt)}${digits}`;
  if (decpt >= digits.length) return sign + digits + '0'.repeat(decpt - digits.length);
  return `${sign}${digits.slice(0, decpt)}.${digits.slice(decpt)}`;
}

// ---------- JSON dump ----------
const ESC_RE = /[\u0000-\u001f\u007f"\\\u2028\u2029\ud800-\udfff]/;

export function dumpString(s: string): string {
  if (!ESC_RE.test(s)) return '"' + s + '"';
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 34) out += '\\"';
    else if (c === 92) out += '\\\\';
    else if (c < 0x20 || c === 0x7f) {
      switch (c) {
        case 8: out += '\\b'; break;
        case 9: out += '\\t'; break;
        case 10: out += '\\n'; break;
        case 12: out += '\\f'; break;
        case 13: out += '\\r'; break;
        default: out += '\\u' + c.toString(16).padStart(4, '0');
      }
    } else if (c >= 0xd800 && c <= 0xdfff) {
      // lone surrogates become U+FFFD like jq
      if (c <= 0xdbff && i + 1 < s.length) {
        const d = s.charCodeAt(i + 1);
        if (d >= 0xdc00 && d <= 0xdfff) {
          out += s[i] + s[i + 1];
          i++;
          continue;
        }
      }
      out += '\ufffd';
    } else out += s[i];
  }
  return out + '"';
}

/** JSON text of a value; charges the text to the memory budget as it grows (a shared sub-value is written, and charged, each time). */
export function dump(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  switch (typeof v) {
    case 'boolean':
      return v ? 'true' : 'false';
    case 'number':
      return numToString(v);
    case 'string':
      chargeChars(v.length);
      return dumpString(v);
  }
  if (v instanceof LiteralNumber) return v.literal;
  if (Array.isArray(v)) {
    chargeSlots(v.length);
    let s = '[';
    for (let i = 0; i < v.length; i++) {
      if (i) s += ',';
      s += dump(v[i]);
    }
    return s + ']';
  }
  const o = v as Obj;
  let s = '{';
  let first = true;
  for (const name of Object.keys(o)) {
    if (!first) s += ',';
    first = false;
    charge(KEY_BYTES + CHAR_BYTES * name.length);
    s += dumpString(decodeKey(name)) + ':' + dump(o[name]);
  }
  return s + '}';
}

/**
 * JSON text of an output for a host, written as JSON.stringify writes it
 * (numbers and strings are JSON.stringify's; a kept literal as written), with keys decoded in
 * jq's order.
 */
export function jsonText(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'null';
  // a kept literal (exactNumbers) as written
  if (v instanceof LiteralNumber) return v.literal;
  if (Array.isArray(v)) {
    let s = '[';
    for (let i = 0; i < v.length; i++) s += (i ? ',' : '') + jsonText(v[i]);
    return s + ']';
  }
  let s = '{';
  let first = true;
  for (const name of Object.keys(v)) {
    s += (first ? '' : ',') + JSON.stringify(decodeKey(name)) + ':' + jsonText((v as Obj)[name]);
    first = false;
  }
  return s + '}';
}

/**
 * The start of dump(v), at least `max` code units long (or all of it when
 * shorter): error messages show only a few bytes of a value, which may be huge.
 */
function dumpHead(v: unknown, max: number): string {
  let out = '';
  const walk = (x: unknown): boolean => {
    if (typeof x === 'string' && x.length > max) {
      // the escaped head of a long string; its last character may be half of a cut surrogate pair
      out += dumpString(x.slice(0, max + 2)).slice(0, -2);
      return true;
    }
    if (x === null || typeof x !== 'object' || x instanceof LiteralNumber) {
      out += dump(x);
      return out.length >= max;
    }
    if (Array.isArray(x)) {
      out += '[';
      for (let i = 0; i < x.length; i++) {
        if (i) out += ',';
        if (walk(x[i])) return true;
      }
      out += ']';
      return out.length >= max;
    }
    out += '{';
    let first = true;
    for (const name of Object.keys(x)) {
      if (!first) out += ',';
      first = false;
      out += dumpString(decodeKey(name)) + ':';
      if (out.length >= max || walk((x as Obj)[name])) return true;
    }
    out += '}';
    return out.length >= max;
  };
  walk(v);
  return out;
}

export function dumpPretty(v: unknown, indent = 2, level = 0): string {
  if (v === null || typeof v !== 'object' || v instanceof LiteralNumber) return dump(v);
  const pad = ' '.repeat(indent * (level + 1));
  const padEnd = ' '.repeat(indent * level);
  if (Array.isArray(v)) {
    if (v.length === 0) return '[]';
    return '[\n' + v.map((x) => pad + dumpPretty(x, indent, level + 1)).join(',\n') + '\n' + padEnd + ']';
  }
  const keys = Object.keys(v as Obj);
  if (keys.length === 0) return '{}';
  return (
    '{\n' +
    keys.map((name) => pad + dumpString(decodeKey(name)) + ': ' + dumpPretty((v as Obj)[name], indent, level + 1)).join(',\n') +
    '\n' +
    padEnd +
    '}'
  );
}

/** jq's jv_dump_string_trunc: dump limited to bufsize-1 bytes, with "..." when truncated. */
export function dumpTrunc(v: unknown, bufsize = 15): string {
  const s = dumpHead(v, bufsize);
  const b = Buffer.from(s, 'utf8');
  if (b.length <= bufsize - 1) return s;
  return b.subarray(0, bufsize - 4).toString('utf8') + '...';
}

export function describe(v: unknown): string {
  return `${typeOf(v)} (${dumpTrunc(v)})`;
}

// ---------- ordering ----------
function kindOrder(v: unknown): number {
  if (v === null || v === undefined) return 0;
  switch (typeof v) {
    case 'boolean':
      return v ? 2 : 1;
    case 'number':
      return 3;
    case 'string':
      return 4;
  }
  return Array.isArray(v) ? 5 : v instanceof LiteralNumber ? 3 : 6;
}

function cmpStr(a: string, b: string): number {
  // jq compares strings bytewise (UTF-8); code-unit order differs only for astral vs U+E000..U+FFFF
  if (a === b) return 0;
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x !== y) {
      if (x >= 0xd800 && x <= 0xdfff) x += 0x2000;
      else if (x >= 0xe000) x -= 0x800;
      if (y >= 0xd800 && y <= 0xdfff) y += 0x2000;
      else if (y >= 0xe000) y -= 0x800;
      return x < y ? -1 : 1;
    }
  }
  return a.length < b.length ? -1 : a.length > b.length ? 1 : 0;
}

export function compare(a: unknown, b: unknown): number {
  const ka = kindOrder(a);
  const kb = kindOrder(b);
  if (ka !== kb) return ka < kb ? -1 : 1;
  switch (ka) {
    case 3: {
      if (typeof a === 'number' && typeof b === 'number') return compareNumbers(a, b);
      // two kept literals compare as decimals (jq's jvp_number_cmp), anything else as doubles
      if (a instanceof LiteralNumber && b instanceof LiteralNumber) return compareLiterals(a, b);
      return compareNumbers(a instanceof LiteralNumber ? a.value : (a as number), b instanceof LiteralNumber ? b.value : (b as number));
    }
    case 4:
      return cmpStr(a as string, b as string);
    case 5: {
      const x = a as unknown[];
      const y = b as unknown[];
      const n = Math.min(x.length, y.length);
      work(n);
      for (let i = 0; i < n; i++) {
        const c = compare(x[i], y[i]);
        if (c !== 0) return c;
      }
      return x.length < y.length ? -1 : x.length > y.length ? 1 : 0;
    }
    case 6: {
      const x = a as Obj;
      const y = b as Obj;
      const kx = objKeys(x).slice().sort(cmpStr);
      work(kx.length);
      const ky = objKeys(y).slice().sort(cmpStr);
      const c = compare(kx, ky);
      if (c !== 0) return c;
      for (const k of kx) {
        const c2 = compare(getKey(x, k), getKey(y, k));
        if (c2 !== 0) return c2;
      }
      return 0;
    }
  }
  return 0;
}

function compareNumbers(x: number, y: number): number {
  // jq: nan < anything (nan sorts below all numbers)
  if (x !== x) return -1;
  if (y !== y) return 1;
  return x < y ? -1 : x > y ? 1 : 0;
}

export function sortKeys(keys: string[]): string[] {
  return keys.sort(cmpStr);
}

export function equals(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  const ta = typeof a;
  if (ta !== typeof b) return (ta === 'object' || ta === 'number') && equalNumbers(a, b);
  if (ta === 'number') return false; // NaN != NaN
  if (a === null || b === null || ta !== 'object') return false;
  if (a instanceof LiteralNumber || b instanceof LiteralNumber) return equalNumbers(a, b);
  const aa = Array.isArray(a);
  if (aa !== Array.isArray(b)) return false;
  if (aa) {
    const x = a as unknown[];
    const y = b as unknown[];
    if (x.length !== y.length) return false;
    work(x.length);
    for (let i = 0; i < x.length; i++) if (!equals(x[i], y[i])) return false;
    return true;
  }
  const x = a as Obj;
  const y = b as Obj;
  const kx = Object.keys(x);
  if (kx.length !== Object.keys(y).length) return false;
  work(kx.length);
  for (const name of kx) {
    const c = name.charCodeAt(0);
    if (c === 0 || c === 95 || (c >= 48 && c <= 57)) {
      // an encoded or index-like name: y may store the key the other way (a plain object from outside)
      const k = decodeKey(name);
      if (!hasKey(y, k) || !equals(x[name], getKey(y, k))) return false;
    } else if (!hasOwn.call(y, name) || !equals(x[name], y[name])) return false;
  }
  return true;
}

/** `==` with a kept literal on one side: jq's jvp_number_equal (nan equals nothing). */
function equalNumbers(a: unknown, b: unknown): boolean {
  if (kindOrder(a) !== 3 || kindOrder(b) !== 3) return false;
  if (a instanceof LiteralNumber && b instanceof LiteralNumber) return compareLiterals(a, b) === 0;
  return (a instanceof LiteralNumber ? a.value : a) === (b instanceof LiteralNumber ? b.value : b);
}

export function truthy(v: unknown): boolean {
  return v !== null && v !== false && v !== undefined;
}

// ---------- codepoint helpers ----------
const SURR_RE = /[\ud800-\udfff]/;
export function hasSurrogates(s: string): boolean {
  return SURR_RE.test(s);
}
export function strLength(s: string): number {
  work(s.length >>> 10);
  if (!hasSurrogates(s)) return s.length;
  let n = 0;
  for (const _ of s) n++;
  return n;
}
export function codepoints(s: string): number[] {
  chargeSlots(s.length);
  const r: number[] = [];
  for (const ch of s) r.push(ch.codePointAt(0)!);
  return r;
}
