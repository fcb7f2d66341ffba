// Growable UTF-8 byte buffer: everything the engine hands to the host is
// written here, so no UTF-16 string crosses the ABI.

export class ByteWriter {
  buf: ArrayBuffer;
  len: i32 = 0;

  constructor(capacity: i32 = 256) {
    this.buf = new ArrayBuffer(capacity);
  }

  @inline get ptr(): usize {
    return changetype<usize>(this.buf);
  }

  reset(): void {
    this.len = 0;
  }

  ensure(extra: i32): void {
    const need = this.len + extra;
    const cap = this.buf.byteLength;
    if (need <= cap) return;
    let next = cap << 1;
    if (next < need) next = need;
    const nb = new ArrayBuffer(next);
    memory.copy(changetype<usize>(nb), changetype<usize>(this.buf), <usize>this.len);
    this.buf = nb;
  }

  byte(b: i32): void {
    this.ensure(1);
    store<u8>(this.ptr + <usize>this.len, <u8>b);
    this.len += 1;
  }

  raw(src: usize, n: i32): void {
    if (n <= 0) return;
    this.ensure(n);
    memory.copy(this.ptr + <usize>this.len, src, <usize>n);
    this.len += n;
  }

  buffer(b: ArrayBuffer): void {
    this.raw(changetype<usize>(b), b.byteLength);
  }

  slice(b: ArrayBuffer, start: i32, end: i32): void {
    this.raw(changetype<usize>(b) + <usize>start, end - start);
  }

  /** Appends a string as UTF-8. */
  str(s: string): void {
    const n = String.UTF8.byteLength(s);
    this.ensure(n);
    String.UTF8.encodeUnsafe(changetype<usize>(s), s.length, this.ptr + <usize>this.len);
    this.len += n;
  }

  int(v: i64): void {
    this.str(v.toString());
  }

  toBuffer(): ArrayBuffer {
    const out = new ArrayBuffer(this.len);
    memory.copy(changetype<usize>(out), this.ptr, <usize>this.len);
    return out;
  }

  toString(): string {
    return String.UTF8.decodeUnsafe(this.ptr, <usize>this.len);
  }
}

export function decodeSlice(b: ArrayBuffer, start: i32, end: i32): string {
  if (end <= start) return '';
  return String.UTF8.decodeUnsafe(changetype<usize>(b) + <usize>start, <usize>(end - start));
}

/** ASCII lower-casing, for case-insensitive header lookups. */
export function lowerAscii(s: string): string {
  let needs = false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 65 && c <= 90) { needs = true; break; }
  }
  if (!needs) return s;
  let out = '';
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 65 && c <= 90) {
      out += s.substring(start, i) + String.fromCharCode(c + 32);
      start = i + 1;
    }
  }
  return out + s.substring(start);
}

export function equalsIgnoreCase(a: string, b: string): bool {
  if (a.length != b.length) return false;
  for (let i = 0; i < a.length; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x == y) continue;
    if (x >= 65 && x <= 90) x += 32;
    if (y >= 65 && y <= 90) y += 32;
    if (x != y) return false;
  }
  return true;
}
