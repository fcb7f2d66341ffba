// JSON values as the engine passes them between nodes.
//
// Values that arrive as JSON text (request metadata, jq results, call
// bodies) stay as a RAW slice of that text until a node needs their
// structure; passing them on re-emits the slice verbatim. resolve() parses
// one level at a time, so deep structure nobody looks at is never built.

import { ByteWriter, decodeSlice } from './bytes';

export const enum Kind {
  NULL = 0,
  BOOL = 1,
  NUM = 2,
  STR = 3,
  ARR = 4,
  OBJ = 5,
  RAW = 6,
}

const MAX_DEPTH: i32 = 256;

export class Value {
  kind: i32 = Kind.NULL;
  b: bool = false;
  n: f64 = 0;
  s: string = '';
  /** exact bytes of a STR value taken from a body (may be non-UTF-8) */
  bytes: ArrayBuffer | null = null;
  items: Array<Value> | null = null;
  keys: Array<string> | null = null;
  vals: Array<Value> | null = null;
  raw: ArrayBuffer | null = null;
  rawStart: i32 = 0;
  rawEnd: i32 = 0;
  /** derived from a vault secret: masked in traces and errors */
  sensitive: bool = false;
  /** content type hint for bodies made from this value (handlebars, XML) */
  ctype: string = '';

  static nul(): Value {
    return new Value();
  }
  static bool(b: bool): Value {
    const v = new Value();
    v.kind = Kind.BOOL;
    v.b = b;
    return v;
  }
  static num(n: f64): Value {
    const v = new Value();
    v.kind = Kind.NUM;
    v.n = n;
    return v;
  }
  static str(s: string): Value {
    const v = new Value();
    v.kind = Kind.STR;
    v.s = s;
    return v;
  }
  /** a string holding exact bytes (a body); text decoded lazily */
  static fromBytes(b: ArrayBuffer): Value {
    const v = new Value();
    v.kind = Kind.STR;
    v.bytes = b;
    v.s = String.UTF8.decode(b);
    return v;
  }
  static arr(): Value {
    const v = new Value();
    v.kind = Kind.ARR;
    v.items = new Array<Value>();
    return v;
  }
  static obj(): Value {
    const v = new Value();
    v.kind = Kind.OBJ;
    v.keys = new Array<string>();
    v.vals = new Array<Value>();
    return v;
  }
  static rawSlice(buf: ArrayBuffer, start: i32, end: i32): Value {
    const v = new Value();
    v.kind = Kind.RAW;
    v.raw = buf;
    v.rawStart = start;
    v.rawEnd = end;
    return v;
  }

  /** The JSON type, without parsing a RAW value. */
  typeKind(): i32 {
    if (this.kind != Kind.RAW) return this.kind;
    const p = changetype<usize>(this.raw!);
    const c = load<u8>(p + <usize>this.rawStart);
    if (c == 0x7b) return Kind.OBJ;
    if (c == 0x5b) return Kind.ARR;
    if (c == 0x22) return Kind.STR;
    if (c == 0x74 || c == 0x66) return Kind.BOOL;
    if (c == 0x6e) return Kind.NULL;
    return Kind.NUM;
  }

  /** Parses a RAW value in place (one level deep). */
  resolve(): Value {
    if (this.kind != Kind.RAW) return this;
    const p = new JsonParser(this.raw!, this.rawStart, this.rawEnd, 1);
    p.trusted = true; // validated when it was cut
    const v = p.parseValue(0);
    if (v === null) {
      // RAW slices are validated when cut, so this cannot happen; be safe
      this.kind = Kind.NULL;
    } else {
      this.kind = v.kind;
      this.b = v.b;
      this.n = v.n;
      this.s = v.s;
      this.items = v.items;
      this.keys = v.keys;
      this.vals = v.vals;
    }
    this.raw = null;
    return this;
  }

  isNull(): bool {
    return this.typeKind() == Kind.NULL;
  }

  // ---- objects ----
  get(key: string): Value | null {
    this.resolve();
    if (this.kind != Kind.OBJ) return null;
    const keys = this.keys!;
    for (let i = 0; i < keys.length; i++) {
      if (keys[i] == key) return this.vals![i];
    }
    return null;
  }

