// lgamma_r as musl's libm computes it (jq-wasm, the reference jq 1.7.1, links musl): the same
// operations in the same order on doubles, with musl's log (libm-exp-log.ts) and sin/cos kernels
// (libm-trig.ts), so the result has musl's bits.
//
// Ported from musl 1.2.4 src/math/lgamma_r.c (musl is MIT-licensed, Copyright © 2005-2020 Rich
// Felker, et al.), which derives from FreeBSD's e_lgamma_r.c: "Copyright (C) 1993 by Sun
// Microsystems, Inc. All rights reserved. Developed at SunPro, a Sun Microsystems, Inc. business.
// Permission to use, copy, modify, and distribute this software is freely granted, provided
// that this notice is preserved."

import { kernelCos, kernelSin } from './libm-trig.js';
import { log } from './libm-exp-log.js';

const PI = 3.141592653589793116;
const A = [
  7.72156649015328655494e-2, 3.22467033424113591611e-1, 6.73523010531292681824e-2, 2.05808084325167332806e-2,
  7.38555086081402883957e-3, 2.89051383673415629091e-3, 1.19270763183362067845e-3, 5.10069792153511336608e-4,
  2.20862790713908385557e-4, 1.08011567247583939954e-4, 2.52144565451257326939e-5, 4.4864094961891516015e-5,
];
const TC = 1.46163214496836224576;
const TF = -1.21486290535849611461e-1;
const TT = -3.63867699703950536541e-18; // -(tail of TF)
const T = [
  4.83836122723810047042e-1, -1.47587722994593911752e-1, 6.46249402391333854778e-2, -3.27885410759859649565e-2,
  1.79706750811820387126e-2, -1.0314224129834143745e-2, 6.10053870246291332635e-3, -3.6845201678113825676e-3,
  2.2596478090061247225e-3, -1.40346469989232843813e-3, 8.81081882437654011382e-4, -5.38595305356740546715e-4,
  3.15632070903625950361e-4, -3.12754168375120860518e-4, 3.35529192635519073543e-4,
];
const U = [
  -7.72156649015328655494e-2, 6.32827064025093366517e-1, 1.45492250137234768737, 9.77717527963372745603e-1,
  2.28963728064692451092e-1, 1.33810918536787660377e-2,
];
const V = [0, 2.45597793713041134822, 2.12848976379893395361, 7.69285150456672783825e-1, 1.04222645593369134254e-1, 3.2170924228242391181e-3];
const S = [
  -7.72156649015328655494e-2, 2.14982415960608852501e-1, 3.25778796408930981787e-1, 1.46350472652464452805e-1,
  2.6642270303363860956e-2, 1.84028451407337715652e-3, 3.19475326584100867617e-5,
];
const R = [0, 1.39200533467621045958, 7.21935547567138069525e-1, 1.71933865632803078993e-1, 1.86459191715652901344e-2, 7.77942496381893596434e-4, 7.32668430744625636189e-6];
const W = [
  4.18938533204672725052e-1, 8.33333333333329678849e-2, -2.7777777772877553647e-3, 7.936505586430195585e-4,
  -5.95187557450339963135e-4, 8.36339918996282139126e-4, -1.63092934096575273989e-3,
];

/** sin(pi x) for x > 2^-100 (the sign of a zero arbitrary), by musl's kernels on a reduced argument */
function sinPi(x: number): number {
  x = 2.0 * (x * 0.5 - Math.floor(x * 0.5)); // x mod 2
  let n = (x * 4.0) | 0;
  n = ((n + 1) / 2) | 0;
  x -= n * 0.5;
  x *= PI;
  switch (n) {
    case 1:
      return kernelCos(x, 0.0);
    case 2:
      return kernelSin(-x, 0.0, 0);
    case 3:
      return -kernelCos(x, 0.0);
    default:
      return kernelSin(x, 0.0, 0);
  }
}

const words = new Float64Array(1);
const halves = new Uint32Array(words.buffer);

/** the sign of Gamma(x) for the last lnAbsGamma(x) (C's *signgamp) */
let lastSign = 1;

