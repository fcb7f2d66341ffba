// Simple jq filters evaluated on the module's own values.
//
// Most jq nodes in flows are field paths, object construction, `//`, `+`,
// `*` and comparisons with a literal. The host describes such a filter as a
// small tree (`jq_simple`, host/jq/simple.ts); evaluating it here saves the
// node's round trip through the host's jq: its input written as JSON, parsed
// there, the result written back as JSON and parsed here.
//
// The host stays the authority. Evaluation returns null, and the node calls
// `jq_run` as before, whenever this file cannot be sure to give exactly the
// host's answer: any jq error (the host words it), a type combination not
// handled here, or a value whose JSON text could differ from the host's
// (numbers other than safe integers, strings with surrogates or invalid
// UTF-8, object keys that JavaScript orders first or treats specially).

import { writeLimitBytes } from './bytes';
import { Kind, parseJsonSlice, Value } from './json';

const OP_IDENTITY: i32 = 0;
const OP_LITERAL: i32 = 1;
const OP_INDEX: i32 = 2;
const OP_PIPE: i32 = 3;
const OP_ALT: i32 = 4;
const OP_OBJECT: i32 = 5;
const OP_ADD: i32 = 6;
const OP_MUL: i32 = 7;
const OP_EQ: i32 = 8;
const OP_NE: i32 = 9;

/** One node of a compiled simple filter. */
export class JqOp {
  op: i32 = OP_IDENTITY;
  a: JqOp | null = null;
  b: JqOp | null = null;
  literal: Value | null = null;
  /** OP_OBJECT: constant keys and their value expressions */
  keys: string[] = [];
  vals: JqOp[] = [];
}

/** Compiles the host's simple form (a JSON tree); null when it is not one this module knows. */
export function compileSimple(form: Value): JqOp | null {
  if (form.typeKind() != Kind.ARR) return null;
  const items = form.resolve().items!;
  if (items.length == 0 || items[0].typeKind() != Kind.STR) return null;
  const tag = items[0].resolve().s;
  const op = new JqOp();
  if (tag == '.') {
    op.op = OP_IDENTITY;
    return items.length == 1 ? op : null;
  }
  if (tag == 'v') {
    if (items.length != 2) return null;
    const lit = items[1].resolve();
    if (lit.kind == Kind.ARR || lit.kind == Kind.OBJ) return null;
    op.op = OP_LITERAL;
    op.literal = lit;
    return op;
  }
  if (tag == '{') {
    if (items.length % 2 != 1) return null;
    op.op = OP_OBJECT;
    for (let i = 1; i < items.length; i += 2) {
      if (items[i].typeKind() != Kind.STR) return null;
      const e = compileSimple(items[i + 1]);
      if (e === null) return null;
      op.keys.push(items[i].resolve().s);
      op.vals.push(e);
    }
    return op;
  }
  if (tag == 'i') op.op = OP_INDEX;
  else if (tag == '|') op.op = OP_PIPE;
  else if (tag == '//') op.op = OP_ALT;
  else if (tag == '+') op.op = OP_ADD;
  else if (tag == '*') op.op = OP_MUL;
  else if (tag == '==') op.op = OP_EQ;
  else if (tag == '!=') op.op = OP_NE;
  else return null;
  if (items.length != 3) return null;
  op.a = compileSimple(items[1]);
  op.b = compileSimple(items[2]);
  return op.a === null || op.b === null ? null : op;
}

/**
 * The filter's one output for `input`, as a fresh, fully parsed value whose
 * JSON text is the host's; null: ask the host.
 */
export function evalSimple(op: JqOp, input: Value): Value | null {
  checkedRaw = 0;
  const v = evalOp(op, input);
  if (v === null) return null;
  copyBudget = <i64>writeLimitBytes();
  return canonical(v, false);
}

