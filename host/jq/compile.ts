// Compiles the jq AST into a tree of JS closures in continuation-passing style.
// Every filter becomes Fn = (input, path|null, env, emit) => void. `path` is non-null only while
// evaluating a path expression (path(f), assignments, del, ...). Single-output sub-expressions
// additionally get an SFn fast path (input, env) => value that avoids allocating continuations.
import type { Node, Pattern, FuncDef } from './ast.js';
import { LiteralNumber } from './numbers.js';
import { JqError, isObject, setKey, getKey, needsMark, truthy, typeOf, dump, describe, type Obj } from './values.js';
import {
  type Fn, type SFn, type Env, type Emit, type Path, type Closure, BreakSignal, Passthrough, RETRYING_FNS, recurseLoop,
  invalidPath, badPath, isBad, pendingPath, pendingOf, nearAttempt, identical, sameAtPath, keyDesc, extendPath, checkPath, indexValue, sliceValue, iterate, getPath, setPath, binop, opAdd, toStringValue,
} from './runtime.js';
import { state, stepCheck, BudgetError, charge, chargeSlots, chargeChars, chargeKeys, KEY_BYTES } from './budget.js';
import { applyFormat } from './formats.js';
import { delPathsAll } from './builtins.js';
import { JqSyntaxError } from './parser.js';
import { usedDefs } from './unused-defs.js';

export interface FuncInfo {
  name: string;
  arity: number;
  params: { name: string; isVar: boolean }[];
  fn: Fn | null;
  /** the body after its $params are bound (environment: parameters, then $params) */
  inner: Fn | null;
  /** the body as a loop body, when it ends in calls of defs (compileTail) */
  tail: TailFn | null;
  /**
   * Set with `tail`: runs the body and every call it ends with in one loop
   * (input, env of the parameter closures, emit); value mode only.
   */
  loop: ((v: unknown, env: Env | null, k: Emit) => void) | null;
}

/**
 * A def's body compiled for the tail-call loop: it either emits its outputs
 * (returning null) or, reaching a call of a def in tail position, returns
 * that call (the def, its input and environment) instead of making it.
 */
type TailFn = (v: unknown, env: Env | null, k: Emit) => TailCall | null;
interface TailCall {
  fn: FuncInfo;
  v: unknown;
  env: Env | null;
}

/** Runs tail calls one after the other until a body ends without one. */
function resume(call: TailCall, k: Emit): void {
  let next: TailCall | null = call;
  while (next !== null) {
    if (++state.steps > state.stepsAt) stepCheck();
    const f: FuncInfo = next.fn;
    if (f.tail !== null) next = f.tail(next.v, next.env, k);
    else {
      f.inner!(next.v, null, next.env, k);
      next = null;
    }
  }
}

export type Scope =
  | { kind: 'var'; name: string; next: Scope | null }
  | { kind: 'closure'; name: string; next: Scope | null }
  | { kind: 'label'; name: string; next: Scope | null }
  | { kind: 'func'; name: string; arity: number; info: FuncInfo; next: Scope | null }
  | { kind: 'special'; name: string; getter: () => unknown; next: Scope | null };

export interface NativeDef {
  /** generic implementation */
  fn?: (args: Fn[]) => Fn;
  /** value function: all args are $-style values (cartesian, last arg outermost) */
  vf?: (input: unknown, ...args: unknown[]) => unknown;
  /** path-transparent native implemented directly on Fn args */
  pathAware?: boolean;
  /**
   * With a vf: the cases in which jq's C function returns its input jv itself (tostring of a
   * string, ltrimstr without the prefix ...), which jq's path tracking sees as the same value,
   * so a path expression goes on with the input's path (`path(.a | tostring)` is ["a"]).
   */
  keepsInput?: (input: unknown, ...args: unknown[]) => boolean;
  /** With a vf: raises the path error jq's own definition of the builtin meets in a path expression */
  pathCheck?: (input: unknown) => void;
}

/** `@text` on a string is jq's tostring, which returns the string itself */
const FORMAT_KEEPS_INPUT = (name: string, v: unknown) => name === 'text' && typeof v === 'string';

export type NativeTable = Map<string, NativeDef>;

type Logic = Extract<Node, { kind: 'and' | 'or' }>;

export class CompileError extends Error {
  position: number;
  undefinedName = false;
  constructor(msg: string, position: number) {
    super(msg);
    this.position = position;
  }
}

function lineOf(src: string, pos: number): number {
  let line = 1;
  for (let i = 0; i < pos && i < src.length; i++) if (src.charCodeAt(i) === 10) line++;
  return line;
}

/**
 * A value made by a non-path expression while paths are tracked: an invalid
 * path, unless it is jq's jv_identical to the value at the current path `v`
 * (same null or boolean, or the same container), which keeps the path
 * (`path(. = .x)` on null is `[]`, `path(.a | null)` on {"a":null} is ["a"]).
 */
function emitValue(k: Emit, p: Path, x: unknown, v?: unknown): void {
  if (p === null) k(x, null);
  else {
    const pending = pendingOf(p);
    if (pending !== undefined) k(x, identical(x, pending.value) ? pending.at : badPath(x));
    else k(x, identical(x, v) ? p : badPath(x));
  }
}

/** Where jq's path tracking stands in a pattern: the path so far (null: none) and the value at it. */
interface PathTrack {
  at: unknown[] | null;
  value: unknown;
}

/** jq's INDEX while tracking paths: the pattern's value must be the value at the path; the path moves to its element. */
function trackIndex(t: PathTrack, val: unknown, key: unknown, element: () => unknown): PathTrack {
  if (t.at === null || !sameAtPath(val, t.value))
    throw nearAttempt(key, val);
  const x = element();
  chargeSlots(t.at.length + 1);
  return { at: t.at.concat([key]), value: x };
}

/** the value at the path when it is a number (what a C builtin's result may be identical to), else undefined */
function numberAtPath(v: unknown): unknown {
  return typeof v === 'number' ? v : undefined;
}

const NO_OUTPUT: Fn = () => {};

/** the defs of jq's builtins (the prelude): a call that resolves to one may be compiled natively */
export const BUILTIN_DEFS = new WeakSet<FuncInfo>();

// functions jq 1.7.1 defines in jq (src/builtin.jq) or bytecode (path, range/2): their
// arguments are closures, sub-functions checked after the caller's own code
const JQ_DEFINED = new Set(
  (
    'error/1 map/1 select/1 sort_by/1 group_by/1 unique_by/1 max_by/1 min_by/1 del/1 map_values/1 recurse/1 recurse/2 ' +
    'with_entries/1 indices/1 index/1 rindex/1 paths/1 join/1 flatten/1 range/1 match/2 match/1 test/2 test/1 ' +
    'capture/2 capture/1 scan/2 scan/1 splits/2 splits/1 split/2 sub/3 sub/2 gsub/3 gsub/2 while/2 until/2 limit/2 ' +
    'range/3 first/1 isempty/1 all/2 any/2 all/1 any/1 last/1 nth/2 nth/1 combinations/1 in/1 inside/1 repeat/1 ' +
    'truncate_stream/1 fromstream/1 bsearch/1 walk/1 pick/1 debug/1 INDEX/2 INDEX/1 JOIN/2 JOIN/3 JOIN/4 IN/1 IN/2 ' +
    'path/1 range/2'
  ).split(' '),
);

export class Compiler {
  natives: NativeTable;
  src: string;
  private singles = new WeakMap<Node, SFn | null>();
  // a node is compiled in one scope only; a def's body is compiled both as a
  // function and as a loop (compileTail), which share their sub-expressions
  private fns = new WeakMap<Node, Fn>();
  private defScopes = new WeakMap<Node, Scope | null>();
  // undefined names found in the sub-functions of the function being compiled (null: none open)
  private pendingUndefined: CompileError[] | null = null;

  constructor(natives: NativeTable, src: string) {
    this.natives = natives;
    this.src = src;
  }

  /**
   * jq checks a function's own code for undefined names before the sub-functions it makes
   * (closure arguments of jq-defined functions and of `=`/`|=`, def bodies), depth-first in
   * bytecode order: `(. = a) | b` reports b first. Own code throws at once; a sub-function's
   * undefined name waits until the enclosing function's own code is done.
   */
  private asSubFunction<T>(make: () => T): T {
    const outer = this.pendingUndefined;
    const mine: CompileError[] = [];
    this.pendingUndefined = mine;
    let r: T;
    try {
      r = make();
    } finally {
      this.pendingUndefined = outer;
    }
    if (mine.length > 0) throw mine[0];
    return r;
  }

  /** A sub-function compiled now; its undefined name, if any, is reported after its caller's own code. */
  private subFunction<T>(make: () => T, placeholder: T): T {
    try {
      return this.asSubFunction(make);
    } catch (e) {
      if (this.pendingUndefined === null || !(e instanceof CompileError) || !e.undefinedName) throw e;
      this.pendingUndefined.push(e);
      return placeholder;
    }
  }

  private subFunctionFn(n: Node, scope: Scope | null): Fn {
    return this.subFunction(() => this.compile(n, scope), NO_OUTPUT);
  }

  /** An undefined function, variable or label: reported in jq's order (see asSubFunction). */
  private failUndefined(what: string, pos: number): never {
    const e = new CompileError(`${what} is not defined at <top-level>, line ${lineOf(this.src, pos)}:`, pos);
    e.undefinedName = true;
    throw e;
  }

