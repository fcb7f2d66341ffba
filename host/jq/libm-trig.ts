// sin, cos and tan as musl's libm computes them (jq-wasm, the reference jq 1.7.1, links musl):
// the same operations in the same order on doubles, so every result has musl's bits. V8's
// Math.sin/cos/tan are fdlibm of another vintage and differ in the last bit now and then.
//
// Ported from musl 1.2.4 src/math/sin.c, cos.c, tan.c, __sin.c, __cos.c, __tan.c, __rem_pio2.c,
// __rem_pio2_large.c (musl is MIT-licensed, Copyright © 2005-2020 Rich Felker, et al.). Those
// files derive from FreeBSD's msun, whose notice reads: "Copyright (C) 1993 by Sun Microsystems,
// Inc. All rights reserved. Developed at SunSoft, a Sun Microsystems, Inc. business. Permission
// to use, copy, modify, and distribute this software is freely granted, provided that this
// notice is preserved." (__cos.c, __sin.c, __tan.c: Copyright 2004 Sun Microsystems, same terms.)

const words = new Float64Array(1);
const halves = new Uint32Array(words.buffer); // [low, high] on every platform Node runs on

function highWord(x: number): number {
  words[0] = x;
  return halves[1];
}

/** x with its low 32 bits cleared (SET_LOW_WORD(x, 0)) */
function clearLowWord(x: number): number {
  words[0] = x;
  halves[0] = 0;
  return words[0];
}

/** musl's scalbn: x * 2^n, in steps so that no step overflows or rounds twice */
export function scalbn(x: number, n: number): number {
  let y = x;
  if (n > 1023) {
    y *= 2 ** 1023;
    n -= 1023;
    if (n > 1023) {
      y *= 2 ** 1023;
      n -= 1023;
      if (n > 1023) n = 1023;
    }
  } else if (n < -1022) {
    y *= 2 ** -1022 * 2 ** 53;
    n += 1022 - 53;
    if (n < -1022) {
      y *= 2 ** -1022 * 2 ** 53;
      n += 1022 - 53;
      if (n < -1022) n = -1022;
    }
  }
  return y * 2 ** n;
}

// ---------- kernels on [-pi/4, pi/4] (x + y the argument, |y| below half an ulp of x) ----------

const S1 = -1.66666666666666324348e-1;
const S2 = 8.33333333332248946124e-3;
const S3 = -1.98412698298579493134e-4;
const S4 = 2.75573137070700676789e-6;
const S5 = -2.50507602534068634195e-8;
const S6 = 1.58969099521155010221e-10;

/** musl __sin: iy 0 means y is taken as 0 */
export function kernelSin(x: number, y: number, iy: number): number {
  const z = x * x;
  const w = z * z;
  const r = S2 + z * (S3 + z * S4) + z * w * (S5 + z * S6);
  const v = z * x;
  if (iy === 0) return x + v * (S1 + z * r);
  return x - ((z * (0.5 * y - v * r) - y) - v * S1);
}

const C1 = 4.16666666666666019037e-2;
const C2 = -1.38888888888741095749e-3;
const C3 = 2.48015872894767294178e-5;
const C4 = -2.75573143513906633035e-7;
const C5 = 2.0875723212981748279e-9;
const C6 = -1.13596475577881948265e-11;

/** musl __cos */
export function kernelCos(x: number, y: number): number {
  const z = x * x;
  let w = z * z;
  const r = z * (C1 + z * (C2 + z * C3)) + w * w * (C4 + z * (C5 + z * C6));
  const hz = 0.5 * z;
  w = 1.0 - hz;
  return w + (((1.0 - w) - hz) + (z * r - x * y));
}

const T = [
  3.33333333333334091986e-1, 1.33333333333201242699e-1, 5.39682539762260521377e-2, 2.18694882948595424599e-2,
  8.86323982359930005737e-3, 3.59207910759131235356e-3, 1.45620945432529025516e-3, 5.88041240820264096874e-4,
  2.46463134818469906812e-4, 7.817944429395570923e-5, 7.14072491382608190305e-5, -1.85586374855275456654e-5,
  2.59073051863633712884e-5,
];
const PIO4 = 7.85398163397448278999e-1;
const PIO4_LO = 3.06161699786838301793e-17;

