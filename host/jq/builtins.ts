// Native builtins and the jq-defined prelude.
import {
  JqError, describe, typeOf, isObject, setKey, hasOwn, equals, compare, sortKeys, dump, truthy, strLength,
  codepoints, copyObj, dumpTrunc, getKey, hasKey, objKeys, decodeKey, type Obj,
} from './values.js';
import {
  type Fn, type Emit, type Path, type Env, BreakSignal, Passthrough, invalidPath, badPath, isBad, extendPath, checkPath, indexValue, iterate, getPath,
  setPath, opAdd, opSub, lengthOf, toStringValue, splitString, arrayIndices, sliceBounds, sliceValue, recurseLoop, DepthError, identical,
} from './runtime.js';
export { DepthError };
import {
  state, tick, stepCheck, work, charge, chargeSlots, chargeChars, chargeKeys, chargeValue, timeLeft, CHAR_BYTES, KEY_BYTES, SLOT_BYTES,
} from './budget.js';
import type { NativeDef, NativeTable } from './compile.js';
import { regexNatives, regexBudget } from './regex.js';
import { timeNatives } from './time.js';
import { parseJsonText } from './json.js';
import { applyFormat } from './formats.js';
import { LiteralNumber, numberMode, toDouble, isNumber as numeric } from './numbers.js';
import { erf, erfc, exp2, exp10, fma, pow, lgamma, lgammaR, tgamma, j0, j1, y0, y1, jn, yn, hypot } from './libm.js';
import { exp, log, log2, log10, log1p, expm1, sinh, cosh, tanh, asinh, acosh, atanh } from './libm-exp-log.js';
import { sin, cos, tan, atan2 } from './libm-trig.js';
import { smoothsort } from './smoothsort.js';

export class HaltSignal {
  code: number;
  value: unknown;
  hasValue: boolean;
  constructor(code: number, value: unknown, hasValue: boolean) {
    this.code = code;
    this.value = value;
    this.hasValue = hasValue;
  }
}

function emitValue(k: Emit, p: Path, x: unknown): void {
  k(x, p === null ? null : badPath(x));
}

const natives: NativeTable = new Map();

function def(name: string, d: NativeDef): void {
  natives.set(name, d);
}
function vf(name: string, f: (input: unknown, ...args: unknown[]) => unknown): void {
  natives.set(name, { vf: f });
}
function fn(name: string, f: (args: Fn[]) => Fn): void {
  natives.set(name, { fn: f });
}

// ---------- core ----------
fn('empty/0', () => () => {});
fn('error/0', () => (v) => {
  throw new JqError(v);
});
fn('error/1', ([m]) => (v, _p, env) =>
  m(v, null, env, (x) => {
    throw new JqError(x);
  }),
);
vf('not/0', (v) => !truthy(v));
vf('length/0', lengthOf);
vf('utf8bytelength/0', (v) => {
  if (typeof v !== 'string') throw new JqError(`${describe(v)} only strings have UTF-8 byte length`);
  work(v.length >>> 10);
  return Buffer.byteLength(v, 'utf8');
});
vf('type/0', typeOf);
vf('tostring/0', toStringValue);
vf('tojson/0', (v) => dump(v));
vf('fromjson/0', (v) => {
  if (typeof v !== 'string') throw new JqError(`${describe(v)} only strings can be parsed`);
  // the parsed value is about as large as its text
  charge(2 * CHAR_BYTES * v.length);
  // jq 1.7.1's fromjson parses the string's every byte (jv_parse_sized); tonumber stops at a NUL
  return parseJsonText(v);
});
// jq 1.7.1: the string is parsed as JSON text (jv_parse); a parse error is the error, a non-number parsed fine is not a number
vf('tonumber/0', (v) => {
  if (typeof v === 'number' || v instanceof LiteralNumber) return v;
  if (typeof v === 'string') {
    work(v.length >>> 10);
    const r = parseJsonText(upToNul(v));
    if (typeof r === 'number' || r instanceof LiteralNumber) return r;
  }
  throw new JqError(`${describe(v)} cannot be parsed as a number`);
});
/** jq 1.7.1's tonumber hands a string to its parser as C text (jv_parse): it ends at the first NUL. */
function upToNul(s: string): string {
  const i = s.indexOf('\0');
  return i < 0 ? s : s.slice(0, i);
}
function keyList(v: unknown, sorted: boolean): unknown[] {
  if (isObject(v)) {
    const keys = objKeys(v);
    chargeSlots(keys.length);
    if (!sorted) return keys;
    work(keys.length);
    // objKeys may hand out Object.keys' own fresh array: sorting it in place is fine
    return sortKeys(keys);
  }
  if (Array.isArray(v)) {
    chargeSlots(v.length);
    return v.map((_, i) => i);
  }
  throw new JqError(`${describe(v)} has no keys`);
}
vf('keys/0', (v) => keyList(v, true));
vf('keys_unsorted/0', (v) => keyList(v, false));
vf('has/1', (v, k) => {
  if (v === null) return false;
  k = toDouble(k);
  if (isObject(v) && typeof k === 'string') return hasKey(v, k);
  if (Array.isArray(v) && typeof k === 'number') {
    // jv_has: jv_array_get(t, (int)k), so -0.5 is index 0 (nan is false)
    if (k !== k) return false;
    const i = cInt(k);
    return i >= 0 && i < v.length;
  }
  throw new JqError(`Cannot check whether ${typeOf(v)} has a ${typeOf(k)} key`);
});
function contains(a: unknown, b: unknown): boolean {
  if (isObject(a) && isObject(b)) {
    return objKeys(b).every((k) => hasKey(a, k) && contains(getKey(a, k), getKey(b, k)));
  }
  if (Array.isArray(a) && Array.isArray(b))
    return b.every((y) => {
      work(a.length);
      return a.some((x) => contains(x, y));
    });
  if (typeof a === 'string' && typeof b === 'string') {
    work(a.length >>> 10);
    return a.includes(b);
  }
  return equals(a, b);
}
// jq compares kinds, and true and false are different kinds: `true|contains(false)` fails
vf('contains/1', (a, b) => {
  if (typeOf(a) !== typeOf(b) || (typeof a === 'boolean' && a !== b)) throw new JqError(`${describe(a)} and ${describe(b)} cannot have their containment checked`);
  return contains(a, b);
});
vf('add/0', (v) => {
  const sum = new Sum();
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) sum.add(v[i]);
    return sum.value();
  }
  if (isObject(v)) {
    for (const name of Object.keys(v)) sum.add(v[name]);
    return sum.value();
  }
  throw new JqError(`Cannot iterate over ${describe(v)}`);
});
fn('add/1', ([f]) => (v, p, env, k) => {
  const sum = new Sum();
  f(v, null, env, (x) => sum.add(x));
  emitValue(k, p, sum.value());
});
/**
 * `reduce xs as $x (null; . + $x)` in linear time: strings and arrays are
 * gathered and joined once, objects merged into one copy, instead of
 * copying the growing total at every step. Any other combination (and every
 * error) goes through opAdd, so results and messages are jq's.
 */
class Sum {
  private acc: unknown = null;
  private parts: unknown[] | null = null;
  private kind: 'string' | 'array' | 'object' | null = null;

  add(x: unknown): void {
    if (x === null) return;
    const kind = typeof x === 'string' ? 'string' : Array.isArray(x) ? 'array' : isObject(x) ? 'object' : null;
    if (kind !== null && kind === this.kind) {
      if (kind === 'object') {
        const names = Object.keys(x as Obj);
        chargeKeys(names.length);
        for (const name of names) setKey(this.acc as Obj, decodeKey(name), (x as Obj)[name]);
      } else this.parts!.push(x);
      return;
    }
    this.settle();
    if (kind !== null && this.acc === null) {
      this.kind = kind;
      if (kind === 'object') this.acc = opAdd({}, x);
      else this.parts = [x];
      return;
    }
    this.acc = opAdd(this.acc, x);
  }