  set(key: string, val: Value): void {
    this.resolve();
    const keys = this.keys!;
    for (let i = 0; i < keys.length; i++) {
      if (keys[i] == key) {
        this.vals![i] = val;
        return;
      }
    }
    keys.push(key);
    this.vals!.push(val);
  }

  remove(key: string): void {
    this.resolve();
    const keys = this.keys!;
    for (let i = 0; i < keys.length; i++) {
      if (keys[i] == key) {
        keys.splice(i, 1);
        this.vals!.splice(i, 1);
        return;
      }
    }
  }

  size(): i32 {
    this.resolve();
    if (this.kind == Kind.OBJ) return this.keys!.length;
    if (this.kind == Kind.ARR) return this.items!.length;
    return 0;
  }

  push(v: Value): void {
    this.resolve();
    this.items!.push(v);
  }

  /** A shallow copy, so that a node can change an object it was given. */
  shallowCopy(): Value {
    this.resolve();
    const v = new Value();
    v.kind = this.kind;
    v.b = this.b;
    v.n = this.n;
    v.s = this.s;
    v.bytes = this.bytes;
    v.sensitive = this.sensitive;
    if (this.items !== null) v.items = this.items!.slice(0);
    if (this.keys !== null) {
      v.keys = this.keys!.slice(0);
      v.vals = this.vals!.slice(0);
    }
    return v;
  }

  toJson(): ArrayBuffer {
    const w = new ByteWriter(64);
    writeJson(w, this);
    return w.finish();
  }

  toJsonString(): string {
    const w = new ByteWriter(64);
    writeJson(w, this);
    return w.toString();
  }
}

export function valueTypeName(v: Value): string {
  return typeName(v.typeKind());
}

export function typeName(k: i32): string {
  if (k == Kind.NULL) return 'null';
  if (k == Kind.BOOL) return 'boolean';
  if (k == Kind.NUM) return 'number';
  if (k == Kind.STR) return 'string';
  if (k == Kind.ARR) return 'array';
  if (k == Kind.OBJ) return 'object';
  return 'raw';
}

// ---------------------------------------------------------------- parsing

export class JsonParser {
  buf: ArrayBuffer;
  base: usize;
  pos: i32;
  end: i32;
  /** containers at this depth or deeper become RAW slices */
  lazyDepth: i32;
  error: string | null = null;
  /**
   * The text was validated before (it is a RAW slice's): containers are
   * skipped by matching brackets and strings, without checking them again.
   */
  trusted: bool = false;

  constructor(buf: ArrayBuffer, start: i32, end: i32, lazyDepth: i32 = 1 << 30) {
    this.buf = buf;
    this.base = changetype<usize>(buf);
    this.pos = start;
    this.end = end;
    this.lazyDepth = lazyDepth;
  }

  @inline peek(): i32 {
    return this.pos < this.end ? <i32>load<u8>(this.base + <usize>this.pos) : -1;
  }

  ws(): void {
    // locals, not fields, in the byte loops: a field is a memory load and store per byte
    const base = this.base;
    const end = this.end;
    let pos = this.pos;
    while (pos < end) {
      const c = load<u8>(base + <usize>pos);
      if (c == 0x20 || c == 0x0a || c == 0x0d || c == 0x09) pos++;
      else break;
    }
    this.pos = pos;
  }

  fail(msg: string): Value | null {
    if (this.error === null) this.error = msg + ' at byte ' + this.pos.toString();
    return null;
  }

  /** Parses the whole input as exactly one value. */
  parseDocument(): Value | null {
    const v = this.parseValue(0);
    if (v === null) return null;
    this.ws();
    if (this.pos != this.end) return this.fail('trailing characters after JSON value');
    return v;
  }

  parseValue(depth: i32): Value | null {
    this.ws();
    if (depth > MAX_DEPTH) return this.fail('JSON nested too deeply');
    const c = this.peek();
    if (c == 0x7b || c == 0x5b) {
      if (depth >= this.lazyDepth) {
        const start = this.pos;
        if (!this.skipValue(depth)) return null;
        return Value.rawSlice(this.buf, start, this.pos);
      }
      return c == 0x7b ? this.parseObject(depth) : this.parseArray(depth);
    }
    if (c == 0x22) {
      const s = this.parseString();
      if (s === null) return null;
      return Value.str(s);
    }
    if (c == 0x74) return this.literal('true') ? Value.bool(true) : this.fail('invalid literal');
    if (c == 0x66) return this.literal('false') ? Value.bool(false) : this.fail('invalid literal');
    if (c == 0x6e) return this.literal('null') ? Value.nul() : this.fail('invalid literal');
    if (c == 0x2d || (c >= 0x30 && c <= 0x39)) return this.parseNumber();
    if (c < 0) return this.fail('unexpected end of JSON input');
    return this.fail('unexpected character');
  }

