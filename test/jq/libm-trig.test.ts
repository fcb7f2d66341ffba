// sin, cos, tan, atan2 (libm-trig.ts), lgamma (lgamma.ts), tgamma's and the Bessel functions' use of
// musl's kernels: every result must have the bits jq 1.7.1 gets from musl's libm (jq-wasm), not just
// be close. The table's expected texts are jq-wasm's; the batches ask jq-wasm itself.
import { afterAll, describe, expect, it } from 'vitest';
import { compile } from '../../host/jq/index.js';
import { atan2, cos, sin, tan } from '../../host/jq/libm-trig.js';
import { lgammaR } from '../../host/jq/lgamma.js';
import { j0, j1, jn, y0, y1 } from '../../host/jq/bessel.js';
import { ReferenceJq } from './fuzz/reference.js';

const jqText = (filter: string) => compile(`[${filter}] | tojson`).run(null)[0];

describe('musl results, as jq-wasm printed them', () => {
  const table: [string, string][] = [
    ['3.9269908169872423 | sin', '[-0.707106781186548]'],
    ['19.634954084936208 | sin', '[0.7071067811865476]'],
    ['1e22 | sin', '[-0.8522008497671888]'],
    ['1.7976931348623157e308 | sin', '[0.004961954789184062]'],
    ['5e-324 | sin', '[5e-324]'],
    ['-1e-300 | sin', '[-1e-300]'],
    ['5.545177444479561 | cos', '[0.7398103665940298]'],
    ['7.068583470577033 | cos', '[0.707106781186549]'],
    ['13.169796430638957 | cos', '[0.8233964141614666]'],
    ['1e300 | cos', '[-0.5753861119575491]'],
    ['1e-9 | cos', '[1]'],
    ['1.5707963267948966 | cos', '[6.123233995736766e-17]'],
    ['69.11503837721702 | tan', '[-1.7584325403999814e-09]'],
    ['-138.23007675602108 | tan', '[1.9298252479156334e-09]'],
    ['1.5707963267948966 | tan', '[16331239353195370]'],
    ['1e100 | tan', '[-0.4116229628832498]'],
    ['0.7 | tan', '[0.8422883804630794]'],
    ['atan2(73786976294834960000; -5.236504077911377)', '[1.5707963267948968]'],
    ['atan2(1; -1)', '[2.356194490192345]'],
    ['atan2(-1e-300; -1)', '[-3.141592653589793]'],
    ['atan2(0; -0.5)', '[3.141592653589793]'],
    ['1.5 | lgamma', '[-0.12078223763524522]'],
    ['2.5 | lgamma', '[0.2846828704729192]'],
    ['0.95 | lgamma', '[0.030968795237972926]'],
    ['1.2 | lgamma', '[-0.08537409000331583]'],
    ['-0.5 | lgamma', '[1.2655121234846454]'],
    ['-2 | lgamma', '[1.7976931348623157e+308]'],
    ['1 | lgamma', '[0]'],
    ['-2.5 | lgamma_r', '[[-0.05624371649767412,-1]]'],
    ['-3.5 | lgamma_r', '[[-1.3090066849930422,1]]'],
    ['-2.5 | tgamma', '[-0.9453087204829418]'],
    ['0.5 | tgamma', '[1.7724538509055159]'],
    ['5 | tgamma', '[24]'],
    ['-3 | tgamma', '[null]'],
    ['2.5 | j0', '[-0.04838377646819801]'],
    ['100 | j0', '[0.01998585030422312]'],
    ['1e300 | j0', '[-7.860673062724093e-151]'],
    ['-7.5 | j1', '[-0.13524842757970548]'],
    ['1e-5 | j1', '[4.9999999999375e-06]'],
    ['3 | y0', '[0.3768500100127904]'],
    ['1e10 | y0', '[-7.676508175792937e-06]'],
    ['2.5 | y1', '[0.14591813796678577]'],
    ['jn(3; 2.5)', '[0.2166003910391136]'],
    ['jn(-3; 50)', '[-0.09273480406163445]'],
    ['jn(30; 10)', '[1.5510960782574664e-12]'],
  ];
  for (const [filter, expected] of table) it(filter, () => expect(jqText(filter)).toBe(expected));
});