  value(): unknown {
    this.settle();
    return this.acc;
  }

  private settle(): void {
    if (this.parts !== null) {
      let n = 0;
      for (const p of this.parts) n += (p as string | unknown[]).length;
      if (this.kind === 'string') {
        chargeChars(n);
        this.acc = (this.parts as string[]).join('');
      } else {
        chargeSlots(n);
        const out: unknown[] = [];
        for (const a of this.parts as unknown[][]) for (let i = 0; i < a.length; i++) out.push(a[i]);
        this.acc = out;
      }
      this.parts = null;
    }
    this.kind = null;
  }
}
vf('setpath/2', (v, path, x) => setPath(v, path, x));
vf('delpaths/1', (v, paths) => delPathsAll(v, paths));
fn('getpath/1', ([f]) => (v, p, env, k) =>
  f(v, null, env, (path) => {
    // jq 1.7.1: getpath's own error comes first, also in a path expression
    const r = getPath(v, path);
    let np: Path = null;
    if (p !== null && isBad(p)) {
      // _jq_path_append: on a value no path reached, the path is left as it is (the result
      // is no path value either)
      np = badPath(r);
    } else if (p !== null) {
      np = p;
      for (const c of path as unknown[]) np = extendPath(np, c);
    }
    k(r, np);
  }),
);
fn('path/1', ([f]) => (v, p, env, k) =>
  f(v, [], env, (_x, xp) => {
    emitValue(k, p, checkPath(xp as unknown[]));
  }),
);
fn('paths/0', () => (v, p, _env, k) => {
  const walk = (x: unknown, path: unknown[]) => {
    if (Array.isArray(x)) {
      for (let i = 0; i < x.length; i++) {
        tick();
        chargeSlots(path.length + 1);
        const np = path.concat([i]);
        emitValue(k, p, np);
        walk(x[i], np);
      }
    } else if (isObject(x)) {
      for (const name of Object.keys(x)) {
        tick();
        chargeSlots(path.length + 1);
        const np = path.concat([decodeKey(name)]);
        emitValue(k, p, np);
        walk(x[name], np);
      }
    }
  };
  walk(v, []);
});
fn('recurse/0', () => (v, p, _env, k) => {
  // iterative pre-order walk (no JS recursion, so deep inputs are fine)
  const vals: unknown[] = [v];
  const paths: Path[] = [p];
  while (vals.length) {
    if (++state.steps > state.stepsAt) stepCheck();
    const x = vals.pop();
    const xp = paths.pop()!;
    k(x, xp);
    // jq's `.[]?` checks the path before it looks at the value: no `?` hides this
    if (xp !== null && isBad(xp)) throw new JqError(`Invalid path expression near attempt to iterate through ${dumpTrunc(x, 30)}`);
    if (Array.isArray(x)) {
      for (let i = x.length - 1; i >= 0; i--) {
        vals.push(x[i]);
        paths.push(xp === null ? null : extendPath(xp, i));
      }
    } else if (isObject(x)) {
      const names = Object.keys(x);
      for (let i = names.length - 1; i >= 0; i--) {
        vals.push(x[names[i]]);
        paths.push(xp === null ? null : extendPath(xp, decodeKey(names[i])));
      }
    }
  }
});
fn('recurse/1', ([f]) => (v, p, env, k) => recurseLoop(f, v, p, env, k));

// ---------- generators ----------
function rangeLoop(start: unknown, end: unknown, step: unknown, k: Emit, p: Path): void {
  // kept literals count with their doubles; the first output is the start itself (`range(1.0;3)` is 1.0, 2)
  const from = toDouble(start);
  const upto = toDouble(end);
  const by = toDouble(step);
  if (typeof from !== 'number' || typeof upto !== 'number' || typeof by !== 'number')
    throw new JqError('Range bounds must be numeric');
  if (start !== from && (by > 0 ? from < upto : by < 0 && from > upto)) {
    if (++state.steps > state.stepsAt) stepCheck();
    emitValue(k, p, start);
    rangeLoop(from + by, upto, by, k, p);
    return;
  }
  if (by > 0) {
    for (let i = from; i < upto; i += by) {
      if (++state.steps > state.stepsAt) stepCheck();
      emitValue(k, p, i);
    }
  } else if (by < 0) {
    for (let i = from; i > upto; i += by) {
      if (++state.steps > state.stepsAt) stepCheck();
      emitValue(k, p, i);
    }
  }
}
/**
 * range/3 is jq-defined in 1.7.1 (`if $by > 0 then $init|while(. < $upto; . + $by) elif $by < 0
 * ...`), so non-numbers compare and add with jq's rules: `range(0;1;[])` emits 0, then fails to add.
 */
function rangeGeneric(from: unknown, upto: unknown, by: unknown, k: Emit, p: Path): void {
  const dir = compare(by, 0);
  if (dir === 0) return;
  for (let i = from; compare(i, upto) * dir < 0; i = opAdd(i, by)) {
    if (++state.steps > state.stepsAt) stepCheck();
    emitValue(k, p, i);
  }
}
// jq 1.7.1: def range($x): range(0;$x); -- that 0 is a literal of jq's builtins, the first output
const RANGE_START = new LiteralNumber(0, '0', true, null);
fn('range/1', ([n]) => (v, p, env, k) => n(v, null, env, (upto) => rangeLoop(numberMode.exact ? RANGE_START : 0, upto, 1, k, p)));
fn('range/2', ([f, t]) => (v, p, env, k) =>
  f(v, null, env, (from) => t(v, null, env, (upto) => rangeLoop(from, upto, 1, k, p))),
);
fn('range/3', ([f, t, b]) => (v, p, env, k) =>
  f(v, null, env, (from) =>
    t(v, null, env, (upto) =>
      b(v, null, env, (by) => {
        if (numeric(from) && numeric(upto) && numeric(by)) rangeLoop(from, upto, by, k, p);
        else rangeGeneric(from, upto, by, k, p);
      }),
    ),
  ),
);
// jq 1.7.1: if $n > 0 then (a foreach counting $n down) elif $n == 0 then empty else exp end,
// with jq's comparisons: a non-number above 0 fails to subtract at the first output, null runs exp
// (each `label` jq's definitions enter counts for the numbers of labels: state.labels)
fn('limit/2', ([nf, f]) => (v, p, env, k) =>
  nf(v, null, env, (n) => {
    n = toDouble(n);
    if (typeof n !== 'number') {
      if (compare(n, 0) <= 0) f(v, p, env, k);
      else {
        state.labels++;
        f(v, null, env, () => opSub(n, 1));
      }
      return;
    }
    if (!(n > 0)) {
      if (n !== 0) f(v, p, env, k);
      return;
    }
    state.labels++;
    let c = 0;
    const token = {};
    try {
      f(v, p, env, (x, xp) => {
        c++;
        k(x, xp);
        if (c >= n) throw new BreakSignal(token);
      });
    } catch (e) {
      if (!(e instanceof BreakSignal && e.token === token)) throw e;
    }
  }),
);
// jq 1.7.1: def first(g): label $out | g | ., break $out;
fn('first/1', ([f]) => (v, p, env, k) => {
  state.labels++;
  const token = {};
  try {
    f(v, p, env, (x, xp) => {
      k(x, xp);
      throw new BreakSignal(token);
    });
  } catch (e) {
    if (!(e instanceof BreakSignal && e.token === token)) throw e;
  }
});
// jq 1.7.1: if $n < 0 then error(...) else (a foreach counting $n + 1 down) -- jq's order (nan and
// null sort below 0), and $n + 1 with jq's addition
fn('nth/2', ([nf, f]) => (v, p, env, k) =>
  nf(v, null, env, (n) => {
    if (compare(n, 0) < 0) throw new JqError("nth doesn't support negative indices");
    const nth = numeric(n) ? (toDouble(n) as number) : (opAdd(n, 1) as number) - 1;
    state.labels++;
    let c = 0;
    const token = {};
    try {
      f(v, p, env, (x, xp) => {
        if (c++ >= nth) {
          k(x, xp);
          throw new BreakSignal(token);
        }
      });
    } catch (e) {
      if (!(e instanceof BreakSignal && e.token === token)) throw e;
    }
  }),
);
// jq 1.7.1's jq-defined bsearch, step for step (so unsorted input gives the same answer)
fn('bsearch/1', ([tf]) => (v, p, env, k) =>
  tf(v, null, env, (target) => emitValue(k, p, bsearch(v, target))),
);
function bsearch(v: unknown, target: unknown): number {
  const n = lengthOf(v) as number;
  if (n === 0) return -1;
  if (!Array.isArray(v)) indexValue(v, 0); // throws jq's "Cannot index ... with number"
  const a = v as unknown[];
  if (n === 1) {
    const c = compare(target, a[0]);
    return c === 0 ? 0 : c < 0 ? -1 : -2;
  }
  let start = 0;
  let end = n - 1;
  let found: number | null = null;
  while (start <= end) {
    tick();
    if (found !== null) {
      end = -1;
      continue;
    }
    const mid = Math.floor((start + end) / 2);
    const c = compare(a[mid], target);
    if (c === 0) found = mid;
    else if (start === end) end = -1;
    else if (c < 0) start = mid + 1;
    else end = mid - 1;
  }
  if (found !== null) return found;
  return compare(start < n ? a[start] : null, target) < 0 ? -2 - start : -1 - start;
}
// jq 1.7.1: def last(f): reduce f as $x (null; $x) -- null when f is empty. In a path
// expression the reduce keeps the path it started at, valid only if the result is still the
// value there (jq's identity check): `path(last(empty))` is [], `path(last(.[]))` fails.
fn('last/1', ([f]) => (v, p, env, k) => {
  let last: unknown = null;
  let lastPath: Path = null;
  // in a path expression f is one too: its path errors surface (`path(last(1 | .[]))`)
  f(v, p, env, (x, xp) => {
    last = x;
    lastPath = xp;
  });
  if (p !== null && sameJv(last, lastPath, v, p)) k(last, p);
  else emitValue(k, p, last);
});
/**
 * Whether jq's jv_identical would hold between a value f gave (reached by path xp) and the
 * value v at path p: the value at the same path; a slice of all of an array (a view of the same
 * array); the same null, boolean, array or object (an equal string or number may be another
 * jv: a number read from JSON keeps its literal, which no other number shares).
 */
