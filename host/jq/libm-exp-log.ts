// The exponential and logarithm family, pow, the hyperbolic functions and erf as jq 1.7.1's
// reference build (jq-wasm: Emscripten, so musl's libm compiled to wasm) computes them, operation
// for operation, so every result has the same bits. V8's Math.exp/log/pow/cosh/... are other
// implementations whose last bit differs for many inputs.
//
// Ported from musl 1.2.4 src/math/: exp.c, exp2.c, log.c, log2.c, pow.c (Copyright (c) 2018, Arm
// Limited; SPDX-License-Identifier: MIT), exp10.c, cosh.c, sinh.c, tanh.c, __expo2.c, asinh.c,
// acosh.c, atanh.c, log1p.c (musl, MIT), and log10.c, expm1.c, erf.c (fdlibm), which carry this notice:
//   Copyright (C) 1993 by Sun Microsystems, Inc. All rights reserved.
//   Developed at SunSoft, a Sun Microsystems, Inc. business.
//   Permission to use, copy, modify, and distribute this software is freely granted, provided
//   that this notice is preserved.
// The paths ported are musl's generic C ones that wasm runs: no FMA, no TOINT_INTRINSICS,
// FLT_EVAL_METHOD 0 (a JS double operation rounds as a wasm f64 one, in the same order).

import * as tables from './libm-exp-log-tables.js';

// module-local copies: a bundler or test transform may turn imported bindings into property loads
const {
  EXP_INV_LN2_N, EXP_NEG_LN2_HI_N, EXP_NEG_LN2_LO_N, EXP_SHIFT, EXP2_SHIFT, EXP_POLY, EXP2_POLY, EXP_TAB_WORDS,
  LOG_LN2_HI, LOG_LN2_LO, LOG_POLY, LOG_POLY1, LOG_TAB, LOG_TAB2,
  LOG2_INV_LN2_HI, LOG2_INV_LN2_LO, LOG2_POLY, LOG2_POLY1, LOG2_TAB, LOG2_TAB2,
  POW_LOG_LN2_HI, POW_LOG_LN2_LO, POW_LOG_POLY, POW_LOG_TAB,
} = tables;

// ---------- bits of a double (little-endian halves of one scratch word) ----------

const scratch = new Float64Array(1);
const words = new Uint32Array(scratch.buffer);

/** the double whose 64 bits are hi:lo */
function fromWords(hi: number, lo: number): number {
  words[1] = hi;
  words[0] = lo;
  return scratch[0];
}

const TWO_POW_52 = 2 ** 52;
const TWO_POW_54 = 2 ** 54;
const TWO_POW_1009 = 2 ** 1009;
const TWO_POW_MINUS_1022 = 2 ** -1022;

// ---------- exp, exp2 (exp_data) ----------

const EXP_N_MASK = 127;
/** T[k] of the table: 2^(k/N) ~= H[k] (1 + T[k]) */
const EXP_TAIL = new Float64Array(128);
/** asuint64(H[k]) - (k << 52)/N as high and low words */
const EXP_SBITS_HI = new Uint32Array(128);
const EXP_SBITS_LO = new Uint32Array(128);
for (let k = 0; k < 128; k++) {
  EXP_TAIL[k] = fromWords(EXP_TAB_WORDS[4 * k], EXP_TAB_WORDS[4 * k + 1]);
  EXP_SBITS_HI[k] = EXP_TAB_WORDS[4 * k + 2];
  EXP_SBITS_LO[k] = EXP_TAB_WORDS[4 * k + 3];
}
const [EXP_C2, EXP_C3, EXP_C4, EXP_C5] = EXP_POLY;
const [EXP2_C1, EXP2_C2, EXP2_C3, EXP2_C4, EXP2_C5] = EXP2_POLY;

// top12 of 0x1p-54, 512, 1024, infinity
const TOP12_TINY = 0x3c9;
const TOP12_512 = 0x408;
const TOP12_1024 = 0x409;
const TOP12_INF = 0x7ff;

/**
 * scale (1 + tmp) where scale's exponent (sbits) may have overflowed: exp.c's specialcase. kiLo is
 * the low word of k, whose bit 31 is its sign.
 */
function expSpecialCase(tmp: number, sbitsHi: number, sbitsLo: number, kiLo: number): number {
  if ((kiLo & 0x80000000) === 0) {
    // k > 0: the exponent of scale might have overflowed by <= 460
    const scale = fromWords((sbitsHi - (1009 << 20)) >>> 0, sbitsLo);
    return TWO_POW_1009 * (scale + scale * tmp);
  }
  // k < 0: round once before scaling into the subnormal range
  const scale = fromWords((sbitsHi + (1022 << 20)) >>> 0, sbitsLo);
  let y = scale + scale * tmp;
  if (y < 1.0) {
    let lo = scale - y + scale * tmp;
    const hi = 1.0 + y;
    lo = 1.0 - hi + y + lo;
    y = hi + lo - 1.0;
    if (y === 0) y = 0;
  }
  return TWO_POW_MINUS_1022 * y;
}

