// Runtime primitives shared by the compiler and the builtins.
import {
  JqError, describe, typeOf, hasOwn, isObject, setKey, getKey, decodeKey, copyObj, equals, compare, dump, dumpTrunc, strLength,
  hasSurrogates, type Obj,
} from './values.js';
import { LiteralNumber, numberMode, toDouble, isNumber as numeric } from './numbers.js';
import { state, stepCheck, tick, work, charge, chargeSlots, chargeChars, chargeKeys, BudgetError, CHAR_BYTES, SLOT_BYTES } from './budget.js';

export type Path = unknown[] | null;
export type Emit = (v: unknown, p: Path) => void;
export interface Env {
  v: unknown;
  next: Env | null;
}
export type Fn = (v: unknown, p: Path, env: Env | null, k: Emit) => void;
/** single-output value function (fast path) */
export type SFn = (v: unknown, env: Env | null) => unknown;
export interface Closure {
  fn: Fn;
  env: Env | null;
}

export class BreakSignal {
  token: object;
  constructor(token: object) {
    this.token = token;
  }
}

/** An error raised downstream of a try body: passes through that try untouched. */
export class Passthrough {
  err: JqError;
  owner: object;
  constructor(err: JqError, owner: object) {
    this.err = err;
    this.owner = owner;
  }
}

export function err(msg: string): JqError {
  return new JqError(msg);
}

export function invalidPath(v: unknown): never {
  throw new JqError(`Invalid path expression with result ${dumpTrunc(v, 30)}`);
}

/** Marks a value produced by a non-path expression while tracking paths. */
const BAD = Symbol('badpath');
export function badPath(v: unknown): unknown[] {
  const p: unknown[] = [];
  (p as unknown as Record<symbol, unknown>)[BAD] = { v };
  return p;
}
export function isBad(p: unknown[]): boolean {
  return (p as unknown as Record<symbol, unknown>)[BAD] !== undefined;
}
function badValue(p: unknown[]): unknown {
  return ((p as unknown as Record<symbol, unknown>)[BAD] as { v: unknown }).v;
}
/**
 * After a destructuring in a path expression jq's path has moved to the last
 * element the pattern read (`path(. as [$k] | $k)` is [0]) while `.` is still
 * the input: a path valid for values identical to `value`, bad for the rest.
 */
export function pendingPath(at: unknown[], value: unknown, v: unknown): unknown[] {
  const p: unknown[] = [];
  (p as unknown as Record<symbol, unknown>)[BAD] = { v, at, value };
  return p;
}
export function pendingOf(p: unknown[]): { at: unknown[]; value: unknown } | undefined {
  const b = (p as unknown as Record<symbol, unknown>)[BAD] as { at?: unknown[]; value: unknown } | undefined;
  return b !== undefined && b.at !== undefined ? (b as { at: unknown[]; value: unknown }) : undefined;
}
/** execute.c INDEX on a value not at the path: the key dumped into 15 bytes, the value into 30 */
export function nearAttempt(key: unknown, value: unknown): JqError {
  return new JqError(`Invalid path expression near attempt to access element ${dumpTrunc(key, 15)} of ${dumpTrunc(value, 30)}`);
}

/**
 * jq's jv_identical: the same container, null or boolean; for numbers, with
 * exact numbers (where a literal is a LiteralNumber, the same one only when
 * it is the same jv), two computed doubles with the same bits (a nan is taken
 * as any nan) are identical (`(2 + 4) | path(length)` is []). Without them a
 * double may stand for a literal, which is never identical to a result.
 */
export function identical(x: unknown, v: unknown): boolean {
  if (typeof x === 'number') return numberMode.exact && typeof v === 'number' && (Object.is(x, v) || (x !== x && v !== v));
  return x === v && (x === null || typeof x === 'boolean' || typeof x === 'object');
}

/** A value that is the value at the path (a variable holding it, the source of a pattern): jv_identical, a double standing for itself without exact numbers. */
export function sameAtPath(x: unknown, v: unknown): boolean {
  return typeof x === 'number' && numberMode.exact ? identical(x, v) : x === v;
}

