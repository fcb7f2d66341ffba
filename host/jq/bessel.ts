// Bessel functions of the first and second kind (j0 j1 jn y0 y1 yn) as the C
// library jq 1.7.1 calls computes them: the method and coefficients of Sun's
// fdlibm (e_j0.c, e_j1.c, e_jn.c; "Copyright (C) 1993 by Sun Microsystems,
// Inc. ... Permission to use, copy, modify, and distribute this software is
// freely granted, provided that this notice is preserved"), which musl (the
// reference jq-wasm), FreeBSD and glibc's generic code share. The same
// operations in the same order on doubles give the same bits, with sin and cos
// (libm-trig.ts) and log (libm-exp-log.ts) as musl computes them.
import { cos, sin } from './libm-trig.js';
import { log } from './libm-exp-log.js';

const INV_SQRT_PI = 5.6418958354775627928e-1;
const TWO_OVER_PI = 6.36619772367581382433e-1;

const words = new Float64Array(1);
const halves = new Uint32Array(words.buffer);
/** the high 32 bits of |x| (sign, exponent and the top of the mantissa, sign cleared) */
function highAbs(x: number): number {
  words[0] = x;
  return halves[1] & 0x7fffffff;
}

// Rational approximations [R (6 coefficients), S (5 or 6)] of P and Q, on the four ranges of x >= 2
// that highAbs separates: x >= 8, >= 4.5454, >= 2.8571, >= 2
type Table = readonly [readonly number[], readonly number[]];
const RANGE_FROM = [0x40200000, 0x40122e8b, 0x4006db6d, 0];

const P0: readonly Table[] = [
  [
    [0, -7.03124999999900357484e-2, -8.08167041275349795626, -2.57063105679704847262e2, -2.48521641009428822144e3, -5.25304380490729545272e3],
    [1.16534364619668181717e2, 3.83374475364121826715e3, 4.05978572648472545552e4, 1.16752972564375915681e5, 4.76277284146730962675e4],
  ],
  [
    [-1.14125464691894502584e-11, -7.03124940873599280078e-2, -4.15961064470587782438, -6.76747652265167261021e1, -3.31231299649172967747e2, -3.46433388365604912451e2],
    [6.07539382692300335975e1, 1.05125230595704579173e3, 5.97897094333855784498e3, 9.62544514357774460223e3, 2.40605815922939109441e3],
  ],
  [
    [-2.54704601771951915620e-9, -7.03119616381481654654e-2, -2.40903221549529611423, -2.19659774734883086467e1, -5.80791704701737572236e1, -3.14479470594888503854e1],
    [3.58560338055209726349e1, 3.61513983050303863820e2, 1.19360783792111533330e3, 1.12799679856907414432e3, 1.73580930813335754692e2],
  ],
  [
    [-8.87534333032526411254e-8, -7.03030995483624743247e-2, -1.45073846780952986357, -7.63569613823527770791, -1.11931668860356747786e1, -3.23364579351335335033],
    [2.22202997532088808441e1, 1.36206794218215208048e2, 2.70470278658083486789e2, 1.53875394208320329881e2, 1.46576176948256193810e1],
  ],
];

const Q0: readonly Table[] = [
  [
    [0, 7.32421874999935051953e-2, 1.17682064682252693899e1, 5.57673380256401856059e2, 8.85919720756468632317e3, 3.70146267776887834771e4],
    [1.63776026895689824414e2, 8.09834494656449805916e3, 1.42538291419120476348e5, 8.03309257119514397345e5, 8.40501579819060512818e5, -3.43899293537866615225e5],
  ],
  [
    [1.84085963594515531381e-11, 7.32421766612684765896e-2, 5.83563508962056953777, 1.35111577286449829671e2, 1.02724376596164097464e3, 1.98997785864605384631e3],
    [8.27766102236537761883e1, 2.07781416421392987104e3, 1.88472887785718085070e4, 5.67511122894947329769e4, 3.59767538425114471465e4, -5.35434275601944773371e3],
  ],
  [
    [4.37741014089738620906e-9, 7.32411180042911447163e-2, 3.34423137516170720929, 4.26218440745412650017e1, 1.70808091340565596283e2, 1.66733948696651168575e2],
    [4.87588729724587182091e1, 7.09689221056606015736e2, 3.70414822620111362994e3, 6.46042516752568917582e3, 2.51633368920368957333e3, -1.49247451836156386662e2],
  ],
  [
    [1.50444444886983272379e-7, 7.32234265963079278272e-2, 1.99819174093815998816, 1.44956029347885735348e1, 3.16662317504781540833e1, 1.62527075710929267416e1],
    [3.03655848355219184498e1, 2.69348118608049844624e2, 8.44783757595320139444e2, 8.82935845112488550512e2, 2.12666388511798828631e2, -5.31095493882666946917],
  ],
];

