// The C math library functions jq 1.7.1 exposes that JavaScript's Math lacks: the gamma family
// (lgamma.ts, tgamma.ts), Bessel functions (bessel.ts), fma and hypot; exp2, exp10, pow, erf and
// erfc are musl's (libm-exp-log.ts), bit for bit.

export { exp2, exp10, pow, erf, erfc } from './libm-exp-log.js';

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