/** musl __tan: tan(x + y), or -1/tan(x + y) when odd is 1 */
export function kernelTan(x: number, y: number, odd: number): number {
  const hx = highWord(x);
  const big = (hx & 0x7fffffff) >= 0x3fe59428; // |x| >= 0.6744
  const negative = hx >>> 31 === 1;
  if (big) {
    if (negative) {
      x = -x;
      y = -y;
    }
    x = (PIO4 - x) + (PIO4_LO - y);
    y = 0.0;
  }
  const z = x * x;
  const w = z * z;
  // x^5 (T1 + x^4 T3 + ...) + x^5 (x^2 (T2 + x^4 T4 + ...)), as two interleaved polynomials
  let r = T[1] + w * (T[3] + w * (T[5] + w * (T[7] + w * (T[9] + w * T[11]))));
  let v = z * (T[2] + w * (T[4] + w * (T[6] + w * (T[8] + w * (T[10] + w * T[12])))));
  const s = z * x;
  r = y + z * (s * (r + v) + y) + s * T[0];
  const sum = x + r;
  if (big) {
    const sg = 1 - 2 * odd;
    v = sg - 2.0 * (x + (r - (sum * sum) / (sum + sg)));
    return negative ? -v : v;
  }
  if (!odd) return sum;
  // -1/(x + r) to well under an ulp: both operands split at their low words
  const w0 = clearLowWord(sum);
  v = r - (w0 - x);
  const a = -1.0 / sum;
  const a0 = clearLowWord(a);
  return a0 + a * (1.0 + a0 * w0 + a0 * v);
}

// ---------- argument reduction: x = n pi/2 + (y0 + y1), |y0 + y1| <= pi/4 ----------

/** the remainder of the last reduction, as a head and a tail */
let reducedHi = 0;
let reducedLo = 0;

const TOINT = 1.5 / 2.220446049250313e-16;
const INV_PIO2 = 6.36619772367581382433e-1;
const PIO2_1 = 1.57079632673412561417;
const PIO2_1T = 6.07710050650619224932e-11;
const PIO2_2 = 6.0771005063039659766e-11;
const PIO2_2T = 2.02226624879595063154e-21;
const PIO2_3 = 2.0222662487111664558e-21;
const PIO2_3T = 8.47842766036889956997e-32;

/** one subtraction of k pi/2 (|x| up to 9pi/4): x - k pio2_1 good to 85 bits */
function reduceSmall(x: number, k: number): number {
  const z = x - k * PIO2_1;
  reducedHi = z - k * PIO2_1T;
  reducedLo = (z - reducedHi) - k * PIO2_1T;
  return k;
}

/** musl __rem_pio2 for finite |x| > pi/4: the quadrant n; the remainder in reducedHi/reducedLo */
function remPio2(x: number): number {
  words[0] = x;
  const negative = halves[1] >>> 31 === 1;
  const ix = halves[1] & 0x7fffffff;
  medium: {
    if (ix <= 0x400f6a7a) {
      // |x| ~<= 5pi/4; near pi/2 or pi cancellation needs the medium case
      if ((ix & 0xfffff) === 0x921fb) break medium;
      if (ix <= 0x4002d97c) return reduceSmall(x, negative ? -1 : 1);
      return reduceSmall(x, negative ? -2 : 2);
    }
    if (ix <= 0x401c463b) {
      // |x| ~<= 9pi/4
      if (ix <= 0x4015fdbc) {
        if (ix === 0x4012d97c) break medium; // ~3pi/2
        return reduceSmall(x, negative ? -3 : 3);
      }
      if (ix === 0x401921fb) break medium; // ~2pi
      return reduceSmall(x, negative ? -4 : 4);
    }
    if (ix >= 0x413921fb) return remPio2Huge(x, ix, negative);
  }
  // |x| ~< 2^20 pi/2: n = rint(x / (pi/2))
  let fn = x * INV_PIO2 + TOINT - TOINT;
  let n = fn | 0;
  let r = x - fn * PIO2_1;
  let w = fn * PIO2_1T; // good to 85 bits
  // only matters with directed rounding, kept for the same results
  if (r - w < -PIO4) {
    n--;
    fn--;
    r = x - fn * PIO2_1;
    w = fn * PIO2_1T;
  } else if (r - w > PIO4) {
    n++;
    fn++;
    r = x - fn * PIO2_1;
    w = fn * PIO2_1T;
  }
  reducedHi = r - w;
  const ex = ix >>> 20;
  let ey = (highWord(reducedHi) >>> 20) & 0x7ff;
  if (ex - ey > 16) {
    // second round, good to 118 bits
    let t = r;
    w = fn * PIO2_2;
    r = t - w;
    w = fn * PIO2_2T - ((t - r) - w);
    reducedHi = r - w;
    ey = (highWord(reducedHi) >>> 20) & 0x7ff;
    if (ex - ey > 49) {
      // third round, good to 151 bits
      t = r;
      w = fn * PIO2_3;
      r = t - w;
      w = fn * PIO2_3T - ((t - r) - w);
      reducedHi = r - w;
    }
  }
  reducedLo = (r - reducedHi) - w;
  return n;
}