/** e^x (musl exp.c) */
export function exp(x: number): number {
  scratch[0] = x;
  const hiX = words[1];
  let abstop = (hiX >>> 20) & 0x7ff;
  if (((abstop - TOP12_TINY) >>> 0) >= TOP12_512 - TOP12_TINY) {
    // tiny x (and 0): 1 + x without a spurious underflow
    if (((abstop - TOP12_TINY) >>> 0) >= 0x80000000) return 1.0 + x;
    if (abstop >= TOP12_1024) {
      if (x === -Infinity) return 0.0;
      if (abstop >= TOP12_INF) return 1.0 + x;
      return hiX >>> 31 ? 0 : Infinity;
    }
    // large |x| is handled by the special case below
    abstop = 0;
  }
  // x = ln2/N k + r, r in [-ln2/2N, ln2/2N]; e^x = 2^(k/N) e^r
  const z = EXP_INV_LN2_N * x;
  let kd = z + EXP_SHIFT;
  scratch[0] = kd;
  const kiLo = words[0];
  kd -= EXP_SHIFT;
  const r = x + kd * EXP_NEG_LN2_HI_N + kd * EXP_NEG_LN2_LO_N;
  const idx = kiLo & EXP_N_MASK;
  const tail = EXP_TAIL[idx];
  // sbits = T[idx + 1] + (ki << 52 - 7): only ki's low 19 bits reach the high word
  const sbitsHi = (EXP_SBITS_HI[idx] + (kiLo << 13)) >>> 0;
  const sbitsLo = EXP_SBITS_LO[idx];
  const r2 = r * r;
  const tmp = tail + r + r2 * (EXP_C2 + r * EXP_C3) + r2 * r2 * (EXP_C4 + r * EXP_C5);
  if (abstop === 0) return expSpecialCase(tmp, sbitsHi, sbitsLo, kiLo);
  const scale = fromWords(sbitsHi, sbitsLo);
  return scale + scale * tmp;
}

/** exp2.c's specialcase: as exp's, but the exponent overflows by at most 1 */
function exp2SpecialCase(tmp: number, sbitsHi: number, sbitsLo: number, kiLo: number): number {
  if ((kiLo & 0x80000000) === 0) {
    const scale = fromWords((sbitsHi - (1 << 20)) >>> 0, sbitsLo);
    return 2 * (scale + scale * tmp);
  }
  return expSpecialCase(tmp, sbitsHi, sbitsLo, kiLo);
}

/** 2^x (musl exp2.c) */
export function exp2(x: number): number {
  scratch[0] = x;
  const hiX = words[1];
  let abstop = (hiX >>> 20) & 0x7ff;
  if (((abstop - TOP12_TINY) >>> 0) >= TOP12_512 - TOP12_TINY) {
    if (((abstop - TOP12_TINY) >>> 0) >= 0x80000000) return 1.0 + x;
    if (abstop >= TOP12_1024) {
      if (x === -Infinity) return 0.0;
      if (abstop >= TOP12_INF) return 1.0 + x;
      if (!(hiX >>> 31)) return Infinity;
      if (x <= -1075.0) return 0;
    }
    // |x| > 928: the scale's exponent may overflow
    if (Math.abs(x) > 928.0) abstop = 0;
  }
  // x = k/N + r, r in [-1/2N, 1/2N]
  let kd = x + EXP2_SHIFT;
  scratch[0] = kd;
  const kiLo = words[0];
  kd -= EXP2_SHIFT;
  const r = x - kd;
  const idx = kiLo & EXP_N_MASK;
  const tail = EXP_TAIL[idx];
  const sbitsHi = (EXP_SBITS_HI[idx] + (kiLo << 13)) >>> 0;
  const sbitsLo = EXP_SBITS_LO[idx];
  const r2 = r * r;
  const tmp = tail + r * EXP2_C1 + r2 * (EXP2_C2 + r * EXP2_C3) + r2 * r2 * (EXP2_C4 + r * EXP2_C5);
  if (abstop === 0) return exp2SpecialCase(tmp, sbitsHi, sbitsLo, kiLo);
  const scale = fromWords(sbitsHi, sbitsLo);
  return scale + scale * tmp;
}

// 1e-15 ... 1e15 (exp10.c's p10)
const POWERS_OF_TEN = new Float64Array([
  1e-15, 1e-14, 1e-13, 1e-12, 1e-11, 1e-10, 1e-9, 1e-8, 1e-7, 1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1,
  1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
]);

/** 10^x (musl exp10.c: jq's exp10 and pow10) */
export function exp10(x: number): number {
  const n = Math.trunc(x);
  // |n| < 16, and not nan
  if (Math.abs(n) < 16) {
    const y = x - n;
    if (y === 0) return POWERS_OF_TEN[n + 15];
    return exp2(3.32192809488736234787031942948939 * y) * POWERS_OF_TEN[n + 15];
  }
  return pow(10.0, x);
}

// ---------- log (log_data) ----------

const [LOG_A0, LOG_A1, LOG_A2, LOG_A3, LOG_A4] = LOG_POLY;
const [LOG_B0, LOG_B1, LOG_B2, LOG_B3, LOG_B4, LOG_B5, LOG_B6, LOG_B7, LOG_B8, LOG_B9, LOG_B10] = LOG_POLY1;
const TWO_POW_27 = 2 ** 27;

/** the high word of a double whose low word is 0 (the bounds of the near-1 paths) */
function highWordOf(x: number): number {
  scratch[0] = x;
  if (words[0] !== 0) throw new Error('libm-exp-log: bound with a non-zero low word');
  return words[1];
}
// log: near 1 is [1 - 0x1p-4, 1 + 0x1.09p-4)
const LOG_NEAR1_LO = highWordOf(1.0 - 2 ** -4);
const LOG_NEAR1_HI = highWordOf(1.0 + 0x109 * 2 ** -12);
// log2: near 1 is [1 - 0x1.5b51p-5, 1 + 0x1.6ab2p-5)
const LOG2_NEAR1_LO = highWordOf(1.0 - 0x15b51 * 2 ** -21);
const LOG2_NEAR1_HI = highWordOf(1.0 + 0x16ab2 * 2 ** -21);
// OFF = 0x3fe6000000000000: z is in [OFF, 2 OFF)
const LOG_OFF_HI = 0x3fe60000;