  fail(msg: string, pos: number): never {
    throw new CompileError(`${msg} at <top-level>, line ${lineOf(this.src, pos)}:`, pos);
  }

  // ---- scope helpers ----
  private lookupVar(scope: Scope | null, name: string): { dist: number; special?: () => unknown } | null {
    let d = 0;
    for (let s = scope; s; s = s.next) {
      if (s.kind === 'var') {
        if (s.name === name) return { dist: d };
        d++;
      } else if (s.kind === 'closure' || s.kind === 'label') d++;
      else if (s.kind === 'special' && s.name === name) return { dist: -1, special: s.getter };
    }
    return null;
  }

  private lookupLabel(scope: Scope | null, name: string): number {
    let d = 0;
    for (let s = scope; s; s = s.next) {
      if (s.kind === 'label') {
        if (s.name === name) return d;
        d++;
      } else if (s.kind === 'var' || s.kind === 'closure') d++;
    }
    return -1;
  }

  private lookupFunc(
    scope: Scope | null,
    name: string,
    arity: number,
  ): { kind: 'closure'; dist: number } | { kind: 'func'; dist: number; info: FuncInfo } | null {
    let d = 0;
    for (let s = scope; s; s = s.next) {
      if (s.kind === 'closure') {
        if (s.name === name && arity === 0) return { kind: 'closure', dist: d };
        d++;
      } else if (s.kind === 'var' || s.kind === 'label') d++;
      else if (s.kind === 'func' && s.name === name && s.arity === arity) return { kind: 'func', dist: d, info: s.info };
    }
    return null;
  }

  // ---- single-output fast path ----
  single(n: Node, scope: Scope | null): SFn | null {
    if (this.singles.has(n)) return this.singles.get(n)!;
    const r = this.single0(n, scope);
    this.singles.set(n, r);
    return r;
  }

  private single0(n: Node, scope: Scope | null): SFn | null {
    switch (n.kind) {
      case 'identity':
        return (v) => v;
      case 'literal': {
        const val = n.value;
        return () => val;
      }
      case 'loc': {
        const line = n.line;
        return () => ({ file: '<top-level>', line });
      }
      case 'index': {
        if (n.opt) return null;
        const t = this.single(n.target, scope);
        if (!t) return null;
        if (n.key.kind === 'literal') {
          const key = n.key.value;
          // a key stored encoded (values.ts) goes through getKey
          if (typeof key === 'string' && needsMark(key)) return (v, env) => indexValue(t(v, env), key);
          if (typeof key === 'string') {
            if (n.target.kind === 'identity') return (v) => (isObject(v) ? (Object.prototype.hasOwnProperty.call(v, key) ? v[key] : null) : indexValue(v, key));
            return (v, env) => {
              const x = t(v, env);
              return isObject(x) ? (Object.prototype.hasOwnProperty.call(x, key) ? x[key] : null) : indexValue(x, key);
            };
          }
          return (v, env) => indexValue(t(v, env), key);
        }
        const kf = this.single(n.key, scope);
        if (!kf) return null;
        return (v, env) => {
          const key = kf(v, env);
          return indexValue(t(v, env), key);
        };
      }
      case 'slice': {
        if (n.opt) return null;
        const t = this.single(n.target, scope);
        const f = n.from ? this.single(n.from, scope) : () => null;
        const to = n.to ? this.single(n.to, scope) : () => null;
        if (!t || !f || !to) return null;
        return (v, env) => {
          // jq's order: the start bound, the end bound, then the target
          const a = f(v, env);
          const b = to(v, env);
          return sliceValue(t(v, env), a, b);
        };
      }
      case 'pipe': {
        const l = this.single(n.left, scope);
        const r = l && this.single(n.right, scope);
        if (!l || !r) return null;
        return (v, env) => r(l(v, env), env);
      }
      case 'neg': {
        const o = this.single(n.operand, scope);
        if (!o) return null;
        return (v, env) => {
          const x = o(v, env);
          if (typeof x !== 'number') return negateOther(x);
          return -x;
        };
      }
      case 'binop':
        return this.singleOperators(n, scope);
      case 'and':
      case 'or':
        return this.singleLogic(n, scope);
      case 'alt': {
        const l = this.single(n.left, scope);
        const r = l && this.single(n.right, scope);
        if (!l || !r) return null;
        // jq 1.7: errors raised by the left-hand side of // propagate
        return (v, env) => {
          const x = l(v, env);
          return truthy(x) ? x : r(v, env);
        };
      }
      case 'var': {
        const r = this.lookupVar(scope, n.name);
        if (!r) return null;
        if (r.special) {
          const g = r.special;
          return () => g();
        }
        const d = r.dist;
        if (d === 0) return (_v, env) => env!.v;
        if (d === 1) return (_v, env) => env!.next!.v;
        return (_v, env) => {
          let e = env!;
          for (let i = 0; i < d; i++) e = e.next!;
          return e.v;
        };
      }
      case 'if': {
        const c = this.single(n.cond, scope);
        const t = c && this.single(n.then, scope);
        const e = t && (n.else ? this.single(n.else, scope) : (v: unknown) => v);
        if (!c || !t || !e) return null;
        return (v, env) => (truthy(c(v, env)) ? t(v, env) : e(v, env));
      }
      case 'array': {
        if (n.body === null) return () => [];
        const f = this.compile(n.body, scope);
        return (v, env) => {
          const out: unknown[] = [];
          f(v, null, env, (x) => {
            chargeSlots(1);
            out.push(x);
          });
          return out;
        };
      }
      case 'object': {
        for (const e of n.entries)
          if (e.key.kind === 'literal' && typeof e.key.value !== 'string')
            this.fail(`Cannot use ${typeOf(e.key.value)} (${dump(e.key.value)}) as object key`, 0);
        const ks: SFn[] = [];
        const vs: SFn[] = [];
        for (const e of n.entries) {
          const kf = this.single(e.key, scope);
          const vf = kf && this.single(e.value, scope);
          if (!kf || !vf) return null;
          ks.push(kf);
          vs.push(vf);
        }
        const lits = n.entries.map((e) => (e.key.kind === 'literal' && typeof e.key.value === 'string' && !needsMark(e.key.value) ? e.key.value : null));
        const m = ks.length;
        const cost = KEY_BYTES * m;
        return (v, env) => {
          charge(cost);
          const o: Obj = {};
          for (let i = 0; i < m; i++) {
            const lk = lits[i];
            if (lk !== null) {
              o[lk] = vs[i](v, env);
              continue;
            }
            // jq: key, then value, then the key's type is checked as the pair is inserted
            const key = ks[i](v, env);
            const val = vs[i](v, env);
            if (typeof key !== 'string') throw objKeyError(key);
            setKey(o, key, val);
          }
          return o;
        };
      }
      case 'string': {
        const parts: (string | SFn)[] = [];
        for (const p of n.parts) {
          if (typeof p === 'string') parts.push(p);
          else {
            const f = this.single(p, scope);
            if (!f) return null;
            parts.push(f);
          }
        }
        const fmt = n.format;
        return (v, env) => {
          // evaluate interpolations right to left like jq, then concatenate
          const vals: string[] = new Array(parts.length);
          for (let i = parts.length - 1; i >= 0; i--) {
            const p = parts[i];
            if (typeof p === 'string') vals[i] = p;
            else {
              const x = p(v, env);
              vals[i] = fmt === null ? toStringValue(x) : applyFormat(fmt, x);
            }
          }
          return joinCharged(vals);
        };
      }
      case 'format': {
        const name = n.name;
        return (v) => applyFormat(name, v);
      }
      case 'call': {
        if (this.lookupFunc(scope, n.name, n.args.length)) return null;
        const nat = this.natives.get(`${n.name}/${n.args.length}`);
        if (!nat || !nat.vf) return null;
        const vf = nat.vf;
        const args: SFn[] = [];
        for (const a of n.args) {
          const s = this.single(a, scope);
          if (!s) return null;
          args.push(s);
        }
        if (args.length === 0) return (v) => vf(v);
        if (args.length === 1) {
          const a0 = args[0];
          return (v, env) => vf(v, a0(v, env));
        }
        if (args.length === 2) {
          const a0 = args[0];
          const a1 = args[1];
          return (v, env) => {
            const y = a1(v, env);
            return vf(v, a0(v, env), y);
          };
        }
        return (v, env) => {
          const vals = new Array(args.length);
          for (let i = args.length - 1; i >= 0; i--) vals[i] = args[i](v, env);
          return vf(v, ...vals);
        };
      }
    }
    return null;
  }

  /**
   * A chain of arithmetic/comparison operators (left-deep, as parsed: a
   * 400,000-term sum is 400,000 levels) as one loop, so its length costs no
   * JS stack. Operands are evaluated right to left and combined left to
   * right, the order of the nested form.
   */
  private singleOperators(n: Node, scope: Scope | null): SFn | null {
    const { first, rights, ops } = operatorChain(n);
    const l = this.single(first, scope);
    if (!l) return null;
    const rs: SFn[] = [];
    for (const r of rights) {
      const f = this.single(r, scope);
      if (!f) return null;
      rs.push(f);
    }
    if (rs.length === 1) {
      const r = rs[0];
      const op = ops[0];
      return (v, env) => {
        const b = r(v, env);
        return op(l(v, env), b);
      };
    }
    const m = rs.length;
    return (v, env) => {
      const vals = new Array(m);
      for (let i = 0; i < m; i++) vals[i] = rs[i](v, env);
      let acc = l(v, env);
      for (let i = m - 1; i >= 0; i--) acc = ops[i](acc, vals[i]);
      return acc;
    };
  }

