// @format string conversions.
import { JqError, dump, describe, numToString, typeOf } from './values.js';
import { chargeChars, work } from './budget.js';
import { LiteralNumber } from './numbers.js';

function tostr(v: unknown): string {
  return typeof v === 'string' ? v : dump(v);
}

function base64decode(s: string): string {
  // jq decodes leniently but rejects input that decodes to nothing from non-empty text
  // jq reads up to the first '=' and ignores the rest (padding or not)
  const pad = s.indexOf('=');
  const clean = pad < 0 ? s : s.slice(0, pad);
  if (/[^A-Za-z0-9+/]/.test(clean)) throw new JqError(`${describe(s)} is not valid base64 data`);
  if (clean.length % 4 === 1) throw new JqError(`${describe(s)} trailing base64 byte found`);
  const buf = Buffer.from(clean, 'base64');
  if (buf.length === 0 && clean.length > 0) throw new JqError(`${describe(s)} trailing base64 data`);
  return utf8LikeJq(buf);
}

/**
 * Bytes to text as jq turns them into a string: like UTF-8 decoding with
 * U+FFFD for bad bytes, except that a multi-byte sequence cut off by the end
 * of the data is one U+FFFD for all the bytes left (jvp_utf8_next), where a
 * WHATWG decoder would resume after the lead byte.
 */
function utf8LikeJq(buf: Buffer): string {
  for (let i = 0; i < buf.length; ) {
    const b = buf[i];
    const length = b < 0x80 ? 1 : b >= 0xc2 && b <= 0xdf ? 2 : b >= 0xe0 && b <= 0xef ? 3 : b >= 0xf0 && b <= 0xf4 ? 4 : 0;
    if (length <= 1) {
      i++;
      continue;
    }
    if (i + length > buf.length) return buf.subarray(0, i).toString('utf8') + '\ufffd';
    let k = 1;
    while (k < length && (buf[i + k] & 0xc0) === 0x80) k++;
    i += k;
  }
  return buf.toString('utf8');
}

// jq's escape_string, used by @csv @tsv @sh @html, writes NUL as the two characters \0
const NUL = /\0/g;

function shQuote(v: unknown): string {
  if (typeof v === 'string') return "'" + v.replace(/'/g, "'\\''").replace(NUL, '\\0') + "'";
  if (v === null || typeof v === 'boolean' || typeof v === 'number' || v instanceof LiteralNumber) return dump(v);
  throw new JqError(`${describe(v)} can not be escaped for shell`);
}

/** `@name` applied to v; the text is charged to the memory budget, the input's scan counted as work. */
export function applyFormat(name: string, v: unknown): string {
  if (typeof v === 'string') work(v.length >>> 10);
  const out = format(name, v);
  if (out !== v && name !== 'uri') chargeChars(out.length);
  return out;
}

function isUnreserved(b: number): boolean {
  return (b >= 48 && b <= 57) || (b >= 65 && b <= 90) || (b >= 97 && b <= 122) || b === 45 || b === 95 || b === 46 || b === 126;
}

function format(name: string, v: unknown): string {
  switch (name) {
    case 'text':
      return tostr(v);
    case 'json':
      return dump(v);
    case 'html':
      return tostr(v).replace(/[<>&'"\0]/g, (c) =>
        c === '<' ? '&lt;' : c === '>' ? '&gt;' : c === '&' ? '&amp;' : c === "'" ? '&apos;' : c === '"' ? '&quot;' : '\\0',
      );
    case 'uri': {
      // up to 9 characters per input character: charged as it grows
      const bytes = Buffer.from(tostr(v), 'utf8');
      let out = '';
      for (let i = 0; i < bytes.length; i++) {
        if ((i & 4095) === 0) chargeChars(3 * Math.min(4096, bytes.length - i));
        const b = bytes[i];
        if (isUnreserved(b)) out += String.fromCharCode(b);
        else out += '%' + b.toString(16).toUpperCase().padStart(2, '0');
      }
      return out;
    }
    case 'csv':
    case 'tsv': {
      if (!Array.isArray(v)) throw new JqError(`${describe(v)} cannot be ${name}-formatted, only array`);
      return v
        .map((x) => {
          // nan is an empty field
          if (typeof x === 'number') return x !== x ? '' : numToString(x);
          if (x instanceof LiteralNumber) return x.literal;
          if (typeof x === 'boolean') return x ? 'true' : 'false';
          if (x === null) return '';
          if (typeof x === 'string') {
            if (name === 'csv') return '"' + x.replace(/"/g, '""').replace(NUL, '\\0') + '"';
            return x.replace(/[\\\t\n\r\0]/g, (c) => (c === '\\' ? '\\\\' : c === '\t' ? '\\t' : c === '\n' ? '\\n' : c === '\r' ? '\\r' : '\\0'));
          }
          throw new JqError(`${describe(x)} is not valid in a csv row`);
        })
        .join(name === 'csv' ? ',' : '\t');
    }
    case 'sh':
      if (Array.isArray(v)) return v.map(shQuote).join(' ');
      return shQuote(v);
    case 'base64':
      return Buffer.from(tostr(v), 'utf8').toString('base64');
    case 'base64d':
      return base64decode(tostr(v));
    // no base32: jq 1.7.1 has none (src/builtin.c), so @base32 is "base32 is not a valid format" as there
  }
  throw new JqError(`${name} is not a valid format`);
}

export { typeOf };