/** extend a tracked path by one key (errors like jq when the value was not reached by a path) */
export function extendPath(p: unknown[], key: unknown): unknown[] {
  if (isBad(p)) {
    throw nearAttempt(key, badValue(p));
  }
  chargeSlots(p.length + 1);
  return p.concat([key]);
}
/** a complete path coming out of path(f): must not be a marked value */
export function checkPath(p: unknown[]): unknown[] {
  if (isBad(p)) invalidPath(badValue(p));
  return p;
}

// ---------- indexing ----------
export function keyDesc(k: unknown): string {
  // jq formats the key with C's %s: raw, up to a NUL; only a key under 30 bytes is shown (jv_aux.c jv_get)
  if (typeof k === 'string') return Buffer.byteLength(k) < 30 ? `string "${k.split('\0')[0]}"` : 'string';
  return typeOf(k);
}

export function indexValue(t: unknown, k: unknown): unknown {
  if (typeof k === 'string') {
    if (isObject(t)) return getKey(t, k);
    if (t === null) return null;
  } else if (typeof k === 'number') {
    if (Array.isArray(t)) {
      if (k !== k) return null;
      // jq casts to int: truncation toward zero (.[-2.8] is .[-2])
      let i = Math.trunc(k);
      if (i < 0) i += t.length;
      return i >= 0 && i < t.length ? t[i] : null;
    }
    if (t === null) return null;
  } else if (k instanceof LiteralNumber) {
    return indexValue(t, k.value);
  } else if (isObject(k) && (Array.isArray(t) || typeof t === 'string' || t === null)) {
    if (t === null) return null;
    if (!hasOwn.call(k, 'start') || !hasOwn.call(k, 'end'))
      throw new JqError('Array/string slice indices must be integers');
    const s = k.start;
    const e = k.end;
    return sliceValue(t, s, e);
  } else if (Array.isArray(k) && Array.isArray(t)) {
    return arrayIndices(t, k);
  }
  if (t === null && isObject(k)) return null;
  throw new JqError(`Cannot index ${typeOf(t)} with ${keyDesc(k)}`);
}

export function arrayIndices(t: unknown[], k: unknown[]): unknown {
  if (k.length === 0) return [];
  const r: number[] = [];
  for (let i = 0; i + k.length <= t.length; i++) {
    let ok = true;
    let j = 0;
    for (; j < k.length; j++) {
      if (!equals(t[i + j], k[j])) {
        ok = false;
        break;
      }
    }
    work(j);
    if (ok) {
      chargeSlots(1);
      r.push(i);
    }
  }
  return r;
}

/** A slice's [start, end) on a length, as jq computes it; `badIndices` is the error for non-numbers (jq words it per caller). */
export function sliceBounds(len: number, s: unknown, e: unknown, badIndices = 'Array/string slice indices must be integers'): [number, number] {
  if (s instanceof LiteralNumber) s = s.value;
  if (e instanceof LiteralNumber) e = e.value;
  if ((s !== null && typeof s !== 'number') || (e !== null && typeof e !== 'number')) throw new JqError(badIndices);
  let ds = s === null ? 0 : (s as number);
  let de = e === null ? len : (e as number);
  if (ds !== ds) ds = 0;
  if (de !== de) de = len;
  if (ds < 0) ds += len;
  if (de < 0) de += len;
  if (ds < 0) ds = 0;
  if (ds > len) ds = len;
  ds = Math.floor(ds);
  if (de > len) de = len;
  if (de < ds) de = ds;
  const start = ds;
  let end = Math.floor(de);
  if (end < de) end += 1;
  if (end > len) end = len;
  return [start, end];
}

export function sliceValue(t: unknown, s: unknown, e: unknown): unknown {
  if (t === null) return null;
  if (Array.isArray(t)) {
    const [a, b] = sliceBounds(t.length, s, e);
    chargeSlots(b - a);
    return t.slice(a, b);
  }
  if (typeof t === 'string') {
    if (!hasSurrogates(t)) {
      const [a, b] = sliceBounds(t.length, s, e);
      chargeChars(b - a);
      return t.slice(a, b);
    }
    charge((SLOT_BYTES + CHAR_BYTES) * t.length);
    const cps = Array.from(t);
    const [a, b] = sliceBounds(cps.length, s, e);
    return cps.slice(a, b).join('');
  }
  throw new JqError(`Cannot index ${typeOf(t)} with object`);
}