  /** `a and b and c ...` / `a or b or c ...` as one loop, left to right, stopping at the first operand that decides. */
  private singleLogic(n: Logic, scope: Scope | null): SFn | null {
    const kind = n.kind;
    const rights: Node[] = [];
    let cur: Node = n;
    while (cur.kind === kind) {
      const c = cur as Logic;
      rights.push(c.right);
      cur = c.left;
    }
    const fs: SFn[] = [];
    for (const x of [cur, ...rights.reverse()]) {
      const f = this.single(x, scope);
      if (!f) return null;
      fs.push(f);
    }
    const isAnd = kind === 'and';
    if (fs.length === 2) {
      const [l, r] = fs;
      if (isAnd) return (v, env) => truthy(l(v, env)) && truthy(r(v, env));
      return (v, env) => truthy(l(v, env)) || truthy(r(v, env));
    }
    return (v, env) => {
      for (let i = 0; i < fs.length; i++) if (truthy(fs[i](v, env)) !== isAnd) return !isAnd;
      return isAnd;
    };
  }

  // ---- general compilation ----
  compile(n: Node, scope: Scope | null): Fn {
    if (this.pendingUndefined === null) return this.asSubFunction(() => this.compile(n, scope));
    let f = this.fns.get(n);
    if (f === undefined) {
      f = this.compile0(n, scope);
      this.fns.set(n, f);
    }
    return f;
  }

  private compile0(n: Node, scope: Scope | null): Fn {
    const s = this.single(n, scope);
    if (s) {
      // value mode: fast path; path mode: general implementation
      // jq's collect runs its body with path tracking on (no SUBEXP): a path step in it checks the path
      // jq's `-E` is `E | _negate`: E runs in the path expression, its path steps checked
      if (isPathCapable(n) || this.mayKeepInput(n) || (n.kind === 'array' && n.body !== null) || n.kind === 'neg') {
        const g = this.compileGeneral(n, scope);
        return (v, p, env, k) => {
          if (p === null) k(s(v, env), null);
          else g(v, p, env, k);
        };
      }
      return (v, p, env, k) => emitValue(k, p, s(v, env), v);
    }
    return this.compileGeneral(n, scope);
  }

  /** a builtin call or format that may give its input back itself (NativeDef.keepsInput) */
  private mayKeepInput(n: Node): boolean {
    if (n.kind === 'format') return n.name === 'text';
    const nat = n.kind === 'call' ? this.natives.get(`${n.name}/${n.args.length}`) : undefined;
    return nat !== undefined && (nat.keepsInput !== undefined || nat.pathCheck !== undefined);
  }

  private compileGeneral(n: Node, scope: Scope | null): Fn {
    switch (n.kind) {
      case 'identity':
        return (v, p, _env, k) => k(v, p);
      case 'recurseAll':
        return this.compileCall({ kind: 'call', name: 'recurse', args: [], pos: 0 }, scope);
      case 'literal': {
        const val = n.value;
        return (v, p, _env, k) => emitValue(k, p, val, v);
      }
      case 'loc': {
        const line = n.line;
        return (_v, p, _env, k) => emitValue(k, p, { file: '<top-level>', line });
      }
      case 'index':
        return this.compileIndex(n, scope);
      case 'slice': {
        const from = n.from ? this.compile(n.from, scope) : null;
        const to = n.to ? this.compile(n.to, scope) : null;
        const t = this.compile(n.target, scope);
        const opt = n.opt === true;
        // jq's order: every end bound (inner) for each start bound (outer)
        return (v, p, env, k) => {
          const withFrom = (a: unknown) => {
            const withTo = (b: unknown) => {
              t(v, p, env, (x, xp) => {
                if (opt) {
                  // jq's INDEX_OPT: an invalid path still raises, the slice's own error yields nothing
                  const np = xp === null ? null : extendPath(xp, { start: a, end: b });
                  const r = optional(() => sliceValue(x, a, b));
                  if (r !== NONE) k(r, np);
                  return;
                }
                // the path check comes before the slice's own error (execute.c INDEX)
                const np = xp === null ? null : extendPath(xp, { start: a, end: b });
                k(sliceValue(x, a, b), np);
              });
            };
            if (to) to(v, null, env, withTo);
            else withTo(null);
          };
          if (from) from(v, null, env, withFrom);
          else withFrom(null);
        };
      }
      case 'iterate': {
        if (n.opt) {
          // jq's EACH_OPT: a non-iterable yields nothing (an invalid path still raises)
          const each = (x: unknown, xp: Path, k: Emit) => {
            if (Array.isArray(x) || isObject(x)) iterate(x, xp, k);
            else if (xp !== null && isBad(xp)) iterate([], xp, k);
          };
          if (n.target.kind === 'identity') return (v, p, _env, k) => each(v, p, k);
          const t = this.compile(n.target, scope);
          return (v, p, env, k) => t(v, p, env, (x, xp) => each(x, xp, k));
        }
        if (n.target.kind === 'identity') return (v, p, _env, k) => iterate(v, p, k);
        const t = this.compile(n.target, scope);
        return (v, p, env, k) => t(v, p, env, (x, xp) => iterate(x, xp, k));
      }
      case 'pipe': {
        const l = this.compile(n.left, scope);
        const r = this.compile(n.right, scope);
        const ls = p0single(this, n.left, scope);
        if (ls) {
          return (v, p, env, k) => {
            if (p === null) r(ls(v, env), null, env, k);
            else l(v, p, env, (x, xp) => r(x, xp, env, k));
          };
        }
        return (v, p, env, k) => l(v, p, env, (x, xp) => r(x, xp, env, k));
      }
      case 'comma': {
        const items = commaItems(n);
        if (items.length === 2) {
          const l = this.compile(items[0], scope);
          const r = this.compile(items[1], scope);
          return (v, p, env, k) => {
            l(v, p, env, k);
            r(v, p, env, k);
          };
        }
        // a long list of constants (a 400,000-element literal) is a loop over its values
        if (items.every((x) => x.kind === 'literal')) {
          const vals = items.map((x) => (x as Extract<Node, { kind: 'literal' }>).value);
          return (_v, p, _env, k) => {
            for (let i = 0; i < vals.length; i++) emitValue(k, p, vals[i]);
          };
        }
        const fs = items.map((x) => this.compile(x, scope));
        return (v, p, env, k) => {
          for (let i = 0; i < fs.length; i++) fs[i](v, p, env, k);
        };
      }
      case 'neg': {
        const o = this.compile(n.operand, scope);
        // jq's `E | _negate`: E in the path expression, the negation a C builtin's new value
        return (v, p, env, k) =>
          o(v, p, env, (x) => {
            emitValue(k, p, typeof x === 'number' ? -x : negateOther(x));
          });
      }
      case 'binop': {
        // a left-deep chain (see singleOperators), compiled in a loop
        const { first, rights, ops } = operatorChain(n);
        const f0 = this.compile(first, scope);
        const rs = rights.map((r) => this.single(r, scope));
        if (rs.every((r) => r !== null)) {
          // only the leftmost operand generates (`(.[] | .a) + "x" + "y"`): no nesting per operator
          const m = rs.length;
          return (v, p, env, k) => {
            const vals = new Array(m);
            for (let i = 0; i < m; i++) vals[i] = rs[i]!(v, env);
            f0(v, null, env, (a) => {
              let acc = a;
              for (let i = m - 1; i >= 0; i--) acc = ops[i](acc, vals[i]);
              emitValue(k, p, acc);
            });
          };
        }
        let f = f0;
        for (let i = rights.length - 1; i >= 0; i--) f = operatorFn(f, this.compile(rights[i], scope), ops[i]);
        return f;
      }
      case 'and':
      case 'or': {
        const l = this.compile(n.left, scope);
        const r = this.compile(n.right, scope);
        const isAnd = n.kind === 'and';
        return (v, p, env, k) =>
          l(v, null, env, (a) => {
            const ta = truthy(a);
            if (isAnd ? !ta : ta) emitValue(k, p, !isAnd, v);
            else r(v, null, env, (b) => emitValue(k, p, truthy(b), v));
          });
      }
      case 'alt': {
        const l = this.compile(n.left, scope);
        const r = this.compile(n.right, scope);
        return (v, p, env, k) => {
          let found = false;
          l(v, p, env, (x, xp) => {
            if (!truthy(x)) return;
            found = true;
            k(x, xp);
          });
          if (!found) r(v, p, env, k);
        };
      }
      case 'if': {
        const c = this.compile(n.cond, scope);
        const t = this.compile(n.then, scope);
        const e = n.else ? this.compile(n.else, scope) : null;
        const cs = this.single(n.cond, scope);
        if (cs) {
          // one condition value: no continuation (a frame less per level of a recursive def)
          if (e) return (v, p, env, k) => (truthy(cs(v, env)) ? t(v, p, env, k) : e(v, p, env, k));
          return (v, p, env, k) => (truthy(cs(v, env)) ? t(v, p, env, k) : k(v, p));
        }
        return (v, p, env, k) =>
          c(v, null, env, (x) => {
            if (truthy(x)) t(v, p, env, k);
            else if (e) e(v, p, env, k);
            else k(v, p);
          });
      }
      case 'try': {
        const body = this.compile(n.body, scope);
        const handler = n.handler ? this.compile(n.handler, scope) : null;
        return (v, p, env, k) => {
          const owner = {};
          try {
            body(v, p, env, (x, xp) => {
              try {
                k(x, xp);
              } catch (e) {
                if (e instanceof JqError) throw new Passthrough(e, owner);
                throw e;
              }
            });
          } catch (e) {
            if (e instanceof Passthrough) {
              if (e.owner === owner) throw e.err;
              throw e;
            }
            if (!(e instanceof JqError)) throw e;
            if (handler) {
              handler(e.value, null, env, p === null ? k : (x) => k(x, badPath(x)));
            }
          }
        };
      }
      case 'array': {
        if (n.body === null) return (_v, p, _env, k) => emitValue(k, p, []);
        const f = this.compile(n.body, scope);
        return (v, p, env, k) => {
          const out: unknown[] = [];
          // in a path expression the body's steps are checked as jq's (its paths are dropped)
          f(v, p, env, (x) => {
            chargeSlots(1);
            out.push(x);
          });
          emitValue(k, p, out);
        };
      }
      case 'object':
        return this.compileObject(n, scope);
      case 'string':
        return this.compileString(n, scope);
      case 'format': {
        const name = n.name;
        return (v, p, _env, k) => {
          const r = applyFormat(name, v);
          if (p !== null && FORMAT_KEEPS_INPUT(name, v)) k(r, p);
          else emitValue(k, p, r);
        };
      }
      case 'var': {
        const r = this.lookupVar(scope, n.name);
        if (!r) this.failUndefined(`$${n.name}`, n.pos);
        if (r.special) {
          const g = r.special;
          return (_v, p, _env, k) => emitValue(k, p, g());
        }
        const d = r.dist;
        return (v, p, env, k) => {
          let e = env!;
          for (let i = 0; i < d; i++) e = e.next!;
          const x = e.v;
          if (p === null) k(x, null);
          else {
            // a variable holding the value at the path is that value (jv_identical), whatever its type
            const pending = pendingOf(p);
            if (pending !== undefined) k(x, sameAtPath(x, pending.value) ? pending.at : badPath(x));
            else if (!isBad(p) && sameAtPath(x, v)) k(x, p);
            else emitValue(k, p, x);
          }
        };
      }
      case 'defs': {
        let s = scope;
        // as jq, a def nothing calls is dropped unchecked
        for (const def of usedDefs(n)) s = this.compileDef(def, s);
        this.defScopes.set(n, s);
        return this.compile(n.body, s);
      }
      case 'call':
        return this.compileCall(n, scope);
      case 'bind':
        return this.compileBind(n, scope);
      case 'reduce':
        return this.compileReduce(n, scope);
      case 'foreach':
        return this.compileForeach(n, scope);
      case 'label': {
        // jq 1.7.1: a label is a fresh {"__jq": n} (n counts the labels a run has entered) and
        // `break $l` raises it as an error: `try` catches it, and the label ends its body on
        // any error carrying that value (`error({"__jq": 0})` too)
        const body = this.compile(n.body, { kind: 'label', name: n.name, next: scope });
        return (v, p, env, k) => {
          const id = state.labels++;
          const token: Obj = { __jq: id };
          try {
            body(v, p, { v: token, next: env }, k);
          } catch (e) {
            const err = e instanceof Passthrough ? e.err : e;
            if (err instanceof JqError && isObject(err.value) && err.value.__jq === id && Object.keys(err.value).length === 1) return;
            throw e;
          }
        };
      }
      case 'break': {
        const d = this.lookupLabel(scope, n.name);
        if (d < 0) this.failUndefined(`$*label-${n.name}`, n.pos);
        return (_v, _p, env) => {
          let e = env!;
          for (let i = 0; i < d; i++) e = e.next!;
          throw new JqError(e.v);
        };
      }
      case 'assign':
        return this.compileAssign(n, scope);
    }
    throw new Error(`unknown node ${(n as Node).kind}`);
  }

