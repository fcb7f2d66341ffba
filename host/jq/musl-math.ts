// sin, cos and log as musl (jq 1.7.1's reference build, jq-wasm) computes them, bit for bit.
import { CHI_CLO, INVC_LOGC, LN2_HI, LN2_LO, POLY, POLY_NEAR_1 } from './log-table.js';

// The Bessel functions (bessel.ts) are made of these: V8's Math.sin/cos/log round differently
// from musl's in the last bit now and then (cos(6): V8 0.9601702866503661, musl
// 0.960170286650366), which a recurrence in jn/yn amplifies. sin and cos are fdlibm's kernels
// (__sin.c, __cos.c) after fdlibm's reduction by pi/2 (__rem_pio2.c, __rem_pio2_large.c); log
// is Arm's table method (musl's log.c), its constants in log-table.ts.

const words = new DataView(new ArrayBuffer(8));
function highWord(x: number): number {
  words.setFloat64(0, x);
  return words.getUint32(0);
}
function lowWord(x: number): number {
  words.setFloat64(0, x);
  return words.getUint32(4);
}
function fromWords(hi: number, lo: number): number {
  words.setUint32(0, hi);
  words.setUint32(4, lo);
  return words.getFloat64(0);
}

/** sin(x + y) for |x + y| <= pi/4, y the tail of x (used when iy is 1) */
function sinKernel(x: number, y: number, iy: 0 | 1): number {
  const S1 = -1.66666666666666324348e-1;
  const S2 = 8.33333333332248946124e-3;
  const S3 = -1.98412698298579493134e-4;
  const S4 = 2.75573137070700676789e-6;
  const S5 = -2.50507602534068634195e-8;
  const S6 = 1.58969099521155010221e-10;
  const z = x * x;
  const w = z * z;
  const r = S2 + z * (S3 + z * S4) + z * w * (S5 + z * S6);
  const v = z * x;
  if (iy === 0) return x + v * (S1 + z * r);
  return x - (z * (0.5 * y - v * r) - y - v * S1);
}

/** cos(x + y) for |x + y| <= pi/4 */
function cosKernel(x: number, y: number): number {
  const C1 = 4.16666666666666019037e-2;
  const C2 = -1.38888888888741095749e-3;
  const C3 = 2.48015872894767294178e-5;
  const C4 = -2.75573143513906633035e-7;
  const C5 = 2.08757232129817482790e-9;
  const C6 = -1.13596475577881948265e-11;
  const z = x * x;
  let w = z * z;
  const r = z * (C1 + z * (C2 + z * C3)) + w * w * (C4 + z * (C5 + z * C6));
  const hz = 0.5 * z;
  w = 1.0 - hz;
  return w + (1.0 - w - hz + (z * r - x * y));
}

// pi/2 in three parts of 33 bits and their tails
const PIO2_1 = 1.57079632673412561417e0;
const PIO2_1T = 6.07710050650619224932e-11;
const PIO2_2 = 6.07710050630396597660e-11;
const PIO2_2T = 2.02226624879595063154e-21;
const PIO2_3 = 2.02226624871116645580e-21;
const PIO2_3T = 8.47842766036889956997e-32;
const INV_PIO2 = 6.36619772367581382433e-1;
const PIO4 = 0.7853981633974483;
const TO_INT = 1.5 / Number.EPSILON;

/** the bits of 2/pi after the point, 24 to an entry (fdlibm's ipio2 table) */
const IPIO2: number[] = (
  'A2F9836E4E441529FC2757D1F534DDC0DB6295993C439041FE5163ABDEBBC561B7246E3A424DD2E006492EEA09D1921CFE1DEB1CB129' +
  'A73EE88235F52EBB4484E99C7026B45F7E413991D639835339F49C845F8BBDF9283B1FF897FFDE05980FEF2F118B5A0A6D1F6D367ECF' +
  '27CB09B74F463F669E5FEA2D7527BAC7EBE5F17B3D0739F78A5292EA6BFB5FB11F8D5D0856033046FC7B6BABF0CFBC209AF4361DA9E3' +
  '91615EE61B086599855F14A068408DFFD8804D73273106061556CA73A8C960E27BC08C6B47C419C367CDDCE8092A8359C4768B961CA6'
)
  .match(/.{6}/g)!
  .map((h) => parseInt(h, 16));
