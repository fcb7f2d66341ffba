// JSON text to jq values, as jq 1.7.1's parser (jv_parse.c) reads it: keys in
// the order they appear (through setKey), every number token's text through
// numberFromLiteral, jq's literal extras (nan, -nan, NaN, infinity; decNumber's
// grammar), and jq's error texts with their line and column (columns count
// UTF-8 bytes). A loop with an explicit stack: no nesting depth blows the JS
// stack.
import { JqError, setKey, type Obj } from './values.js';
import { numberFromLiteral, numberMode } from './numbers.js';

/**
 * How a parse keeps number tokens: false, as doubles (a host whose values are
 * doubles anyway, such as a flow's); true, as the current number mode keeps
 * them (numbers.ts: only what a double cannot stand for, or every token
 * while an exactNumbers program runs); 'all', every token as a literal.
 */
export type KeepLiterals = boolean | 'all';

/** jq 1.7.1's MAX_PARSING_DEPTH: `[` and `{` fail past 256 open containers and keys. */
export const JQ_PARSING_DEPTH = 256;

/**
 * One literal token (true, false, null or a number) as jq 1.7.1 (decNumber)
 * reads it, its number kept as `keepLiterals` says.
 */
export function jqLiteral(t: string, keepLiterals: KeepLiterals = true): { value?: unknown; error?: string } {
  const fixed = t[0] === 't' ? 'true' : t[0] === 'f' ? 'false' : t[0] === 'n' && t[1] === 'u' ? 'null' : null;
  if (fixed !== null) return t === fixed ? { value: fixed === 'true' ? true : fixed === 'false' ? false : null } : { error: 'Invalid literal' };
  // jq reads a number token as C text: up to a NUL (true/false/null above count every byte)
  const nul = t.indexOf('\0');
  if (nul >= 0) t = t.slice(0, nul);
  const m = /^([+-]?)(?:((?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)|(inf(?:inity)?)|(s?nan[0-9]*))$/i.exec(t);
  if (!m) return { error: 'Invalid numeric literal' };
  if (m[2] !== undefined) return { value: keepLiterals === false ? Number(t) : numberFromLiteral(t, keepLiterals === 'all' || numberMode.exact) };
  return { value: m[3] !== undefined ? (m[1] === '-' ? -Infinity : Infinity) : NaN };
}

/** Nothing parsed yet (p->next invalid). */
const NONE: unique symbol = Symbol('none');
type Next = unknown | typeof NONE;

/** A key on the stack (pushed at ':'), told apart from a string value. */
class Key {
  constructor(readonly name: string) {}
}

type Result = { value: unknown } | { error: string } | null;

/**
 * jq's jv_parser over one text: `next()` gives the next value, an error
 * (after which the text is abandoned, as jq does outside --seq), or null at
 * the end.
 */
export class JsonTextParser {
  private pos = 0;
  private stack: (unknown[] | Obj | Key)[] = [];
  private next: Next = NONE;
  /** start of a literal token being read, or -1 */
  private token = -1;
  /** start of the string being read (after its quote), or -1 */
  private string = -1;
  private done = false;
  private malformedBom = false;
  /** newlines counted so far: before index linesAt */
  private lines = 1;
  private linesAt = 0;

  constructor(
    private readonly text: string,
    private readonly maxDepth = JQ_PARSING_DEPTH,
    private readonly keepLiterals: KeepLiterals = true,
  ) {
    // a leading byte order mark is not part of the text; a character whose UTF-8 starts like one
    // (U+F000..U+FFFF: 0xEF, then not 0xBB 0xBF) is jq's "Malformed BOM"
    const c0 = text.charCodeAt(0);
    if (c0 === 0xfeff) this.pos = 1;
    else if (c0 >= 0xf000 && c0 <= 0xffff) this.malformedBom = true;
  }

  /** jq's "line %d, column %d" after the character before `end` (columns in UTF-8 bytes). */
  where(end: number): string {
    let line = 1;
    let start = 0;
    for (let i = this.text.indexOf('\n'); i !== -1 && i < end; i = this.text.indexOf('\n', i + 1)) {
      line++;
      start = i + 1;
    }
    const from = this.text.charCodeAt(0) === 0xfeff && start === 0 ? 1 : start;
    let column = 0;
    for (let i = from; i < end; i++) {
      const c = this.text.charCodeAt(i);
      if (c < 0x80) column += 1;
      else if (c < 0x800) column += 2;
      else if (c >= 0xd800 && c <= 0xdbff && i + 1 < end) {
        const d = this.text.charCodeAt(i + 1);
        if (d >= 0xdc00 && d <= 0xdfff) {
          column += 4;
          i++;
        } else column += 3;
      } else column += 3;
    }
    return `line ${line}, column ${column}`;
  }

  /** The line the parser is on (where the last value read ended). */
  line(): number {
    for (let i = this.text.indexOf('\n', this.linesAt); i !== -1 && i < this.pos; i = this.text.indexOf('\n', i + 1)) this.lines++;
    this.linesAt = Math.max(this.linesAt, this.pos);
    return this.lines;
  }

  private fail(msg: string, end: number): Result {
    this.done = true;
    return { error: `${msg} at ${this.where(end)}` };
  }

  read(): Result {
    if (this.done) return null;
    if (this.malformedBom) {
      this.done = true;
      return { error: 'Malformed BOM' };
    }
    const text = this.text;
    const n = text.length;
    let found: Result = null;
    while (this.pos < n) {
      const i = this.pos++;
      if (this.string >= 0) {
        const end = this.stringEnd(i);
        if (end < 0) {
          this.pos = n;
          break;
        }
        this.pos = end + 1;
        const msg = this.foundString(this.string, end);
        this.string = -1;
        if (msg) return this.fail(msg, end + 1);
        if (this.stack.length === 0 && this.next !== NONE) return this.take();
        continue;
      }
      const c = text.charCodeAt(i);
      const cls = c === 32 || c === 9 || c === 13 || c === 10 ? WS : c === 34 ? QUOTE : isStructure(c) ? STRUCT : LITERAL;
      if (cls === LITERAL) {
        if (this.token < 0) this.token = i;
        continue;
      }
      if (this.token >= 0) {
        const msg = this.checkLiteral(i);
        if (msg) return this.fail(msg, i + 1);
      }
      if (this.stack.length === 0 && this.next !== NONE) found = this.take();
      if (cls === QUOTE) this.string = i + 1;
      else if (cls === STRUCT) {
        const msg = this.structure(c);
        if (msg) return this.fail(msg, i + 1);
      }
      if (this.stack.length === 0 && this.next !== NONE) found = this.take();
      if (found !== null) return found;
    }
    // at the end of the text
    this.done = true;
    if (this.string >= 0) return { error: `Unfinished string at EOF at ${this.where(n)}` };
    if (this.token >= 0) {
      const msg = this.checkLiteral(n);
      if (msg) return { error: `${msg} at EOF at ${this.where(n)}` };
    }
    if (this.stack.length !== 0) return { error: `Unfinished JSON term at EOF at ${this.where(n)}` };
    return this.next === NONE ? null : this.take();
  }

  private take(): Result {
    const value = this.next;
    this.next = NONE;
    return { value };
  }

  /** The index of the quote closing a string whose body starts at `from` (escapes skipped), or -1. */
  private stringEnd(from: number): number {
    const text = this.text;
    let q = text.indexOf('"', from);
    for (;;) {
      if (q < 0) return -1;
      // the quote is escaped when an odd run of backslashes precedes it (within the string)
      let b = q - 1;
      while (b >= from && text.charCodeAt(b) === 92) b--;
      if ((q - 1 - b) % 2 === 0) return q;
      q = text.indexOf('"', q + 1);
    }
  }

  private value(v: unknown): string | null {
    if (this.next !== NONE) return 'Expected separator between values';
    this.next = v;
    return null;
  }

  private checkLiteral(end: number): string | null {
    const r = jqLiteral(this.text.slice(this.token, end), this.keepLiterals);
    this.token = -1;
    if (r.error) return r.error;
    return this.value(r.value);
  }

  /** jq's found_string: the body text[from, end) with its escapes. */
  private foundString(from: number, end: number): string | null {
    const text = this.text;
    let s = '';
    let run = from;
    for (let i = from; i < end; i++) {
      const c = text.charCodeAt(i);
      if (c < 0x20) return 'Invalid string: control characters from U+0000 through U+001F must be escaped';
      if (c !== 92) continue;
      s += text.slice(run, i);
      const e = text[++i];
      switch (e) {
        case '\\':
        case '"':
        case '/':
          s += e;
          break;
        case 'b':
          s += '\b';
          break;
        case 'f':
          s += '\f';
          break;
        case 't':
          s += '\t';
          break;
        case 'n':
          s += '\n';
          break;
        case 'r':
          s += '\r';
          break;
        case 'u': {
          if (i + 5 > end) return 'Invalid \\uXXXX escape';
          const u = unhex4(text, i + 1);
          if (u < 0) return 'Invalid characters in \\uXXXX escape';
          i += 4;
          if (u >= 0xd800 && u <= 0xdbff) {
            if (i + 7 > end || text[i + 1] !== '\\' || text[i + 2] !== 'u') return 'Invalid \\uXXXX\\uXXXX surrogate pair escape';
            const low = unhex4(text, i + 3);
            if (!(low >= 0xdc00 && low <= 0xdfff)) return 'Invalid \\uXXXX\\uXXXX surrogate pair escape';
            s += String.fromCharCode(u, low);
            i += 6;
          } else s += u >= 0xdc00 && u <= 0xdfff ? '\ufffd' : String.fromCharCode(u);
          break;
        }
        default:
          return 'Invalid escape';
      }
      run = i + 1;
    }
    s += text.slice(run, end);
    return this.value(s);
  }

  /** jq's parse_token for one of [ { : , ] }. */
  private structure(c: number): string | null {
    const stack = this.stack;
    const top = stack.length > 0 ? stack[stack.length - 1] : undefined;
    switch (c) {
      case 91: // [
      case 123: // {
        if (stack.length >= this.maxDepth) return 'Exceeds depth limit for parsing';
        if (this.next !== NONE) return 'Expected separator between values';
        stack.push(c === 91 ? [] : {});
        return null;
      case 58: // :
        if (this.next === NONE) return "Expected string key before ':'";
        if (top === undefined || Array.isArray(top) || top instanceof Key) return "':' not as part of an object";
        if (typeof this.next !== 'string') return 'Object keys must be strings';
        stack.push(new Key(this.next));
        this.next = NONE;
        return null;
      case 44: // ,
        if (this.next === NONE) return "Expected value before ','";
        if (top === undefined) return "',' not as part of an object or array";
        if (Array.isArray(top)) top.push(this.next);
        else if (top instanceof Key) {
          stack.pop();
          setKey(stack[stack.length - 1] as Obj, top.name, this.next);
        } else return 'Objects must consist of key:value pairs';
        this.next = NONE;
        return null;
      case 93: // ]
        if (top === undefined || !Array.isArray(top)) return "Unmatched ']'";
        if (this.next !== NONE) top.push(this.next);
        else if (top.length !== 0) return 'Expected another array element';
        this.next = stack.pop();
        return null;
      default: {
        // }
        if (top === undefined) return "Unmatched '}'";
        if (this.next !== NONE) {
          if (!(top instanceof Key)) return 'Objects must consist of key:value pairs';
          stack.pop();
          setKey(stack[stack.length - 1] as Obj, top.name, this.next);
        } else {
          if (Array.isArray(top) || top instanceof Key) return "Unmatched '}'";
          if (Object.keys(top).length !== 0) return 'Expected another key-value pair';
        }
        this.next = stack.pop();
        return null;
      }
    }
  }
}

const LITERAL = 0;
const WS = 1;
const QUOTE = 2;
const STRUCT = 3;

function isStructure(c: number): boolean {
  return c === 91 || c === 44 || c === 93 || c === 123 || c === 58 || c === 125;
}

function unhex4(s: string, at: number): number {
  let r = 0;
  for (let i = at; i < at + 4; i++) {
    const c = s.charCodeAt(i);
    const d = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : c >= 65 && c <= 70 ? c - 55 : -1;
    if (d < 0) return -1;
    r = (r << 4) | d;
  }
  return r;
}

/**
 * One JSON text holding exactly one value, as jq's jv_parse (fromjson, the
 * CLI's --argjson): its errors end with "(while parsing '<text>')".
 */
export function parseJsonText(text: string, maxDepth = JQ_PARSING_DEPTH, keepLiterals: KeepLiterals = true): unknown {
  const p = new JsonTextParser(text, maxDepth, keepLiterals);
  const first = p.read();
  let msg: string;
  if (first === null) msg = 'Expected JSON value';
  else if ('error' in first) msg = first.error;
  else {
    const second = p.read();
    if (second === null) return first.value;
    msg = 'error' in second ? second.error : 'Unexpected extra JSON values';
  }
  // jq writes the text with C's %s: up to a NUL
  throw new JqError(`${msg} (while parsing '${text.split('\0')[0]}')`);
}

/**
 * A text's values in order (the CLI's input, --slurpfile): every value up to
 * the first error, the error's message, and the line each value ends on.
 */
export function parseJsonSequence(text: string, keepLiterals: KeepLiterals = true): { values: { value: unknown; line: number }[]; error?: string } {
  const p = new JsonTextParser(text, JQ_PARSING_DEPTH, keepLiterals);
  const values: { value: unknown; line: number }[] = [];
  for (;;) {
    const r = p.read();
    if (r === null) return { values };
    if ('error' in r) return { values, error: r.error };
    values.push({ value: r.value, line: p.line() });
  }
}

/**
 * Whether JSON.parse reads `text` as this parser does, for a host that
 * wants its speed and reads numbers as doubles: JSON.parse would put
 * index-like keys first and misread encoded ones, so a text that may hold a
 * key made of digits, or any \u00XX escape of a digit or of U+0000, is
 * parsed here instead.
 */
export function jsonParseKeepsMeaning(text: string): boolean {
  return !INDEX_KEY_RE.test(text);
}
const INDEX_KEY_RE = /"[0-9]+"\s*:|\\u00[03]/;