  private compileIndex(n: Extract<Node, { kind: 'index' }>, scope: Scope | null): Fn {
    // compiled in jq's bytecode order (key, then target), so the first undefined name is jq's
    if (n.key.kind !== 'literal') this.compile(n.key, scope);
    const t = this.compile(n.target, scope);
    if (n.opt) {
      // jq's INDEX_OPT: the key is evaluated first, then the target; an invalid path still
      // raises, the indexing's own error yields nothing (errors of key and target propagate)
      const step = (x: unknown, xp: Path, key: unknown, k: Emit) => {
        const np = xp === null ? null : extendPath(xp, key);
        const r = optional(() => indexValue(x, key));
        if (r !== NONE) k(r, np);
      };
      if (n.key.kind === 'literal') {
        const key = n.key.value;
        return (v, p, env, k) => t(v, p, env, (x, xp) => step(x, xp, key, k));
      }
      const kf = this.compile(n.key, scope);
      return (v, p, env, k) => kf(v, null, env, (key) => t(v, p, env, (x, xp) => step(x, xp, key, k)));
    }
    if (n.key.kind === 'literal') {
      const key = n.key.value;
      if (n.target.kind === 'identity')
        return (v, p, _env, k) => {
          const np = p === null ? null : extendPath(p, key);
          k(indexValue(v, key), np);
        };
      return (v, p, env, k) =>
        t(v, p, env, (x, xp) => {
          const np = xp === null ? null : extendPath(xp, key);
          k(indexValue(x, key), np);
        });
    }
    const kf = this.compile(n.key, scope);
    return (v, p, env, k) =>
      kf(v, null, env, (key) => {
        t(v, p, env, (x, xp) => {
          const np = xp === null ? null : extendPath(xp, key);
          k(indexValue(x, key), np);
        });
      });
  }

  private compileObject(n: Extract<Node, { kind: 'object' }>, scope: Scope | null): Fn {
    const m = n.entries.length;
    const ks: Fn[] = [];
    const vs: Fn[] = [];
    for (const e of n.entries) {
      if (e.key.kind === 'literal' && typeof e.key.value !== 'string') {
        this.fail(`Cannot use ${typeOf(e.key.value)} (${dump(e.key.value)}) as object key`, 0);
      }
      ks.push(this.compile(e.key, scope));
      if (e.shorthand) {
        vs.push(null as unknown as Fn);
        continue;
      }
      vs.push(this.compile(e.value, scope));
    }
    return (v, p, env, k) => {
      const keys: string[] = new Array(m);
      const vals: unknown[] = new Array(m);
      const step = (i: number): void => {
        if (i === m) {
          chargeKeys(m);
          const o: Obj = {};
          for (let j = 0; j < m; j++) setKey(o, keys[j], vals[j]);
          emitValue(k, p, o);
          return;
        }
        ks[i](v, null, env, (key) => {
          if (vs[i] === null) {
            if (typeof key !== 'string') throw objKeyError(key);
            keys[i] = key;
            vals[i] = indexValue(v, key);
            step(i + 1);
            return;
          }
          vs[i](v, null, env, (val) => {
            // jq checks the key's type when it inserts the pair, after the value
            if (typeof key !== 'string') throw objKeyError(key);
            keys[i] = key;
            vals[i] = val;
            step(i + 1);
          });
        });
      };
      step(0);
    };
  }

  private compileString(n: Extract<Node, { kind: 'string' }>, scope: Scope | null): Fn {
    const parts = n.parts.map((p) => (typeof p === 'string' ? p : this.compile(p, scope)));
    const fmt = n.format;
    return (v, p, env, k) => {
      const vals: string[] = new Array(parts.length);
      const step = (i: number): void => {
        if (i < 0) {
          emitValue(k, p, joinCharged(vals));
          return;
        }
        const part = parts[i];
        if (typeof part === 'string') {
          vals[i] = part;
          step(i - 1);
          return;
        }
        part(v, null, env, (x) => {
          vals[i] = fmt === null ? toStringValue(x) : applyFormat(fmt, x);
          step(i - 1);
        });
      };
      step(parts.length - 1);
    };
  }

  compileDef(def: FuncDef, scope: Scope | null): Scope {
    const params = def.params;
    const info: FuncInfo = { name: def.name, arity: params.length, params, fn: null, inner: null, tail: null, loop: null };
    const fscope: Scope = { kind: 'func', name: def.name, arity: params.length, info, next: scope };
    let bscope: Scope = fscope;
    for (const prm of params) bscope = { kind: 'closure', name: prm.name, next: bscope };
    // $params: `def f($a; $b): body` == `def f(a; b): a as $a | b as $b | body`
    const varIdx: number[] = [];
    let iscope: Scope = bscope;
    for (let i = 0; i < params.length; i++)
      if (params[i].isVar) {
        varIdx.push(i);
        iscope = { kind: 'var', name: params[i].name, next: iscope };
      }
    const inner = this.subFunctionFn(def.body, iscope);
    info.inner = inner;
    const bind = varIdx.length === 0 ? null : paramBinder(params.length, varIdx);
    info.fn = bind === null ? inner : (v, p, e, k) => bind(v, e, (ei) => inner(v, p, ei, k));
    // the body again, as a loop: a name it lacks was already held back by the line above
    const tail = this.subFunction(() => this.compileTail(def.body, iscope), null);
    if (tail !== null) {
      info.tail = tail;
      const run = (v: unknown, e: Env | null, k: Emit): void => {
        const next = tail(v, e, k);
        if (next !== null) resume(next, k);
      };
      info.loop = bind === null ? run : (v, e, k) => bind(v, e, (ei) => run(v, ei, k));
    }
    return fscope;
  }