const hugeDigits = new Float64Array(3);
const hugeResult = new Float64Array(2);

/** |x| >= 2^20 pi/2 (finite): x's 53 bits as three 24-bit digits, reduced by __rem_pio2_large */
function remPio2Huge(x: number, ix: number, negative: boolean): number {
  if (ix >= 0x7ff00000) {
    reducedHi = reducedLo = x - x;
    return 0;
  }
  // z = scalbn(|x|, -ilogb(x) + 23)
  words[0] = x;
  halves[1] = (halves[1] & 0xfffff) | ((0x3ff + 23) << 20);
  let z = words[0];
  let i = 0;
  for (; i < 2; i++) {
    hugeDigits[i] = z | 0;
    z = (z - hugeDigits[i]) * 2 ** 24;
  }
  hugeDigits[i] = z;
  while (hugeDigits[i] === 0.0) i--;
  const n = remPio2Large(hugeDigits, hugeResult, (ix >>> 20) - (0x3ff + 23), i + 1);
  if (negative) {
    reducedHi = -hugeResult[0];
    reducedLo = -hugeResult[1];
    return -n;
  }
  reducedHi = hugeResult[0];
  reducedLo = hugeResult[1];
  return n;
}

// 2/pi in 24-bit digits: digit i is bits 24i .. 24i+23 after the binary point (enough for doubles)
const IPIO2 = [
  0xa2f983, 0x6e4e44, 0x1529fc, 0x2757d1, 0xf534dd, 0xc0db62, 0x95993c, 0x439041, 0xfe5163, 0xabdebb, 0xc561b7,
  0x246e3a, 0x424dd2, 0xe00649, 0x2eea09, 0xd1921c, 0xfe1deb, 0x1cb129, 0xa73ee8, 0x8235f5, 0x2ebb44, 0x84e99c,
  0x7026b4, 0x5f7e41, 0x3991d6, 0x398353, 0x39f49c, 0x845f8b, 0xbdf928, 0x3b1ff8, 0x97ffde, 0x05980f, 0xef2f11,
  0x8b5a0a, 0x6d1f6d, 0x367ecf, 0x27cb09, 0xb74f46, 0x3f669e, 0x5fea2d, 0x7527ba, 0xc7ebe5, 0xf17b3d, 0x0739f7,
  0x8a5292, 0xea6bfb, 0x5fb11f, 0x8d5d08, 0x560330, 0x46fc7b, 0x6babf0, 0xcfbc20, 0x9af436, 0x1da9e3, 0x91615e,
  0xe61b08, 0x659985, 0x5f14a0, 0x68408d, 0xffd880, 0x4d7327, 0x310606, 0x1556ca, 0x73a8c9, 0x60e27b, 0xc08c6b,
];

// pi/2 in pieces of 24 bits each
const PIO2_PIECES = [
  1.57079625129699707031, 7.54978941586159635335e-8, 5.39030252995776476554e-15, 3.28200341580791294123e-22,
  1.27065575308067607349e-29, 1.22933308981111328932e-36, 2.73370053816464559624e-44, 2.16741683877804819444e-51,
];

const f = new Float64Array(20);
const fq = new Float64Array(20);
const q = new Float64Array(20);
const iq = new Int32Array(20);