export function iterate(v: unknown, p: Path, k: Emit): void {
  if (Array.isArray(v)) {
    if (p === null) {
      for (let i = 0; i < v.length; i++) {
        if (++state.steps > state.stepsAt) stepCheck();
        k(v[i], null);
      }
    } else {
      if (isBad(p)) throw new JqError(`Invalid path expression near attempt to iterate through ${dumpTrunc(badValue(p), 30)}`);
      for (let i = 0; i < v.length; i++) {
        tick();
        chargeSlots(p.length + 1);
        k(v[i], p.concat([i]));
      }
    }
    return;
  }
  if (isObject(v)) {
    if (p !== null && isBad(p)) throw new JqError(`Invalid path expression near attempt to iterate through ${dumpTrunc(badValue(p), 30)}`);
    const names = Object.keys(v);
    for (let i = 0; i < names.length; i++) {
      if (++state.steps > state.stepsAt) stepCheck();
      const name = names[i];
      if (p === null) k(v[name], null);
      else {
        chargeSlots(p.length + 1);
        k(v[name], p.concat([decodeKey(name)]));
      }
    }
    return;
  }
  // jq checks the path before the type (path((null | .[])) names the path)
  if (p !== null && isBad(p)) throw new JqError(`Invalid path expression near attempt to iterate through ${dumpTrunc(badValue(p), 30)}`);
  throw new JqError(`Cannot iterate over ${describe(v)}`);
}

// ---------- paths ----------
export function getPath(t: unknown, path: unknown): unknown {
  if (!Array.isArray(path)) throw new JqError('Path must be specified as an array');
  let cur = t;
  // (null indexed by a string, number or slice is null; by anything else an error, as jq's jv_get)
  for (let i = 0; i < path.length; i++) cur = indexValue(cur, path[i]);
  return cur;
}

/**
 * t with t[k] = v. A new container, except when `owned` holds t: a container
 * the same assignment created and nothing else references yet, which is then
 * changed in place, so an update of n paths (`.[] |= f`) copies each
 * container once instead of n times.
 */
function setOne(t: unknown, k: unknown, v: unknown, owned: Set<object> | null): unknown {
  const mine = owned !== null && t !== null && typeof t === 'object' && owned.has(t);
  if (k instanceof LiteralNumber) k = k.value;
  if (typeof k === 'string') {
    if (t === null || isObject(t)) {
      const o: Obj = t === null ? {} : mine ? t : copyObj(t);
      chargeKeys(1);
      setKey(o, k, v);
      if (!mine) owned?.add(o);
      return o;
    }
  } else if (typeof k === 'number') {
    if (t === null || Array.isArray(t)) {
      const len = t === null ? 0 : (t as unknown[]).length;
      const i = arraySetIndex(len, k);
      // charged before padding: setpath([1e8]; 1) asks for 100 million slots
      chargeSlots(mine ? Math.max(0, i + 1 - len) : Math.max(len, i + 1));
      const a = mine ? (t as unknown[]) : t === null ? [] : (t as unknown[]).slice();
      while (a.length < i) a.push(null);
      a[i] = v;
      if (!mine) owned?.add(a);
      return a;
    }
  } else if (isObject(k)) {
    if (t === null || Array.isArray(t)) {
      const a = t === null ? [] : (t as unknown[]);
      // jv_set's parse_slice: a missing start or end is no number (jv_object_get gives an invalid)
      if (!hasOwn.call(k, 'start') || !hasOwn.call(k, 'end')) throw new JqError('Array/string slice indices must be integers');
      const [s, e] = sliceBounds(a.length, k.start, k.end);
      if (!Array.isArray(v)) throw new JqError('A slice of an array can only be assigned another array');
      chargeSlots(a.length - (e - s) + v.length);
      const r = a.slice(0, s).concat(v, a.slice(e));
      owned?.add(r);
      return r;
    }
  }
  if (isObject(k) && typeof t === 'string') throw new JqError('Cannot update string slices');
  if (isObject(k) && !(t === null || Array.isArray(t))) throw new JqError(`Cannot update field at object index of ${typeOf(t)}`);
  throw new JqError(`Cannot index ${typeOf(t)} with ${keyDesc(k)}`);
}