function sameJv(x: unknown, xp: Path, v: unknown, p: unknown[]): boolean {
  if (xp !== null && !isBad(xp)) {
    if (xp.length === p.length && xp.every((key, i) => equals(key, p[i]))) return true;
    const step = xp[p.length];
    if (xp.length === p.length + 1 && Array.isArray(v) && isObject(step) && p.every((key, i) => equals(key, xp[i]))) {
      const [from, to] = sliceBounds(v.length, step.start ?? null, step.end ?? null);
      // (jvp_array_slice makes a new empty array for an empty slice)
      if (from === 0 && to === v.length && v.length > 0) return true;
    }
  }
  return identical(x, v);
}
// jq 1.7.1: def isempty(g): first((g|false), true) -- false is emitted before the break, so an
// error after it (the break too) reaches g, and a `?//` in g runs its next alternative
fn('isempty/1', ([f]) => (v, p, env, k) => {
  // first's label
  state.labels++;
  const token = {};
  let empty = true;
  try {
    f(v, null, env, () => {
      empty = false;
      emitValue(k, p, false);
      throw new BreakSignal(token);
    });
  } catch (e) {
    if (!(e instanceof BreakSignal && e.token === token)) throw e;
  }
  if (empty) emitValue(k, p, true);
});
// until / while / repeat: loop iteratively when the update yields exactly one value
const NO_OUTPUT = Symbol('no output');
/** an error after which jq would still have run the outputs before it (budget errors end everything at once) */
const isJqFailure = (e: unknown) => e instanceof JqError || e instanceof BreakSignal || e instanceof Passthrough;
/**
 * jq 1.7.1's `def while(cond; update): def _while: if cond then ., (update | _while) else empty end; _while;`
 * and `def until(cond; next): def _until: if cond then . else (next | _until) end; _until;`: each
 * output of cond in turn, each output of update in turn, lazily (an output is run on before the
 * next is made). The last output of cond, and the last of update after it, are run on by the
 * loop instead of a nested call, so a long loop takes no stack; when cond or update fails after
 * an output, that output is run on first, as jq would have before going back into it.
 */
function conditionLoop(cond: Fn, upd: Fn, isWhile: boolean): Fn {
  // in a path expression each value goes with its path (the update is a path expression too)
  const self = (v: unknown, vp: Path, env: Env | null, k: Emit): void => {
    let x = v;
    let xp = vp;
    let lastCond: unknown = NO_OUTPUT;
    let lastUpd: unknown = NO_OUTPUT;
    let lastUpdPath: Path = null;
    const onward = (u: unknown, up: Path) => self(u, up, env, k);
    // an output of cond that is not the last: emit x, or run on every output of update
    const condFully = (c: unknown) => {
      if (truthy(c) !== isWhile) {
        if (!isWhile) k(x, xp);
      } else {
        if (isWhile) k(x, xp);
        upd(x, xp, env, onward);
      }
    };
    const onCond = (c: unknown) => {
      if (lastCond !== NO_OUTPUT) {
        const prev = lastCond;
        lastCond = NO_OUTPUT;
        condFully(prev);
      }
      lastCond = c;
    };
    const onUpd = (u: unknown, up: Path) => {
      if (lastUpd !== NO_OUTPUT) {
        const prev = lastUpd;
        lastUpd = NO_OUTPUT;
        self(prev, lastUpdPath, env, k);
      }
      lastUpd = u;
      lastUpdPath = up;
    };
    for (;;) {
      if (++state.steps > state.stepsAt) stepCheck();
      lastCond = NO_OUTPUT;
      try {
        cond(x, null, env, onCond);
      } catch (e) {
        if (lastCond !== NO_OUTPUT && isJqFailure(e)) condFully(lastCond);
        throw e;
      }
      if (lastCond === NO_OUTPUT) return;
      if (truthy(lastCond) !== isWhile) {
        if (!isWhile) k(x, xp);
        return;
      }
      if (isWhile) k(x, xp);
      lastUpd = NO_OUTPUT;
      try {
        upd(x, xp, env, onUpd);
      } catch (e) {
        if (lastUpd !== NO_OUTPUT && isJqFailure(e)) self(lastUpd, lastUpdPath, env, k);
        throw e;
      }
      if (lastUpd === NO_OUTPUT) return;
      x = lastUpd;
      xp = lastUpdPath;
    }
  };
  return self;
}
fn('until/2', ([cond, upd]) => conditionLoop(cond, upd, false));
fn('while/2', ([cond, upd]) => conditionLoop(cond, upd, true));
// jq 1.7.1 (as built in the reference): repeat(f) emits f's outputs on the same input, forever
fn('repeat/1', ([f]) => (v, p, env, k) => {
  for (;;) {
    tick();
    f(v, p, env, k);
  }
});

// ---------- collections ----------
function requireArray(v: unknown, what: string): unknown[] {
  if (!Array.isArray(v)) throw new JqError(`${describe(v)} cannot be ${what}, as it is not an array`);
  return v;
}
/** compare, counting one step per comparison: sorting runs no jq steps of its own */
function counted(a: unknown, b: unknown): number {
  if (++state.steps > state.stepsAt) stepCheck();
  return compare(a, b);
}