const P1: readonly Table[] = [
  [
    [0, 1.17187499999988647970e-1, 1.32394806593073575129e1, 4.12051854307378562225e2, 3.87474538913960532227e3, 7.91447954031891731574e3],
    [1.14207370375678408436e2, 3.65093083420853463394e3, 3.69562060269033463555e4, 9.76027935934950801311e4, 3.08042720627888811578e4],
  ],
  [
    [1.31990519556243522749e-11, 1.17187493190614097638e-1, 6.80275127868432871736, 1.08308182990189109773e2, 5.17636139533199752805e2, 5.28715201363337541807e2],
    [5.92805987221131331921e1, 9.91401418733614377743e2, 5.35326695291487976647e3, 7.84469031749551231769e3, 1.50404688810361062679e3],
  ],
  [
    [3.02503916137373618024e-9, 1.17186865567253592491e-1, 3.93297750033315640650, 3.51194035591636932736e1, 9.10550110750781271918e1, 4.85590685197364919645e1],
    [3.47913095001251519989e1, 3.36762458747825746741e2, 1.04687139975775130551e3, 8.90811346398256432622e2, 1.03787932439639277504e2],
  ],
  [
    [1.07710830106873743082e-7, 1.17176219462683348094e-1, 2.36851496667608785174, 1.22426109148261232917e1, 1.76939711271687727390e1, 5.07352312588818499250],
    [2.14364859363821409488e1, 1.25290227168402751090e2, 2.32276469057162813669e2, 1.17679373287147100768e2, 8.36463893371618283368],
  ],
];

const Q1: readonly Table[] = [
  [
    [0, -1.02539062499992714161e-1, -1.62717534544589987888e1, -7.59601722513950107896e2, -1.18498066702429587167e4, -4.84385124285750353010e4],
    [1.61395369700722909556e2, 7.82538599923348465381e3, 1.33875336287249578163e5, 7.19657723683240939863e5, 6.66601232617776375264e5, -2.94490264303834643215e5],
  ],
  [
    [-2.08979931141764104297e-11, -1.02539050241375426231e-1, -8.05644828123936029840, -1.83669607474888380239e2, -1.37319376065508163265e3, -2.61244440453215656817e3],
    [8.12765501384335777857e1, 1.99179873460485964642e3, 1.74684851924908907677e4, 4.98514270910352279316e4, 2.79480751638918118260e4, -4.71918354795128470869e3],
  ],
  [
    [-5.07831226461766561369e-9, -1.02537829820837089745e-1, -4.61011581139473403113, -5.78472216562783643212e1, -2.28244540737631695038e2, -2.19210128478909325622e2],
    [4.76651550323729509273e1, 6.73865112676699709482e2, 3.38015286679526343505e3, 5.54772909720722782367e3, 1.90311919338810798763e3, -1.35201191444307340817e2],
  ],
  [
    [-1.78381727510958865572e-7, -1.02517042607985553460e-1, -2.75220568278187460720, -1.96636162643703720221e1, -4.23253133372830490089e1, -2.13719211703704061733e1],
    [2.95333629060523854548e1, 2.52981549982190529136e2, 7.57502834868645436472e2, 7.39393205320467245656e2, 1.55949003336666123687e2, -4.95949898822628210127],
  ],
];

function tableFor(tables: readonly Table[], x: number): Table {
  const h = highAbs(x);
  let i = 0;
  while (h < RANGE_FROM[i]) i++;
  return tables[i];
}

/** R(z)/S(z), z = 1/x², Horner from the highest coefficient (the order the C code writes) */
function ratio([r, s]: Table, x: number): number {
  const z = 1.0 / (x * x);
  const num = r[0] + z * (r[1] + z * (r[2] + z * (r[3] + z * (r[4] + z * r[5]))));
  const den =
    s.length === 5
      ? 1.0 + z * (s[0] + z * (s[1] + z * (s[2] + z * (s[3] + z * s[4]))))
      : 1.0 + z * (s[0] + z * (s[1] + z * (s[2] + z * (s[3] + z * (s[4] + z * s[5])))));
  return num / den;
}

/**
 * Order 0 or 1 for |x| >= 2: sqrt(2/(pi x)) (P cos(x - phase) - Q sin(x - phase)) for J,
 * (P sin + Q cos) for Y, the phase's sine and cosine made from sin x and cos x (the one
 * that would cancel from cos 2x); beyond 2^129 P is 1 and Q 0.
 */