/** natural logarithm (musl log.c) */
export function log(x: number): number {
  scratch[0] = x;
  let hi = words[1];
  let lo = words[0];
  if (hi >= LOG_NEAR1_LO && hi < LOG_NEAR1_HI) {
    // close to 1
    if (x === 1.0) return 0;
    const r = x - 1.0;
    const r2 = r * r;
    const r3 = r * r2;
    let y = r3 * (LOG_B1 + r * LOG_B2 + r2 * LOG_B3 + r3 * (LOG_B4 + r * LOG_B5 + r2 * LOG_B6 + r3 * (LOG_B7 + r * LOG_B8 + r2 * LOG_B9 + r3 * LOG_B10)));
    let w = r * TWO_POW_27;
    const rhi = r + w - w;
    const rlo = r - rhi;
    w = rhi * rhi * LOG_B0;
    const yhi = r + w;
    let ylo = r - yhi + w;
    ylo += LOG_B0 * rlo * (rhi + r);
    y += ylo;
    y += yhi;
    return y;
  }
  const top = hi >>> 16;
  if (((top - 0x0010) >>> 0) >= 0x7ff0 - 0x0010) {
    // x < 0x1p-1022, or inf or nan
    if (((hi & 0x7fffffff) | lo) === 0) return -Infinity;
    if (x === Infinity) return x;
    if (top & 0x8000 || (top & 0x7ff0) === 0x7ff0) return NaN;
    // subnormal: normalize
    scratch[0] = x * TWO_POW_52;
    hi = (words[1] - (52 << 20)) >>> 0;
    lo = words[0];
  }
  // x = 2^k z, z in [OFF, 2 OFF) exact; the subinterval i holds z and c near its center
  const tmpHi = (hi - LOG_OFF_HI) | 0;
  const i = (tmpHi >>> 13) & 127;
  const k = tmpHi >> 20;
  const z = fromWords((hi - (tmpHi & 0xfff00000)) >>> 0, lo);
  const invc = LOG_TAB[2 * i];
  const logc = LOG_TAB[2 * i + 1];
  // r ~= z/c - 1, |r| < 1/2N
  const r = (z - LOG_TAB2[2 * i] - LOG_TAB2[2 * i + 1]) * invc;
  const kd = k;
  // hi + lo = r + log(c) + k Ln2
  const w = kd * LOG_LN2_HI + logc;
  const yhi = w + r;
  const ylo = w - yhi + r + kd * LOG_LN2_LO;
  const r2 = r * r;
  return ylo + r2 * LOG_A0 + r * r2 * (LOG_A1 + r * LOG_A2 + r2 * (LOG_A3 + r * LOG_A4)) + yhi;
}

// ---------- log2 (log2_data) ----------

const [LOG2_A0, LOG2_A1, LOG2_A2, LOG2_A3, LOG2_A4, LOG2_A5] = LOG2_POLY;
const [LOG2_B0, LOG2_B1, LOG2_B2, LOG2_B3, LOG2_B4, LOG2_B5, LOG2_B6, LOG2_B7, LOG2_B8, LOG2_B9] = LOG2_POLY1;

/** x with its low 32 bits cleared */
function highHalf(x: number): number {
  scratch[0] = x;
  words[0] = 0;
  return scratch[0];
}

/** base-2 logarithm (musl log2.c) */
export function log2(x: number): number {
  scratch[0] = x;
  let hi = words[1];
  let lo = words[0];
  if (hi >= LOG2_NEAR1_LO && hi < LOG2_NEAR1_HI) {
    if (x === 1.0) return 0;
    const r = x - 1.0;
    const rhi = highHalf(r);
    const rlo = r - rhi;
    const yhi = rhi * LOG2_INV_LN2_HI;
    let ylo = rlo * LOG2_INV_LN2_HI + r * LOG2_INV_LN2_LO;
    const r2 = r * r;
    const r4 = r2 * r2;
    const p = r2 * (LOG2_B0 + r * LOG2_B1);
    let y = yhi + p;
    ylo += yhi - y + p;
    ylo += r4 * (LOG2_B2 + r * LOG2_B3 + r2 * (LOG2_B4 + r * LOG2_B5) + r4 * (LOG2_B6 + r * LOG2_B7 + r2 * (LOG2_B8 + r * LOG2_B9)));
    y += ylo;
    return y;
  }
  const top = hi >>> 16;
  if (((top - 0x0010) >>> 0) >= 0x7ff0 - 0x0010) {
    if (((hi & 0x7fffffff) | lo) === 0) return -Infinity;
    if (x === Infinity) return x;
    if (top & 0x8000 || (top & 0x7ff0) === 0x7ff0) return NaN;
    scratch[0] = x * TWO_POW_52;
    hi = (words[1] - (52 << 20)) >>> 0;
    lo = words[0];
  }
  const tmpHi = (hi - LOG_OFF_HI) | 0;
  const i = (tmpHi >>> 14) & 63;
  const k = tmpHi >> 20;
  const z = fromWords((hi - (tmpHi & 0xfff00000)) >>> 0, lo);
  const invc = LOG2_TAB[2 * i];
  const logc = LOG2_TAB[2 * i + 1];
  const kd = k;
  // log2(x) = log2(z/c) + log2(c) + k
  const r = (z - LOG2_TAB2[2 * i] - LOG2_TAB2[2 * i + 1]) * invc;
  const rhi = highHalf(r);
  const rlo = r - rhi;
  const t1 = rhi * LOG2_INV_LN2_HI;
  const t2 = rlo * LOG2_INV_LN2_HI + r * LOG2_INV_LN2_LO;
  const t3 = kd + logc;
  const yhi = t3 + t1;
  const ylo = t3 - yhi + t1 + t2;
  const r2 = r * r;
  const r4 = r2 * r2;
  const p = LOG2_A0 + r * LOG2_A1 + r2 * (LOG2_A2 + r * LOG2_A3) + r4 * (LOG2_A4 + r * LOG2_A5);
  return ylo + r2 * p + yhi;
}