  literal(word: string): bool {
    const n = word.length;
    if (this.pos + n > this.end) return false;
    for (let i = 0; i < n; i++) {
      if (<i32>load<u8>(this.base + <usize>(this.pos + i)) != word.charCodeAt(i)) return false;
    }
    this.pos += n;
    return true;
  }

  parseObject(depth: i32): Value | null {
    this.pos++; // {
    const v = Value.obj();
    this.ws();
    if (this.peek() == 0x7d) {
      this.pos++;
      return v;
    }
    while (true) {
      this.ws();
      if (this.peek() != 0x22) return this.fail('expected string key');
      const k = this.parseString();
      if (k === null) return null;
      this.ws();
      if (this.peek() != 0x3a) return this.fail("expected ':'");
      this.pos++;
      const item = this.parseValue(depth + 1);
      if (item === null) return null;
      v.set(k, item); // duplicate keys: last one wins, like jq
      this.ws();
      const c = this.peek();
      if (c == 0x2c) {
        this.pos++;
        continue;
      }
      if (c == 0x7d) {
        this.pos++;
        return v;
      }
      return this.fail("expected ',' or '}'");
    }
  }

  parseArray(depth: i32): Value | null {
    this.pos++; // [
    const v = Value.arr();
    this.ws();
    if (this.peek() == 0x5d) {
      this.pos++;
      return v;
    }
    while (true) {
      const item = this.parseValue(depth + 1);
      if (item === null) return null;
      v.items!.push(item);
      this.ws();
      const c = this.peek();
      if (c == 0x2c) {
        this.pos++;
        continue;
      }
      if (c == 0x5d) {
        this.pos++;
        return v;
      }
      return this.fail("expected ',' or ']'");
    }
  }

  /** whether the last scanNumber() saw neither a fraction nor an exponent */
  numberIsInteger: bool = false;

  /**
   * Checks a number's syntax from `pos` and moves past it; returns the count
   * of integer digits, or -1 when it is not a valid JSON number.
   */
  scanNumber(): i32 {
    this.numberIsInteger = true;
    if (this.peek() == 0x2d) this.pos++;
    let digits = 0;
    while (this.pos < this.end) {
      const c = <i32>load<u8>(this.base + <usize>this.pos);
      if (c >= 0x30 && c <= 0x39) {
        digits++;
        this.pos++;
      } else break;
    }
    if (digits == 0) return -1;
    let c = this.peek();
    if (c == 0x2e) {
      this.numberIsInteger = false;
      this.pos++;
      let frac = 0;
      while (this.pos < this.end) {
        const d = <i32>load<u8>(this.base + <usize>this.pos);
        if (d >= 0x30 && d <= 0x39) {
          this.pos++;
          frac++;
        } else break;
      }
      if (frac == 0) return -1;
      c = this.peek();
    }
    if (c == 0x65 || c == 0x45) {
      this.numberIsInteger = false;
      this.pos++;
      c = this.peek();
      if (c == 0x2b || c == 0x2d) this.pos++;
      let ex = 0;
      while (this.pos < this.end) {
        const d = <i32>load<u8>(this.base + <usize>this.pos);
        if (d >= 0x30 && d <= 0x39) {
          this.pos++;
          ex++;
        } else break;
      }
      if (ex == 0) return -1;
    }
    return digits;
  }

  parseNumber(): Value | null {
    const start = this.pos;
    const digits = this.scanNumber();
    if (digits < 0) return this.fail('invalid number');
    if (this.numberIsInteger && digits < 16) {
      // small integers: exact in f64, no decimal conversion needed
      const neg = load<u8>(this.base + <usize>start) == 0x2d;
      let v: f64 = 0;
      for (let i = neg ? start + 1 : start; i < this.pos; i++) v = v * 10 + <f64>(<i32>load<u8>(this.base + <usize>i) - 0x30);
      return Value.num(neg ? -v : v);
    }
    return Value.num(parseFloat(decodeSlice(this.buf, start, this.pos)));
  }