/** whether a value holds a nan anywhere (a key jq's jv_cmp orders inconsistently) */
function holdsNan(v: unknown): boolean {
  if (typeof v === 'number') return v !== v;
  if (v === null || typeof v !== 'object' || v instanceof LiteralNumber) return false;
  if (Array.isArray(v)) return v.some(holdsNan);
  return Object.values(v).some(holdsNan);
}

/**
 * jq's sort_items: qsort of the items by key, ties by position. With a nan in a key jv_cmp is
 * no total order (nan is below nan both ways) and the order is qsort's own: musl's smoothsort
 * steps then, as the reference build sorts; otherwise any stable sort gives the one answer.
 */
function sortByKeys<T>(items: T[], keyOf: (t: T) => unknown): T[] {
  if (!items.some((t) => holdsNan(keyOf(t)))) return items.sort((a, b) => counted(keyOf(a), keyOf(b)));
  const entries = items.map((t, i) => ({ t, i }));
  smoothsort(entries, (a, b) => counted(keyOf(a.t), keyOf(b.t)) || a.i - b.i);
  for (let i = 0; i < items.length; i++) items[i] = entries[i].t;
  return items;
}
function sorted(v: unknown[]): unknown[] {
  chargeSlots(v.length);
  return sortByKeys(v.slice(), (x) => x);
}
vf('sort/0', (v) => sorted(requireArray(v, 'sorted')));
const NOT_BOTH_ARRAYS = 'cannot be sorted, as they are not both arrays';
function keyed(f: Fn, v: unknown, env: Env | null, notArrays: string): { x: unknown; key: unknown[] }[] {
  if (v === null || typeof v !== 'object' || v instanceof LiteralNumber) throw new JqError(`Cannot iterate over ${describe(v)}`);
  if (!Array.isArray(v)) {
    // jq: _impl(map([f])) -- f runs over the values first, then the input must be an array
    const keys = Object.values(v as Obj).map((x) => {
      const key: unknown[] = [];
      f(x, null, env, (y) => key.push(y));
      return key;
    });
    throw new JqError(`${describe(v)} and ${describe(keys)} ${notArrays}`);
  }
  const arr = v;
  charge((SLOT_BYTES + KEY_BYTES) * arr.length);
  return arr.map((x) => {
    tick();
    const key: unknown[] = [];
    f(x, null, env, (y) => {
      chargeSlots(1);
      key.push(y);
    });
    return { x, key };
  });
}
fn('sort_by/1', ([f]) => (v, p, env, k) => {
  const items = keyed(f, v, env, NOT_BOTH_ARRAYS);
  sortByKeys(items, (it) => it.key);
  emitValue(k, p, items.map((i) => i.x));
});
fn('group_by/1', ([f]) => (v, p, env, k) => {
  const items = keyed(f, v, env, NOT_BOTH_ARRAYS);
  sortByKeys(items, (it) => it.key);
  const out: unknown[][] = [];
  let prev: unknown[] | null = null;
  for (const it of items) {
    if (prev !== null && compare(prev, it.key) === 0) out[out.length - 1].push(it.x);
    else out.push([it.x]);
    prev = it.key;
  }
  emitValue(k, p, out);
});
fn('unique_by/1', ([f]) => (v, p, env, k) => {
  const items = keyed(f, v, env, NOT_BOTH_ARRAYS);
  sortByKeys(items, (it) => it.key);
  const out: unknown[] = [];
  let prev: unknown[] | null = null;
  for (const it of items) {
    if (prev === null || compare(prev, it.key) !== 0) out.push(it.x);
    prev = it.key;
  }
  emitValue(k, p, out);
});
// jq 1.7.1: def unique: group_by(.) | map(.[0]) (so its errors are group_by's)
vf('unique/0', (v) => {
  if (!Array.isArray(v)) keyed((x, _p, _e, k) => k(x, null), v, null, NOT_BOTH_ARRAYS);
  const s = sorted(v as unknown[]);
  return s.filter((x, i) => i === 0 || compare(s[i - 1], x) !== 0);
});
function minmax(items: { x: unknown; key: unknown }[], isMax: boolean): unknown {
  if (items.length === 0) return null;
  let best = items[0];
  for (let i = 1; i < items.length; i++) {
    const c = counted(items[i].key, best.key);
    if (isMax ? c >= 0 : c < 0) best = items[i];
  }
  return best.x;
}
function requireIterable(v: unknown): unknown[] {
  if (!Array.isArray(v)) throw new JqError(`${describe(v)} and ${describe(v)} cannot be iterated over`);
  return v;
}
vf('min/0', (v) => minmax(requireIterable(v).map((x) => ({ x, key: x })), false));
vf('max/0', (v) => minmax(requireIterable(v).map((x) => ({ x, key: x })), true));
fn('min_by/1', ([f]) => (v, p, env, k) => emitValue(k, p, minmax(keyed(f, v, env, 'cannot be iterated over'), false)));
fn('max_by/1', ([f]) => (v, p, env, k) => emitValue(k, p, minmax(keyed(f, v, env, 'cannot be iterated over'), true)));
// jq: def reverse: [.[length - 1 - range(0;length)]];
vf('reverse/0', (v) => {
  if (Array.isArray(v)) {
    chargeSlots(v.length);
    return v.slice().reverse();
  }
  const n = lengthOf(v);
  if (n === 0) return [];
  throw new JqError(`Cannot index ${typeOf(v)} with number`);
});
function flatten(a: unknown[], depth: number, out: unknown[]): unknown[] {
  const stack: [unknown[], number, number][] = [[a, 0, depth]];
  while (stack.length) {
    const top = stack[stack.length - 1];
    const [arr, i, d] = top;
    if (i >= arr.length) {
      stack.pop();
      continue;
    }
    top[1] = i + 1;
    const x = arr[i];
    if (Array.isArray(x) && d > 0) stack.push([x, 0, d - 1]);
    else {
      chargeSlots(1);
      out.push(x);
    }
  }
  return out;
}
vf('flatten/0', (v) => flatten(requireArrayFlat(v), Infinity, []));
// jq 1.7.1: `if $x < 0 then error(...) else _flatten($x)`, where _flatten recurses with $x - 1 until
// $x == 0: a fractional depth never reaches 0 (full flatten), nan < 0, and a string, array or
// object depth fails to subtract at the first nested array.
vf('flatten/1', (v, d) => {
  if (compare(d, 0) < 0) throw new JqError('flatten depth must not be negative');
  const items = requireArrayFlat(v);
  d = toDouble(d);
  if (typeof d !== 'number') {
    if (items.some(Array.isArray)) opSub(d, 1);
    return items.slice();
  }
  return flatten(items, Number.isInteger(d) ? d : Infinity, []);
});
function requireArrayFlat(v: unknown): unknown[] {
  if (Array.isArray(v)) return v;
  if (isObject(v)) return Object.values(v);
  throw new JqError(`Cannot iterate over ${describe(v)}`);
}
const ENTRY_BYTES = SLOT_BYTES + 2 * KEY_BYTES;
vf('to_entries/0', (v) => {
  if (!isObject(v)) {
    if (Array.isArray(v)) {
      charge(ENTRY_BYTES * v.length);
      return v.map((x, i) => ({ key: i, value: x }));
    }
    throw new JqError(`${describe(v)} has no keys`);
  }
  const names = Object.keys(v);
  charge(ENTRY_BYTES * names.length);
  return names.map((name) => ({ key: decodeKey(name), value: v[name] }));
});
// jq 1.7.1: def from_entries: map({(.key // .Key // .name // .Name): (if has("value") then .value else .Value end)}) | add | .//={};
vf('from_entries/0', (v) => {
  const out: Obj = {};
  const items = Array.isArray(v) ? v : isObject(v) ? Object.values(v) : null;
  if (items === null) throw new JqError(`Cannot iterate over ${describe(v)}`);
  chargeKeys(items.length);
  for (const x of items) {
    let key = indexValue(x, 'key');
    for (const alt of ['Key', 'name', 'Name']) {
      if (truthy(key)) break;
      key = indexValue(x, alt);
    }
    let val: unknown;
    if (isObject(x)) val = hasOwn.call(x, 'value') ? x.value : hasOwn.call(x, 'Value') ? x.Value : null;
    else if (x === null) val = null;
    else throw new JqError(`Cannot check whether ${typeOf(x)} has a string key`);
    if (typeof key !== 'string') throw new JqError(`Cannot use ${describe(key)} as object key`);
    setKey(out, key, val);
  }
  return out;
});
fn('with_entries/1', ([f]) => (v, p, env, k) => {
  const entries = natives.get('to_entries/0')!.vf!(v) as unknown[];
  const mapped: unknown[] = [];
  for (const e of entries)
    f(e, null, env, (x) => {
      chargeSlots(1);
      mapped.push(x);
    });
  emitValue(k, p, natives.get('from_entries/0')!.vf!(mapped));
});
fn('map/1', ([f]) => (v, p, env, k) => {
  const out: unknown[] = [];
  iterate(v, null, (x) =>
    f(x, null, env, (y) => {
      chargeSlots(1);
      out.push(y);
    }),
  );
  emitValue(k, p, out);
});
fn('select/1', ([f]) => (v, p, env, k) =>
  f(v, null, env, (c) => {
    if (truthy(c)) k(v, p);
  }),
);
vf('indices/1', (v, i) => indicesOf(v, i));
// jq 1.7.1 (_strindices): byte offsets into the UTF-8 text, overlapping matches, [] for ""
function indicesOf(v: unknown, i: unknown): unknown {
  if (typeof v === 'string' && typeof i === 'string') {
    const r: number[] = [];
    if (i === '') return r;
    work(v.length >>> 10);
    if (!/[^\x00-\x7f]/.test(v)) {
      for (let idx = v.indexOf(i); idx >= 0; idx = v.indexOf(i, idx + 1)) {
        chargeSlots(1);
        r.push(idx);
      }
      return r;
    }
    const hay = Buffer.from(v, 'utf8');
    const needle = Buffer.from(i, 'utf8');
    for (let idx = hay.indexOf(needle); idx >= 0; idx = hay.indexOf(needle, idx + 1)) {
      chargeSlots(1);
      r.push(idx);
    }
    return r;
  }
  // jq 1.7.1's jv_array_indexes: an empty needle finds nothing
  if (Array.isArray(v) && Array.isArray(i)) return i.length === 0 ? [] : arrayIndices(v, i);
  if (Array.isArray(v)) return arrayIndices(v, [i]);
  return indexValue(v, i);
}
// jq 1.7.1: def index($i): indices($i) | .[0]; def rindex($i): indices($i) | .[-1:][0];
// (on an object, indices is .[$i], and its value is indexed in turn)
vf('index/1', (v, i) => {
  const r = indicesOf(v, i);
  return Array.isArray(r) ? (r.length ? r[0] : null) : indexValue(r, 0);
});
vf('rindex/1', (v, i) => {
  const r = indicesOf(v, i);
  return Array.isArray(r) ? (r.length ? r[r.length - 1] : null) : indexValue(sliceValue(r, -1, null), 0);
});