/** t with the value at `path` replaced by v (`owned`: see setOne). */
/** jv_array_set's index for key k of an array of length len, or its error */
function arraySetIndex(len: number, k: number): number {
  if (k !== k) throw new JqError('Cannot set array element at NaN index');
  let i = Math.floor(k);
  if (i < 0) {
    i += len;
    if (i < 0) throw new JqError('Out of bounds negative array index');
  }
  if (i > 100_000_000) throw new JqError('Array index too large');
  return i;
}

export function setPath(t: unknown, path: unknown, v: unknown, owned: Set<object> | null = null, i = 0): unknown {
  if (!Array.isArray(path)) throw new JqError('Path must be specified as an array');
  if (i >= path.length) return v;
  const k = path[i];
  // jv_get: null indexed by a string, number or slice is null; by anything else an error
  const child = t === null && (typeof k === 'string' || typeof k === 'number' || isObject(k)) ? null : indexValue(t, k);
  // jv_setpath sets root[k] to null before going deeper (all keys but slices), so its errors come first
  if (typeof k === 'number' && (t === null || Array.isArray(t))) arraySetIndex(t === null ? 0 : t.length, k);
  // an array key reads an array (its indices) but cannot be set (jv_set's own error)
  else if (Array.isArray(k) && Array.isArray(t)) throw new JqError('Cannot update field at array index of array');
  return setOne(t, k, setPath(child, path, v, owned, i + 1), owned);
}

// ---------- arithmetic ----------
function deepMerge(a: Obj, b: Obj): Obj {
  const names = Object.keys(b);
  chargeKeys(names.length);
  const r = copyObj(a);
  for (const name of names) {
    const k = decodeKey(name);
    const bv = b[name];
    const av = getKey(r, k);
    if (isObject(av) && isObject(bv)) setKey(r, k, deepMerge(av, bv));
    else setKey(r, k, bv);
  }
  return r;
}

// Results are charged whole, before they are built: `. + .` doubles its input
// each time, and a string's length is what flattening or serializing it costs,
// whatever V8 shares underneath.
export function opAdd(a: unknown, b: unknown): unknown {
  if (typeof a === 'number' && typeof b === 'number') return a + b;
  if (a === null) return b;
  if (b === null) return a;
  if (typeof a === 'string' && typeof b === 'string') {
    chargeChars(a.length + b.length);
    return a + b;
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    chargeSlots(a.length + b.length);
    return a.concat(b);
  }
  if (isObject(a) && isObject(b)) {
    const names = Object.keys(b);
    chargeKeys(names.length);
    const r = copyObj(a);
    for (const name of names) setKey(r, decodeKey(name), b[name]);
    return r;
  }
  if (hasLiteral(a, b) && numeric(a) && numeric(b)) return opAdd(toDouble(a), toDouble(b));
  throw new JqError(`${describe(a)} and ${describe(b)} cannot be added`);
}

export function opSub(a: unknown, b: unknown): unknown {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (Array.isArray(a) && Array.isArray(b)) {
    chargeSlots(a.length);
    return a.filter((x) => {
      work(b.length);
      return !b.some((y) => equals(x, y));
    });
  }
  if (hasLiteral(a, b) && numeric(a) && numeric(b)) return opSub(toDouble(a), toDouble(b));
  throw new JqError(`${describe(a)} and ${describe(b)} cannot be subtracted`);
}

