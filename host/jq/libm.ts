// The C math library functions jq 1.7.1 exposes that JavaScript's Math lacks: the error
// function, the gamma family and Bessel functions. Written for double precision; results agree
// with glibc/musl to about 1e-14 (relative; absolute near a Bessel function's zeros), not bit for bit.

const EULER = 0.5772156649015329;
const LN_SQRT_2PI = 0.9189385332046728;
const TWO_OVER_PI = 0.6366197723675814;
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

const FACTORIALS: number[] = [];
{
  let f = 1n;
  for (let n = 1; n <= 171; n++) {
    FACTORIALS[n] = Number(f); // (n-1)!, correctly rounded
    f *= BigInt(n);
  }
}

export function tgamma(x: number): number {
  if (x !== x) return x;
  if (x === Infinity) return x;
  if (x === -Infinity) return NaN;
  if (x === 0) return 1 / x;
  if (Number.isInteger(x)) {
    if (x < 0) return NaN;
    return x <= 171 ? FACTORIALS[x] : Infinity;
  }
  if (x > 171.7) return Infinity;
  if (x < 0.5) {
    const s = sinPi(x);
    return Math.PI / (s * tgamma(1 - x));
  }
  if (x >= 20) {
    // z^(z - 1/2) e^-z sqrt(2 pi) e^tail, the power split in two so it cannot overflow early
    const h = Math.pow(x, (x - 0.5) / 2);
    return h * (h * Math.exp(-x)) * Math.sqrt(2 * Math.PI) * Math.exp(stirlingTail(x));
  }
  // up to z >= 20: Gamma(x) = Gamma(x + n) / (x (x+1) ... (x+n-1))
  let p = 1;
  let z = x;
  while (z < 20) {
    p *= z;
    z += 1;
  }
  return tgamma(z) / p;
}

// ---------- Bessel functions of the first and second kind ----------

/**
 * J_from(x) .. J_upTo(x) (normalized) by Miller's backward recurrence, for 0 < x <= 25 or upTo >= x;
 * only the orders asked for are kept (jn asks for one: no array as long as its order).
 */
function besselJMiller(x: number, upTo: number, from = 0): number[] {
  let start = Math.max(upTo, Math.ceil(x)) + Math.ceil(Math.sqrt(160 * Math.max(upTo, x, 1))) + 20;
  if (start % 2) start++;
  const out = new Array<number>(upTo - from + 1).fill(0);
  let next = 0;
  let cur = 1e-300;
  let sum = 0;
  for (let k = start; k > 0; k--) {
    const prev = ((2 * k) / x) * cur - next;
    next = cur;
    cur = prev;
    if (Math.abs(cur) > 1e250) {
      // rescale to avoid overflow; the normalization below is unaffected
      cur *= 1e-250;
      next *= 1e-250;
      sum *= 1e-250;
      for (let i = 0; i < out.length; i++) out[i] *= 1e-250;
    }
    if (k - 1 <= upTo && k - 1 >= from) out[k - 1 - from] = cur;
    if ((k - 1) % 2 === 0 && k - 1 > 0) sum += 2 * cur;
  }
  sum += cur; // J_0 + 2 (J_2 + J_4 + ...) = 1
  return out.map((j) => j / sum);
}

/** J_n(x) alone (for n >= x). */
function besselJnMiller(x: number, n: number): number {
  // (e x / 2n)^n / sqrt(2 pi n) bounds J_n(x) for n > x: below the smallest double it is 0
  if (n > 1.4 * x && n * Math.log((Math.E * x) / (2 * n)) - 0.5 * Math.log(2 * Math.PI * n) < -760) return 0;
  return besselJMiller(x, n, n)[0];
}

/** Hankel's asymptotic expansion for order 0 or 1, x > 25: [J, Y]. */
function besselAsymptotic(nu: 0 | 1, x: number): [number, number] {
  const mu = 4 * nu * nu;
  let p = 0;
  let q = 0;
  let term = 1;
  let prevAbs = Infinity;
  for (let k = 0; k < 200; k++) {
    const a = Math.abs(term);
    if (a > prevAbs || a < 1e-18) break;
    prevAbs = a;
    if (k % 4 === 0) p += term;
    else if (k % 4 === 1) q += term;
    else if (k % 4 === 2) p -= term;
    else q -= term;
    const odd = 2 * k + 1;
    term *= (mu - odd * odd) / ((k + 1) * 8 * x);
  }
  const s = Math.sin(x);
  const c = Math.cos(x);
  // cos and sin of x - pi/4 (nu = 0) or x - 3 pi/4 (nu = 1), from sin x and cos x
  const cosW = nu === 0 ? (c + s) / Math.SQRT2 : (s - c) / Math.SQRT2;
  const sinW = nu === 0 ? (s - c) / Math.SQRT2 : -(s + c) / Math.SQRT2;
  const f = Math.sqrt(TWO_OVER_PI / x);
  return [f * (p * cosW - q * sinW), f * (p * sinW + q * cosW)];
}

