// tgamma as musl (the reference jq-wasm's C library) computes it: Lanczos' approximation with
// g = 6.0246800407767296 and N = 12 (the constants of Boost and Python, which musl uses), the
// error of x + g - 0.5 corrected, and the reflection formula below 0. The same operations in
// the same order on doubles give musl's bits: exp and pow are musl's (libm-exp-log.ts), sin(pi x)
// uses musl's own kernels (libm-trig.ts).

import { kernelCos, kernelSin } from './libm-trig.js';
import { exp, pow } from './libm-exp-log.js';

const GMHALF = 5.524680040776729583740234375;

// S(x) = Snum(x) / Sden(x), coefficients from the lowest power up
const S_NUM = [
  23531376880.410759688572007674451636754734846804940, 42919803642.649098768957899047001988850926355848959,
  35711959237.355668049440185451547166705960488635843, 17921034426.037209699919755754458931112671403265390,
  6039542586.3520280050642916443072979210699388420708, 1439720407.3117216736632230727949123939715485786772,
  248874557.86205415651146038641322942321632125127801, 31426415.585400194380614231628318205362874684987640,
  2876370.6289353724412254090516208496135991145378768, 186056.26539522349504029498971604569928220784236328,
  8071.6720023658162106380029022722506138218516325024, 210.82427775157934587250973392071336271166969580291,
  2.5066282746310002701649081771338373386264310793408,
];
const S_DEN = [0, 39916800, 120543840, 150917976, 105258076, 45995730, 13339535, 2637558, 357423, 32670, 1925, 66, 1];

/** 0! .. 22!, exact in a double */
const FACT: number[] = [1];
for (let n = 1; n <= 22; n++) FACT[n] = FACT[n - 1] * n;

const words = new Float64Array(1);
const halves = new Uint32Array(words.buffer);

/** S(x) for x > 0: Horner in x below 8, in 1/x above (no overflow) */
function lanczosSum(x: number): number {
  let num = 0;
  let den = 0;
  if (x < 8) {
    for (let i = 12; i >= 0; i--) {
      num = num * x + S_NUM[i];
      den = den * x + S_DEN[i];
    }
  } else {
    for (let i = 0; i <= 12; i++) {
      num = num / x + S_NUM[i];
      den = den / x + S_DEN[i];
    }
  }
  return num / den;
}

/** sin(pi x) for x > 2^-100: x reduced mod 2, then to [-1/4, 1/4] with a quadrant, by musl's kernels */
function sinPi(x: number): number {
  x = x * 0.5;
  x = 2 * (x - Math.floor(x));
  let n = Math.trunc(4 * x);
  n = Math.trunc((n + 1) / 2);
  x -= n * 0.5;
  x *= Math.PI;
  switch (n) {
    case 1:
      return kernelCos(x, 0);
    case 2:
      return kernelSin(-x, 0, 0);
    case 3:
      return -kernelCos(x, 0);
    default:
      return kernelSin(x, 0, 0);
  }
}

export function tgamma(x: number): number {
  words[0] = x;
  const high = halves[1] & 0x7fffffff;
  const negative = halves[1] >>> 31 === 1;
  if (high >= 0x7ff00000) return x + Infinity;
  // |x| < 2^-54: 1/x (±0 gives ±infinity)
  if (high < (0x3ff - 54) << 20) return 1 / x;
  if (x === Math.floor(x)) {
    if (negative) return NaN;
    if (x <= 23) return FACT[x - 1];
  }
  // |x| >= 184: overflow, or a zero with the sign of the nearest gamma
  if (high >= 0x40670000) {
    if (negative) return Math.floor(x) * 0.5 === Math.floor(x * 0.5) ? 0 : -0;
    return x * 2 ** 1023;
  }
  const absx = negative ? -x : x;
  // the rounding error of absx + g - 0.5
  let y = absx + GMHALF;
  let dy: number;
  if (absx > GMHALF) {
    dy = y - absx;
    dy -= GMHALF;
  } else {
    dy = y - GMHALF;
    dy -= absx;
  }
  let z = absx - 0.5;
  let r = lanczosSum(absx) * exp(-y);
  if (x < 0) {
    // Gamma(x) Gamma(-x) = -pi / (x sin(pi x))
    r = -Math.PI / (sinPi(absx) * absx * r);
    dy = -dy;
    z = -z;
  }
  r += (dy * (GMHALF + 0.5) * r) / y;
  z = pow(y, 0.5 * z);
  y = r * z * z;
  return y;
}