  parseString(): string | null {
    this.pos++; // opening quote
    let out = '';
    let runStart = this.pos;
    while (true) {
      if (this.pos >= this.end) {
        this.fail('unterminated string');
        return null;
      }
      const c = <i32>load<u8>(this.base + <usize>this.pos);
      if (c == 0x22) {
        if (this.pos > runStart) {
          // most strings have no escape: one decode, no concatenation
          const run = decodeSlice(this.buf, runStart, this.pos);
          out = out.length == 0 ? run : out + run;
        }
        this.pos++;
        return out;
      }
      if (c < 0x20) {
        this.fail('control character in string');
        return null;
      }
      if (c != 0x5c) {
        this.pos++;
        continue;
      }
      // escape
      if (this.pos > runStart) out += decodeSlice(this.buf, runStart, this.pos);
      this.pos++;
      if (this.pos >= this.end) {
        this.fail('unterminated string');
        return null;
      }
      const e = <i32>load<u8>(this.base + <usize>this.pos);
      this.pos++;
      if (e == 0x22) out += '"';
      else if (e == 0x5c) out += '\\';
      else if (e == 0x2f) out += '/';
      else if (e == 0x62) out += '\b';
      else if (e == 0x66) out += '\f';
      else if (e == 0x6e) out += '\n';
      else if (e == 0x72) out += '\r';
      else if (e == 0x74) out += '\t';
      else if (e == 0x75) {
        const cp = this.hex4();
        if (cp < 0) {
          this.fail('invalid \\u escape');
          return null;
        }
        out += String.fromCharCode(cp);
      } else {
        this.fail('invalid escape');
        return null;
      }
      runStart = this.pos;
    }
  }

  hex4(): i32 {
    if (this.pos + 4 > this.end) return -1;
    let v = 0;
    for (let i = 0; i < 4; i++) {
      const c = <i32>load<u8>(this.base + <usize>(this.pos + i));
      let d = -1;
      if (c >= 0x30 && c <= 0x39) d = c - 0x30;
      else if (c >= 0x61 && c <= 0x66) d = c - 0x61 + 10;
      else if (c >= 0x41 && c <= 0x46) d = c - 0x41 + 10;
      if (d < 0) return -1;
      v = (v << 4) | d;
    }
    this.pos += 4;
    return v;
  }

  /** Skips (and validates) one value without building it. */
  skipValue(depth: i32): bool {
    this.ws();
    if (depth > MAX_DEPTH) {
      this.fail('JSON nested too deeply');
      return false;
    }
    const c = this.peek();
    if (c == 0x7b || c == 0x5b) {
      if (this.trusted) {
        this.skipTrusted();
        return true;
      }
      return this.skipContainer(c == 0x7b, depth);
    }
    if (c == 0x22) {
      if (!this.skipString()) {
        this.fail('invalid string');
        return false;
      }
      return true;
    }
    // numbers and literals are checked without building a value
    if (c == 0x2d || (c >= 0x30 && c <= 0x39)) {
      if (this.scanNumber() >= 0) return true;
      this.fail('invalid number');
      return false;
    }
    if ((c == 0x74 && this.literal('true')) || (c == 0x66 && this.literal('false')) || (c == 0x6e && this.literal('null'))) return true;
    return this.parseValue(depth) !== null;
  }

  /** Skips a container of validated text: only brackets and strings matter. */
  skipTrusted(): void {
    const base = this.base;
    const end = this.end;
    let pos = this.pos;
    let depth = 0;
    while (pos < end) {
      const c = load<u8>(base + <usize>pos);
      if (c == 0x22) {
        pos++;
        while (pos < end) {
          const d = load<u8>(base + <usize>pos);
          if (d == 0x22) break;
          pos += d == 0x5c ? 2 : 1;
        }
      } else if (c == 0x7b || c == 0x5b) depth++;
      else if (c == 0x7d || c == 0x5d) {
        depth--;
        if (depth == 0) {
          pos++;
          break;
        }
      }
      pos++;
    }
    this.pos = pos;
  }

