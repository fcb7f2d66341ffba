// qsort as jq-wasm's C library (musl) runs it: smoothsort, ported from musl 1.2.4
// src/stdlib/qsort.c (MIT; "Copyright (C) 2011 by Valentin Ochs", with minor changes by Rich
// Felker). jq sorts with qsort and a comparator that is no total order once a key holds nan
// (jv_cmp(nan, nan) is -1 both ways), and then the order depends on the algorithm: with musl's
// own steps the result is the reference's. Elements are array slots (width 1); the Leonardo
// bit set p is two 32-bit words, as size_t is on wasm32, and JS shifts wrap their count modulo
// 32 as wasm's do.

type Cmp<T> = (a: T, b: T) => number;

/** count of trailing zero bits of a 32-bit word (32 for 0, as wasm's i32.ctz) */
function ntz(x: number): number {
  x >>>= 0;
  return x === 0 ? 32 : 31 - Math.clz32(x & -x);
}

function pntz(p: Uint32Array): number {
  let r = ntz(p[0] - 1);
  if (r !== 0 || (r = 32 + ntz(p[1])) !== 32) return r;
  return 0;
}

function shl(p: Uint32Array, n: number): void {
  if (n >= 32) {
    n -= 32;
    p[1] = p[0];
    p[0] = 0;
  }
  p[1] = (p[1] << n) | (p[0] >>> (32 - n));
  p[0] = p[0] << n;
}

function shr(p: Uint32Array, n: number): void {
  if (n >= 32) {
    n -= 32;
    p[0] = p[1];
    p[1] = 0;
  }
  p[0] = (p[0] >>> n) | (p[1] << (32 - n));
  p[1] = p[1] >>> n;
}

/** a[ar[0]] <- a[ar[1]] <- ... <- a[ar[n-1]] <- the old a[ar[0]] (musl's cycle) */
function cycle<T>(a: T[], ar: number[], n: number): void {
  if (n < 2) return;
  const tmp = a[ar[0]];
  for (let i = 0; i < n - 1; i++) a[ar[i]] = a[ar[i + 1]];
  a[ar[n - 1]] = tmp;
}

function sift<T>(a: T[], head: number, cmp: Cmp<T>, pshift: number, lp: number[]): void {
  const ar: number[] = [head];
  while (pshift > 1) {
    const rt = head - 1;
    const lf = head - 1 - lp[pshift - 2];
    if (cmp(a[ar[0]], a[lf]) >= 0 && cmp(a[ar[0]], a[rt]) >= 0) break;
    if (cmp(a[lf], a[rt]) >= 0) {
      ar.push(lf);
      head = lf;
      pshift -= 1;
    } else {
      ar.push(rt);
      head = rt;
      pshift -= 2;
    }
  }
  cycle(a, ar, ar.length);
}

function trinkle<T>(a: T[], head: number, cmp: Cmp<T>, pp: Uint32Array, pshift: number, trusty: boolean, lp: number[]): void {
  const p = new Uint32Array(pp);
  const ar: number[] = [head];
  while (p[0] !== 1 || p[1] !== 0) {
    const stepson = head - lp[pshift];
    if (cmp(a[stepson], a[ar[0]]) <= 0) break;
    if (!trusty && pshift > 1) {
      const rt = head - 1;
      const lf = head - 1 - lp[pshift - 2];
      if (cmp(a[rt], a[stepson]) >= 0 || cmp(a[lf], a[stepson]) >= 0) break;
    }
    ar.push(stepson);
    head = stepson;
    const trail = pntz(p);
    shr(p, trail);
    pshift += trail;
    trusty = false;
  }
  if (!trusty) {
    cycle(a, ar, ar.length);
    sift(a, head, cmp, pshift, lp);
  }
}

/** Sorts `a` in place with musl's qsort steps and comparisons. */
export function smoothsort<T>(a: T[], cmp: Cmp<T>): void {
  const nel = a.length;
  if (nel === 0) return;
  const high = nel - 1;
  // Leonardo numbers (in elements), up to the first not below the length
  const lp: number[] = [1, 1];
  for (let i = 2; (lp[i] = lp[i - 2] + lp[i - 1] + 1) < nel; i++);
  const p = new Uint32Array([1, 0]);
  let pshift = 1;
  let head = 0;
  while (head < high) {
    if ((p[0] & 3) === 3) {
      sift(a, head, cmp, pshift, lp);
      shr(p, 2);
      pshift += 2;
    } else {
      if (lp[pshift - 1] >= high - head) trinkle(a, head, cmp, p, pshift, false, lp);
      else sift(a, head, cmp, pshift, lp);
      if (pshift === 1) {
        shl(p, 1);
        pshift = 0;
      } else {
        shl(p, pshift - 1);
        pshift = 1;
      }
    }
    p[0] |= 1;
    head++;
  }
  trinkle(a, head, cmp, p, pshift, false, lp);
  while (pshift !== 1 || p[0] !== 1 || p[1] !== 0) {
    if (pshift <= 1) {
      const trail = pntz(p);
      shr(p, trail);
      pshift += trail;
    } else {
      shl(p, 2);
      pshift -= 2;
      p[0] ^= 7;
      shr(p, 1);
      trinkle(a, head - lp[pshift] - 1, cmp, p, pshift + 1, true, lp);
      shl(p, 1);
      p[0] |= 1;
      trinkle(a, head - 1, cmp, p, pshift, true, lp);
    }
    head--;
  }
}