// ---------- log10 (fdlibm) ----------

const IVLN10_HI = 4.34294481878168880939e-01;
const IVLN10_LO = 2.50829467116452752298e-11;
const LOG10_2_HI = 3.01029995663611771306e-01;
const LOG10_2_LO = 3.69423907715893078616e-13;
const LG1 = 6.666666666666735130e-01;
const LG2 = 3.999999999940941908e-01;
const LG3 = 2.857142874366239149e-01;
const LG4 = 2.222219843214978396e-01;
const LG5 = 1.818357216161805012e-01;
const LG6 = 1.531383769920937332e-01;
const LG7 = 1.479819860511658591e-01;

/** base-10 logarithm (musl log10.c, fdlibm) */
export function log10(x: number): number {
  scratch[0] = x;
  let hx = words[1];
  let lo = words[0];
  let k = 0;
  if (hx < 0x00100000 || hx >>> 31) {
    if (((hx & 0x7fffffff) | lo) === 0) return -1 / (x * x);
    if (hx >>> 31) return (x - x) / 0.0;
    // subnormal: scale up
    k -= 54;
    x *= TWO_POW_54;
    scratch[0] = x;
    hx = words[1];
    lo = words[0];
  } else if (hx >= 0x7ff00000) {
    return x;
  } else if (hx === 0x3ff00000 && lo === 0) {
    return 0;
  }
  // reduce x into [sqrt(2)/2, sqrt(2)]
  hx = (hx + (0x3ff00000 - 0x3fe6a09e)) >>> 0;
  k += (hx >>> 20) - 0x3ff;
  hx = (hx & 0x000fffff) + 0x3fe6a09e;
  x = fromWords(hx, lo);

  const f = x - 1.0;
  const hfsq = 0.5 * f * f;
  const s = f / (2.0 + f);
  const z = s * s;
  let w = z * z;
  const t1 = w * (LG2 + w * (LG4 + w * LG6));
  const t2 = z * (LG1 + w * (LG3 + w * (LG5 + w * LG7)));
  const R = t2 + t1;
  // hi + lo = f - hfsq + s (hfsq + R) ~ log(1 + f)
  const hi = highHalf(f - hfsq);
  const flo = f - hi - hfsq + s * (hfsq + R);
  // valHi + valLo ~ log10(1 + f) + k log10(2)
  let valHi = hi * IVLN10_HI;
  const dk = k;
  const y = dk * LOG10_2_HI;
  let valLo = dk * LOG10_2_LO + (flo + hi) * IVLN10_LO + flo * IVLN10_HI;
  w = y + valHi;
  valLo += y - w + valHi;
  valHi = w;
  return valLo + valHi;
}

// ---------- pow (pow_data, exp_data) ----------

const [POW_A0, POW_A1, POW_A2, POW_A3, POW_A4, POW_A5, POW_A6] = POW_LOG_POLY;
// OFF = 0x3fe6955500000000
const POW_OFF_HI = 0x3fe69555;
const SIGN_BIAS = 0x800 << 7;

/** the tail of log_inline's result: log(x) = result + logTail */
let logTail = 0;

/** log(x) with about 15 extra bits in logTail; ix is x's bits, subnormals normalized (pow.c's log_inline) */
function logInline(ixHi: number, ixLo: number): number {
  const tmpHi = (ixHi - POW_OFF_HI) | 0;
  const i = (tmpHi >>> 13) & 127;
  const k = tmpHi >> 20;
  const izHi = (ixHi - (tmpHi & 0xfff00000)) >>> 0;
  const z = fromWords(izHi, ixLo);
  const kd = k;
  const invc = POW_LOG_TAB[3 * i];
  const logc = POW_LOG_TAB[3 * i + 1];
  const logctail = POW_LOG_TAB[3 * i + 2];
  // z split so that rhi, rlo and rhi*rhi are exact: zhi is iz + 2^31 with the low word cleared
  const zhi = fromWords(izHi + (ixLo >= 0x80000000 ? 1 : 0), 0);
  const zlo = z - zhi;
  const rhi = zhi * invc - 1.0;
  const rlo = zlo * invc;
  const r = rhi + rlo;
  // k Ln2 + log(c) + r
  const t1 = kd * POW_LOG_LN2_HI + logc;
  const t2 = t1 + r;
  const lo1 = kd * POW_LOG_LN2_LO + logctail;
  const lo2 = t1 - t2 + r;
  const ar = POW_A0 * r;
  const ar2 = r * ar;
  const ar3 = r * ar2;
  const arhi = POW_A0 * rhi;
  const arhi2 = rhi * arhi;
  const hi = t2 + arhi2;
  const lo3 = rlo * (ar + arhi);
  const lo4 = t2 - hi + arhi2;
  const p = ar3 * (POW_A1 + r * POW_A2 + ar2 * (POW_A3 + r * POW_A4 + ar2 * (POW_A5 + r * POW_A6)));
  const lo = lo1 + lo2 + lo3 + lo4 + p;
  const y = hi + lo;
  logTail = hi - y + lo;
  return y;
}

/** pow.c's specialcase: as exp's, with the sign of the result in sbits */
function powSpecialCase(tmp: number, sbitsHi: number, sbitsLo: number, kiLo: number): number {
  if ((kiLo & 0x80000000) === 0) {
    const scale = fromWords((sbitsHi - (1009 << 20)) >>> 0, sbitsLo);
    return TWO_POW_1009 * (scale + scale * tmp);
  }
  const biasedHi = (sbitsHi + (1022 << 20)) >>> 0;
  const scale = fromWords(biasedHi, sbitsLo);
  let y = scale + scale * tmp;
  if (Math.abs(y) < 1.0) {
    const one = y < 0.0 ? -1.0 : 1.0;
    let lo = scale - y + scale * tmp;
    const hi = one + y;
    lo = one - hi + y + lo;
    y = hi + lo - one;
    // the sign of zero is the sign of scale
    if (y === 0.0) y = biasedHi >>> 31 ? -0 : 0;
  }
  return TWO_POW_MINUS_1022 * y;
}