/**
 * musl __rem_pio2_large with prec 1 (double, jk = 4): x the digits of the input (value
 * sum x[i] 2^(e0 - 24i)), y the remainder's head and tail; returns the quadrant n mod 8.
 */
function remPio2Large(x: Float64Array, y: Float64Array, e0: number, nx: number): number {
  const jk = 4;
  const jp = jk;
  const jx = nx - 1;
  let jv = ((e0 - 3) / 24) | 0;
  if (jv < 0) jv = 0;
  let q0 = e0 - 24 * (jv + 1);

  // f[0] .. f[jx + jk], f[jx + jk] = IPIO2[jv + jk]
  let j = jv - jx;
  const m = jx + jk;
  for (let i = 0; i <= m; i++, j++) f[i] = j < 0 ? 0.0 : IPIO2[j];

  for (let i = 0; i <= jk; i++) {
    let fw = 0.0;
    for (j = 0; j <= jx; j++) fw += x[j] * f[jx + i - j];
    q[i] = fw;
  }

  let jz = jk;
  let z: number;
  let n: number;
  let ih: number;
  for (;;) {
    // distill q[] into iq[], most significant last
    let i = 0;
    z = q[jz];
    for (j = jz; j > 0; i++, j--) {
      const fw = (2 ** -24 * z) | 0;
      iq[i] = (z - 2 ** 24 * fw) | 0;
      z = q[j - 1] + fw;
    }

    z = scalbn(z, q0);
    z -= 8.0 * Math.floor(z * 0.125); // integer part mod 8
    n = z | 0;
    z -= n;
    ih = 0;
    if (q0 > 0) {
      // iq[jz-1] holds bits of n
      i = iq[jz - 1] >> (24 - q0);
      n += i;
      iq[jz - 1] -= i << (24 - q0);
      ih = iq[jz - 1] >> (23 - q0);
    } else if (q0 === 0) ih = iq[jz - 1] >> 23;
    else if (z >= 0.5) ih = 2;

    if (ih > 0) {
      // fraction > 0.5: take 1 - fraction
      n += 1;
      let carry = 0;
      for (i = 0; i < jz; i++) {
        j = iq[i];
        if (carry === 0) {
          if (j !== 0) {
            carry = 1;
            iq[i] = 0x1000000 - j;
          }
        } else iq[i] = 0xffffff - j;
      }
      if (q0 > 0) {
        if (q0 === 1) iq[jz - 1] &= 0x7fffff;
        else if (q0 === 2) iq[jz - 1] &= 0x3fffff;
      }
      if (ih === 2) {
        z = 1.0 - z;
        if (carry !== 0) z -= scalbn(1.0, q0);
      }
    }

    // all of the fraction's digits zero: more digits of 2/pi are needed
    if (z === 0.0) {
      j = 0;
      for (i = jz - 1; i >= jk; i--) j |= iq[i];
      if (j === 0) {
        let k = 1;
        while (iq[jk - k] === 0) k++;
        for (i = jz + 1; i <= jz + k; i++) {
          f[jx + i] = IPIO2[jv + i];
          let fw = 0.0;
          for (j = 0; j <= jx; j++) fw += x[j] * f[jx + i - j];
          q[i] = fw;
        }
        jz += k;
        continue;
      }
    }
    break;
  }

  // chop off zero digits
  if (z === 0.0) {
    jz -= 1;
    q0 -= 24;
    while (iq[jz] === 0) {
      jz--;
      q0 -= 24;
    }
  } else {
    // z into 24-bit digits if necessary
    z = scalbn(z, -q0);
    if (z >= 2 ** 24) {
      const fw = (2 ** -24 * z) | 0;
      iq[jz] = (z - 2 ** 24 * fw) | 0;
      jz += 1;
      q0 += 24;
      iq[jz] = fw;
    } else iq[jz] = z | 0;
  }

  // digits back to doubles
  let fw = scalbn(1.0, q0);
  for (let i = jz; i >= 0; i--) {
    q[i] = fw * iq[i];
    fw *= 2 ** -24;
  }

  // PIO2_PIECES[0..jp] * q[jz..0]
  for (let i = jz; i >= 0; i--) {
    fw = 0.0;
    for (let k = 0; k <= jp && k <= jz - i; k++) fw += PIO2_PIECES[k] * q[i + k];
    fq[jz - i] = fw;
  }

  // compress fq[] into y[0], y[1]
  fw = 0.0;
  for (let i = jz; i >= 0; i--) fw += fq[i];
  y[0] = ih === 0 ? fw : -fw;
  fw = fq[0] - fw;
  for (let i = 1; i <= jz; i++) fw += fq[i];
  y[1] = ih === 0 ? fw : -fw;
  return n & 7;
}