function large(order: 0 | 1, x: number, y: boolean, negate: boolean): number {
  const h = highAbs(x);
  let s = sin(x);
  let c = cos(x);
  let cc: number;
  if (order === 0) {
    if (y) c = -c;
    cc = s + c;
    if (h < 0x7fe00000) {
      let ss = s - c;
      const z = -cos(2 * x);
      if (s * c < 0) cc = z / ss;
      else ss = z / cc;
      if (h < 0x48000000) {
        if (y) ss = -ss;
        cc = (1.0 + ratio(tableFor(P0, x), x)) * cc - ((-0.125 + ratio(tableFor(Q0, x), x)) / x) * ss;
      }
    }
  } else {
    if (y) s = -s;
    cc = s - c;
    if (h < 0x7fe00000) {
      let ss = -s - c;
      const z = cos(2 * x);
      if (s * c > 0) cc = z / ss;
      else ss = z / cc;
      if (h < 0x48000000) {
        if (y) ss = -ss;
        cc = (1.0 + ratio(tableFor(P1, x), x)) * cc - ((0.375 + ratio(tableFor(Q1, x), x)) / x) * ss;
      }
    }
  }
  if (negate) cc = -cc;
  return (INV_SQRT_PI * cc) / Math.sqrt(x);
}

const signBit = (x: number) => x < 0 || Object.is(x, -0) || (x !== x && (words[0] = x, halves[1] >>> 31) === 1);

export function j0(x: number): number {
  const h = highAbs(x);
  if (h >= 0x7ff00000) return 1 / (x * x);
  x = Math.abs(x);
  if (h >= 0x40000000) return large(0, x, false, false);
  if (h >= 0x3f200000) {
    // 1 - x²/4 + z R(z)/S(z), z = x²
    const z = x * x;
    const r = z * (1.56249999999999947958e-2 + z * (-1.89979294238854721751e-4 + z * (1.82954049532700665670e-6 + z * -4.61832688532103189199e-9)));
    const s = 1 + z * (1.56191029464890010492e-2 + z * (1.16926784663337450260e-4 + z * (5.13546550207318111446e-7 + z * 1.16614003333790000205e-9)));
    return (1 + x / 2) * (1 - x / 2) + z * (r / s);
  }
  if (h >= 0x38000000) x = 0.25 * x * x;
  return 1 - x;
}

export function j1(x: number): number {
  const h = highAbs(x);
  if (h >= 0x7ff00000) return 1 / (x * x);
  if (h >= 0x40000000) return large(1, Math.abs(x), false, signBit(x));
  let z: number;
  if (h >= 0x38000000) {
    // x (1/2 + R(z)/S(z)), z = x²
    z = x * x;
    const r = z * (-6.25e-2 + z * (1.40705666955189706048e-3 + z * (-1.59955631084035597520e-5 + z * 4.96727999609584448412e-8)));
    const s =
      1 + z * (1.91537599538363460805e-2 + z * (1.85946785588630915560e-4 + z * (1.17718464042623683263e-6 + z * (5.04636257076217042715e-9 + z * 1.23542274426137913908e-11))));
    z = r / s;
  } else z = x;
  return (0.5 + z) * x;
}

export function y0(x: number): number {
  if (x === 0) return -Infinity;
  if (signBit(x)) return NaN;
  const h = highAbs(x);
  if (h >= 0x7ff00000) return 1 / x;
  if (h >= 0x40000000) return large(0, x, true, false);
  if (h >= 0x3e400000) {
    // U(z)/V(z) + (2/pi) j0(x) ln x, z = x²
    const z = x * x;
    const u =
      -7.38042951086872317523e-2 +
      z *
        (1.76666452509181115538e-1 +
          z * (-1.38185671945596898896e-2 + z * (3.47453432093683650238e-4 + z * (-3.81407053724364161125e-6 + z * (1.95590137035022920206e-8 + z * -3.98205194132103398453e-11)))));
    const v = 1.0 + z * (1.27304834834123699328e-2 + z * (7.60068627350353253702e-5 + z * (2.59150851840457805467e-7 + z * 4.41110311332675467403e-10)));
    return u / v + TWO_OVER_PI * (j0(x) * log(x));
  }
  return -7.38042951086872317523e-2 + TWO_OVER_PI * log(x);
}

export function y1(x: number): number {
  if (x === 0) return -Infinity;
  if (signBit(x)) return NaN;
  const h = highAbs(x);
  if (h >= 0x7ff00000) return 1 / x;
  if (h >= 0x40000000) return large(1, x, true, false);
  if (h < 0x3c900000) return -TWO_OVER_PI / x;
  // x U(z)/V(z) + (2/pi) (j1(x) ln x - 1/x), z = x²
  const z = x * x;
  const u =
    -1.96057090646238940668e-1 +
    z * (5.04438716639811282616e-2 + z * (-1.91256895875763547298e-3 + z * (2.35252600561610495928e-5 + z * -9.19099158039878874504e-8)));
  const v =
    1.0 +
    z * (1.99167318236649903973e-2 + z * (2.02552581025135171496e-4 + z * (1.35608801097516229404e-6 + z * (6.22741452364621501295e-9 + z * 1.66559246207992079114e-11))));
  return x * (u / v) + TWO_OVER_PI * (j1(x) * log(x) - 1 / x);
}