// what canonical() may still copy, in bytes of JSON text, roughly: values
// share parts, so a small result can stand for exponentially much text;
// past the write limit the host's jq (with its memory budget) decides
let copyBudget: i64 = 0;

function evalOp(op: JqOp, input: Value): Value | null {
  const k = op.op;
  if (k == OP_IDENTITY) return input;
  if (k == OP_LITERAL) return op.literal;
  if (k == OP_OBJECT) {
    const o = Value.obj();
    for (let i = 0; i < op.keys.length; i++) {
      const v = evalOp(op.vals[i], input);
      if (v === null) return null;
      o.keys!.push(op.keys[i]);
      o.vals!.push(v);
    }
    return o;
  }
  const l = evalOp(op.a!, input);
  if (l === null) return null;
  if (k == OP_PIPE) return evalOp(op.b!, l);
  if (k == OP_ALT) return truthy(l) ? l : evalOp(op.b!, input);
  const r = evalOp(op.b!, input);
  if (r === null) return null;
  if (k == OP_INDEX) return index(l, r);
  if (k == OP_ADD) return add(l, r);
  if (k == OP_MUL) return mul(l, r);
  if (k == OP_EQ || k == OP_NE) {
    const lk = l.typeKind();
    const rk = r.typeKind();
    // containers compare deeply in jq; not needed by the filters this serves
    if (lk == Kind.ARR || lk == Kind.OBJ || rk == Kind.ARR || rk == Kind.OBJ) return null;
    const pl = parsed(l);
    const pr = parsed(r);
    if (pl === null || pr === null) return null;
    const eq = lk == rk && scalarEquals(pl, pr);
    return Value.bool(k == OP_EQ ? eq : !eq);
  }
  return null;
}

/**
 * A RAW value parsed one level into a copy (the original may be shared and
 * must keep its text); null when its text could parse differently in the
 * host (see rawSafe).
 */
function parsed(v: Value): Value | null {
  if (v.kind != Kind.RAW) return v;
  if (!rawChecked(v)) return null;
  return Value.rawSlice(v.raw!, v.rawStart, v.rawEnd).resolve();
}

// the last RAW text found safe: lookups walk down into it, and its parts need
// no second scan. An address, not a reference: the buffer lives in a request
// arena, which the collector must never find through a global.
let checkedRaw: usize = 0;
let checkedStart: i32 = 0;
let checkedEnd: i32 = 0;

function rawChecked(v: Value): bool {
  const buf = changetype<usize>(v.raw);
  if (buf == checkedRaw && v.rawStart >= checkedStart && v.rawEnd <= checkedEnd) return true;
  if (!rawSafe(v.raw!, v.rawStart, v.rawEnd)) return false;
  checkedRaw = buf;
  checkedStart = v.rawStart;
  checkedEnd = v.rawEnd;
  return true;
}

function truthy(v: Value): bool {
  const k = v.typeKind();
  if (k == Kind.NULL) return false;
  // a RAW boolean's first byte says which
  if (k == Kind.BOOL) return v.kind == Kind.RAW ? load<u8>(changetype<usize>(v.raw!) + <usize>v.rawStart) == 0x74 : v.b;
  return true;
}

function scalarEquals(a: Value, b: Value): bool {
  if (a.kind == Kind.NULL) return true;
  if (a.kind == Kind.BOOL) return a.b == b.b;
  if (a.kind == Kind.NUM) return a.n == b.n;
  return a.s == b.s;
}

/** `t[key]` for an object or null and a string key. */
function index(t: Value, key: Value): Value | null {
  if (key.typeKind() != Kind.STR) return null;
  const pk = parsed(key);
  if (pk === null || pk.s == '__proto__') return null;
  const tk = t.typeKind();
  if (tk == Kind.NULL) return Value.nul();
  if (tk != Kind.OBJ) return null;
  const pt = parsed(t);
  if (pt === null) return null;
  const m = pt.get(pk.s);
  return m === null ? Value.nul() : m;
}