// ---------- sin, cos, tan ----------

export function sin(x: number): number {
  const ix = highWord(x) & 0x7fffffff;
  if (ix <= 0x3fe921fb) {
    // |x| ~< pi/4
    if (ix < 0x3e500000) return x; // |x| < 2^-26
    return kernelSin(x, 0.0, 0);
  }
  if (ix >= 0x7ff00000) return x - x;
  const n = remPio2(x);
  switch (n & 3) {
    case 0:
      return kernelSin(reducedHi, reducedLo, 1);
    case 1:
      return kernelCos(reducedHi, reducedLo);
    case 2:
      return -kernelSin(reducedHi, reducedLo, 1);
    default:
      return -kernelCos(reducedHi, reducedLo);
  }
}

export function cos(x: number): number {
  const ix = highWord(x) & 0x7fffffff;
  if (ix <= 0x3fe921fb) {
    if (ix < 0x3e46a09e) return 1.0; // |x| < 2^-27 sqrt(2)
    return kernelCos(x, 0);
  }
  if (ix >= 0x7ff00000) return x - x;
  const n = remPio2(x);
  switch (n & 3) {
    case 0:
      return kernelCos(reducedHi, reducedLo);
    case 1:
      return -kernelSin(reducedHi, reducedLo, 1);
    case 2:
      return -kernelCos(reducedHi, reducedLo);
    default:
      return kernelSin(reducedHi, reducedLo, 1);
  }
}

export function tan(x: number): number {
  const ix = highWord(x) & 0x7fffffff;
  if (ix <= 0x3fe921fb) {
    if (ix < 0x3e400000) return x; // |x| < 2^-27
    return kernelTan(x, 0.0, 0);
  }
  if (ix >= 0x7ff00000) return x - x;
  const n = remPio2(x);
  return kernelTan(reducedHi, reducedLo, n & 1);
}

// ---------- atan2 (musl atan2.c; atan itself is V8's Math.atan, the same fdlibm code to the bit) ----------

const PI = 3.141592653589793116;
const PI_LO = 1.2246467991473531772e-16;

/** atan2(y, x) with musl's quadrant corrections: pi - (z - pi_lo) can round differently from V8's */
export function atan2(y: number, x: number): number {
  if (x !== x || y !== y) return x + y;
  words[0] = x;
  let ix = halves[1];
  const lx = halves[0];
  words[0] = y;
  let iy = halves[1];
  const ly = halves[0];
  if (((ix - 0x3ff00000) | lx) === 0) return Math.atan(y); // x = 1
  const m = ((iy >>> 31) & 1) | ((ix >>> 30) & 2); // 2 sign(x) + sign(y)
  ix &= 0x7fffffff;
  iy &= 0x7fffffff;
  if ((iy | ly) === 0) {
    // y = ±0
    if (m <= 1) return y;
    return m === 2 ? PI : -PI;
  }
  if ((ix | lx) === 0) return m & 1 ? -PI / 2 : PI / 2; // x = ±0
  if (ix === 0x7ff00000) {
    if (iy === 0x7ff00000) return [PI / 4, -PI / 4, (3 * PI) / 4, (-3 * PI) / 4][m];
    return [0.0, -0.0, PI, -PI][m];
  }
  // |y/x| > 2^64
  if (ix + (64 << 20) < iy || iy === 0x7ff00000) return m & 1 ? -PI / 2 : PI / 2;
  // atan(|y/x|) without a spurious underflow
  const z = m & 2 && iy + (64 << 20) < ix ? 0 : Math.atan(Math.abs(y / x));
  switch (m) {
    case 0:
      return z;
    case 1:
      return -z;
    case 2:
      return PI - (z - PI_LO);
    default:
      return (z - PI_LO) - PI;
  }
}
