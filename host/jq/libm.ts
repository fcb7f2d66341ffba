// The C math library functions jq 1.7.1 exposes that JavaScript's Math lacks: the error
// function, the gamma family (lgamma.ts, tgamma.ts) and Bessel functions (bessel.ts). erf is
// written for double precision and agrees with glibc/musl to about 1e-14 (relative), not bit for bit.

const INV_SQRT_PI = 0.5641895835477563;

// ---------- erf, erfc ----------

/** erf by its everywhere-positive series: 2/sqrt(pi) e^(-x^2) sum (2x^2)^n x / (1*3*...*(2n+1)). */
function erfSeries(x: number): number {
  const x2 = x * x;
  let term = x;
  let sum = x;
  for (let n = 1; n < 200; n++) {
    term *= (2 * x2) / (2 * n + 1);
    sum += term;
    if (term < sum * 1e-17) break;
  }
  return 2 * INV_SQRT_PI * Math.exp(-x2) * sum;
}

/** erfc(x) for x >= 1.5 by its continued fraction (modified Lentz). */
function erfcFraction(x: number): number {
  // erfc(x) = e^(-x^2)/sqrt(pi) * 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + 2/(x + ...)))))
  const tiny = 1e-300;
  let f = x;
  let c = x;
  let d = 0;
  for (let n = 1; n < 5000; n++) {
    const a = n / 2;
    d = x + a * d;
    if (d === 0) d = tiny;
    c = x + a / c;
    if (c === 0) c = tiny;
    d = 1 / d;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return (INV_SQRT_PI * Math.exp(-x * x)) / f;
}

/** 2^x: the integer part scales exactly, so only 2^fraction rounds. */
export function exp2(x: number): number {
  if (x !== x || !isFinite(x)) return Math.pow(2, x);
  const n = Math.floor(x);
  const f = x - n;
  if (f === 0) return Math.pow(2, n);
  // two steps so that 2^n itself cannot overflow or underflow
  const h = Math.trunc(n / 2);
  return Math.pow(2, f) * Math.pow(2, h) * Math.pow(2, n - h);
}

// 1e-15 ... 1e15, each exact to the double
const POWERS_OF_TEN = Array.from({ length: 31 }, (_, i) => Number(`1e${i - 15}`));

/**
 * 10^x as musl's exp10 (jq's pow10 and exp10 in jq-wasm): for |integer part| < 16 a table power of
 * ten times 2^(fraction * log2(10)), so the last digit is musl's, not a correctly rounded one.
 */
export function exp10(x: number): number {
  const n = Math.trunc(x);
  if (Math.abs(n) < 16) {
    const y = x - n;
    if (y === 0) return POWERS_OF_TEN[n + 15];
    return exp2(3.32192809488736234787031942948939 * y) * POWERS_OF_TEN[n + 15];
  }
  return Math.pow(10, x);
}

export function erf(x: number): number {
  if (x !== x) return x;
  if (x === 0) return x;
  const a = Math.abs(x);
  if (a > 6) return Math.sign(x);
  const r = a < 2.5 ? erfSeries(a) : 1 - erfcFraction(a);
  return x < 0 ? -r : r;
}

export function erfc(x: number): number {
  if (x !== x) return x;
  if (x < 0) return 2 - erfc(-x);
  if (x > 27.3) return 0;
  return x < 1.5 ? 1 - erfSeries(x) : erfcFraction(x);
}

// ---------- gamma family ----------

export { lgamma, lgammaR } from './lgamma.js';
export { tgamma } from './tgamma.js';
export { j0, j1, y0, y1, jn, yn } from './bessel.js';

// ---------- fma ----------

const fmaWords = new Float64Array(1);
const fmaHalves = new Uint32Array(fmaWords.buffer);

/** a finite non-zero double as an integer times a power of two, [m, e] (|x| = m 2^e) */
function decompose(x: number): [bigint, number] {
  fmaWords[0] = x;
  const hi = fmaHalves[1];
  const mant = (BigInt(hi & 0xfffff) << 32n) | BigInt(fmaHalves[0]);
  const exp = (hi >>> 20) & 0x7ff;
  return exp === 0 ? [mant, -1074] : [mant | (1n << 52n), exp - 1075];
}

/** n 2^e rounded to the nearest double, ties to even (n a non-zero integer) */
function roundToDouble(n: bigint, e: number): number {
  const negative = n < 0n;
  let a = negative ? -n : n;
  const top = e + a.toString(2).length - 1;
  if (top > 1023) return negative ? -Infinity : Infinity;
  const lsb = Math.max(top - 52, -1074);
  const shift = lsb - e;
  if (shift > 0) {
    const s = BigInt(shift);
    const q = a >> s;
    const r = a - (q << s);
    const half = 1n << (s - 1n);
    a = r > half || (r === half && (q & 1n) === 1n) ? q + 1n : q;
    e = lsb;
  }
  const v = Number(a) * 2 ** e;
  return negative ? -v : v;
}

/** C's fma: x y + z rounded once (musl's is exact) */
export function fma(x: number, y: number, z: number): number {
  if (!Number.isFinite(x) || !Number.isFinite(y) || !Number.isFinite(z) || x === 0 || y === 0 || z === 0) return x * y + z;
  const [mx, ex] = decompose(x);
  const [my, ey] = decompose(y);
  const [mz, ez] = decompose(z);
  const sp = (x < 0) !== (y < 0) ? -1n : 1n;
  const sz = z < 0 ? -1n : 1n;
  const ep = ex + ey;
  const e = Math.min(ep, ez);
  const sum = sp * ((mx * my) << BigInt(ep - e)) + sz * (mz << BigInt(ez - e));
  return sum === 0n ? 0 : roundToDouble(sum, e);
}

// ---------- pow ----------

/**
 * C's pow. musl's is correctly rounded in practice (under 0.52 ulp); V8's Math.pow multiplies step
 * by step for an integer exponent (pow(1e19; -3) gave 1.0000000000000001e-57), so an integer
 * exponent up to POW_EXACT_MAX is computed exactly and rounded once.
 */
const POW_EXACT_MAX = 64;
export function pow(x: number, y: number): number {
  // C: pow(1, y) is 1 for every y, even nan, and pow(-1, ±inf) is 1 (JS gives NaN for both)
  if (x === 1 || (x === -1 && (y === Infinity || y === -Infinity))) return 1;
  if (!Number.isInteger(y) || y === 0 || y === 1 || Math.abs(y) > POW_EXACT_MAX || !Number.isFinite(x) || x === 0) {
    return Math.pow(x, y);
  }
  const [m, e] = decompose(x);
  const k = Math.abs(y);
  const sign = x < 0 && k % 2 === 1 ? -1n : 1n;
  const mk = m ** BigInt(k);
  if (y > 0) return roundToDouble(sign * mk, e * k);
  // 2^-(e k) / mk: the numerator scaled so the quotient has 55 bits or more, and a sticky bit for the remainder
  const s = mk.toString(2).length + 55;
  const num = 1n << BigInt(s);
  const q = num / mk;
  const sticky = num - q * mk === 0n ? 0n : 1n;
  return roundToDouble(sign * ((q << 1n) | sticky), -e * k - s - 1);
}

const hypotBits = new DataView(new ArrayBuffer(8));
/** the biased exponent field of a finite non-negative double */
function exponentField(x: number): number {
  hypotBits.setFloat64(0, x);
  return hypotBits.getUint16(0) >> 4;
}
/** x*x exactly as hi + lo (Dekker: the halves of a 2^27+1 split multiply without rounding) */
function exactSquare(x: number): [number, number] {
  const c = x * 134217729;
  const h = x - c + c;
  const l = x - h;
  const hi = x * x;
  return [hi, h * h - hi + 2 * h * l + l * l];
}
/**
 * hypot as musl computes it (jq-wasm's libm; glibc's is also within half an ulp): the squares
 * summed exactly as hi + lo pairs, then one sqrt. V8's Math.hypot can be an ulp off
 * (hypot(1; 100): 100.00499987500623, musl 100.00499987500625), which y1 and the like amplify.
 */
export function hypot(a: number, b: number): number {
  let x = Math.abs(a);
  let y = Math.abs(b);
  if (x === Infinity || y === Infinity) return Infinity;
  if (x !== x || y !== y) return NaN;
  if (x < y) [x, y] = [y, x];
  if (y === 0) return x;
  const ex = exponentField(x);
  const ey = exponentField(y);
  // y*y is below x's last bit
  if (ex - ey > 64) return x + y;
  // keep x*x from overflowing and y's low half squared from underflowing
  let scale = 1;
  if (ex > 0x3ff + 510) {
    scale = 2 ** 700;
    x *= 2 ** -700;
    y *= 2 ** -700;
  } else if (ey < 0x3ff - 450) {
    scale = 2 ** -700;
    x *= 2 ** 700;
    y *= 2 ** 700;
  }
  const [hx, lx] = exactSquare(x);
  const [hy, ly] = exactSquare(y);
  return scale * Math.sqrt(ly + lx + hy + hx);
}