/** pi/2 in pieces of 24 bits */
const PIO2_PIECES = [
  1.57079625129699707031e0, 7.54978941586159635335e-8, 5.39030252995776476554e-15, 3.28200341580791294123e-22,
  1.27065575308067607349e-29, 1.22933308981111328932e-36, 2.73370053816464559624e-44, 2.16741683877804819444e-51,
];
const TWO_24 = 16777216;

/**
 * fdlibm's __rem_pio2_large for double precision (prec 1): x, given as 24-bit pieces tx times
 * 2^e0, minus n pi/2 as [head, tail, n mod 8], computed with the bits of 2/pi that matter.
 */
function reduceLargePieces(tx: number[], e0: number): [number, number, number] {
  const jk = 4;
  const jp = jk;
  const jx = tx.length - 1;
  const jv = Math.max(0, Math.trunc((e0 - 3) / 24));
  let q0 = e0 - 24 * (jv + 1);
  const f: number[] = [];
  for (let i = 0, j = jv - jx; i <= jx + jk; i++, j++) f[i] = j < 0 ? 0.0 : IPIO2[j];
  const q: number[] = [];
  for (let i = 0; i <= jk; i++) {
    let fw = 0.0;
    for (let j = 0; j <= jx; j++) fw += tx[j] * f[jx + i - j];
    q[i] = fw;
  }
  let jz = jk;
  const iq: number[] = [];
  let z: number;
  let n: number;
  let ih: number;
  for (;;) {
    // q[] into 24-bit integers iq[], last first
    z = q[jz];
    for (let i = 0, j = jz; j > 0; i++, j--) {
      const fw = Math.trunc(z / TWO_24);
      iq[i] = Math.trunc(z - TWO_24 * fw);
      z = q[j - 1] + fw;
    }
    z = z * 2 ** q0;
    z -= 8.0 * Math.floor(z * 0.125);
    n = Math.trunc(z);
    z -= n;
    ih = 0;
    if (q0 > 0) {
      const i = iq[jz - 1] >> (24 - q0);
      n += i;
      iq[jz - 1] -= i << (24 - q0);
      ih = iq[jz - 1] >> (23 - q0);
    } else if (q0 === 0) ih = iq[jz - 1] >> 23;
    else if (z >= 0.5) ih = 2;
    if (ih > 0) {
      // the fraction is above 1/2: n + 1 and 1 - fraction
      n += 1;
      let carry = 0;
      for (let i = 0; i < jz; i++) {
        const j = iq[i];
        if (carry === 0) {
          if (j !== 0) {
            carry = 1;
            iq[i] = 0x1000000 - j;
          }
        } else iq[i] = 0xffffff - j;
      }
      if (q0 === 1) iq[jz - 1] &= 0x7fffff;
      else if (q0 === 2) iq[jz - 1] &= 0x3fffff;
      if (ih === 2) {
        z = 1.0 - z;
        if (carry !== 0) z -= 2 ** q0;
      }
    }
    if (z !== 0.0) break;
    let any = 0;
    for (let i = jz - 1; i >= jk; i--) any |= iq[i];
    if (any !== 0) break;
    // every bit so far cancelled: take more terms of 2/pi
    let k = 1;
    while (iq[jk - k] === 0) k++;
    for (let i = jz + 1; i <= jz + k; i++) {
      f[jx + i] = IPIO2[jv + i];
      let fw = 0.0;
      for (let j = 0; j <= jx; j++) fw += tx[j] * f[jx + i - j];
      q[i] = fw;
    }
    jz += k;
  }
  if (z === 0.0) {
    jz -= 1;
    q0 -= 24;
    while (iq[jz] === 0) {
      jz--;
      q0 -= 24;
    }
  } else {
    z = z * 2 ** -q0;
    if (z >= TWO_24) {
      const fw = Math.trunc(z / TWO_24);
      iq[jz] = Math.trunc(z - TWO_24 * fw);
      jz += 1;
      q0 += 24;
      iq[jz] = fw;
    } else iq[jz] = Math.trunc(z);
  }
  let fw = 2 ** q0;
  for (let i = jz; i >= 0; i--) {
    q[i] = fw * iq[i];
    fw /= TWO_24;
  }
  const fq: number[] = [];
  for (let i = jz; i >= 0; i--) {
    fw = 0.0;
    for (let k = 0; k <= jp && k <= jz - i; k++) fw += PIO2_PIECES[k] * q[i + k];
    fq[jz - i] = fw;
  }
  fw = 0.0;
  for (let i = jz; i >= 0; i--) fw += fq[i];
  const head = ih === 0 ? fw : -fw;
  fw = fq[0] - fw;
  for (let i = 1; i <= jz; i++) fw += fq[i];
  return [head, ih === 0 ? fw : -fw, n & 7];
}