// ---------- strings ----------
vf('ltrimstr/1', (v, s) => (typeof v === 'string' && typeof s === 'string' && v.startsWith(s) ? v.slice(s.length) : v));
vf('rtrimstr/1', (v, s) =>
  typeof v === 'string' && typeof s === 'string' && v.endsWith(s) && s.length > 0 ? v.slice(0, v.length - s.length) : v,
);
vf('startswith/1', (v, s) => {
  if (typeof v !== 'string' || typeof s !== 'string') throw new JqError('startswith() requires string inputs');
  return v.startsWith(s);
});
vf('endswith/1', (v, s) => {
  if (typeof v !== 'string' || typeof s !== 'string') throw new JqError('endswith() requires string inputs');
  return v.endsWith(s);
});
const WS = /^[ \t\n\r\f\v]+|[ \t\n\r\f\v]+$/g;
vf('trim/0', (v) => {
  if (typeof v !== 'string') throw new JqError(`${describe(v)} cannot be trimmed`);
  work(v.length >>> 10);
  return v.replace(WS, '');
});
vf('ltrim/0', (v) => {
  if (typeof v !== 'string') throw new JqError(`${describe(v)} cannot be trimmed`);
  return v.replace(/^[ \t\n\r\f\v]+/, '');
});
vf('rtrim/0', (v) => {
  if (typeof v !== 'string') throw new JqError(`${describe(v)} cannot be trimmed`);
  return v.replace(/[ \t\n\r\f\v]+$/, '');
});
vf('split/1', (v, s) => {
  if (typeof v !== 'string' || typeof s !== 'string') throw new JqError('split input and separator must be strings');
  return splitString(v, s);
});
// jq: reduce .[] as $x (null; (if . == null then "" else . + $sep end) + ($x | if . == null then "" elif type == "string" then . else tojson end)) // ""
// (booleans and numbers as JSON; arrays and objects fail). Gathered and joined once.
vf('join/1', (v, sep) => {
  const items = requireArrayFlat(v);
  if (sep !== null && typeof sep !== 'string') return joinGeneric(items, sep);
  const parts: string[] = [];
  let n = 0;
  for (let i = 0; i < items.length; i++) {
    const x = items[i];
    if (i > 0 && sep !== null) {
      parts.push(sep);
      n += sep.length;
    }
    const s = joinPart(x);
    if (typeof s !== 'string') opAdd(parts.join(''), s); // throws jq's error
    parts.push(s as string);
    n += (s as string).length;
  }
  chargeChars(n);
  return parts.join('');
});
function joinPart(x: unknown): unknown {
  if (x === null) return '';
  if (typeof x === 'boolean' || typeof x === 'number' || x instanceof LiteralNumber) return dump(x);
  return x;
}
function joinGeneric(items: unknown[], sep: unknown): unknown {
  let acc: unknown = null;
  for (const x of items) {
    acc = acc === null ? '' : opAdd(acc, sep);
    acc = opAdd(acc, joinPart(x));
  }
  return truthy(acc) ? acc : '';
}
vf('ascii_downcase/0', (v) => {
  if (typeof v !== 'string') throw new JqError('explode input must be a string');
  chargeChars(v.length);
  return v.replace(/[A-Z]+/g, (c) => c.toLowerCase());
});
vf('ascii_upcase/0', (v) => {
  if (typeof v !== 'string') throw new JqError('explode input must be a string');
  chargeChars(v.length);
  return v.replace(/[a-z]+/g, (c) => c.toUpperCase());
});
vf('explode/0', (v) => {
  if (typeof v !== 'string') throw new JqError('explode input must be a string');
  return codepoints(v);
});
vf('implode/0', (v) => {
  if (!Array.isArray(v)) throw new JqError('implode input must be an array');
  charge(2 * CHAR_BYTES * v.length);
  let s = '';
  for (const item of v) {
    const c = toDouble(item);
    if (typeof c !== 'number' || c !== c) {
      throw new JqError(`${describe(item)} can't be imploded, unicode codepoint needs to be numeric`);
    }
    let cp = Math.trunc(c);
    if (cp < 0 || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) cp = 0xfffd;
    s += String.fromCodePoint(cp);
  }
  return s;
});
vf('format/1', (v, f) => {
  if (typeof f !== 'string') throw new JqError(`${describe(f)} is not a valid format`);
  return applyFormat(f, v);
});
vf('ascii/0', (v) => {
  v = toDouble(v);
  if (typeof v !== 'number') throw new JqError('ascii input must be a number');
  return String.fromCharCode(v);
});
vf('tojson/0', (v) => dump(v));