/** sign * e^(x + xtail), |xtail| < 2^-8/N (pow.c's exp_inline) */
function expInline(x: number, xtail: number, signBias: number): number {
  scratch[0] = x;
  const hiX = words[1];
  let abstop = (hiX >>> 20) & 0x7ff;
  if (((abstop - TOP12_TINY) >>> 0) >= TOP12_512 - TOP12_TINY) {
    if (((abstop - TOP12_TINY) >>> 0) >= 0x80000000) {
      const one = 1.0 + x;
      return signBias ? -one : one;
    }
    if (abstop >= TOP12_1024) {
      if (hiX >>> 31) return signBias ? -0 : 0;
      return signBias ? -Infinity : Infinity;
    }
    abstop = 0;
  }
  const z = EXP_INV_LN2_N * x;
  let kd = z + EXP_SHIFT;
  scratch[0] = kd;
  const kiLo = words[0];
  kd -= EXP_SHIFT;
  let r = x + kd * EXP_NEG_LN2_HI_N + kd * EXP_NEG_LN2_LO_N;
  r += xtail;
  const idx = kiLo & EXP_N_MASK;
  const tail = EXP_TAIL[idx];
  const sbitsHi = (EXP_SBITS_HI[idx] + ((kiLo + signBias) << 13)) >>> 0;
  const sbitsLo = EXP_SBITS_LO[idx];
  const r2 = r * r;
  const tmp = tail + r + r2 * (EXP_C2 + r * EXP_C3) + r2 * r2 * (EXP_C4 + r * EXP_C5);
  if (abstop === 0) return powSpecialCase(tmp, sbitsHi, sbitsLo, kiLo);
  const scale = fromWords(sbitsHi, sbitsLo);
  return scale + scale * tmp;
}

/** 0 if the finite non-zero double hi:lo is not an integer, 1 if odd, 2 if even */
function checkInt(hi: number, lo: number): number {
  const e = (hi >>> 20) & 0x7ff;
  if (e < 0x3ff) return 0;
  if (e > 0x3ff + 52) return 2;
  // the bit of weight 1 is bit s of the 64-bit pattern
  const s = 0x3ff + 52 - e;
  if (s < 32) {
    if (s > 0 && lo << (32 - s) !== 0) return 0;
    return (lo >>> s) & 1 ? 1 : 2;
  }
  if (lo !== 0 || (s > 32 && hi << (64 - s) !== 0)) return 0;
  return (hi >>> (s - 32)) & 1 ? 1 : 2;
}

/** whether hi:lo is the bits of ±0, ±infinity or nan */
function isZeroInfNan(hi: number, lo: number): boolean {
  return (((hi & 0x7fffffff) | lo) === 0) || (hi & 0x7fffffff) >= 0x7ff00000;
}

/** x^y (musl pow.c, with its special cases: pow(1, nan) = 1, pow(-1, ±inf) = 1, ...) */
export function pow(x: number, y: number): number {
  let signBias = 0;
  scratch[0] = x;
  let ixHi = words[1];
  let ixLo = words[0];
  scratch[0] = y;
  const iyHi = words[1];
  const iyLo = words[0];
  let topx = ixHi >>> 20;
  const topy = iyHi >>> 20;
  if (((topx - 0x001) >>> 0) >= 0x7ff - 0x001 || (((topy & 0x7ff) - 0x3be) >>> 0) >= 0x43e - 0x3be) {
    // x subnormal, zero, negative, inf or nan; or |y| < 2^-65, |y| >= 2^63 or nan
    if (isZeroInfNan(iyHi, iyLo)) {
      if (((iyHi & 0x7fffffff) | iyLo) === 0) return 1.0;
      if (ixHi === 0x3ff00000 && ixLo === 0) return 1.0;
      if (x !== x || y !== y) return x + y;
      const ax = Math.abs(x);
      if (ax === 1.0) return 1.0;
      // |x| < 1 and y = inf, or |x| > 1 and y = -inf
      if ((ax < 1.0) === !(iyHi >>> 31)) return 0.0;
      return y * y;
    }
    if (isZeroInfNan(ixHi, ixLo)) {
      let x2 = x * x;
      if (ixHi >>> 31 && checkInt(iyHi, iyLo) === 1) x2 = -x2;
      return iyHi >>> 31 ? 1 / x2 : x2;
    }
    // x and y non-zero finite
    if (ixHi >>> 31) {
      const yint = checkInt(iyHi, iyLo);
      if (yint === 0) return NaN;
      if (yint === 1) signBias = SIGN_BIAS;
      ixHi &= 0x7fffffff;
      topx &= 0x7ff;
    }
    if ((((topy & 0x7ff) - 0x3be) >>> 0) >= 0x43e - 0x3be) {
      if (ixHi === 0x3ff00000 && ixLo === 0) return 1.0;
      const xAboveOne = ixHi > 0x3ff00000 || (ixHi === 0x3ff00000 && ixLo !== 0);
      // |y| < 2^-65: x^y ~= 1 + y log(x)
      if ((topy & 0x7ff) < 0x3be) return xAboveOne ? 1.0 + y : 1.0 - y;
      return xAboveOne === topy < 0x800 ? Infinity : 0;
    }
    if (topx === 0) {
      // subnormal x: normalized, its exponent below the sign bit
      scratch[0] = x * TWO_POW_52;
      ixHi = ((words[1] & 0x7fffffff) - (52 << 20)) >>> 0;
      ixLo = words[0];
    }
  }
  const hi = logInline(ixHi, ixLo);
  const lo = logTail;
  // y (hi + lo) as ehi + elo, with y and hi split at bit 27 so yhi * lhi is exact
  const yhi = fromWords(iyHi, (iyLo & 0xf8000000) >>> 0);
  const ylo = y - yhi;
  scratch[0] = hi;
  const lhi = fromWords(words[1], (words[0] & 0xf8000000) >>> 0);
  const llo = hi - lhi + lo;
  const ehi = yhi * lhi;
  const elo = ylo * lhi + y * llo;
  return expInline(ehi, elo, signBias);
}

