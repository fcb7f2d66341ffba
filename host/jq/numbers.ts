// Numbers made from text: a program's literal or a JSON input's number token.
// Every place that turns number text into a jq value goes through here, so how
// a literal's text is kept (jq 1.7.1 prints `1.0` as `1.0`) is decided once.
//
// jq 1.7.1 (built with decNumber) keeps a number token as a decimal until
// something computes with it: printing writes the decimal (decNumber's
// to-scientific-string: `1.0`, `1E+2`, `0.00001`, `1.23E-8`), two such
// numbers compare as decimals, and everything else reads its double. Here
// that number is a LiteralNumber; a token whose text jq would print as we
// print its double, and that no other token's double could collide with,
// stays a plain JS number, so the common path never sees a wrapper.
import { numToString } from './values.js';

/** A decimal: sign, coefficient digits (no leading zeros; "0" for zero), exponent. */
interface Decimal {
  negative: boolean;
  coefficient: string;
  exponent: number;
}

/** A number token kept as jq 1.7.1 keeps it: its decimal value and the double computations use. */
export class LiteralNumber {
  /** the double every computation uses (jq's jv_number_value) */
  readonly value: number;
  /** the decimal as jq prints it */
  readonly literal: string;
  /** the decimal is its double's own shortest text: it compares as its double */
  readonly exact: boolean;
  private decimal: Decimal | null;
  constructor(value: number, literal: string, exact: boolean, decimal: Decimal | null) {
    this.value = value;
    this.literal = literal;
    this.exact = exact;
    this.decimal = decimal;
  }
  /** the decimal, read from the text when first needed (an exact token's text is plain `-?d+(.d+)?`) */
  digits(): Decimal {
    return (this.decimal ??= decimalOf(this.literal)!);
  }
}

/**
 * How number tokens are kept. `exact` (a program compiled with exactNumbers,
 * while it is compiled and while it runs): every token is a LiteralNumber, as
 * every token is a literal in jq 1.7.1, and a plain double is a computed
 * number; that difference shows where jq compares two literals as decimals
 * and where its path tracking asks whether two numbers are the same jv.
 * Otherwise only a token a double cannot stand for is kept.
 */
export const numberMode = { exact: false };

/** Set when a LiteralNumber is made, so a run's outputs are only unwrapped when one may be in them. */
export const literalsMade = { count: 0 };

// decNumber's default context, as jq sets it up: exponents past this overflow to infinity
const DEC_EMAX = 999999999;
// below this many significant digits, distinct decimals always have distinct doubles
const DOUBLE_SAFE_DIGITS = 15;
// jq converts a decimal to a double through this many significant digits (a decimal64 context)
const DOUBLE_PRECISION_DIGITS = 17;

const NUMBER_RE = /^([+-]?)([0-9]*)(?:\.([0-9]*))?(?:[eE]([+-]?[0-9]+))?$/;

/** The jq value of a number token (`text` matches JSON's number grammar, or a jq literal). */
export function numberFromLiteral(text: string, keepAll = numberMode.exact): unknown {
  if (printsAsItsDouble(text)) {
    const v = Number(text);
    if (!keepAll) return v;
    literalsMade.count++;
    return new LiteralNumber(v, text, true, null);
  }
  const d = decimalOf(text);
  if (d === null) return Number(text);
  const { negative, coefficient: digits, exponent } = d;
  const adjusted = exponent + digits.length - 1;
  // decNumber overflows to infinity: jq prints such a number as the double it reads (DBL_MAX)
  if (digits !== '0' && adjusted > DEC_EMAX) return negative ? -Infinity : Infinity;
  const literal = (negative ? '-' : '') + scientificString(digits, exponent);
  const value = toDouble17(negative, digits, exponent);
  const exact = digits.length <= DOUBLE_SAFE_DIGITS && literal === numToString(value);
  if (exact && !keepAll) return value;
  literalsMade.count++;
  return new LiteralNumber(value, literal, exact, d);
}

/** The decimal a number text stands for, or null when it is not a plain decimal. */
function decimalOf(text: string): Decimal | null {
  const m = NUMBER_RE.exec(text);
  if (m === null || (m[2] === '' && (m[3] === undefined || m[3] === ''))) return null;
  const fraction = m[3] ?? '';
  let digits = m[2] + fraction;
  let lead = 0;
  while (lead < digits.length - 1 && digits.charCodeAt(lead) === 48) lead++;
  if (lead) digits = digits.slice(lead);
  return { negative: m[1] === '-', coefficient: digits, exponent: (m[4] === undefined ? 0 : Number(m[4])) - fraction.length };
}

/**
 * The common token, decided without building the decimal: an integer, or a decimal with a
 * non-zero integer part and no trailing zero, of at most 15 digits, prints the same either way.
 */