  /**
   * The def's body as a loop body (TailFn), or null when no call of a def
   * (itself, or another: mutual recursion through nested defs) sits in tail
   * position. Tail positions: the whole body, both branches of an `if`, the
   * right side of a pipe, `,` or `as` binding (a left side with several
   * values goes through lastInTail). There the call is the last thing the
   * body does, so jq (which has tail calls) and a loop give the same
   * outputs; recursion depth stays 1.
   */
  private compileTail(n: Node, scope: Scope | null): TailFn | null {
    switch (n.kind) {
      case 'call':
        return this.tailCall(n, scope);
      case 'pipe': {
        // a `?//` on the left retries its next alternative on an error from the right: the call must stay inside it
        if (hasAlternatives(n.left)) return null;
        const rt = this.compileTail(n.right, scope);
        if (!rt) return null;
        const ls = this.single(n.left, scope);
        if (ls) return (v, env, k) => rt(ls(v, env), env, k);
        return lastInTail(this.compile(n.left, scope), (_v, x, env, k) => rt(x, env, k));
      }
      case 'comma': {
        const rt = this.compileTail(n.right, scope);
        if (!rt) return null;
        const l = this.compile(n.left, scope);
        return (v, env, k) => {
          l(v, null, env, k);
          return rt(v, env, k);
        };
      }
      case 'bind': {
        if (n.patterns.length !== 1 || n.patterns[0].kind !== 'pvar' || hasAlternatives(n.source)) return null;
        const bt = this.compileTail(n.body, { kind: 'var', name: n.patterns[0].name, next: scope });
        if (!bt) return null;
        const ss = this.single(n.source, scope);
        if (ss) return (v, env, k) => bt(v, { v: ss(v, env), next: env }, k);
        return lastInTail(this.compile(n.source, scope), (v, x, env, k) => bt(v, { v: x, next: env }, k));
      }
      case 'if': {
        if (hasAlternatives(n.cond)) return null;
        const tt = this.compileTail(n.then, scope);
        const et = n.else ? this.compileTail(n.else, scope) : null;
        if (!tt && !et) return null;
        const t = tt ?? this.plainTail(n.then, scope);
        const e = et ?? (n.else ? this.plainTail(n.else, scope) : identityTail);
        const cs = this.single(n.cond, scope);
        if (cs) return (v, env, k) => (truthy(cs(v, env)) ? t(v, env, k) : e(v, env, k));
        return lastInTail(this.compile(n.cond, scope), (v, c, env, k) => (truthy(c) ? t(v, env, k) : e(v, env, k)));
      }
      case 'defs': {
        const inner = this.defScopes.get(n);
        return inner === undefined ? null : this.compileTail(n.body, inner);
      }
    }
    return null;
  }

  private plainTail(n: Node, scope: Scope | null): TailFn {
    const f = this.compile(n, scope);
    return (v, env, k) => {
      f(v, null, env, k);
      return null;
    };
  }

  /**
   * A call of a def in tail position: the callee's environment is built
   * here (parameter closures, then the $params' values) and returned to the
   * loop. $-arguments must have one value; they are evaluated now, as the
   * callee's `a as $a` would first thing. A bare filter parameter passed on
   * (`f(g)` inside `def f(g)`) passes its closure, so nothing grows per round.
   */
  private tailCall(n: Extract<Node, { kind: 'call' }>, scope: Scope | null): TailFn | null {
    const found = this.lookupFunc(scope, n.name, n.args.length);
    if (!found || found.kind !== 'func') return null;
    const self = found.info;
    const d = found.dist;
    const m = n.args.length;
    type Arg = { value: SFn } | { closureAt: number } | { fn: Fn };
    const args: Arg[] = [];
    for (let i = 0; i < m; i++) {
      const a = n.args[i];
      if (self.params[i].isVar) {
        const s = this.single(a, scope);
        if (!s) return null;
        args.push({ value: s });
        continue;
      }
      const passed = a.kind === 'call' && a.args.length === 0 ? this.lookupFunc(scope, a.name, 0) : null;
      if (passed && passed.kind === 'closure') args.push({ closureAt: passed.dist });
      else args.push({ fn: this.subFunctionFn(a, scope) });
    }
    const varIdx: number[] = [];
    for (let i = 0; i < m; i++) if (self.params[i].isVar) varIdx.push(i);
    return (v, env, _k) => {
      const vals: unknown[] = new Array(m);
      for (let i = 0; i < m; i++) {
        const a = args[i];
        if ('value' in a) vals[i] = a.value(v, env);
        else if ('closureAt' in a) {
          let e = env!;
          for (let j = 0; j < a.closureAt; j++) e = e.next!;
          vals[i] = e.v;
        } else vals[i] = { fn: a.fn, env } as Closure;
      }
      let e = env;
      for (let i = 0; i < d; i++) e = e!.next;
      for (let i = 0; i < m; i++) e = { v: 'value' in args[i] ? constClosure(vals[i]) : vals[i], next: e };
      for (const i of varIdx) e = { v: vals[i], next: e };
      return { fn: self, v, env: e };
    };
  }

  private compileCall(n: Extract<Node, { kind: 'call' }>, scope: Scope | null): Fn {
    const arity = n.args.length;
    const found = this.lookupFunc(scope, n.name, arity);
    if (found && found.kind === 'closure') {
      const d = found.dist;
      return (v, p, env, k) => {
        let e = env!;
        for (let i = 0; i < d; i++) e = e.next!;
        const c = e.v as Closure;
        c.fn(v, p, c.env, k);
      };
    }
    if (found && found.kind === 'func' && BUILTIN_DEFS.has(found.info) && n.name === 'recurse' && arity === 2 && n.args.some(hasAlternatives)) {
      return this.retryingRecurse(n.args[0], n.args[1], scope);
    }
    if (found && found.kind === 'func') {
      const d = found.dist;
      const info = found.info;
      const args = n.args.map((a) => this.subFunctionFn(a, scope));
      return (v, p, env, k) => {
        if (++state.steps > state.stepsAt) stepCheck();
        let e = env;
        for (let i = 0; i < d; i++) e = e!.next;
        for (let i = 0; i < args.length; i++) e = { v: { fn: args[i], env } as Closure, next: e };
        if (++state.depth > state.budget.depth) {
          state.depth--;
          throw new RecursionError();
        }
        try {
          if (p === null && info.loop !== null) info.loop(v, e, k);
          else info.fn!(v, p, e, k);
        } catch (err) {
          // the JS stack ran out before the depth limit: the same error, at the frame that can build it
          // (no regex here: compiling one without stack fails with a SyntaxError; a RangeError
          // raised by this check itself goes to the next frame up, which has more room)
          if (err instanceof RangeError && err.message.indexOf('call stack') >= 0) throw new RecursionError();
          throw err;
        } finally {
          state.depth--;
        }
      };
    }
    const nat = this.natives.get(`${n.name}/${arity}`);
    if (!nat) this.failUndefined(`${n.name}/${arity}`, n.pos);
    const args = JQ_DEFINED.has(`${n.name}/${arity}`)
      ? n.args.map((a) => this.subFunctionFn(a, scope))
      : n.args.map((a) => this.compile(a, scope));
    if (n.name === 'recurse' && arity === 1 && hasAlternatives(n.args[0])) RETRYING_FNS.add(args[0]);
    if ((n.name === 'while' || n.name === 'until') && arity === 2 && n.args.some(hasAlternatives)) {
      return retryingConditionLoop(args[0], args[1], n.name === 'while', nat.fn!(args));
    }
    if (nat.fn) return nat.fn(args);
    const vf = nat.vf!;
    const keeps = nat.keepsInput;
    const pathCheck = nat.pathCheck;
    // a C builtin's result is a new jv: only a computed number can be identical to the input (emitValue)
    if (arity === 0 && pathCheck) {
      return (v, p, _env, k) => {
        if (p !== null) pathCheck(v);
        emitValue(k, p, vf(v), numberAtPath(v));
      };
    }
    if (arity === 0) {
      if (keeps) {
        return (v, p, _env, k) => {
          const r = vf(v);
          if (p !== null && keeps(v)) k(r, p);
          else emitValue(k, p, r, numberAtPath(v));
        };
      }
      return (v, p, _env, k) => (p === null ? k(vf(v), null) : emitValue(k, p, vf(v), numberAtPath(v)));
    }
    // cartesian product of argument values, last argument outermost (jq cfunction order)
    return (v, p, env, k) => {
      const vals: unknown[] = new Array(arity);
      const step = (i: number): void => {
        if (i < 0) {
          const r = vf(v, ...vals);
          if (p !== null && keeps !== undefined && keeps(v, ...vals)) k(r, p);
          else emitValue(k, p, r, numberAtPath(v));
          return;
        }
        args[i](v, null, env, (x) => {
          vals[i] = x;
          step(i - 1);
        });
      };
      step(arity - 1);
    };
  }