// ---------- expm1, log1p (fdlibm as musl has them) ----------

const O_THRESHOLD = 7.09782712893383973096e+02;
const LN2_HI = 6.93147180369123816490e-01;
const LN2_LO = 1.90821492927058770002e-10;
const INV_LN2 = 1.44269504088896338700e+00;
// scaled Q's: Qn_here = 2^n Qn, for R(2z) where z = x*x/2
const Q1 = -3.33333333333331316428e-02;
const Q2 = 1.58730158725481460165e-03;
const Q3 = -7.93650757867487942473e-05;
const Q4 = 4.00821782732936239552e-06;
const Q5 = -2.01099218183624371326e-07;
const TWO_POW_1023 = 2 ** 1023;

/** e^x - 1 (musl expm1.c) */
export function expm1(x: number): number {
  scratch[0] = x;
  const hx = words[1] & 0x7fffffff;
  const negative = words[1] >>> 31;
  // huge and non-finite x
  if (hx >= 0x4043687a) {
    // |x| >= 56 ln2
    if (x !== x) return x;
    if (negative) return -1;
    if (x > O_THRESHOLD) return x * TWO_POW_1023;
  }
  let k: number;
  let c = 0;
  if (hx > 0x3fd62e42) {
    // |x| > 0.5 ln2: x = k ln2 + (hi - lo)
    let hi: number;
    let lo: number;
    if (hx < 0x3ff0a2b2) {
      // and |x| < 1.5 ln2
      if (!negative) {
        hi = x - LN2_HI;
        lo = LN2_LO;
        k = 1;
      } else {
        hi = x + LN2_HI;
        lo = -LN2_LO;
        k = -1;
      }
    } else {
      k = Math.trunc(INV_LN2 * x + (negative ? -0.5 : 0.5));
      const t = k;
      hi = x - t * LN2_HI;
      lo = t * LN2_LO;
    }
    x = hi - lo;
    c = hi - x - lo;
  } else if (hx < 0x3c900000) {
    // |x| < 2^-54
    return x;
  } else {
    k = 0;
  }
  // x in the primary range
  const hfx = 0.5 * x;
  const hxs = x * hfx;
  const r1 = 1.0 + hxs * (Q1 + hxs * (Q2 + hxs * (Q3 + hxs * (Q4 + hxs * Q5))));
  const t = 3.0 - r1 * hfx;
  let e = hxs * ((r1 - t) / (6.0 - x * t));
  if (k === 0) return x - (x * e - hxs);
  e = x * (e - c) - c;
  e -= hxs;
  // e^x ~ 2^k (x_reduced - e + 1)
  if (k === -1) return 0.5 * (x - e) - 0.5;
  if (k === 1) {
    if (x < -0.25) return -2.0 * (e - (x + 0.5));
    return 1.0 + 2.0 * (x - e);
  }
  const twopk = fromWords((0x3ff + k) << 20, 0);
  if (k < 0 || k > 56) {
    let y = x - e + 1.0;
    if (k === 1024) y = y * 2.0 * TWO_POW_1023;
    else y = y * twopk;
    return y - 1.0;
  }
  const twoMinusK = fromWords((0x3ff - k) << 20, 0);
  if (k < 20) return (x - e + (1 - twoMinusK)) * twopk;
  return (x - (e + twoMinusK) + 1) * twopk;
}

/** log(1 + x) (musl log1p.c) */
export function log1p(x: number): number {
  scratch[0] = x;
  const hx = words[1];
  let k = 1;
  let c = 0;
  let f = 0;
  if (hx < 0x3fda827a || hx >>> 31) {
    // 1 + x < sqrt(2)+
    if (hx >= 0xbff00000) {
      // x <= -1
      if (x === -1) return x / 0.0;
      return (x - x) / 0.0;
    }
    // |x| < 2^-53
    if ((hx << 1) >>> 0 < 0x3ca00000 * 2) return x;
    if (hx <= 0xbfd2bec4) {
      // sqrt(2)/2- <= 1 + x < sqrt(2)+
      k = 0;
      c = 0;
      f = x;
    }
  } else if (hx >= 0x7ff00000) {
    return x;
  }
  if (k) {
    const u = 1 + x;
    scratch[0] = u;
    let hu = (words[1] + (0x3ff00000 - 0x3fe6a09e)) >>> 0;
    const ulo = words[0];
    k = (hu >>> 20) - 0x3ff;
    // correction term ~ log(1 + x) - log(u), kept from underflowing in c/u
    if (k < 54) {
      c = k >= 2 ? 1 - (u - x) : x - (u - 1);
      c /= u;
    } else {
      c = 0;
    }
    // u reduced into [sqrt(2)/2, sqrt(2)]
    hu = (hu & 0x000fffff) + 0x3fe6a09e;
    f = fromWords(hu, ulo) - 1;
  }
  const hfsq = 0.5 * f * f;
  const s = f / (2.0 + f);
  const z = s * s;
  const w = z * z;
  const t1 = w * (LG2 + w * (LG4 + w * LG6));
  const t2 = z * (LG1 + w * (LG3 + w * (LG5 + w * LG7)));
  const R = t2 + t1;
  const dk = k;
  return s * (hfsq + R) + (dk * LN2_LO + c) - hfsq + f + dk * LN2_HI;
}