// ---------- misc ----------
fn('env/0', () => (_v, p, _env, k) => emitValue(k, p, envObject()));
/** `$ENV` / `env`: the environment the program was compiled with (none unless given), as a fresh object */
export function envObject(): Obj {
  return copyObj(state.budget.env);
}
// no input lines are read here: jq's count of newlines read so far
vf('input_line_number/0', () => 0);
vf('have_literal_numbers/0', () => true);
vf('have_decnum/0', () => false);
vf('now/0', () => Date.now() / 1000);
vf('infinite/0', () => Infinity);
vf('nan/0', () => NaN);
vf('isinfinite/0', (v) => {
  v = toDouble(v);
  if (typeof v !== 'number') return false;
  return v === Infinity || v === -Infinity;
});
vf('isnan/0', (v) => {
  v = toDouble(v);
  if (typeof v !== 'number') return false;
  return v !== v;
});
// jq 1.7.1: def isfinite: type == "number" and (isinfinite | not) -- nan is finite
vf('isfinite/0', (v) => {
  v = toDouble(v);
  return typeof v === 'number' && v !== Infinity && v !== -Infinity;
});
vf('isnormal/0', (v) => {
  v = toDouble(v);
  if (typeof v !== 'number') return false;
  return v === v && v !== 0 && Math.abs(v) !== Infinity && Math.abs(v) >= 2.2250738585072014e-308;
});
/**
 * Where input/inputs read further input values from: nowhere for a flow's jq (one input per
 * run), the values the command line has not processed yet for `datakit jq`.
 */
type InputSource = () => { value: unknown } | null;
let inputSource: InputSource | null = null;
let inputFilename: string | null = null;
/** `filename`: what input_filename gives (null: standard input, or a flow's input). */
export function setInputSource(source: InputSource | null, filename: string | null = null): void {
  inputSource = source;
  inputFilename = filename;
}
vf('input_filename/0', () => inputFilename);
fn('input/0', () => (_v, p, _env, k) => {
  const next = inputSource?.() ?? null;
  // jq 1.7.1's f_input: the error "break" (which inputs stops at) when there is none
  if (next === null) throw new JqError('break');
  emitValue(k, p, next.value);
});
// jq: def inputs: try repeat(input) catch if . == "break" then empty else error end;
fn('inputs/0', () => (_v, p, _env, k) => {
  for (let next = inputSource?.() ?? null; next !== null; next = inputSource?.() ?? null) emitValue(k, p, next.value);
});
let debugSink: (msg: string) => void = (msg) => process.stderr.write(msg + '\n');
export function setDebugSink(f: (msg: string) => void): void {
  debugSink = f;
}
fn('debug/0', () => (v, p, _env, k) => {
  debugSink(dump(['DEBUG:', v]));
  k(v, p);
});
fn('debug/1', ([m]) => (v, p, env, k) => {
  m(v, null, env, (x) => debugSink(dump(['DEBUG:', x])));
  k(v, p);
});
fn('stderr/0', () => (v, p, _env, k) => {
  debugSink(dump(v));
  k(v, p);
});
fn('halt/0', () => () => {
  throw new HaltSignal(0, null, false);
});
fn('halt_error/0', () => (v) => {
  throw new HaltSignal(5, v, true);
});
fn('halt_error/1', ([c]) => (v, _p, env) =>
  c(v, null, env, (code) => {
    const exitCode = toDouble(code);
    if (typeof exitCode !== 'number') throw new JqError('halt_error/1: number required');
    throw new HaltSignal(exitCode, v, true);
  }),
);
fn('$__loc__/0', () => (_v, p, _env, k) => emitValue(k, p, { file: '<top-level>', line: 1 }));
vf('builtins/0', () => builtinNames());
vf('get_search_list/0', () => []);
// no modules here: every name is a module jq would not find
vf('modulemeta/0', (v) => {
  if (typeof v !== 'string') throw new JqError('modulemeta input module name must be a string');
  throw new JqError(`module not found: ${v}`);
});
// no program or jq binary file: jq gives null for a program from the command line
vf('get_jq_origin/0', () => null);
vf('get_prog_origin/0', () => null);
vf('splits/0', () => {
  throw new JqError('splits/0 is not defined');
});
vf('tojson/0', (v) => dump(v));
vf('getpath/0', () => null);
natives.delete('getpath/0');
natives.delete('splits/0');

// ---------- math ----------
function num(v: unknown): number {
  if (typeof v === 'number') return v;
  if (v instanceof LiteralNumber) return v.value;
  throw new JqError(`${describe(v)} number required`);
}
// C's frexp, read from the IEEE-754 bits: m in [0.5, 1) and x = m * 2^e. Subnormals are scaled
// into the normal range first (scaling by 2^-e directly would overflow to infinity for them).
const bits = new DataView(new ArrayBuffer(8));
function frexp(x: number): [number, number] {
  if (x === 0 || !isFinite(x) || x !== x) return [x, 0];
  let shift = 0;
  if (Math.abs(x) < 2.2250738585072014e-308) {
    x *= 2 ** 64;
    shift = 64;
  }
  bits.setFloat64(0, x);
  const hi = bits.getUint32(0);
  const e = ((hi >>> 20) & 0x7ff) - 1022;
  bits.setUint32(0, (hi & 0x800fffff) | (1022 << 20));
  return [bits.getFloat64(0), e - shift];
}
/** C's scalbn/ldexp: x * 2^n with a single rounding, for any integer n (musl's algorithm). */
function scalbn(x: number, n: number): number {
  if (n > 1023) {
    x *= 2 ** 1023;
    n -= 1023;
    if (n > 1023) {
      x *= 2 ** 1023;
      n -= 1023;
      if (n > 1023) n = 1023;
    }
  } else if (n < -1022) {
    // step down to just above the subnormal range first, so the last step rounds only once
    x *= 2 ** -969;
    n += 969;
    if (n < -1022) {
      x *= 2 ** -969;
      n += 969;
      if (n < -1022) n = -1022;
    }
  }
  return x * 2 ** n;
}
/** C's scalb(x, n): n must be integral. */
function scalb(x: number, n: number): number {
  if (x !== x || n !== n) return NaN;
  if (!isFinite(n)) return n > 0 ? x * n : x / -n;
  if (Math.trunc(n) !== n) return NaN;
  return scalbn(x, Math.max(-65000, Math.min(65000, n)));
}
/**
 * IEEE 754 remainder, exact as libm computes it (x - n*y with n the nearest integer to x/y, ties to even, the
 * sign of a zero result from x): x - y*rint(x/y) rounds twice and gave 0 for remainder(1; 0.1).
 */
function ieeeRemainder(x: number, y: number): number {
  if (x !== x || y !== y || !isFinite(x) || y === 0) return NaN;
  if (!isFinite(y)) return x;
  const negative = x < 0 || Object.is(x, -0);
  const p = Math.abs(y);
  let a = Math.abs(x);
  if (p <= Number.MAX_VALUE / 2) a = a % (p + p); // exact: now a < 2p
  if (a === p) return negative ? -0 : 0;
  if (p < 4.450147717014403e-308) {
    // 2^-1021: p / 2 would lose a bit, compare doubled values instead
    if (a + a > p) {
      a -= p;
      if (a + a >= p) a -= p;
    }
  } else {
    const half = 0.5 * p;
    if (a > half) {
      a -= p;
      if (a >= half) a -= p;
    }
  }
  return negative ? -a : a;
}