// jq 1.7.1 binop_multiply: a negative or nan count gives null, else the count is converted to a C
// int and the result allocated as jv_string_empty(bytes * count). A count beyond int becomes INT_MIN
// (wasm32 and x86 alike), so the size is bytes * 2^31 modulo the word: 0 for an even byte length,
// which repeats nothing and gives "" (an odd one asks for 2 GiB and aborts jq).
function repeatString(s: string, n: number): unknown {
  if (n !== n || n < 0) return null;
  const c = Math.floor(n);
  if (c > 2147483647) {
    if (Buffer.byteLength(s, 'utf8') % 2 === 0) return '';
    throw new JqError('Repeat string result too long');
  }
  if (c * s.length > 1e9) throw new JqError('Repeat string result too long');
  chargeChars(c * s.length);
  return s.repeat(c);
}

export function opMul(a: unknown, b: unknown): unknown {
  if (typeof a === 'number' && typeof b === 'number') return a * b;
  if (typeof a === 'string' && typeof b === 'number') return repeatString(a, b);
  if (typeof a === 'number' && typeof b === 'string') return repeatString(b, a);
  if (isObject(a) && isObject(b)) return deepMerge(a, b);
  if (hasLiteral(a, b) && (numeric(a) || typeof a === 'string') && (numeric(b) || typeof b === 'string')) return opMul(toDouble(a), toDouble(b));
  throw new JqError(`${describe(a)} and ${describe(b)} cannot be multiplied`);
}

export function splitString(a: string, b: string): string[] {
  if (a === '') return [];
  if (b === '') {
    // one string per codepoint
    charge((SLOT_BYTES + CHAR_BYTES) * a.length);
    return Array.from(a);
  }
  work(a.length >>> 10);
  const parts = a.split(b);
  // the parts' text is never longer than the input's
  chargeSlots(parts.length);
  chargeChars(a.length);
  return parts;
}

export function opDiv(a: unknown, b: unknown): unknown {
  if (typeof a === 'number' && typeof b === 'number') {
    if (b === 0) throw new JqError(`${describe(a)} and ${describe(b)} cannot be divided because the divisor is zero`);
    return a / b;
  }
  if (typeof a === 'string' && typeof b === 'string') return splitString(a, b);
  if (hasLiteral(a, b) && numeric(a) && numeric(b)) return opDivLiteral(a, b);
  throw new JqError(`${describe(a)} and ${describe(b)} cannot be divided`);
}

function toIntmax(x: number): bigint {
  if (x !== x) return 0n;
  // jq 1.7.1's dtoi clamps beyond the range, but 2^63 itself goes through the C cast,
  // which gives INTMAX_MIN on the reference build
  if (x === 9.223372036854776e18) return -9223372036854775808n;
  if (x > 9.223372036854776e18) return 9223372036854775807n;
  if (x <= -9.223372036854776e18) return -9223372036854775808n;
  return BigInt(Math.trunc(x));
}

export function opMod(a: unknown, b: unknown): unknown {
  if (typeof a === 'number' && typeof b === 'number') {
    if (a !== a || b !== b) return NaN;
    if (Math.abs(a) < 2 ** 53 && Math.abs(b) < 2 ** 53) {
      const bt = Math.trunc(b);
      if (bt === 0) throw new JqError(`${describe(a)} and ${describe(b)} cannot be divided (remainder) because the divisor is zero`);
      const r = Math.trunc(a) % Math.abs(bt);
      return r === 0 ? 0 : r;
    }
    const bi = toIntmax(b);
    if (bi === 0n) throw new JqError(`${describe(a)} and ${describe(b)} cannot be divided (remainder) because the divisor is zero`);
    const ai = toIntmax(a);
    const r = Number(ai % (bi < 0n ? -bi : bi));
    return r === 0 ? 0 : r;
  }
  if (hasLiteral(a, b) && numeric(a) && numeric(b)) return opModLiteral(a, b);
  throw new JqError(`${describe(a)} and ${describe(b)} cannot be divided (remainder)`);
}