// ---------- hyperbolic functions ----------

// 2043 ln2, the k ln2 of __expo2.c with the least relative error
const EXPO2_K_LN2 = fromWords(0x40962066, 0x151add8b);
// 2^(k/2) for k = 2043: 2^1021
const EXPO2_SCALE = fromWords((0x3ff + 1021) << 20, 0);

/** e^x / 2 for x >= log(DBL_MAX), times sign (musl __expo2.c) */
function expo2(x: number, sign: number): number {
  return exp(x - EXPO2_K_LN2) * (sign * EXPO2_SCALE) * EXPO2_SCALE;
}

/** high word of |x| */
function absHighWord(x: number): number {
  scratch[0] = x;
  return words[1] & 0x7fffffff;
}

/** musl cosh.c */
export function cosh(x: number): number {
  const w = absHighWord(x);
  x = Math.abs(x);
  // |x| < log(2)
  if (w < 0x3fe62e42) {
    if (w < 0x3ff00000 - (26 << 20)) return 1;
    const t = expm1(x);
    return 1 + (t * t) / (2 * (1 + t));
  }
  // |x| < log(DBL_MAX)
  if (w < 0x40862e42) {
    const t = exp(x);
    return 0.5 * (t + 1 / t);
  }
  return expo2(x, 1.0);
}

/** musl sinh.c */
export function sinh(x: number): number {
  scratch[0] = x;
  const h = words[1] >>> 31 ? -0.5 : 0.5;
  const w = words[1] & 0x7fffffff;
  const absx = Math.abs(x);
  // |x| < log(DBL_MAX)
  if (w < 0x40862e42) {
    const t = expm1(absx);
    if (w < 0x3ff00000) {
      if (w < 0x3ff00000 - (26 << 20)) return x;
      return h * (2 * t - (t * t) / (t + 1));
    }
    return h * (t + t / (t + 1));
  }
  return expo2(absx, 2 * h);
}

/** musl tanh.c */
export function tanh(x: number): number {
  scratch[0] = x;
  const negative = words[1] >>> 31;
  const w = words[1] & 0x7fffffff;
  x = Math.abs(x);
  let t: number;
  if (w > 0x3fe193ea) {
    // |x| > log(3)/2 ~= 0.5493, or nan
    if (w > 0x40340000) {
      // |x| > 20, or nan
      t = 1 - 0 / x;
    } else {
      t = expm1(2 * x);
      t = 1 - 2 / (t + 2);
    }
  } else if (w > 0x3fd058ae) {
    // |x| > log(5/3)/2 ~= 0.2554
    t = expm1(2 * x);
    t = t / (t + 2);
  } else if (w >= 0x00100000) {
    t = expm1(-2 * x);
    t = -t / (t + 2);
  } else {
    // subnormal
    t = x;
  }
  return negative ? -t : t;
}

const LN2 = 0.693147180559945309417232121458176568;

/** musl asinh.c */
export function asinh(x: number): number {
  scratch[0] = x;
  const e = (words[1] >>> 20) & 0x7ff;
  const negative = words[1] >>> 31;
  x = Math.abs(x);
  if (e >= 0x3ff + 26) {
    // |x| >= 0x1p26, or inf or nan
    x = log(x) + LN2;
  } else if (e >= 0x3ff + 1) {
    // |x| >= 2
    x = log(2 * x + 1 / (Math.sqrt(x * x + 1) + x));
  } else if (e >= 0x3ff - 26) {
    // |x| >= 0x1p-26
    x = log1p(x + (x * x) / (Math.sqrt(x * x + 1) + 1));
  }
  return negative ? -x : x;
}

/** musl acosh.c */
export function acosh(x: number): number {
  scratch[0] = x;
  const e = (words[1] >>> 20) & 0x7ff;
  // |x| < 2
  if (e < 0x3ff + 1) return log1p(x - 1 + Math.sqrt((x - 1) * (x - 1) + 2 * (x - 1)));
  // |x| < 0x1p26
  if (e < 0x3ff + 26) return log(2 * x - 1 / (x + Math.sqrt(x * x - 1)));
  return log(x) + LN2;
}

/** musl atanh.c */
export function atanh(x: number): number {
  scratch[0] = x;
  const e = (words[1] >>> 20) & 0x7ff;
  const negative = words[1] >>> 31;
  let y = Math.abs(x);
  if (e < 0x3ff - 1) {
    // |x| < 0.5 (below 2^-32 atanh(x) rounds to x)
    if (e >= 0x3ff - 32) y = 0.5 * log1p(2 * y + (2 * y * y) / (1 - y));
  } else {
    y = 0.5 * log1p(2 * (y / (1 - y)));
  }
  return negative ? -y : y;
}

// ---------- erf, erfc (fdlibm) ----------