  /**
   * jq's `def recurse(f; cond): def r: ., (f | select(cond) | r); r;` when f or cond holds `?//`:
   * each output goes on inside the f and cond that made it (recurseLoop's retrying mode), so an
   * error or break downstream makes their ?// run its next alternative, as jq's frames do.
   */
  private retryingRecurse(fNode: Node, condNode: Node, scope: Scope | null): Fn {
    const f = this.subFunctionFn(fNode, scope);
    const cond = this.subFunctionFn(condNode, scope);
    const step: Fn = (v, p, env, k) =>
      f(v, p, env, (x, xp) =>
        cond(x, null, env, (c) => {
          if (truthy(c)) k(x, xp);
        }),
      );
    RETRYING_FNS.add(step);
    return (v, p, env, k) => recurseLoop(step, v, p, env, k);
  }

  // ---- destructuring ----
  private patternVars(pats: Pattern[]): string[] {
    const names: string[] = [];
    const visit = (p: Pattern) => {
      if (p.kind === 'pvar') {
        if (!names.includes(p.name)) names.push(p.name);
      } else if (p.kind === 'parray') p.elems.forEach(visit);
      else
        for (const e of p.entries) {
          if (e.keyVar !== undefined && !names.includes(e.keyVar)) names.push(e.keyVar);
          if (e.value) visit(e.value);
        }
    };
    pats.forEach(visit);
    return names;
  }

  /** Returns a binder: (value, input, env, cb(values[])) calling cb once per binding. */
  /**
   * jq matches an array pattern's elements from the last to the first (gen_array_matcher puts
   * the earlier ones after), an object pattern's entries in order; of several binders of one
   * name the one matched first gives the variable its value (it is bound to the body first).
   * `claimed`: the names a binder matched earlier already gives; null with `?//` alternatives,
   * where every binder stores and the one matched last gives the value (`[$v, $v] ?// $a` binds .[0]).
   */
  private compilePattern(
    pat: Pattern,
    names: string[],
    scope: Scope | null,
    claimed: Set<string> | null = new Set(),
  ): PatternFn {
    if (pat.kind === 'pvar') {
      const idx = names.indexOf(pat.name);
      if (claimed?.has(pat.name)) return (_val, _input, _env, _slots, cb, t) => cb(t);
      claimed?.add(pat.name);
      return (val, _input, _env, slots, cb, t) => {
        slots[idx] = val;
        cb(t);
      };
    }
    if (pat.kind === 'parray') {
      const subs: PatternFn[] = new Array(pat.elems.length);
      for (let i = pat.elems.length - 1; i >= 0; i--) subs[i] = this.compilePattern(pat.elems[i], names, scope, claimed);
      // jq reads the elements last first, each an INDEX on the array (DUP'ed)
      return (val, input, env, slots, cb, t0) => {
        const step = (i: number, t: PathTrack | null): void => {
          if (i < 0) {
            cb(t);
            return;
          }
          if (t === null) subs[i](arrayElement(val, i), input, env, slots, (t2) => step(i - 1, t2), null);
          else {
            const tn = trackIndex(t, val, i, () => arrayElement(val, i));
            subs[i](tn.value, input, env, slots, (t2) => step(i - 1, t2), tn);
          }
        };
        step(subs.length - 1, t0);
      };
    }
    const entries = pat.entries.map((e) => {
      if (e.keyVar !== undefined) {
        const first = !claimed?.has(e.keyVar);
        claimed?.add(e.keyVar);
        return {
          keyVar: first ? names.indexOf(e.keyVar) : -2,
          keyName: e.keyVar,
          key: null as Fn | null,
          sub: e.value ? this.compilePattern(e.value, names, scope, claimed) : null,
        };
      }
      return { keyVar: -1, keyName: '', key: this.compile(e.key!, scope), sub: this.compilePattern(e.value!, names, scope, claimed) };
    });
    return (val, input, env, slots, cb, t0) => {
      const step = (i: number, t: PathTrack | null): void => {
        if (i === entries.length) {
          cb(t);
          return;
        }
        const e = entries[i];
        if (e.keyVar !== -1) {
          const tn = t === null ? null : trackIndex(t, val, e.keyName, () => objIndex(val, e.keyName));
          const x = tn === null ? objIndex(val, e.keyName) : tn.value;
          if (e.keyVar >= 0) slots[e.keyVar] = x;
          if (e.sub) e.sub(x, input, env, slots, (t2) => step(i + 1, t2), tn);
          else step(i + 1, tn);
          return;
        }
        // key expressions see variables bound so far in this pattern
        const envNow = pushSlots(env, slots);
        e.key!(input, null, envNow, (key) => {
          if (t === null) {
            if (typeof key !== 'string') throw new JqError(`Cannot index ${typeOf(val)} with ${typeOf(key)}`);
            e.sub!(objIndex(val, key), input, env, slots, (t2) => step(i + 1, t2), null);
            return;
          }
          const tn = trackIndex(t, val, key, () => {
            if (typeof key !== 'string') throw new JqError(`Cannot index ${typeOf(val)} with ${typeOf(key)}`);
            return objIndex(val, key);
          });
          e.sub!(tn.value, input, env, slots, (t2) => step(i + 1, t2), tn);
        });
      };
      step(0, t0);
    };
  }

  private scopeWithVars(scope: Scope | null, names: string[]): Scope | null {
    let s = scope;
    for (const nm of names) s = { kind: 'var', name: nm, next: s };
    return s;
  }

  /** Compile patterns (with ?// alternatives) into a binder producing extended environments. */
  private compileBinder(
    pats: Pattern[],
    scope: Scope | null,
  ): {
    names: string[];
    bind: (val: unknown, input: unknown, env: Env | null, cb: (env2: Env | null, t: PathTrack | null) => void, track?: PathTrack | null) => void;
  } {
    const names = this.patternVars(pats);
    // key expressions inside object patterns may refer to earlier variables of the same pattern
    const keyScope = this.scopeWithVars(scope, names);
    const binders = pats.map((p) => this.compilePattern(p, names, keyScope, pats.length > 1 ? null : new Set()));
    const n = names.length;
    if (pats.length === 1 && pats[0].kind === 'pvar') {
      return { names, bind: (val, _input, env, cb, track = null) => cb({ v: val, next: env }, track) };
    }
    const bindOne = (bi: number, val: unknown, input: unknown, env: Env | null, cb: (env2: Env | null, t: PathTrack | null) => void, track: PathTrack | null) => {
      const slots: unknown[] = new Array(n).fill(null);
      binders[bi](val, input, env, slots, (t) => cb(pushSlots(env, slots), t), track);
    };
    if (pats.length === 1) return { names, bind: (val, input, env, cb, track = null) => bindOne(0, val, input, env, cb, track) };
    return {
      names,
      bind: (val, input, env, cb, track = null) => {
        for (let i = 0; i < binders.length; i++) {
          try {
            bindOne(i, val, input, env, cb, track);
            return;
          } catch (e) {
            // jq backtracks into the next alternative on any error raised after this point that no
            // closer try catches: also one passing a try's end, and the break of limit/first/isempty
            if (!(e instanceof JqError || e instanceof Passthrough || e instanceof BreakSignal) || i === binders.length - 1) throw e;
          }
        }
      },
    };
  }

  private compileBind(n: Extract<Node, { kind: 'bind' }>, scope: Scope | null): Fn {
    const src = this.compile(n.source, scope);
    const { names, bind } = this.compileBinder(n.patterns, scope);
    const body = this.compile(n.body, this.scopeWithVars(scope, names));
    const ss = this.single(n.source, scope);
    if (ss && n.patterns.length === 1 && n.patterns[0].kind === 'pvar') {
      return (v, p, env, k) => body(v, p, { v: ss(v, env), next: env }, k);
    }
    return (v, p, env, k) =>
      src(v, null, env, (x) => {
        if (p === null) bind(x, v, env, (env2) => body(v, null, env2, k));
        // in a path expression each element the pattern reads is a path step (jq's INDEX): the
        // body's path is where the last one went, its `.` still the input
        else {
          const start = trackOf(p, v);
          bind(x, v, env, (env2, t) => body(v, t === start || t === null ? p : pathAfterPattern(t, v), env2, k), start);
        }
      });
  }

  private compileReduce(n: Extract<Node, { kind: 'reduce' }>, scope: Scope | null): Fn {
    // jq's bytecode order: init, source, update
    const init = this.compile(n.init, scope);
    const src = this.compile(n.source, scope);
    const { names, bind } = this.compileBinder([n.pattern, ...n.alternatives], scope);
    const upd = this.compile(n.update, this.scopeWithVars(scope, names));
    // in a path expression, jq restores the path of init whenever it backtracks: every
    // update and the result start from it, valid only while the state is still init's value
    // jq's DUPN leaves null where the input was: an init's later outputs run the source on null
    return (v, p, env, k) => {
      let input: unknown = v;
      init(v, p, env, (acc0, accp0) => {
        const from = input;
        input = null;
        let acc: unknown = acc0;
        // in a path expression that null is no value reached by a path: a path step on it fails
        src(from, p !== null && from !== v ? badPath(null) : null, env, (x) => {
          if (++state.steps > state.stepsAt) stepCheck();
          bind(x, from, env, (env2) => {
            // jq 1.7.1 moves the state out (LOADVN) and stores each output of the update as it
            // comes (the last one stays): a `?//` in the source retrying after an update's error
            // sees the last output stored, or null
            const cur = acc;
            acc = null;
            upd(cur, p === null ? null : statePath(cur, acc0, accp0), env2, (u) => {
              acc = u;
            });
          });
        });
        k(acc, p === null ? null : statePath(acc, acc0, accp0));
      });
    };
  }