  /** Skips an object (`{`) or an array (`[`), validating it. */
  skipContainer(isObject: bool, depth: i32): bool {
    const close = isObject ? 0x7d : 0x5d;
    this.pos++;
    this.ws();
    if (this.peek() == close) {
      this.pos++;
      return true;
    }
    while (true) {
      if (isObject) {
        this.ws();
        if (this.peek() != 0x22 || !this.skipString()) {
          this.fail('expected string key');
          return false;
        }
        this.ws();
        if (this.peek() != 0x3a) {
          this.fail("expected ':'");
          return false;
        }
        this.pos++;
      }
      if (!this.skipValue(depth + 1)) return false;
      this.ws();
      const d = this.peek();
      if (d == 0x2c) {
        this.pos++;
        continue;
      }
      if (d == close) {
        this.pos++;
        return true;
      }
      this.fail(isObject ? "expected ',' or '}'" : "expected ',' or ']'");
      return false;
    }
  }

  skipString(): bool {
    const base = this.base;
    const end = this.end;
    let pos = this.pos + 1;
    while (pos < end) {
      const c = <i32>load<u8>(base + <usize>pos);
      if (c == 0x22) {
        this.pos = pos + 1;
        return true;
      }
      if (c < 0x20) {
        this.pos = pos;
        return false;
      }
      pos += c == 0x5c ? 2 : 1;
    }
    this.pos = pos;
    return false;
  }
}

/** What findRawMemberIgnoreCase answers when only a full parse can tell. */
export const RAW_UNKNOWN: Value = new Value();

/**
 * Looks up a member of a RAW object by an ASCII name, ignoring ASCII case,
 * without parsing the other members (no strings or values are built). Answers
 * what resolving the object and taking the first key that matches would: that
 * key's value, which for exact duplicate keys is the last one (parseObject).
 * The value comes as a RAW slice; null when no key matches; RAW_UNKNOWN when
 * a key has escapes or `v` is not a RAW object (resolve instead).
 */
export function findRawMemberIgnoreCase(v: Value, name: string): Value | null {
  if (v.kind != Kind.RAW || v.typeKind() != Kind.OBJ) return RAW_UNKNOWN;
  const p = new JsonParser(v.raw!, v.rawStart, v.rawEnd, 1);
  p.trusted = true; // a RAW slice: validated when it was cut
  const base = p.base;
  const n = name.length;
  // the first matching key's bytes, and the value of its last exact duplicate
  let keyStart = -1;
  let valStart = -1;
  let valEnd = -1;
  p.pos++; // '{'
  p.ws();
  if (p.peek() == 0x7d) return null;
  while (true) {
    p.ws();
    if (p.peek() != 0x22) return RAW_UNKNOWN;
    const ks = p.pos + 1;
    let k = ks;
    while (true) {
      if (k >= p.end) return RAW_UNKNOWN;
      const c = load<u8>(base + <usize>k);
      if (c == 0x22) break;
      if (c == 0x5c) return RAW_UNKNOWN; // an escape: the key's text needs decoding
      k++;
    }
    const klen = k - ks;
    let match = false;
    if (keyStart < 0) {
      if (klen == n) {
        match = true;
        for (let i = 0; i < n; i++) {
          let c = <i32>load<u8>(base + <usize>(ks + i));
          let d = name.charCodeAt(i);
          if (c >= 65 && c <= 90) c += 32;
          if (d >= 65 && d <= 90) d += 32;
          if (c != d) {
            match = false;
            break;
          }
        }
        if (match) keyStart = ks;
      }
    } else if (klen == n) {
      match = memory.compare(base + <usize>ks, base + <usize>keyStart, <usize>n) == 0;
    }
    p.pos = k + 1;
    p.ws();
    if (p.peek() != 0x3a) return RAW_UNKNOWN;
    p.pos++;
    p.ws();
    const vs = p.pos;
    if (!p.skipValue(1)) return RAW_UNKNOWN;
    if (match) {
      valStart = vs;
      valEnd = p.pos;
    }
    p.ws();
    const d = p.peek();
    if (d == 0x2c) {
      p.pos++;
      continue;
    }
    if (d == 0x7d) break;
    return RAW_UNKNOWN;
  }
  return valStart < 0 ? null : Value.rawSlice(v.raw!, valStart, valEnd);
}