/** __rem_pio2 for |x| >= 2^20 pi/2: x's significand in three 24-bit pieces */
function reduceLarge(x: number, hx: number): [number, number, number] {
  let z = fromWords(((hx & 0x000fffff) | ((0x3ff + 23) << 20)) >>> 0, lowWord(x));
  const tx: number[] = [];
  for (let i = 0; i < 2; i++) {
    tx[i] = Math.trunc(z);
    z = (z - tx[i]) * TWO_24;
  }
  tx[2] = z;
  while (tx[tx.length - 1] === 0.0) tx.pop();
  const [y0, y1, n] = reduceLargePieces(tx, ((hx & 0x7fffffff) >>> 20) - (0x3ff + 23));
  return hx >>> 31 === 1 ? [-y0, -y1, -n] : [y0, y1, n];
}

/** fdlibm's __rem_pio2: x - n pi/2 as [head, tail, n] */
function reducePio2(x: number): [number, number, number] {
  const hx = highWord(x);
  const ix = hx & 0x7fffffff;
  const negative = hx >>> 31 === 1;
  let medium = false;
  if (ix <= 0x400f6a7a) {
    // |x| ~<= 5pi/4; near pi/2 or pi the short way cancels
    if ((ix & 0xfffff) === 0x921fb) medium = true;
    else {
      const k = ix <= 0x4002d97c ? 1 : 2;
      return shortReduce(x, negative, k);
    }
  } else if (ix <= 0x401c463b) {
    // |x| ~<= 9pi/4
    if (ix <= 0x4015fdbc) {
      if (ix === 0x4012d97c) medium = true;
      else return shortReduce(x, negative, 3);
    } else if (ix === 0x401921fb) medium = true;
    else return shortReduce(x, negative, 4);
  }
  if (medium || ix < 0x413921fb) {
    // |x| ~< 2^20 pi/2: n = rint(x 2/pi), then x - n pi/2 in up to three rounds
    let fn = x * INV_PIO2 + TO_INT - TO_INT;
    let n = fn | 0;
    let r = x - fn * PIO2_1;
    let w = fn * PIO2_1T;
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
    let y0 = r - w;
    const ex = ix >>> 20;
    let ey = (highWord(y0) >>> 20) & 0x7ff;
    if (ex - ey > 16) {
      let t = r;
      w = fn * PIO2_2;
      r = t - w;
      w = fn * PIO2_2T - (t - r - w);
      y0 = r - w;
      ey = (highWord(y0) >>> 20) & 0x7ff;
      if (ex - ey > 49) {
        t = r;
        w = fn * PIO2_3;
        r = t - w;
        w = fn * PIO2_3T - (t - r - w);
        y0 = r - w;
      }
    }
    return [y0, r - y0 - w, n];
  }
  if (ix >= 0x7ff00000) return [x - x, x - x, 0];
  return reduceLarge(x, hx);
}

/** x - k pi/2 for k = 1..4 with one subtraction of k PIO2_1 (good to 85 bits) */
function shortReduce(x: number, negative: boolean, k: number): [number, number, number] {
  if (!negative) {
    const z = x - k * PIO2_1;
    const y0 = z - k * PIO2_1T;
    return [y0, z - y0 - k * PIO2_1T, k];
  }
  const z = x + k * PIO2_1;
  const y0 = z + k * PIO2_1T;
  return [y0, z - y0 + k * PIO2_1T, -k];
}