  private compileForeach(n: Extract<Node, { kind: 'foreach' }>, scope: Scope | null): Fn {
    const init = this.compile(n.init, scope);
    const src = this.compile(n.source, scope);
    const { names, bind } = this.compileBinder([n.pattern, ...n.alternatives], scope);
    const inner = this.scopeWithVars(scope, names);
    const upd = this.compile(n.update, inner);
    const ext = n.extract ? this.compile(n.extract, inner) : null;
    // as reduce: an init's later outputs run the source on null (jq's DUPN)
    return (v, p, env, k) => {
      let input: unknown = v;
      init(v, p, env, (acc0, accp0) => {
        const from = input;
        input = null;
        let acc: unknown = acc0;
        // in a path expression that null is no value reached by a path: a path step on it fails
        src(from, p !== null && from !== v ? badPath(null) : null, env, (x) => {
          if (++state.steps > state.stepsAt) stepCheck();
          bind(x, from, env, (env2) => {
            // jq 1.7.1 moves the state out (LOADVN): an update without outputs leaves null
            const cur = acc;
            acc = null;
            // paths: as reduce, each update starts from init's path (jq restores it on backtracking)
            upd(cur, p === null ? null : statePath(cur, acc0, accp0), env2, (u, up) => {
              acc = u;
              if (ext) ext(u, up, env2, k);
              else k(u, up);
            });
          });
        });
      });
    };
  }

  /**
   * `paths |= f` and `paths = $v` with a `?//` in the paths: jq's reduce updates each path as it
   * is generated, so an error of an update makes that `?//` retry its next alternative. By then
   * the reduce state ([value, paths to delete] for |=) was moved out: what a retry generates
   * meets null, whose [1] is no list of paths for _modify's final delpaths.
   */
  private updateRetryingPaths(op: '|=' | '=', lhs: Fn, rhs: Fn): Fn {
    return (v, p, env, k) => {
      const assignOnce = (val: unknown) => {
        let acc: unknown = v;
        let updating = false;
        lhs(v, [], env, (_x, xp) => {
          const path = checkPath(xp as unknown[]);
          // an update failed, and its paths' retry gave this one: the state is gone
          if (updating) acc = null;
          updating = true;
          acc = setPath(acc, path, val, null);
          updating = false;
        });
        emitValue(k, p, acc, v);
      };
      if (op === '=') {
        rhs(v, null, env, assignOnce);
        return;
      }
      const state: ModifyState = { acc: v, dels: [] };
      let updating = false;
      lhs(v, [], env, (_x, xp) => {
        const path = checkPath(xp as unknown[]);
        // an update failed, and its paths' retry gave this one: the state is gone
        if (updating) {
          state.acc = null;
          state.dels = null;
        }
        updating = true;
        modifyAt(state, path, rhs, env, null, p !== null);
        updating = false;
      });
      if (p !== null && state.dels !== null) modifyInPath(state.acc, state.dels);
      if (state.dels === null) throw new JqError('Paths must be specified as an array');
      emitValue(k, p, state.dels.length ? delPathsAll(state.acc, state.dels) : state.acc, v);
    };
  }

  private compileAssign(n: Extract<Node, { kind: 'assign' }>, scope: Scope | null): Fn {
    // jq's bytecode has an arithmetic update's (and //='s) right side before its paths
    if (n.op !== '=' && n.op !== '|=') this.compile(n.right, scope);
    // jq's _assign/_modify take both sides as closures, `a op= b` its left side (sub-functions)
    const lhs = this.subFunctionFn(n.left, scope);
    const rhs = n.op === '=' || n.op === '|=' ? this.subFunctionFn(n.right, scope) : this.compile(n.right, scope);
    // jq's `reduce path(paths) as $p (.; ...)` updates each path as it is generated, so an
    // error while generating a later path comes after the updates of the earlier ones: the
    // paths are collected (one fast loop over them), a generating error is kept for the end
    const collectPaths = (v: unknown, env: Env | null): { paths: unknown[][]; error: JqError | null } => {
      const paths: unknown[][] = [];
      let error: JqError | null = null;
      try {
        lhs(v, [], env, (_x, xp) => {
          chargeSlots(1);
          paths.push(checkPath(xp as unknown[]));
        });
      } catch (e) {
        if (!(e instanceof JqError)) throw e;
        error = e;
      }
      return { paths, error };
    };
    if ((n.op === '|=' || n.op === '=') && hasAlternatives(n.left)) return this.updateRetryingPaths(n.op, lhs, rhs);
    if (n.op === '|=') {
      return (v, p, env, k) => {
        const { paths, error } = collectPaths(v, env);
        const state: ModifyState = { acc: v, dels: [] };
        const owned = ownedSet(paths);
        for (const path of paths) modifyAt(state, path, rhs, env, owned, p !== null);
        if (error !== null) throw error;
        if (p !== null && state.dels !== null) modifyInPath(state.acc, state.dels);
        if (state.dels === null) throw new JqError('Paths must be specified as an array');
        // as jq's _modify: the paths whose update was empty are deleted at the end, all at once
        emitValue(k, p, state.dels.length ? delPathsAll(state.acc, state.dels) : state.acc, v);
      };
    }
    if (n.op === '=') {
      return (v, p, env, k) =>
        rhs(v, null, env, (val) => {
          const { paths, error } = collectPaths(v, env);
          let acc = v;
          const owned = ownedSet(paths);
          for (const path of paths) acc = setPath(acc, path, val, owned);
          if (error !== null) throw error;
          emitValue(k, p, acc, v);
        });
    }
    const op = n.op === '//=' ? (a: unknown, b: unknown) => (truthy(a) ? a : b) : binop(n.op.slice(0, -1));
    if (hasAlternatives(n.left)) {
      // a `?//` in the paths retries its next alternative on an error of an update (jq's reduce
      // runs each update as its path is generated): the reduce state was moved out by then, so
      // what follows meets null, and _modify's final delpaths(null[1]) fails
      return (v, p, env, k) =>
        rhs(v, null, env, (val) => {
          let acc = v;
          let updating = false;
          let stateGone = false;
          lhs(v, [], env, (_x, xp) => {
            const path = checkPath(xp as unknown[]);
            if (updating) {
              acc = null;
              stateGone = true;
            }
            updating = true;
            // _modify's label, one per path
            state.labels++;
            acc = setPath(acc, path, op(getPath(acc, path), val), null);
            updating = false;
          });
          if (p !== null && !updating && !stateGone) modifyInPath(acc, []);
          if (updating || stateGone) throw new JqError('Paths must be specified as an array');
          emitValue(k, p, acc, v);
        });
    }
    return (v, p, env, k) =>
      rhs(v, null, env, (val) => {
        const { paths, error } = collectPaths(v, env);
        let acc = v;
        const owned = ownedSet(paths);
        // jq's _modify enters a label per path: labels made later number on from there
        state.labels += paths.length;
        for (const path of paths) {
          const old = getPath(acc, path);
          disown(owned, old);
          acc = setPath(acc, path, op(old, val), owned);
        }
        if (error !== null) throw error;
        if (p !== null) modifyInPath(acc, []);
        emitValue(k, p, acc, v);
      });
  }
}

/**
 * Containers an assignment has created so far, changed in place by later
 * paths of the same assignment (setPath); none when there is a single path.
 */
function ownedSet(paths: unknown[][]): Set<object> | null {
  return paths.length > 1 ? new Set<object>() : null;
}

/** jq's _modify state: [value, paths to delete]; dels null when that list is gone (moved out, see modifyAt). */
interface ModifyState {
  acc: unknown;
  dels: unknown[][] | null;
}

/**
 * jq's _modify for one path: the update's first output goes to the path and
 * _modify breaks out; a `?//` in the update catches that break and retries
 * its next alternative, whose outputs meet the state already moved out
 * ($$$$dot): null. No output queues the path for deletion; a caught break
 * whose retry gives nothing more runs the delete branch on null.
 */
function modifyAt(m: ModifyState, path: unknown[], rhs: Fn, env: Env | null, owned: Set<object> | null, tracking: boolean): void {
  // _modify's `label $out`, entered for every path
  state.labels++;
  const old = getPath(m.acc, path);
  disown(owned, old);
  let outputs = 0;
  let broke = false;
  const token = {};
  try {
    // in a path expression the update runs on $v, no value at the path: a path step in it fails
    rhs(old, tracking ? badPath(old) : null, env, (x) => {
      outputs++;
      if (outputs === 1) m.acc = setPath(m.acc, path, x, owned);
      else {
        owned?.clear();
        m.acc = setPath(null, path, x, owned);
        m.dels = null;
      }
      throw new BreakSignal(token);
    });
  } catch (e) {
    if (!(e instanceof BreakSignal && e.token === token)) throw e;
    broke = true;
  }
  if (outputs === 0) (m.dels ??= []).push(path);
  else if (!broke) {
    owned?.clear();
    m.acc = null;
    m.dels = [path];
  }
}