/** musl __lgamma_r: ln |Gamma(x)|, its sign in lastSign */
function lnAbsGamma(x: number): number {
  words[0] = x;
  const negative = halves[1] >>> 31 === 1;
  const ix = halves[1] & 0x7fffffff;
  const low = halves[0];
  lastSign = 1;
  if (ix >= 0x7ff00000) return x * x;
  if (ix < (0x3ff - 70) << 20) {
    // |x| < 2^-70: -log|x|
    if (negative) {
      x = -x;
      lastSign = -1;
    }
    return -log(x);
  }
  let nadj = 0;
  if (negative) {
    x = -x;
    let t = sinPi(x);
    if (t === 0.0) return 1.0 / (x - x); // a negative integer
    if (t > 0.0) lastSign = -1;
    else t = -t;
    nadj = log(PI / (t * x));
  }

  let r: number;
  if ((ix === 0x3ff00000 || ix === 0x40000000) && low === 0) r = 0; // 1 and 2
  else if (ix < 0x40000000) {
    // x < 2
    let y: number;
    let i: number;
    if (ix <= 0x3feccccc) {
      // lgamma(x) = lgamma(x + 1) - log(x)
      r = -log(x);
      if (ix >= 0x3fe76944) {
        y = 1.0 - x;
        i = 0;
      } else if (ix >= 0x3fcda661) {
        y = x - (TC - 1.0);
        i = 1;
      } else {
        y = x;
        i = 2;
      }
    } else {
      r = 0.0;
      if (ix >= 0x3ffbb4c3) {
        // [1.7316, 2]
        y = 2.0 - x;
        i = 0;
      } else if (ix >= 0x3ff3b4c4) {
        // [1.23, 1.73]
        y = x - TC;
        i = 1;
      } else {
        y = x - 1.0;
        i = 2;
      }
    }
    if (i === 0) {
      const z = y * y;
      const p1 = A[0] + z * (A[2] + z * (A[4] + z * (A[6] + z * (A[8] + z * A[10]))));
      const p2 = z * (A[1] + z * (A[3] + z * (A[5] + z * (A[7] + z * (A[9] + z * A[11])))));
      const p = y * p1 + p2;
      r += p - 0.5 * y;
    } else if (i === 1) {
      const z = y * y;
      const w = z * y;
      const p1 = T[0] + w * (T[3] + w * (T[6] + w * (T[9] + w * T[12])));
      const p2 = T[1] + w * (T[4] + w * (T[7] + w * (T[10] + w * T[13])));
      const p3 = T[2] + w * (T[5] + w * (T[8] + w * (T[11] + w * T[14])));
      const p = z * p1 - (TT - w * (p2 + y * p3));
      r += TF + p;
    } else {
      const p1 = y * (U[0] + y * (U[1] + y * (U[2] + y * (U[3] + y * (U[4] + y * U[5])))));
      const p2 = 1.0 + y * (V[1] + y * (V[2] + y * (V[3] + y * (V[4] + y * V[5]))));
      r += -0.5 * y + p1 / p2;
    }
  } else if (ix < 0x40200000) {
    // x < 8
    const i = x | 0;
    const y = x - i;
    const p = y * (S[0] + y * (S[1] + y * (S[2] + y * (S[3] + y * (S[4] + y * (S[5] + y * S[6]))))));
    const q = 1.0 + y * (R[1] + y * (R[2] + y * (R[3] + y * (R[4] + y * (R[5] + y * R[6])))));
    r = 0.5 * y + p / q;
    // lgamma(1 + s) = log(s) + lgamma(s)
    if (i >= 3) {
      let z = 1.0;
      for (let k = i - 1; k >= 2; k--) z *= y + k;
      r += log(z);
    }
  } else if (ix < 0x43900000) {
    // 8 <= x < 2^58
    const t = log(x);
    const z = 1.0 / x;
    const y = z * z;
    const w = W[0] + z * (W[1] + y * (W[2] + y * (W[3] + y * (W[4] + y * (W[5] + y * W[6])))));
    r = (x - 0.5) * (t - 1.0) + w;
  } else r = x * (log(x) - 1.0); // 2^58 <= x
  if (negative) r = nadj - r;
  return r;
}

/** C's lgamma_r: [ln |Gamma(x)|, sign of Gamma(x)]. */
export function lgammaR(x: number): [number, number] {
  const r = lnAbsGamma(x);
  return [r, lastSign];
}

export function lgamma(x: number): number {
  return lnAbsGamma(x);
}