function rint(x: number): number {
  if (!isFinite(x)) return x;
  const r = Math.round(x);
  if (Math.abs(x - Math.trunc(x)) === 0.5) return 2 * Math.round(x / 2);
  return r;
}
const math1: Record<string, (x: number) => unknown> = {
  floor: Math.floor, sqrt: Math.sqrt, ceil: Math.ceil, fabs: Math.abs, exp, exp2,
  exp10, log, log2, log10, log1p,
  expm1, sin, cos, tan, asin: Math.asin, acos: Math.acos, atan: Math.atan,
  sinh, cosh, tanh, asinh, acosh, atanh,
  cbrt: Math.cbrt, trunc: Math.trunc,
  round: (x) => (x < 0 ? -Math.round(-x) : Math.round(x)),
  rint, nearbyint: rint,
  significand: (x) => {
    if (x === 0 || !isFinite(x)) return x;
    const [m] = frexp(x);
    return m * 2;
  },
  logb: (x) => (x === 0 ? -Infinity : !isFinite(x) ? Math.abs(x) : frexp(x)[1] - 1),
  // gamma is glibc's name for lgamma (the reference jq-wasm build, on musl, lacks it)
  gamma: lgamma, lgamma, tgamma, lgamma_r: lgammaR, erf, erfc, pow10: exp10,
  frexp: (x) => frexp(x),
  modf: (x) => {
    if (!isFinite(x)) return [x !== x ? x : 0 * Math.sign(x), x];
    const i = Math.trunc(x);
    // C's modf: the fraction keeps x's sign, so -1 gives -0
    const frac = x - i;
    return [frac === 0 && (x < 0 || Object.is(x, -0)) ? -0 : frac, i];
  },
  j0, j1, y0, y1,
};
for (const [name, f] of Object.entries(math1)) vf(`${name}/0`, (v) => f(num(v)));
// jq 1.7.1: def abs: if . < 0 then - . else . end (jq's order: null and booleans are below 0)
vf('abs/0', (v) => {
  if (compare(v, 0) >= 0) return v;
  if (v instanceof LiteralNumber) return -v.value;
  if (typeof v !== 'number') throw new JqError(`${describe(v)} cannot be negated`);
  return -v;
});
vf('toarray/0', (v) => (Array.isArray(v) ? v : [v]));
function nextafter(x: number, y: number): number {
  if (x !== x || y !== y) return NaN;
  if (x === y) return y;
  if (x === 0) return y > 0 ? 5e-324 : -5e-324;
  const buf = new DataView(new ArrayBuffer(8));
  buf.setFloat64(0, x);
  let bits = buf.getBigInt64(0);
  if (y > x === x > 0) bits += 1n;
  else bits -= 1n;
  buf.setBigInt64(0, bits);
  return buf.getFloat64(0);
}
const math2: Record<string, (a: number, b: number) => number> = {
  pow, atan2, fmod: (a, b) => a % b, hypot,
  fmin: (a, b) => (a !== a ? b : b !== b ? a : Math.min(a, b)), fmax: (a, b) => (a !== a ? b : b !== b ? a : Math.max(a, b)),
  fdim: (a, b) => (a !== a || b !== b ? NaN : a > b ? a - b : 0), copysign: (a, b) => Math.abs(a) * (b < 0 || Object.is(b, -0) ? -1 : 1),
  drem: ieeeRemainder, remainder: ieeeRemainder,
  nextafter, nexttoward: nextafter, scalb, scalbln: (a, b) => scalbn(a, cInt(b)),
};
for (const [name, f] of Object.entries(math2)) vf(`${name}/2`, (_v, a, b) => f(num(a), num(b)));
vf('fma/3', (_v, a, b, c) => fma(num(a), num(b), num(c)));
// the order is a C int
// recurrences of |n| steps: counted as work (a step per 1024)
vf('jn/2', (_v, n, x) => {
  const order = cInt(num(n));
  work(Math.abs(order) >>> 10);
  return jn(order, num(x));
});
vf('yn/2', (_v, n, x) => {
  const order = cInt(num(n));
  work(Math.abs(order) >>> 10);
  return yn(order, num(x));
});
vf('ldexp/2', (_v, a, b) => scalbn(num(a), cInt(num(b))));

for (const [k, d] of regexNatives()) natives.set(k, metered(d));

/** Longest timer Node accepts (vm timeouts): a run without a time budget. */
const NO_TIMEOUT_MS = 2 ** 31 - 1;

/**
 * Regex builtins scan their input and build results outside the budget's
 * view: count the scan as work (a step per KiB), give a backtracking match
 * what is left of the time budget, and charge what they return.
 */
function metered(d: NativeDef): NativeDef {
  const scanned = (v: unknown) => {
    if (typeof v === 'string') work(v.length >>> 10);
    regexBudget.timeMs = Math.min(timeLeft(), NO_TIMEOUT_MS);
  };
  if (d.vf) {
    const f = d.vf;
    return {
      vf: (v, ...args) => {
        scanned(v);
        const r = f(v, ...args);
        chargeValue(r);
        return r;
      },
    };
  }
  const make = d.fn!;
  return {
    ...d,
    fn: (args) => {
      const f = make(args);
      return (v, p, env, k) => {
        scanned(v);
        f(v, p, env, (x, xp) => {
          chargeValue(x);
          k(x, xp);
        });
      };
    },
  };
}
for (const [k, d] of timeNatives()) natives.set(k, d);

export const PRELUDE = `
def values: select(. != null);
def nulls: select(. == null);
def booleans: select(type == "boolean");
def numbers: select(type == "number");
def strings: select(type == "string");
def arrays: select(type == "array");
def objects: select(type == "object");
def iterables: select(type|. == "array" or . == "object");
def scalars: select(type|. != "array" and . != "object");
def map_values(f): .[] |= f;
def recurse(f; cond): def r: ., (f | select(cond) | r); r;
def to_array: if type == "array" then . else [.] end;
def in(xs): . as $x | xs | has($x);
def inside(xs): . as $x | xs | contains($x);
def combinations: if length == 0 then [] else .[0][] as $x | (.[1:] | combinations) as $w | [$x] + $w end;
def combinations(n): . as $dot | [range(n)] | map($dot) | combinations;
def walk(f): def w: if type == "object" then map_values(w) elif type == "array" then map(w) else . end | f; w;
def first: .[0];
def last: .[-1];
def nth($n): .[$n];
def paths(node_filter): path(recurse | select(node_filter)) | select(length > 0);
def leaf_paths: paths(scalars);
def any(g; cond): isempty(g | cond or empty) | not;
def all(g; cond): isempty(g | cond and empty);
def any(f): any(.[]; f);
def all(f): all(.[]; f);
def any: any(.[]; .);
def all: all(.[]; .);
def del(f): delpaths([path(f)]);
def transpose: [range(0; map(length) | max // 0) as $i | [.[][$i]]];
def tostream: path(def r: (.[]?|r), .; r) as $p | getpath($p) | reduce path(.[]?) as $q ([$p, .]; [$p+$q]);
def fromstream(f): { x: null, e: false } as $init
  | foreach f as $i ($init;
      if .e then $init else . end
      | if $i | length == 2
        then setpath(["e"]; $i[0] | length == 0) | setpath(["x"] + $i[0]; $i[1])
        else setpath(["e"]; $i[0] | length == 1) end;
      if .e then .x else empty end);
def truncate_stream(stream): . as $n | null | stream | . as $input | if (.[0]|length) > $n then setpath([0];.[0][$n:]) else empty end;
def pick(pathexps): . as $top | reduce path(pathexps) as $p (null; setpath($p; $top | getpath($p)));
def todate: strftime("%Y-%m-%dT%H:%M:%SZ");
def fromdateiso8601: strptime("%Y-%m-%dT%H:%M:%SZ") | mktime;
def todateiso8601: strftime("%Y-%m-%dT%H:%M:%SZ");
def fromdate: fromdateiso8601;
def date: todate;
def dateadd(u; n): . + n;
def datesub(u; n): . - n;
def finites: select(isfinite);
def normals: select(isnormal);
def error(msg; x): x | error(msg);
def splits($re; flags): split($re; flags) | .[];
def splits($re): splits($re; null);
def ascii(i): [i] | implode;
def INDEX(stream; idx_expr): reduce stream as $row ({}; .[$row|idx_expr|tostring] = $row);
def INDEX(idx_expr): INDEX(.[]; idx_expr);
def IN(s): any(s == .; .);
def IN(src; s): any(src == s; .);
def JOIN($idx; idx_expr): [.[] | [., $idx[idx_expr]]];
def JOIN($idx; stream; idx_expr): stream | [., $idx[idx_expr]];
def JOIN($idx; stream; idx_expr; join_expr): stream | [., $idx[idx_expr]] | join_expr;
`;