/**
 * jq's _modify ends with `. as $dot | $dot[0] | delpaths($dot[1])`: in a path expression that
 * index reads the reduce state [value, paths to delete], no value at the path, and fails.
 */
function modifyInPath(acc: unknown, dels: unknown[][]): never {
  throw nearAttempt(0, [acc, dels]);
}

/** The path of a reduce/foreach state: init's, while the state is still init's value. */
function statePath(acc: unknown, acc0: unknown, accp0: Path): Path {
  return acc === acc0 ? accp0 : badPath(acc);
}

/** A value handed to the right-hand side may end up referenced twice: nothing is owned any more. */
function disown(owned: Set<object> | null, old: unknown): void {
  if (owned !== null && old !== null && typeof old === 'object' && owned.has(old)) owned.clear();
}

/** `x0 op1 x1 op2 x2 ...` (parsed left-deep): the leftmost operand, then the right operands and operators from the last inward. */
function operatorChain(n: Node): { first: Node; rights: Node[]; ops: Array<(a: unknown, b: unknown) => unknown> } {
  const rights: Node[] = [];
  const ops: Array<(a: unknown, b: unknown) => unknown> = [];
  let cur = n;
  while (cur.kind === 'binop') {
    rights.push(cur.right);
    ops.push(binop(cur.op));
    cur = cur.left;
  }
  return { first: cur, rights, ops };
}

/** The operands of `a, b, c, ...` in order, however the commas nest. */
function commaItems(n: Node): Node[] {
  const items: Node[] = [];
  const stack: Node[] = [n];
  while (stack.length) {
    const x = stack.pop()!;
    if (x.kind === 'comma') stack.push(x.right, x.left);
    else items.push(x);
  }
  return items;
}

/** `l op r` for generators: every r output (outer), every l output (inner), as jq does. */
function operatorFn(l: Fn, r: Fn, op: (a: unknown, b: unknown) => unknown): Fn {
  return (v, p, env, k) =>
    r(v, null, env, (b) => {
      l(v, null, env, (a) => emitValue(k, p, op(a, b)));
    });
}

function joinCharged(parts: string[]): string {
  const s = parts.join('');
  chargeChars(s.length);
  return s;
}

/** steps of a while/until with `?//` run nested (each inside the outputs it came from) before the loop takes over */
const RETRYING_STEPS = 200;

/**
 * while/until with `?//` in cond or update, run as jq 1.7.1 defines them (`def _while: if cond then
 * ., (update | _while) else empty end`, `def _until: if cond then . else (next | _until) end`):
 * each step runs inside the cond and update outputs it came from, so an error or break downstream
 * (the break of first/limit too) makes their `?//` retry its next alternative. That takes one
 * nesting per step: after RETRYING_STEPS of them the rest runs as `loop` (the stackless native
 * while/until), whose own steps no longer retry.
 */
function retryingConditionLoop(cond: Fn, upd: Fn, isWhile: boolean, loop: Fn): Fn {
  const step = (v: unknown, p: Path, env: Env | null, k: Emit, depth: number): void => {
    if (depth >= RETRYING_STEPS) return loop(v, p, env, k);
    if (++state.steps > state.stepsAt) stepCheck();
    cond(v, null, env, (c) => {
      if (truthy(c) !== isWhile) {
        if (!isWhile) k(v, p);
        return;
      }
      if (isWhile) k(v, p);
      upd(v, p, env, (u, up) => step(u, up, env, k, depth + 1));
    });
  };
  return (v, p, env, k) => step(v, p, env, k, 0);
}

const alternativesSeen = new WeakMap<object, boolean>();
/** whether the program text holds a destructuring with `?//` alternatives (written in it, not in a def it calls) */
function hasAlternatives(n: unknown): boolean {
  if (typeof n !== 'object' || n === null) return false;
  const seen = alternativesSeen.get(n);
  if (seen !== undefined) return seen;
  const kind = (n as { kind?: unknown }).kind;
  let found =
    (kind === 'bind' && (n as { patterns: unknown[] }).patterns.length > 1) ||
    ((kind === 'reduce' || kind === 'foreach') && (n as { alternatives: unknown[] }).alternatives.length > 0);
  if (!found) found = Object.values(n).some(hasAlternatives);
  alternativesSeen.set(n, found);
  return found;
}

/**
 * `gen | body` in tail position: every output of `gen` but the last runs
 * `body` to the end at once (its own tail calls included); the last one's
 * tail call goes back to the loop. Running an output when the next one
 * arrives keeps the order of outputs; an error (or break, halt) of `gen`
 * itself first runs the output before it, as jq would have.
 */
function lastInTail(gen: Fn, body: (v: unknown, x: unknown, env: Env | null, k: Emit) => TailCall | null): TailFn {
  return (v, env, k) => {
    let pending: unknown = NONE;
    let downstream = false;
    // an output before the last nests: it counts against the depth limit like a call
    const runFully = (x: unknown): void => {
      if (++state.depth > state.budget.depth) {
        state.depth--;
        throw new RecursionError();
      }
      try {
        const c = body(v, x, env, k);
        if (c !== null) resume(c, k);
      } catch (err) {
        if (err instanceof RangeError && err.message.indexOf('call stack') >= 0) throw new RecursionError();
        throw err;
      } finally {
        state.depth--;
      }
    };
    try {
      gen(v, null, env, (x) => {
        if (pending !== NONE) {
          const y = pending;
          pending = x;
          downstream = true;
          runFully(y);
          downstream = false;
        } else pending = x;
      });
    } catch (e) {
      if (!downstream && pending !== NONE && !(e instanceof BudgetError) && !(e instanceof RangeError)) runFully(pending);
      throw e;
    }
    return pending === NONE ? null : body(v, pending, env, k);
  };
}

const identityTail: TailFn = (v, _env, k) => {
  k(v, null);
  return null;
};

function constClosure(x: unknown): Closure {
  return { fn: (_v, p, _env, k) => emitValue(k, p, x), env: null };
}

/**
 * Binds a def's $params in the callee: `a as $a | b as $b | ...` over the
 * parameter closures of `e` (the last parameter's is first), then calls
 * `body` with the extended environment once per combination.
 */
function paramBinder(arity: number, varIdx: number[]): (v: unknown, e: Env | null, body: (e: Env | null) => void) => void {
  return (v, e, body) => {
    const step = (j: number, cur: Env | null): void => {
      if (j === varIdx.length) {
        body(cur);
        return;
      }
      let ce = e!;
      for (let t = arity - 1 - varIdx[j]; t > 0; t--) ce = ce.next!;
      const c = ce.v as Closure;
      c.fn(v, null, c.env, (x) => step(j + 1, { v: x, next: cur }));
    };
    step(0, e);
  };
}

export class RecursionError {
  message = 'jq recursion depth limit exceeded';
}

type PatternFn = (val: unknown, input: unknown, env: Env | null, slots: unknown[], cb: (t: PathTrack | null) => void, t: PathTrack | null) => void;

/** jq's path state at a pattern: the path and the value at it (a pending path's own; none for a bad one) */
function trackOf(p: unknown[], v: unknown): PathTrack {
  const pending = pendingOf(p);
  if (pending !== undefined) return { at: pending.at, value: pending.value };
  return isBad(p) ? { at: null, value: undefined } : { at: p, value: v };
}

/** the body's path after a pattern: the pattern's, valid for `.` only when `.` is the value it reached */
function pathAfterPattern(t: PathTrack, v: unknown): unknown[] {
  return sameAtPath(v, t.value) ? t.at! : pendingPath(t.at!, t.value, v);
}

function arrayElement(val: unknown, i: number): unknown {
  if (val !== null && !Array.isArray(val)) throw new JqError(`Cannot index ${typeOf(val)} with number`);
  return indexValue(val, i);
}

function objIndex(val: unknown, key: string): unknown {
  if (val === null) return null;
  if (!isObject(val)) throw new JqError(`Cannot index ${typeOf(val)} with ${keyDesc(key)}`);
  return getKey(val, key);
}

function pushSlots(env: Env | null, slots: unknown[]): Env | null {
  let e = env;
  for (let i = 0; i < slots.length; i++) e = { v: slots[i], next: e };
  return e;
}

function objKeyError(key: unknown): JqError {
  return new JqError(`Cannot use ${describe(key)} as object key`);
}

const NONE = Symbol('none');
/** f's value, or NONE when it raises a jq error (the error of an optional step) */
function optional(f: () => unknown): unknown {
  try {
    return f();
  } catch (e) {
    if (e instanceof JqError) return NONE;
    throw e;
  }
}

function isPathCapable(n: Node): boolean {
  switch (n.kind) {
    case 'identity':
    case 'index':
    case 'slice':
    case 'pipe':
    case 'if':
    case 'alt':
      return true;
    case 'call':
    case 'var':
      return true;
  }
  return false;
}

function p0single(c: Compiler, n: Node, scope: Scope | null): SFn | null {
  return c.single(n, scope);
}

export { JqSyntaxError, opAdd, getPath, setPath };

/** `-x` of anything but a plain double: a kept literal negates its double (jq's _negate), the rest fail. */
function negateOther(x: unknown): number {
  if (x instanceof LiteralNumber) return -x.value;
  throw new JqError(`${describe(x)} cannot be negated`);
}