// Arithmetic reads a kept literal's double (the result prints as a double). The
// checks sit after the plain-number paths, so those pay nothing for them.
function hasLiteral(a: unknown, b: unknown): boolean {
  return a instanceof LiteralNumber || b instanceof LiteralNumber;
}
// a zero divisor's error message shows the operands as written
function opDivLiteral(a: unknown, b: unknown): unknown {
  const x = toDouble(a);
  const y = toDouble(b);
  if (y === 0) throw new JqError(`${describe(a)} and ${describe(b)} cannot be divided because the divisor is zero`);
  return opDiv(x, y);
}
function opModLiteral(a: unknown, b: unknown): unknown {
  const x = toDouble(a);
  const y = toDouble(b);
  if (x === x && y === y && toIntmax(y as number) === 0n)
    throw new JqError(`${describe(a)} and ${describe(b)} cannot be divided (remainder) because the divisor is zero`);
  return opMod(x, y);
}

export function binop(op: string): (a: unknown, b: unknown) => unknown {
  switch (op) {
    case '+':
      return opAdd;
    case '-':
      return opSub;
    case '*':
      return opMul;
    case '/':
      return opDiv;
    case '%':
      return opMod;
    case '==':
      return (a, b) => equals(a, b);
    case '!=':
      return (a, b) => !equals(a, b);
    case '<':
      return (a, b) => compare(a, b) < 0;
    case '<=':
      return (a, b) => compare(a, b) <= 0;
    case '>':
      return (a, b) => compare(a, b) > 0;
    case '>=':
      return (a, b) => compare(a, b) >= 0;
  }
  throw new Error('unknown operator ' + op);
}

export function lengthOf(v: unknown): unknown {
  if (v === null) return 0;
  switch (typeof v) {
    case 'boolean':
      throw new JqError(`${describe(v)} has no length`);
    case 'number':
      return Math.abs(v);
    case 'string':
      return strLength(v);
  }
  if (v instanceof LiteralNumber) return Math.abs(v.value);
  if (Array.isArray(v)) return v.length;
  return Object.keys(v as Obj).length;
}

export function toStringValue(v: unknown): string {
  return typeof v === 'string' ? v : dump(v);
}

/** Raised when a run nests deeper than its budget's recursion depth. */
export class DepthError {
  message = 'jq recursion depth limit exceeded';
}

/** filters with `?//` alternatives written in them (marked by the compiler for recurseLoop) */
export const RETRYING_FNS = new WeakSet<Fn>();

/**
 * `recurse(f)`, which jq defines as `def r: ., (f | r); r` and runs with a
 * tail call: the last output of `f` continues the loop, the outputs before
 * it recurse (run when the next one arrives, which keeps the order; an
 * error or break of `f` itself first runs the output before it). A chain
 * (`recurse(if . < 100000 then . + 1 else empty end)`) costs no stack.
 */
export function recurseLoop(f: Fn, v: unknown, p: Path, env: Env | null, k: Emit): void {
  const nested = (x: unknown, xp: Path): void => {
    if (++state.depth > state.budget.depth) {
      state.depth--;
      throw new DepthError();
    }
    try {
      if (retrying) {
        k(x, xp);
        f(x, xp, env, nested);
      } else loop(x, xp);
    } finally {
      state.depth--;
    }
  };
  // with `?//` in f, an error or break downstream of f's last output makes f retry its next
  // alternative: that output runs inside f, no tail call
  const retrying = RETRYING_FNS.has(f);
  if (retrying) {
    k(v, p);
    f(v, p, env, nested);
    return;
  }
  const loop = (x: unknown, xp: Path): void => {
    for (;;) {
      if (++state.steps > state.stepsAt) stepCheck();
      k(x, xp);
      let has = false;
      let pending: unknown = null;
      let pendingPath: Path = null;
      let downstream = false;
      try {
        f(x, xp, env, (y, yp) => {
          if (has) {
            const py = pending;
            const pp = pendingPath;
            pending = y;
            pendingPath = yp;
            downstream = true;
            nested(py, pp);
            downstream = false;
          } else {
            has = true;
            pending = y;
            pendingPath = yp;
          }
        });
      } catch (e) {
        if (!downstream && has && !(e instanceof BudgetError) && !(e instanceof RangeError)) nested(pending, pendingPath);
        throw e;
      }
      if (!has) return;
      x = pending;
      xp = pendingPath;
    }
  };
  loop(v, p);
}
