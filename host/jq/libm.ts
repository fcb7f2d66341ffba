// The C math library functions jq 1.7.1 exposes that JavaScript's Math lacks: the gamma family
// (tgamma.ts), Bessel functions (bessel.ts), fma and hypot; exp2, exp10, pow, erf and erfc are
// musl's (libm-exp-log.ts). lgamma is written for double precision and agrees with glibc/musl to
// about 1e-14 (relative), not bit for bit.

const EULER = 0.5772156649015329;
const LN_SQRT_2PI = 0.9189385332046728;

// exp2, exp10, pow, erf and erfc are musl's, bit for bit (libm-exp-log.ts)
export { exp2, exp10, pow, erf, erfc } from './libm-exp-log.js';

// ---------- gamma family ----------

/** Stirling's series for ln Gamma(z), z >= 20, without the leading terms. */
function stirlingTail(z: number): number {
  const z2 = 1 / (z * z);
  // B(2k) / (2k (2k-1)) for k = 1..8, highest first
  const c = [-3617 / 122400, 1 / 156, -691 / 360360, 1 / 1188, -1 / 1680, 1 / 1260, -1 / 360, 1 / 12];
  let s = 0;
  for (const ck of c) s = s * z2 + ck;
  return s / z;
}

function lnGammaStirling(z: number): number {
  return (z - 0.5) * Math.log(z) - z + LN_SQRT_2PI + stirlingTail(z);
}

// zeta(k) - 1 for k = 2..40, summed once (direct terms up to 50, then Euler-Maclaurin)
const ZETA_MINUS_1: number[] = [];
for (let k = 2; k <= 40; k++) {
  const N = 50;
  let s = 0;
  for (let n = N - 1; n >= 2; n--) s += Math.pow(n, -k);
  // Euler-Maclaurin tail: integral + f(N)/2 - sum B(2j)/(2j)! f^(2j-1)(N), to B8
  const r = (a: number, n: number) => { let p = 1; for (let j = 0; j < n; j++) p *= a + j; return p; };
  s += Math.pow(N, 1 - k) / (k - 1) + Math.pow(N, -k) / 2 + (k * Math.pow(N, -k - 1)) / 12 - (r(k, 3) * Math.pow(N, -k - 3)) / 720
    + (r(k, 5) * Math.pow(N, -k - 5)) / 30240 - (r(k, 7) * Math.pow(N, -k - 7)) / 1209600;
  ZETA_MINUS_1[k] = s;
}

/** ln Gamma(2 + t) for |t| <= 0.5: (1 - gamma) t + sum (-1)^k (zeta(k) - 1) t^k / k. */
function lnGammaNear2(t: number): number {
  let s = 0;
  let p = -t;
  for (let k = 2; k <= 40; k++) {
    p *= -t; // (-t)^k
    const term = (ZETA_MINUS_1[k] * p) / k;
    s += term;
    if (Math.abs(term) < 1e-18) break;
  }
  return (1 - EULER) * t + s;
}

/** sin(pi x), exact at integers and half-integers. */
function sinPi(x: number): number {
  const r = x - 2 * Math.round(x / 2); // in [-1, 1]
  if (r === 0 || Math.abs(r) === 1) return 0;
  if (r > 0.5) return Math.sin(Math.PI * (1 - r));
  if (r < -0.5) return -Math.sin(Math.PI * (1 + r));
  return Math.sin(Math.PI * r);
}

/** ln |Gamma(x)| for finite x > 0. */
function lnGammaPositive(x: number): number {
  if (x < 1e-17) return -Math.log(x);
  if (x === 1 || x === 2) return 0;
  if (x >= 20) return lnGammaStirling(x);
  // x - 1 and x - 2 are exact here (x + 1 or x + 2 would round away low bits of x)
  if (x < 0.5) return lnGammaNear2(x) - Math.log(x) - Math.log1p(x);
  if (x < 1.5) return lnGammaNear2(x - 1) - Math.log1p(x - 1);
  if (x <= 2.5) return lnGammaNear2(x - 2);
  // down to (1.5, 2.5]: ln Gamma(x) = ln Gamma(x - n) + ln((x-1)(x-2)...(x-n))
  let p = 1;
  let y = x;
  while (y > 2.5) {
    y -= 1;
    p *= y;
  }
  return lnGammaNear2(y - 2) + Math.log(p);
}

/** C's lgamma_r: [ln |Gamma(x)|, sign of Gamma(x)]. */
export function lgammaR(x: number): [number, number] {
  if (x !== x) return [x, 1];
  if (x === Infinity || x === -Infinity) return [Infinity, 1];
  if (x === 0) return [Infinity, Object.is(x, -0) ? -1 : 1];
  if (x > 0) return [lnGammaPositive(x), 1];
  // near 0, ln|Gamma(x)| = -ln|x| - 0.5772...x (sin(pi x) would underflow)
  if (x > -1e-17) return [-Math.log(-x), -1];
  const s = sinPi(x);
  if (s === 0) return [Infinity, 1];
  // reflection: Gamma(x) Gamma(1 - x) = pi / sin(pi x)
  return [Math.log(Math.PI / Math.abs(s)) - lnGammaPositive(1 - x), s < 0 ? -1 : 1];
}

export function lgamma(x: number): number {
  return lgammaR(x)[0];
}

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