// where jq's C functions return their input itself (NativeDef.keepsInput): f_tostring, f_tonumber,
// f_ltrimstr / f_rtrimstr (no such prefix or suffix, or arguments that are not strings), f_format "text"
const keepsInput: [string, (input: unknown, ...args: unknown[]) => boolean][] = [
  ['tostring/0', (v) => typeof v === 'string'],
  ['tonumber/0', (v) => numeric(v)],
  ['ltrimstr/1', (v, s) => !(typeof v === 'string' && typeof s === 'string' && v.startsWith(s))],
  ['rtrimstr/1', (v, s) => !(typeof v === 'string' && typeof s === 'string' && v.endsWith(s))],
  ['format/1', (v, f) => f === 'text' && typeof v === 'string'],
];
for (const [name, keeps] of keepsInput) natives.get(name)!.keepsInput = keeps;
// jq 1.7.1: def ascii_downcase: explode | map(...) | implode; -- in a path expression map's .[] meets
// explode's new array
for (const name of ['ascii_downcase/0', 'ascii_upcase/0']) {
  natives.get(name)!.pathCheck = (v) => {
    if (typeof v === 'string') throw new JqError(`Invalid path expression near attempt to iterate through ${dumpTrunc(codepoints(v), 30)}`);
  };
}

export function getNatives(): NativeTable {
  return natives;
}

let namesCache: string[] | null = null;
export function setBuiltinNames(names: string[]): void {
  namesCache = names;
}
function builtinNames(): string[] {
  return namesCache ?? [];
}

export { iterate, getPath, Path as PathT };

// ---------- delpaths ----------
// jq 1.7.1's jv_delpaths: the paths are sorted, then grouped by their first
// key; a group whose shortest path ends at that key deletes the key (longer
// paths in the group are moot), the others recurse into the key's value and
// store the result back. The keys deleted from one container are removed at
// the end in one pass (`jv_dels`), all relative to that container as it was
// before, so `del(.[1], .[2])` removes two elements of the original array.
// One pass per container: n paths cost O(n log n) (the sort), not n copies.

/** jq's `parse_slice`: a slice key's bounds in an array of length len. */
function delSliceBounds(len: number, k: Obj): [number, number] {
  // a missing bound is an error here (undefined), unlike in `.[a:b]`
  return sliceBounds(len, hasOwn.call(k, 'start') ? k.start : undefined, hasOwn.call(k, 'end') ? k.end : undefined, 'Array/string slice indices must be integers');
}

/** C's `(int)` of a double (truncation; values no index can reach stay out of reach). */
function cIndex(x: number): number {
  if (x !== x) return 0;
  if (x >= 2147483647) return 2147483647;
  if (x <= -2147483648) return -2147483648;
  return Math.trunc(x);
}
/** A double passed to a C `int` parameter (ldexp's exponent, jn's order) as jq's builds convert it: nan and out-of-range values become INT_MIN. */
function cInt(x: number): number {
  return x === x && x > -2147483649 && x < 2147483648 ? Math.trunc(x) : -2147483648;
}

/** jq's `jv_dels`: t without the keys (sorted as jq sorts them), in one pass. */
function delKeys(t: unknown, keys: unknown[]): unknown {
  if (t === null || keys.length === 0) return t;
  if (Array.isArray(t)) {
    const neg: number[] = [];
    const nonneg: number[] = [];
    let marks: Int32Array | null = null;
    const len = t.length;
    for (const written of keys) {
      const key = toDouble(written);
      if (typeof key === 'number') (key < 0 ? neg : nonneg).push(key);
      else if (isObject(key)) {
        const [s, e] = delSliceBounds(len, key);
        if (marks === null) {
          chargeSlots(len + 1);
          marks = new Int32Array(len + 1);
        }
        marks[s]++;
        marks[e]--;
      } else throw new JqError(`Cannot delete ${typeOf(key)} element of array`);
    }
    work(len + keys.length);
    chargeSlots(len);
    const out: unknown[] = [];
    let ni = 0;
    let pi = 0;
    let inSlice = 0;
    for (let i = 0; i < len; i++) {
      let del = false;
      // jq's two cursors over the sorted negative and non-negative indices
      while (ni < neg.length) {
        const d = len + cIndex(neg[ni]);
        if (i === d) del = true;
        if (i < d) break;
        ni++;
      }
      while (pi < nonneg.length) {
        const d = cIndex(nonneg[pi]);
        if (i === d) del = true;
        if (i < d) break;
        pi++;
      }
      if (marks !== null) inSlice += marks[i];
      if (!del && inSlice === 0) out.push(t[i]);
    }
    return out;
  }
  if (isObject(t)) {
    let drop: Set<string> | null = null;
    for (const key of keys) {
      if (typeof key !== 'string') throw new JqError(`Cannot delete ${typeOf(key)} field of object`);
      if (hasKey(t, key)) (drop ??= new Set()).add(key);
    }
    if (drop === null) return t;
    const names = Object.keys(t);
    work(names.length + keys.length);
    chargeKeys(names.length - drop.size);
    const o: Obj = {};
    for (const name of names) {
      const key = decodeKey(name);
      if (!drop.has(key)) setKey(o, key, t[name]);
    }
    return o;
  }
  throw new JqError(`Cannot delete fields from ${typeOf(t)}`);
}

/** jq's `delpaths_sorted`: deletes paths[from..to) (sorted, all longer than `start`) from t. */
function delSorted(t: unknown, paths: unknown[][], from: number, to: number, start: number): unknown {
  const dels: unknown[] = [];
  // t after its first change is a copy only this call holds: later changes write into it
  let mine = false;
  for (let i = from; i < to; ) {
    tick();
    const key = toDouble(paths[i][start]);
    let j = i + 1;
    while (j < to && equals(key, paths[j][start])) j++;
    if (paths[i].length === start + 1) {
      // the whole value at key goes: deeper paths under it do not matter
      dels.push(key);
    } else {
      let sub: unknown;
      if (Array.isArray(t) && isObject(key)) {
        const [s, e] = delSliceBounds(t.length, key);
        chargeSlots(e - s);
        sub = t.slice(s, e);
      } else sub = indexValue(t, key);
      if (sub !== null) {
        const nsub = delSorted(sub, paths, i, j, start + 1);
        if (typeof key === 'string' && isObject(t)) {
          if (!mine) {
            t = copyObj(t);
            mine = true;
          }
          setKey(t as Obj, key, nsub);
        } else if (typeof key === 'number' && Array.isArray(t)) {
          if (!mine) {
            chargeSlots(t.length);
            t = t.slice();
            mine = true;
          }
          const a = t as unknown[];
          let k = Math.floor(key);
          if (k < 0) k += a.length;
          a[k] = nsub;
        } else if (Array.isArray(key) && Array.isArray(t)) {
          throw new JqError('Cannot update field at array index of array');
        } else {
          t = setPath(t, [key], nsub);
          mine = true;
        }
      }
    }
    i = j;
  }
  return delKeys(t, dels);
}

/** `delpaths(paths)` as jq 1.7.1 computes it, in O(n log n) for n paths. */
export function delPathsAll(t: unknown, paths: unknown): unknown {
  if (!Array.isArray(paths)) throw new JqError('Paths must be specified as an array');
  chargeSlots(paths.length);
  work(paths.length);
  const sorted = sortByKeys(paths.slice(), (x) => x);
  for (const p of sorted) if (!Array.isArray(p)) throw new JqError(`Path must be specified as array, not ${typeOf(p)}`);
  if (sorted.length === 0) return t;
  if ((sorted[0] as unknown[]).length === 0) return null;
  return delSorted(t, sorted as unknown[][], 0, sorted.length, 0);
}