function printsAsItsDouble(text: string): boolean {
  const n = text.length;
  let i = text.charCodeAt(0) === 45 ? 1 : 0;
  const first = text.charCodeAt(i);
  if (first === 48) return n === i + 1;
  if (first < 49 || first > 57) return false;
  let point = 0;
  for (i++; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 46) {
      if (point !== 0) return false;
      point = i;
    } else if (c < 48 || c > 57) return false;
  }
  const digits = n - (text.charCodeAt(0) === 45 ? 1 : 0) - (point !== 0 ? 1 : 0);
  return digits <= DOUBLE_SAFE_DIGITS && (point === 0 || (point < n - 1 && text.charCodeAt(n - 1) !== 48));
}

/** decNumber's to-scientific-string of a coefficient and exponent (without the sign). */
function scientificString(digits: string, exponent: number): string {
  const adjusted = exponent + digits.length - 1;
  if (exponent <= 0 && adjusted >= -6) {
    if (exponent === 0) return digits;
    const point = digits.length + exponent;
    return point > 0 ? `${digits.slice(0, point)}.${digits.slice(point)}` : `0.${'0'.repeat(-point)}${digits}`;
  }
  const head = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
  return `${head}E${adjusted < 0 ? '-' : '+'}${Math.abs(adjusted)}`;
}

/** The double jq reads from a decimal: rounded (half even) to 17 digits first, then to the nearest double. */
function toDouble17(negative: boolean, digits: string, exponent: number): number {
  if (digits.length > DOUBLE_PRECISION_DIGITS) {
    const cut = digits.length - DOUBLE_PRECISION_DIGITS;
    let kept = digits.slice(0, DOUBLE_PRECISION_DIGITS);
    const rest = digits.slice(DOUBLE_PRECISION_DIGITS);
    const first = rest.charCodeAt(0) - 48;
    const tail = /[1-9]/.test(rest.slice(1));
    const lastOdd = (kept.charCodeAt(kept.length - 1) - 48) % 2 === 1;
    if (first > 5 || (first === 5 && (tail || lastOdd))) kept = (BigInt(kept) + 1n).toString();
    digits = kept;
    exponent += cut;
  }
  const x = Number(`${digits}e${exponent}`);
  return negative ? -x : x;
}

export function isLiteralNumber(v: unknown): v is LiteralNumber {
  return v instanceof LiteralNumber;
}

/** A jq number: a double or a kept literal. */
export function isNumber(v: unknown): v is number | LiteralNumber {
  return typeof v === 'number' || v instanceof LiteralNumber;
}

/** A number's double: a LiteralNumber's value, any other value unchanged. */
export function toDouble<T>(v: T): T | number {
  return v instanceof LiteralNumber ? v.value : v;
}

/** jq's jvp_number_cmp of two decimals (decNumberCompare): -1, 0 or 1. */
export function compareLiterals(a: LiteralNumber, b: LiteralNumber): number {
  if (a.exact && b.exact) return a.value < b.value ? -1 : a.value > b.value ? 1 : 0;
  const x = a.digits();
  const y = b.digits();
  const az = x.coefficient === '0';
  const bz = y.coefficient === '0';
  if (az && bz) return 0;
  const aSign = az ? 0 : x.negative ? -1 : 1;
  const bSign = bz ? 0 : y.negative ? -1 : 1;
  if (aSign !== bSign) return aSign < bSign ? -1 : 1;
  const magnitude = compareMagnitudes(x, y);
  return aSign < 0 ? -magnitude : magnitude;
}

function compareMagnitudes(a: Decimal, b: Decimal): number {
  const aa = a.exponent + a.coefficient.length - 1;
  const ba = b.exponent + b.coefficient.length - 1;
  if (aa !== ba) return aa < ba ? -1 : 1;
  // same leading digit position: compare the digits, the shorter padded with zeros
  const n = Math.max(a.coefficient.length, b.coefficient.length);
  const x = a.coefficient.padEnd(n, '0');
  const y = b.coefficient.padEnd(n, '0');
  return x === y ? 0 : x < y ? -1 : 1;
}

/** Deep copy of a value with every LiteralNumber replaced by its double (what library callers get). */
export function withDoubles(v: unknown): unknown {
  if (v instanceof LiteralNumber) return v.value;
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) {
    let out: unknown[] | null = null;
    for (let i = 0; i < v.length; i++) {
      const x = withDoubles(v[i]);
      if (x !== v[i]) {
        out ??= v.slice();
        out[i] = x;
      }
    }
    return out ?? v;
  }
  let out: Record<string, unknown> | null = null;
  const o = v as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    const x = withDoubles(o[k]);
    if (x !== o[k]) {
      if (out === null) {
        out = {};
        for (const k2 of Object.keys(o)) Object.defineProperty(out, k2, { value: o[k2], writable: true, enumerable: true, configurable: true });
      }
      Object.defineProperty(out, k, { value: x, writable: true, enumerable: true, configurable: true });
    }
  }
  return out ?? o;
}