const ERX = 8.45062911510467529297e-01;
// erf on [0, 0.84375]
const EFX8 = 1.02703333676410069053e+00;
const PP0 = 1.28379167095512558561e-01;
const PP1 = -3.25042107247001499370e-01;
const PP2 = -2.84817495755985104766e-02;
const PP3 = -5.77027029648944159157e-03;
const PP4 = -2.37630166566501626084e-05;
const QQ1 = 3.97917223959155352819e-01;
const QQ2 = 6.50222499887672944485e-02;
const QQ3 = 5.08130628187576562776e-03;
const QQ4 = 1.32494738004321644526e-04;
const QQ5 = -3.96022827877536812320e-06;
// erf on [0.84375, 1.25]
const PA0 = -2.36211856075265944077e-03;
const PA1 = 4.14856118683748331666e-01;
const PA2 = -3.72207876035701323847e-01;
const PA3 = 3.18346619901161753674e-01;
const PA4 = -1.10894694282396677476e-01;
const PA5 = 3.54783043256182359371e-02;
const PA6 = -2.16637559486879084300e-03;
const QA1 = 1.06420880400844228286e-01;
const QA2 = 5.40397917702171048937e-01;
const QA3 = 7.18286544141962662868e-02;
const QA4 = 1.26171219808761642112e-01;
const QA5 = 1.36370839120290507362e-02;
const QA6 = 1.19844998467991074170e-02;
// erfc on [1.25, 1/0.35]
const RA0 = -9.86494403484714822705e-03;
const RA1 = -6.93858572707181764372e-01;
const RA2 = -1.05586262253232909814e+01;
const RA3 = -6.23753324503260060396e+01;
const RA4 = -1.62396669462573470355e+02;
const RA5 = -1.84605092906711035994e+02;
const RA6 = -8.12874355063065934246e+01;
const RA7 = -9.81432934416914548592e+00;
const SA1 = 1.96512716674392571292e+01;
const SA2 = 1.37657754143519042600e+02;
const SA3 = 4.34565877475229228821e+02;
const SA4 = 6.45387271733267880336e+02;
const SA5 = 4.29008140027567833386e+02;
const SA6 = 1.08635005541779435134e+02;
const SA7 = 6.57024977031928170135e+00;
const SA8 = -6.04244152148580987438e-02;
// erfc on [1/0.35, 28]
const RB0 = -9.86494292470009928597e-03;
const RB1 = -7.99283237680523006574e-01;
const RB2 = -1.77579549177547519889e+01;
const RB3 = -1.60636384855821916062e+02;
const RB4 = -6.37566443368389627722e+02;
const RB5 = -1.02509513161107724954e+03;
const RB6 = -4.83519191608651397019e+02;
const SB1 = 3.03380607434824582924e+01;
const SB2 = 3.25792512996573918826e+02;
const SB3 = 1.53672958608443695994e+03;
const SB4 = 3.19985821950859553908e+03;
const SB5 = 2.55305040643316442583e+03;
const SB6 = 4.74528541206955367215e+02;
const SB7 = -2.24409524465858183362e+01;

function erfc1(x: number): number {
  const s = Math.abs(x) - 1;
  const P = PA0 + s * (PA1 + s * (PA2 + s * (PA3 + s * (PA4 + s * (PA5 + s * PA6)))));
  const Q = 1 + s * (QA1 + s * (QA2 + s * (QA3 + s * (QA4 + s * (QA5 + s * QA6)))));
  return 1 - ERX - P / Q;
}

/** erfc(|x|) for 0.84375 <= |x| < 28; ix is the high word of |x| */
function erfc2(ix: number, x: number): number {
  if (ix < 0x3ff40000) return erfc1(x);
  x = Math.abs(x);
  const s = 1 / (x * x);
  let R: number;
  let S: number;
  if (ix < 0x4006db6d) {
    // |x| < 1/0.35
    R = RA0 + s * (RA1 + s * (RA2 + s * (RA3 + s * (RA4 + s * (RA5 + s * (RA6 + s * RA7))))));
    S = 1.0 + s * (SA1 + s * (SA2 + s * (SA3 + s * (SA4 + s * (SA5 + s * (SA6 + s * (SA7 + s * SA8)))))));
  } else {
    R = RB0 + s * (RB1 + s * (RB2 + s * (RB3 + s * (RB4 + s * (RB5 + s * RB6)))));
    S = 1.0 + s * (SB1 + s * (SB2 + s * (SB3 + s * (SB4 + s * (SB5 + s * (SB6 + s * SB7))))));
  }
  const z = highHalf(x);
  return (exp(-z * z - 0.5625) * exp((z - x) * (z + x) + R / S)) / x;
}

/** musl erf.c (fdlibm) */
export function erf(x: number): number {
  scratch[0] = x;
  const negative = words[1] >>> 31;
  const ix = words[1] & 0x7fffffff;
  if (ix >= 0x7ff00000) return 1 - 2 * negative + 1 / x;
  if (ix < 0x3feb0000) {
    // |x| < 0.84375
    if (ix < 0x3e300000) return 0.125 * (8 * x + EFX8 * x);
    const z = x * x;
    const r = PP0 + z * (PP1 + z * (PP2 + z * (PP3 + z * PP4)));
    const s = 1.0 + z * (QQ1 + z * (QQ2 + z * (QQ3 + z * (QQ4 + z * QQ5))));
    const y = r / s;
    return x + x * y;
  }
  const y = ix < 0x40180000 ? 1 - erfc2(ix, x) : 1 - TWO_POW_MINUS_1022;
  return negative ? -y : y;
}

/** musl erf.c's erfc (fdlibm) */
export function erfc(x: number): number {
  scratch[0] = x;
  const negative = words[1] >>> 31;
  const ix = words[1] & 0x7fffffff;
  if (ix >= 0x7ff00000) return 2 * negative + 1 / x;
  if (ix < 0x3feb0000) {
    // |x| < 0.84375
    if (ix < 0x3c700000) return 1.0 - x;
    const z = x * x;
    const r = PP0 + z * (PP1 + z * (PP2 + z * (PP3 + z * PP4)));
    const s = 1.0 + z * (QQ1 + z * (QQ2 + z * (QQ3 + z * (QQ4 + z * QQ5))));
    const y = r / s;
    if (negative || ix < 0x3fd00000) return 1.0 - (x + x * y);
    return 0.5 - (x - 0.5 + x * y);
  }
  if (ix < 0x403c0000) return negative ? 2 - erfc2(ix, x) : erfc2(ix, x);
  return negative ? 2 - TWO_POW_MINUS_1022 : TWO_POW_MINUS_1022 * TWO_POW_MINUS_1022;
}
