// Growable UTF-8 byte buffer: everything the engine hands to the host is
// written here, so no UTF-16 string crosses the ABI.

/** the floor of the write limit: the protocol's own texts (phase results, failures) always fit */
const MIN_WRITE_LIMIT: i32 = 64 * 1024;
/** no writer grows past this: the running request's value_bytes (16 MiB until a request says) */
let writeLimit: i32 = 16 * 1024 * 1024;
/** a writer dropped bytes since the last clearOverflow() */
let writeOverflow: bool = false;

/** Sets the write limit (at least 64 KiB); returns the previous one. */
export function setWriteLimit(bytes: i32): i32 {
  const prev = writeLimit;
  writeLimit = bytes < MIN_WRITE_LIMIT ? MIN_WRITE_LIMIT : bytes;
  return prev;
}

export function writeLimitBytes(): i32 {
  return writeLimit;
}

/**
 * Whether a writer hit the limit since clearOverflow(). Whoever hands
 * written bytes to the host checks this first and fails its node instead:
 * values in the module are references, so nesting can describe far more
 * text than memory can hold, and writing it all would trap the module.
 */
export function overflowed(): bool {
  return writeOverflow;
}

export function clearOverflow(): void {
  writeOverflow = false;
}

/** Restores the flag saved before a write whose overflow is handled (the trace). */
export function restoreOverflow(v: bool): void {
  writeOverflow = v;
}

export class ByteWriter {
  buf: ArrayBuffer;
  len: i32 = 0;
  /** bytes were dropped: the content is incomplete */
  over: bool = false;

  constructor(capacity: i32 = 256) {
    this.buf = new ArrayBuffer(capacity);
  }

  @inline get ptr(): usize {
    return changetype<usize>(this.buf);
  }

  reset(): void {
    this.len = 0;
    this.over = false;
  }

  /** Room for `extra` more bytes; false (and nothing written from now on) past the write limit. */
  ensure(extra: i32): bool {
    if (this.over) return false;
    const need = <i64>this.len + <i64>extra;
    const cap = this.buf.byteLength;
    if (need <= <i64>cap) return true;
    if (need > <i64>writeLimit) {
      this.over = true;
      writeOverflow = true;
      return false;
    }
    let next = <i64>cap << 1;
    if (next < need) next = need;
    if (next > <i64>writeLimit) next = <i64>writeLimit;
    const nb = new ArrayBuffer(<i32>next);
    memory.copy(changetype<usize>(nb), changetype<usize>(this.buf), <usize>this.len);
    // in a request arena the old copy would otherwise stay until the request ends
    __arena_release(changetype<usize>(this.buf));
    this.buf = nb;
    return true;
  }

  byte(b: i32): void {
    if (!this.ensure(1)) return;
    store<u8>(this.ptr + <usize>this.len, <u8>b);
    this.len += 1;
  }

  raw(src: usize, n: i32): void {
    if (n <= 0) return;
    if (!this.ensure(n)) return;
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
    if (!this.ensure(n)) return;
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

  /** The content as an exact-size buffer; the writer is done (its buffer is handed over or freed). */
  finish(): ArrayBuffer {
    const buf = this.buf;
    this.buf = new ArrayBuffer(0);
    if (buf.byteLength == this.len) return buf;
    const out = new ArrayBuffer(this.len);
    memory.copy(changetype<usize>(out), changetype<usize>(buf), <usize>this.len);
    __arena_release(changetype<usize>(buf));
    this.len = 0;
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