function add(l: Value, r: Value): Value | null {
  const lk = l.typeKind();
  const rk = r.typeKind();
  if (lk == Kind.NULL) return r;
  if (rk == Kind.NULL) return l;
  if (lk != rk) return null;
  const pl = parsed(l);
  const pr = parsed(r);
  if (pl === null || pr === null) return null;
  if (lk == Kind.NUM) return Value.num(pl.n + pr.n);
  // a string over the write limit is the host's to build (its jq has a memory budget)
  if (lk == Kind.STR) return pl.s.length + pr.s.length > writeLimitBytes() ? null : Value.str(pl.s + pr.s);
  if (lk == Kind.ARR) {
    const out = Value.arr();
    const a = pl.items!;
    const b = pr.items!;
    for (let i = 0; i < a.length; i++) out.items!.push(a[i]);
    for (let i = 0; i < b.length; i++) out.items!.push(b[i]);
    return out;
  }
  if (lk == Kind.OBJ) return merge(pl, pr, false);
  return null;
}

function mul(l: Value, r: Value): Value | null {
  const lk = l.typeKind();
  const rk = r.typeKind();
  if (lk != rk || (lk != Kind.NUM && lk != Kind.OBJ)) return null;
  const pl = parsed(l);
  const pr = parsed(r);
  if (pl === null || pr === null) return null;
  return lk == Kind.NUM ? Value.num(pl.n * pr.n) : merge(pl, pr, true);
}

/**
 * `a + b` (deep: false) or `a * b` (deep: true) on parsed objects, as the
 * host does it on JavaScript objects: b's keys win in place, new keys go last.
 */
function merge(pa: Value, pb: Value, deep: bool): Value | null {
  const out = Value.obj();
  const keys = out.keys!;
  const vals = out.vals!;
  for (let i = 0; i < pa.keys!.length; i++) {
    keys.push(pa.keys![i]);
    vals.push(pa.vals![i]);
  }
  for (let j = 0; j < pb.keys!.length; j++) {
    const key = pb.keys![j];
    const bv = pb.vals![j];
    const at = keys.indexOf(key);
    if (at < 0) {
      keys.push(key);
      vals.push(bv);
    } else if (deep && vals[at].typeKind() == Kind.OBJ && bv.typeKind() == Kind.OBJ) {
      const a = parsed(vals[at]);
      const b = parsed(bv);
      if (a === null || b === null) return null;
      const m = merge(a, b, true);
      if (m === null) return null;
      vals[at] = m;
    } else {
      vals[at] = bv;
    }
  }
  return out;
}

// ---------------------------------------------------------------- results

/**
 * A fresh, fully parsed copy of a result whose JSON text is what the host's
 * JSON.stringify would write for the same value; null when that is not
 * certain: the host parses its input with JSON.parse and writes results
 * with JSON.stringify, where this module passes RAW text through verbatim.
 * `fresh`: `v` was just parsed here and is shared with nothing, so it is
 * checked in place instead of copied.
 */