/** Parses a complete JSON document; null with `lastParseError` on failure. */
export let lastParseError: string = '';

/** Forgets the last error text (it may live in a request arena that is about to go). */
export function clearParseError(): void {
  lastParseError = '';
}

export function parseJson(buf: ArrayBuffer, lazy: bool = false): Value | null {
  return parseJsonSlice(buf, 0, buf.byteLength, lazy);
}

export function parseJsonSlice(buf: ArrayBuffer, start: i32, end: i32, lazy: bool): Value | null {
  const p = new JsonParser(buf, start, end, lazy ? 1 : 1 << 30);
  const v = p.parseDocument();
  if (v === null) lastParseError = p.error !== null ? p.error! : 'invalid JSON';
  return v;
}


// ------------------------------------------------------------ serializing

const HEX = '0123456789abcdef';

export function writeJsonString(w: ByteWriter, s: string): void {
  w.byte(0x22);
  const n = s.length;
  let runStart = 0;
  for (let i = 0; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x20 && c != 0x22 && c != 0x5c) continue;
    if (i > runStart) w.str(s.substring(runStart, i));
    if (c == 0x22) {
      w.byte(0x5c);
      w.byte(0x22);
    } else if (c == 0x5c) {
      w.byte(0x5c);
      w.byte(0x5c);
    } else if (c == 0x0a) {
      w.byte(0x5c);
      w.byte(0x6e);
    } else if (c == 0x0d) {
      w.byte(0x5c);
      w.byte(0x72);
    } else if (c == 0x09) {
      w.byte(0x5c);
      w.byte(0x74);
    } else if (c == 0x08) {
      w.byte(0x5c);
      w.byte(0x62);
    } else if (c == 0x0c) {
      w.byte(0x5c);
      w.byte(0x66);
    } else {
      w.byte(0x5c);
      w.byte(0x75);
      w.byte(0x30);
      w.byte(0x30);
      w.byte(HEX.charCodeAt((c >> 4) & 15));
      w.byte(HEX.charCodeAt(c & 15));
    }
    runStart = i + 1;
  }
  if (runStart == 0) w.str(s);
  else if (runStart < n) w.str(s.substring(runStart));
  w.byte(0x22);
}

export function writeNumber(w: ByteWriter, n: f64): void {
  if (!isFinite(n)) {
    // JSON has no NaN/Infinity; jq prints null for nan and clamps infinities
    if (isNaN(n)) w.str('null');
    else w.str(n > 0 ? '1.7976931348623157e+308' : '-1.7976931348623157e+308');
    return;
  }
  if (n == Math.floor(n) && Math.abs(n) < 9007199254740992.0) {
    w.str((<i64>n).toString());
    return;
  }
  w.str(n.toString());
}

export function writeJson(w: ByteWriter, v: Value): void {
  const k = v.kind;
  if (k == Kind.RAW) {
    w.slice(v.raw!, v.rawStart, v.rawEnd);
  } else if (k == Kind.NULL) {
    w.str('null');
  } else if (k == Kind.BOOL) {
    w.str(v.b ? 'true' : 'false');
  } else if (k == Kind.NUM) {
    writeNumber(w, v.n);
  } else if (k == Kind.STR) {
    writeJsonString(w, v.s);
  } else if (k == Kind.ARR) {
    const items = v.items!;
    w.byte(0x5b);
    for (let i = 0; i < items.length; i++) {
      // past the write limit nothing more is written: stop walking (shared values can nest exponentially)
      if (w.over) return;
      if (i > 0) w.byte(0x2c);
      writeJson(w, items[i]);
    }
    w.byte(0x5d);
  } else {
    const keys = v.keys!;
    const vals = v.vals!;
    w.byte(0x7b);
    for (let i = 0; i < keys.length; i++) {
      if (w.over) return;
      if (i > 0) w.byte(0x2c);
      writeJsonString(w, keys[i]);
      w.byte(0x3a);
      writeJson(w, vals[i]);
    }
    w.byte(0x7d);
  }
}

/** A string as a JSON string literal (for messages). */
export function jsonQuote(s: string): string {
  const w = new ByteWriter(s.length + 2);
  writeJsonString(w, s);
  return w.toString();
}
