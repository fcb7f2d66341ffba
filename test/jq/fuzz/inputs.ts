// Random JSON inputs, kept as a tree so the shrinker can cut them down and
// numbers keep the exact text they are written with (2^53+1, 1e1000, -0).
import { Random } from './random.js';

export type JValue = null | boolean | string | { num: string } | JValue[] | { entries: [string, JValue][] };

const EDGE_NUMBERS = [
  '0', '-0', '1', '-1', '1.5', '0.1', '3', '123', '-42', '1.0', '1e2',
  '9007199254740992', '9007199254740993', '-9007199254740993', '9223372036854775807', '9223372036854775808',
  '18446744073709551616', '100000000000000000000', '1e308', '1.7976931348623157e308', '-1.7976931348623157e+308',
  '5e-324', '1e-320', '2.2250738585072014e-308', '1e-7', '0.30000000000000004', '1e1000', '-1e1000', '123456789012',
];
const STRINGS = [
  '', 'a', 'b', 'abc', 'A', 'hello, world', ' x ', '0', '12', '-1.5', '1e1000', 'true', 'null', 'é', 'e\u0301', 'ß',
  '😀', '𝄞x', '日本語', 'a\u200db', '\u0000', 'tab\there', 'line\nbreak', '"q"', '\\', '<&>', 'a b/c?d=e', 'YWJj',
  'MFRGG===', '2015-03-05T23:51:47Z', '[1,2]', '{"a":1}', 'nan', 'Infinity', 'a,b;c', '\u007f', '\ud83d\ude00\u0301',
];
const KEYS = ['a', 'b', 'c', 'x', '0', '1', '', '__proto__', 'constructor', 'toString', 'a b', 'é', '😀', 'if', 'length', 'foo', 'A', 'ab'];

export class InputGenerator {
  private r: Random;
  constructor(r: Random) {
    this.r = r;
  }

  value(depth = this.r.int(0, 5)): JValue {
    const r = this.r;
    if (depth <= 0 || r.chance(0.3)) return this.scalar();
    if (r.chance(0.5)) {
      const n = r.chance(0.15) ? r.int(6, 12) : r.int(0, 4);
      const xs: JValue[] = [];
      for (let i = 0; i < n; i++) xs.push(this.value(depth - 1));
      return xs;
    }
    const n = r.chance(0.15) ? r.int(5, 8) : r.int(0, 4);
    const keys = new Set<string>();
    while (keys.size < n) keys.add(r.pick(KEYS));
    return { entries: [...keys].map((k) => [k, this.value(depth - 1)] as [string, JValue]) };
  }

  scalar(): JValue {
    const r = this.r;
    return r.weighted<() => JValue>([
      [1, () => null],
      [1, () => r.chance(0.5)],
      [3, () => ({ num: r.chance(0.5) ? String(r.int(-3, 10)) : r.pick(EDGE_NUMBERS) })],
      [3, () => r.pick(STRINGS)],
    ])();
  }
}

export function isNum(v: JValue): v is { num: string } {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && 'num' in v;
}

export function isObj(v: JValue): v is { entries: [string, JValue][] } {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && 'entries' in v;
}

/** The JSON text both engines read. */
export function toJson(v: JValue): string {
  if (v === null) return 'null';
  if (typeof v === 'boolean') return String(v);
  if (typeof v === 'string') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(toJson).join(',')}]`;
  if (isNum(v)) return v.num;
  return `{${v.entries.map(([k, x]) => `${JSON.stringify(k)}:${toJson(x)}`).join(',')}}`;
}

export function inputSize(v: JValue): number {
  if (Array.isArray(v)) return 1 + v.reduce((n: number, x) => n + inputSize(x), 0);
  if (isObj(v)) return 1 + v.entries.reduce((n: number, [, x]) => n + inputSize(x), 0);
  return 1;
}

/** Parses JSON text into a JValue, keeping every number's text as written. */
export function parseJValue(text: string): JValue {
  let i = 0;
  const ws = () => {
    while (i < text.length && ' \t\n\r'.includes(text[i])) i++;
  };
  const str = (): string => {
    const start = i;
    i++;
    while (text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
    i++;
    return JSON.parse(text.slice(start, i)) as string;
  };
  const value = (): JValue => {
    ws();
    const c = text[i];
    if (c === '"') return str();
    if (c === '[') {
      i++;
      const xs: JValue[] = [];
      ws();
      if (text[i] === ']') return i++, xs;
      for (;;) {
        xs.push(value());
        ws();
        if (text[i++] === ']') return xs;
      }
    }
    if (c === '{') {
      i++;
      const entries: [string, JValue][] = [];
      ws();
      if (text[i] === '}') return i++, { entries };
      for (;;) {
        ws();
        const k = str();
        ws();
        i++; // :
        entries.push([k, value()]);
        ws();
        if (text[i++] === '}') return { entries };
      }
    }
    for (const [word, v] of [['null', null], ['true', true], ['false', false]] as const)
      if (text.startsWith(word, i)) return (i += word.length), v;
    const m = /^-?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?/.exec(text.slice(i));
    if (!m) throw new Error(`not JSON at ${i}: ${text.slice(i, i + 20)}`);
    i += m[0].length;
    return { num: m[0] };
  };
  const v = value();
  ws();
  if (i !== text.length) throw new Error(`trailing text at ${i}`);
  return v;
}