function canonical(v: Value, fresh: bool): Value | null {
  const k = v.kind;
  // a RAW text is charged as its parsed parts are copied
  if (k == Kind.RAW ? <i64>(v.rawEnd - v.rawStart) > copyBudget : (copyBudget -= k == Kind.STR ? <i64>v.s.length + 2 : 1) < 0) return null;
  if (k == Kind.RAW) {
    if (!rawChecked(v)) return null;
    const p = parseJsonSlice(v.raw!, v.rawStart, v.rawEnd, false);
    return p === null ? null : canonical(p, true);
  }
  if (k == Kind.NULL) return fresh ? v : Value.nul();
  if (k == Kind.BOOL) return fresh ? v : Value.bool(v.b);
  if (k == Kind.NUM) {
    // integers below 2^53 print the same everywhere; other numbers may not
    const n = v.n;
    if (!(n == Math.floor(n) && Math.abs(n) < 9007199254740992.0)) return null;
    return fresh ? v : Value.num(n);
  }
  if (k == Kind.STR) {
    if (hasSurrogate(v.s)) return null;
    return fresh ? v : Value.str(v.s);
  }
  if (k == Kind.ARR) {
    const items = v.items!;
    const out = fresh ? v : Value.arr();
    for (let i = 0; i < items.length; i++) {
      const c = canonical(items[i], fresh);
      if (c === null) return null;
      if (!fresh) out.items!.push(c);
    }
    return out;
  }
  const keys = v.keys!;
  const vals = v.vals!;
  const out = fresh ? v : Value.obj();
  for (let i = 0; i < keys.length; i++) {
    copyBudget -= <i64>keys[i].length + 3;
    // JavaScript objects list integer-like keys first; __proto__ is special
    if (allDigits(keys[i]) || keys[i] == '__proto__' || hasSurrogate(keys[i])) return null;
    const c = canonical(vals[i], fresh);
    if (c === null) return null;
    if (!fresh) {
      out.keys!.push(keys[i]);
      out.vals!.push(c);
    }
  }
  return out;
}

function hasSurrogate(s: string): bool {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdfff) return true;
  }
  return false;
}

function allDigits(s: string): bool {
  if (s.length == 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 48 || c > 57) return false;
  }
  return true;
}

/**
 * Whether JSON text parses here exactly as JSON.parse parses it in the
 * host: every number a plain integer of at most 15 digits (exact in any
 * parser; others depend on decimal rounding), every string valid UTF-8 (the
 * host decodes invalid bytes its own way). The text is valid JSON already
 * (RAW slices are validated when cut).
 */
function rawSafe(buf: ArrayBuffer, start: i32, end: i32): bool {
  const p = changetype<usize>(buf);
  let i = start;
  while (i < end) {
    const c = load<u8>(p + <usize>i);
    if (c == 0x22) {
      i++;
      while (i < end) {
        const d = load<u8>(p + <usize>i);
        if (d == 0x22) break;
        if (d == 0x5c) i += 2;
        else if (d < 0x80) i++;
        else {
          const n = utf8Length(p, i, end);
          if (n == 0) return false;
          i += n;
        }
      }
      i++;
    } else if (c == 0x2d || (c >= 0x30 && c <= 0x39)) {
      if (c == 0x2d) i++;
      let digits = 0;
      while (i < end) {
        const d = load<u8>(p + <usize>i);
        if (d < 0x30 || d > 0x39) break;
        digits++;
        i++;
      }
      if (digits > 15) return false;
      if (i < end) {
        const d = load<u8>(p + <usize>i);
        if (d == 0x2e || d == 0x65 || d == 0x45) return false;
      }
    } else i++;
  }
  return true;
}

/** The length of the well-formed UTF-8 sequence at `i` (RFC 3629), 0 if there is none. */
function utf8Length(p: usize, i: i32, end: i32): i32 {
  const c = <u32>load<u8>(p + <usize>i);
  let n: i32 = 0;
  let lo: u32 = 0x80;
  let hi: u32 = 0xbf;
  if (c >= 0xc2 && c <= 0xdf) n = 2;
  else if (c >= 0xe0 && c <= 0xef) {
    n = 3;
    if (c == 0xe0) lo = 0xa0;
    else if (c == 0xed) hi = 0x9f;
  } else if (c >= 0xf0 && c <= 0xf4) {
    n = 4;
    if (c == 0xf0) lo = 0x90;
    else if (c == 0xf4) hi = 0x8f;
  } else return 0;
  if (i + n > end) return 0;
  for (let k = 1; k < n; k++) {
    const d = <u32>load<u8>(p + <usize>(i + k));
    if (k == 1 ? d < lo || d > hi : d < 0x80 || d > 0xbf) return 0;
  }
  return n;
}