const ASYMPTOTIC_FROM = 25;

export function j0(x: number): number {
  if (x !== x) return x;
  x = Math.abs(x);
  if (x === Infinity) return 0;
  if (x < 1e-8) return 1 - (x * x) / 4;
  if (x > ASYMPTOTIC_FROM) return besselAsymptotic(0, x)[0];
  return besselJMiller(x, 0)[0];
}

export function j1(x: number): number {
  if (x !== x) return x;
  const a = Math.abs(x);
  let r: number;
  if (a === Infinity) r = 0;
  else if (a < 1e-8) r = a / 2;
  else if (a > ASYMPTOTIC_FROM) r = besselAsymptotic(1, a)[0];
  else r = besselJMiller(a, 1)[1];
  return x < 0 ? -r : r;
}

/** Y_0 and Y_1 for 0 < x <= 25 from Neumann's series in the J_k. */
function besselYSeries(x: number): [number, number] {
  const J = besselJMiller(x, Math.ceil(x) + Math.ceil(Math.sqrt(160 * Math.max(x, 1))) + 20);
  const L = Math.log(x / 2) + EULER;
  let s0 = 0;
  let s1 = 0;
  for (let k = 1; 2 * k + 1 < J.length; k++) {
    const sign = k % 2 ? -1 : 1;
    s0 += (sign * J[2 * k]) / k;
    s1 += (sign * (J[2 * k - 1] - J[2 * k + 1])) / k;
  }
  const y0 = TWO_OVER_PI * (L * J[0] - 2 * s0);
  const y1 = TWO_OVER_PI * (-J[0] / x + L * J[1] + s1);
  return [y0, y1];
}

export function y0(x: number): number {
  if (x !== x || x < 0) return NaN;
  if (x === 0) return -Infinity;
  if (x === Infinity) return 0;
  if (x < 1e-8) return TWO_OVER_PI * (Math.log(x / 2) + EULER);
  if (x > ASYMPTOTIC_FROM) return besselAsymptotic(0, x)[1];
  return besselYSeries(x)[0];
}

export function y1(x: number): number {
  if (x !== x || x < 0) return NaN;
  if (x === 0) return -Infinity;
  if (x === Infinity) return 0;
  if (x < 1e-8) return -TWO_OVER_PI / x;
  if (x > ASYMPTOTIC_FROM) return besselAsymptotic(1, x)[1];
  return besselYSeries(x)[1];
}

/** J_n(x) for an integer order n. */
export function jn(n: number, x: number): number {
  if (x !== x) return x;
  // J_-n = (-1)^n J_n and J_n(-x) = (-1)^n J_n(x)
  let sign = 1;
  if (n < 0) {
    n = -n;
    if (n % 2) sign = -sign;
  }
  if (x < 0) {
    x = -x;
    if (n % 2) sign = -sign;
  }
  if (n === 0) return sign * j0(x);
  if (n === 1) return sign * j1(x);
  if (x === 0 || x === Infinity) return sign * 0;
  if (n < x) {
    // forward recurrence is stable while the order is below x
    let a = j0(x);
    let b = j1(x);
    for (let k = 1; k < n; k++) {
      const c = ((2 * k) / x) * b - a;
      a = b;
      b = c;
    }
    return sign * b;
  }
  return sign * besselJnMiller(x, n);
}

/** Y_n(x) for an integer order n (forward recurrence, stable for Y). */
export function yn(n: number, x: number): number {
  if (x !== x) return x;
  let sign = 1;
  if (n < 0) {
    n = -n;
    if (n % 2) sign = -1;
  }
  if (n === 0) return y0(x);
  if (n === 1) return sign * y1(x);
  if (x < 0) return NaN;
  if (x === 0) return -Infinity * sign;
  if (x === Infinity) return 0;
  let a = y0(x);
  let b = y1(x);
  for (let k = 1; k < n && b !== -Infinity; k++) {
    const c = ((2 * k) / x) * b - a;
    a = b;
    b = c;
  }
  return sign * b;
}