/** musl's sin */
export function sin(x: number): number {
  const ix = highWord(x) & 0x7fffffff;
  if (ix <= 0x3fe921fb) {
    if (ix < 0x3e500000) return x;
    return sinKernel(x, 0.0, 0);
  }
  if (ix >= 0x7ff00000) return x - x;
  const [y0, y1, n] = reducePio2(x);
  switch (n & 3) {
    case 0: return sinKernel(y0, y1, 1);
    case 1: return cosKernel(y0, y1);
    case 2: return -sinKernel(y0, y1, 1);
    default: return -cosKernel(y0, y1);
  }
}

/** musl's cos */
export function cos(x: number): number {
  const ix = highWord(x) & 0x7fffffff;
  if (ix <= 0x3fe921fb) {
    if (ix < 0x3e46a09e) return 1.0;
    return cosKernel(x, 0);
  }
  if (ix >= 0x7ff00000) return x - x;
  const [y0, y1, n] = reducePio2(x);
  switch (n & 3) {
    case 0: return cosKernel(y0, y1);
    case 1: return -sinKernel(y0, y1, 1);
    case 2: return -cosKernel(y0, y1);
    default: return sinKernel(y0, y1, 1);
  }
}

/** 1 - 2^-4 and 1 + 0x1.09p-4: log takes its own way between them */
const NEAR_1_LOW = 0.9375;
const NEAR_1_HIGH = 1.0646972656250000;

/** musl's log (Arm's optimized-routines method, without fma as wasm has none) */
export function log(x: number): number {
  if (x >= NEAR_1_LOW && x < NEAR_1_HIGH) {
    if (x === 1) return 0;
    const B = POLY_NEAR_1;
    const r = x - 1.0;
    const r2 = r * r;
    const r3 = r * r2;
    let y = r3 * (B[1] + r * B[2] + r2 * B[3] + r3 * (B[4] + r * B[5] + r2 * B[6] + r3 * (B[7] + r * B[8] + r2 * B[9] + r3 * B[10])));
    // r^2 / 2 in two parts: rhi has 26 bits, so rhi^2 is exact
    let w = r * 2 ** 27;
    const rhi = r + w - w;
    const rlo = r - rhi;
    w = rhi * rhi * B[0];
    const hi = r + w;
    let lo = r - hi + w;
    lo += B[0] * rlo * (rhi + r);
    y += lo;
    y += hi;
    return y;
  }
  let hx = highWord(x);
  const top = hx >>> 16;
  if (top < 0x0010 || top >= 0x7ff0) {
    // below 2^-1022, negative, inf or nan
    if (x === 0) return -Infinity;
    if (x === Infinity) return x;
    if (top & 0x8000 || (top & 0x7ff0) === 0x7ff0) return NaN;
    // subnormal: normalise
    hx = (highWord(x * 2 ** 52) - (52 << 20)) >>> 0;
    x = fromWords(hx, lowWord(x * 2 ** 52));
  }
  // x = 2^k z, z in [0x1.6p-1, 0x1.6p0) exact, in subinterval i of 128
  const tmp = (hx - 0x3fe60000) | 0;
  const i = (tmp >>> 13) & 127;
  const k = tmp >> 20;
  const z = fromWords((hx - (tmp & 0xfff00000)) >>> 0, lowWord(x));
  const invc = INVC_LOGC[2 * i];
  const logc = INVC_LOGC[2 * i + 1];
  // r ~= z/c - 1, |r| < 1/256
  const r = (z - CHI_CLO[2 * i] - CHI_CLO[2 * i + 1]) * invc;
  const kd = k;
  // hi + lo = r + log(c) + k ln2
  const w = kd * LN2_HI + logc;
  const hi = w + r;
  const lo = w - hi + r + kd * LN2_LO;
  const r2 = r * r;
  const A = POLY;
  return lo + r2 * A[0] + r * r2 * (A[1] + r * A[2] + r2 * (A[3] + r * A[4])) + hi;
}