/** an order beyond which the backward recurrence's |n| steps are skipped when J_n(x) is surely below the smallest double */
const LONG_RECURRENCE = 100000;

/** J_n(x) for a C int order n. */
export function jn(n: number, x: number): number {
  if (x !== x) return x;
  let negative = signBit(x);
  const h = highAbs(x);
  if (n === 0) return j0(x);
  // J(-n, x) = J(n, -x); m = |n| - 1 also holds for INT_MIN
  let m: number;
  if (n < 0) {
    m = -(n + 1);
    x = -x;
    negative = !negative;
  } else m = n - 1;
  if (m === 0) return j1(x);
  negative = negative && (n & 1) === 1;
  x = Math.abs(x);
  let b: number;
  if (x === 0 || h === 0x7ff00000) b = 0.0;
  else if (m < x) {
    // forward recurrence J(k+1) = 2k/x J(k) - J(k-1) is safe for k < x
    if (h >= 0x52d00000) {
      const t = [-cos(x) + sin(x), -cos(x) - sin(x), cos(x) - sin(x), cos(x) + sin(x)][m & 3];
      b = (INV_SQRT_PI * t) / Math.sqrt(x);
    } else {
      let a = j0(x);
      b = j1(x);
      for (let i = 1; i <= m; i++) {
        const t = b;
        b = b * ((2.0 * i) / x) - a;
        a = t;
      }
    }
  } else if (h < 0x3e100000) {
    // tiny x: (x/2)^n / n!
    if (m > 32) b = 0.0;
    else {
      const half = x * 0.5;
      b = half;
      let f = 1.0;
      for (let i = 2; i <= m + 1; i++) {
        f *= i;
        b *= half;
      }
      b = b / f;
    }
  } else if (m > LONG_RECURRENCE && (m + 1) * log((Math.E * x) / (2 * (m + 1))) - 0.5 * log(2 * Math.PI * (m + 1)) < -760) {
    // (e x / 2n)^n / sqrt(2 pi n) bounds J_n(x) for n > x: 0 without the recurrence's n steps
    b = 0.0;
  } else b = backward(m, x);
  return negative ? -b : b;
}

/**
 * J_n(x) (n = m + 1 > x): J(n)/J(n-1) from its continued fraction (as many terms as make
 * the convergent's denominator exceed 1e9), backward recurrence to orders 0 and 1, scaled
 * by j0 or j1.
 */
function backward(m: number, x: number): number {
  const nf = m + 1.0;
  const w = (2 * nf) / x;
  const h = 2 / x;
  let z = w + h;
  let q0 = w;
  let q1 = w * z - 1.0;
  let k = 1;
  while (q1 < 1.0e9) {
    k += 1;
    z += h;
    const next = z * q1 - q0;
    q0 = q1;
    q1 = next;
  }
  let t = 0.0;
  for (let i = k; i >= 0; i--) t = 1 / ((2 * (i + nf)) / x - t);
  let a = t;
  let b = 1.0;
  // n ln(2n/x) beyond ln(DBL_MAX): the recurrence may overflow, so it rescales
  const rescale = !(nf * log(Math.abs(w)) < 7.09782712893383973096e2);
  for (let i = m; i > 0; i--) {
    const prev = b;
    b = (b * (2.0 * i)) / x - a;
    a = prev;
    if (rescale && b > 2 ** 500) {
      a /= b;
      t /= b;
      b = 1.0;
    }
  }
  const zj = j0(x);
  const wj = j1(x);
  return Math.abs(zj) >= Math.abs(wj) ? (t * zj) / b : (t * wj) / a;
}

/** Y_n(x) for a C int order n (forward recurrence, stable for Y). */
export function yn(n: number, x: number): number {
  if (x !== x) return x;
  if (x !== 0 && signBit(x)) return NaN;
  const h = highAbs(x);
  if (h === 0x7ff00000) return 0.0;
  if (n === 0) return y0(x);
  let m: number;
  let negate: boolean;
  if (n < 0) {
    m = -(n + 1);
    negate = (n & 1) === 1;
  } else {
    m = n - 1;
    negate = false;
  }
  if (m === 0) return negate ? -y1(x) : y1(x);
  let b: number;
  if (h >= 0x52d00000) {
    const t = [-sin(x) - cos(x), -sin(x) + cos(x), sin(x) + cos(x), sin(x) - cos(x)][m & 3];
    b = (INV_SQRT_PI * t) / Math.sqrt(x);
  } else {
    let a = y0(x);
    b = y1(x);
    for (let i = 1; i <= m && b !== -Infinity; i++) {
      const t = b;
      b = ((2.0 * i) / x) * b - a;
      a = t;
    }
  }
  return negate ? -b : b;
}