// A few hundred inputs per function in one jq-wasm call each: every range the reductions
// distinguish (|x| < 2^-26, < pi/4, the multiples of pi/2 __rem_pio2 treats apart, < 2^20 pi/2,
// the huge arguments __rem_pio2_large takes, subnormals) and the neighbours of pi/4 multiples.
describe('batches against jq-wasm', () => {
  const ref = new ReferenceJq(30_000);
  afterAll(() => ref.close());
  let seed = 20261129;
  const rand = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const bits = new DataView(new ArrayBuffer(8));
  const anyDouble = () => {
    bits.setUint32(0, (rand() * 2 ** 31) & 0x7fefffff);
    bits.setUint32(4, (rand() * 2 ** 32) >>> 0);
    return bits.getFloat64(0);
  };
  const wide: number[] = [0, 1, -1, 5e-324, 1e-310, 1.7976931348623157e308, 1e22, 2 ** 20 * (Math.PI / 2), 2 ** 19 * Math.PI];
  for (let k = 1; k <= 12; k++) for (const u of [1, 1 + 2 ** -52, 1 - 2 ** -52]) wide.push(((k * Math.PI) / 4) * u, ((-k * Math.PI) / 2) * u);
  while (wide.length < 400) {
    const r = rand();
    const sign = rand() < 0.5 ? -1 : 1;
    wide.push(sign * (r < 0.1 ? 2 ** (-60 * rand()) * 1e-8 : r < 0.35 ? rand() : r < 0.6 ? 10 * rand() : r < 0.75 ? 1e6 * rand() : anyDouble()));
  }

  /** the doubles jq-wasm gives for [.[] | filter] (nan and infinities as strings) */
  async function reference(inputs: unknown[], filter: string): Promise<unknown[]> {
    const text = `[.[] | ${filter} | if isnan then "nan" elif isinfinite then (if . > 0 then "inf" else "-inf" end) else . end]`;
    const r = await ref.run(JSON.stringify(inputs), text);
    if (r.kind !== 'done') throw new Error(`jq-wasm: ${r.kind}`);
    return JSON.parse(r.stdout);
  }
  const asJq = (v: number) => (v !== v ? 'nan' : v === Infinity ? 'inf' : v === -Infinity ? '-inf' : v);
  async function agree(inputs: number[] | number[][], filter: string, ours: (x: any) => number) {
    const theirs = await reference(inputs, filter);
    const differing = inputs.filter((x, i) => !Object.is(asJq(ours(x)), theirs[i])).map((x) => `${JSON.stringify(x)}: ${ours(x)}`);
    expect(differing).toEqual([]);
  }

  it('sin', () => agree(wide, 'sin', sin));
  it('cos', () => agree(wide, 'cos', cos));
  it('tan', () => agree(wide, 'tan', tan));
  it('atan2 in all four quadrants', () => {
    const pairs = wide.slice(0, 300).map((y, i) => [y, wide[(i * 37 + 11) % wide.length] * (i % 2 ? -1 : 1)]);
    // x < 0 with |y/x| large: pi - (atan - pi_lo) rounds up where V8's atan2 does not
    for (let i = 0; i < 100; i++) pairs.push([(i % 2 ? -1 : 1) * 10 ** (12 + 8 * rand()), -10 * rand()]);
    return agree(pairs, 'atan2(.[0]; .[1])', ([y, x]) => atan2(y, x));
  });
  // lgamma without a log call (0.9 < x < 3: musl's polynomials only), and the sign for negative x
  it('lgamma on (0.9, 3)', () => agree(Array.from({ length: 300 }, () => 0.9 + 2.1 * rand()), 'lgamma', (x) => lgammaR(x)[0]));
  it('lgamma_r sign below 0', () => agree(Array.from({ length: 300 }, () => -40 * rand()), 'lgamma_r | .[1]', (x) => lgammaR(x)[1]));
  it('j0, j1', async () => {
    await agree(wide, 'j0', j0);
    await agree(wide, 'j1', j1);
  });
  it('y0, y1 from 2 up (sin and cos, no log)', async () => {
    const from2 = wide.map(Math.abs).filter((x) => x >= 2);
    await agree(from2, 'y0', y0);
    await agree(from2, 'y1', y1);
  });
  it('jn', async () => {
    const xs = wide.filter((x) => Math.abs(x) < 1e6).slice(0, 200);
    for (const n of [2, -3, 7, 30]) await agree(xs, `jn(${n}; .)`, (x) => jn(n, x));
  });
});
