// Date/time builtins: gmtime, localtime, mktime, strftime, strflocaltime, strptime.
import { JqError, describe } from './values.js';
import { LiteralNumber, toDouble } from './numbers.js';
import type { NativeDef } from './compile.js';

const DAYS = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'];
const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

/** Date.UTC for every year: Date.UTC reads the years 0 to 99 as 1900 to 1999 */
function utcMillis(y: number, mon: number, d: number, h = 0, min = 0, sec = 0): number {
  const t = new Date(0);
  t.setUTCFullYear(y, mon, d);
  t.setUTCHours(h, min, sec);
  return t.getTime();
}

function dayOfYear(y: number, m: number, d: number): number {
  return Math.round((utcMillis(y, m, d) - utcMillis(y, 0, 1)) / 86400000);
}

// jq 1.7.1: the seconds are truncated to time_t, then the fraction v - floor(v) is added back to
// tm_sec (so -1.9 is 23:59:59 plus 0.1)
function gmtime(v: unknown): unknown[] {
  v = toDouble(v);
  if (typeof v !== 'number') throw new JqError('gmtime() requires numeric inputs');
  const secs = Math.trunc(v);
  const frac = v - Math.floor(v);
  const d = new Date(secs * 1000);
  if (isNaN(d.getTime())) throw new JqError('error converting number of seconds since epoch to datetime');
  const y = d.getUTCFullYear();
  return [y, d.getUTCMonth(), d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds() + frac, d.getUTCDay(),
    dayOfYear(y, d.getUTCMonth(), d.getUTCDate())];
}

function localtime(v: unknown): unknown[] {
  v = toDouble(v);
  if (typeof v !== 'number') throw new JqError('localtime() requires numeric inputs');
  const secs = Math.trunc(v);
  const frac = v - Math.floor(v);
  const d = new Date(secs * 1000);
  if (isNaN(d.getTime())) throw new JqError('error converting number of seconds since epoch to datetime');
  const y = d.getFullYear();
  return [y, d.getMonth(), d.getDate(), d.getHours(), d.getMinutes(), d.getSeconds() + frac, d.getDay(),
    dayOfYear(y, d.getMonth(), d.getDate())];
}

// jq's jv2tm reads the eight fields of a broken-down time (later elements are ignored)
function checkTm(v: unknown, what: string): number[] {
  if (!Array.isArray(v) || v.length < 8) throw new JqError(`${what} requires parsed datetime inputs`);
  const tm = v.slice(0, 8).map(toDouble);
  for (let i = 0; i < 8; i++) if (typeof tm[i] !== 'number') throw new JqError(`${what} requires parsed datetime inputs`);
  return tm as number[];
}

// jq 1.7.1: fields are C ints (truncated), timegm normalizes them; a result of -1 is timegm's
// error value, so 1969-12-31T23:59:59 is reported as invalid too
function mktime(v: unknown): number {
  if (!Array.isArray(v)) throw new JqError('mktime requires array inputs');
  const tm = checkTm(v, 'mktime').map(Math.trunc);
  const t = utcMillis(tm[0], tm[1], tm[2], tm[3], tm[4], tm[5]) / 1000;
  if (isNaN(t) || t === -1) throw new JqError('invalid gmtime representation');
  return t;
}

function pad(n: number, w: number, c = '0'): string {
  const s = String(Math.abs(Math.trunc(n)));
  return (n < 0 ? '-' : '') + s.padStart(w, c);
}

function isoWeek(y: number, yday: number, wday: number): [number, number] {
  const wd = (wday + 6) % 7; // monday=0
  let week = Math.floor((yday - wd + 10) / 7);
  let year = y;
  if (week < 1) {
    year = y - 1;
    const py = year;
    const daysPrev = (py % 4 === 0 && py % 100 !== 0) || py % 400 === 0 ? 366 : 365;
    week = Math.floor((yday + daysPrev - wd + 10) / 7);
  } else {
    const days = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0 ? 366 : 365;
    if (yday - wd + 3 >= days) {
      week = 1;
      year = y + 1;
    }
  }
  return [year, week];
}

function strftime(v: unknown, fmt: unknown, local: boolean): string {
  const name = local ? 'strflocaltime/1' : 'strftime/1';
  // jq's order: the input's kind, then (for an array) the format, then the array's fields
  if (typeof v === 'number' || v instanceof LiteralNumber) v = local ? localtime(v) : gmtime(v);
  else if (!Array.isArray(v)) throw new JqError(`${name} requires parsed datetime inputs`);
  else if (typeof fmt !== 'string') throw new JqError(`${name} requires a string format`);
  const tm = checkTm(v, name);
  if (typeof fmt !== 'string') throw new JqError(`${name} requires a string format`);
  const [Y, M, D, h, m, sRaw] = tm;
  const s = Math.floor(sRaw);
  const wday = tm.length > 6 ? tm[6] : new Date(utcMillis(Y, M, D)).getUTCDay();
  const yday = tm.length > 7 ? tm[7] : dayOfYear(Y, M, D);
  let tzOff = 0;
  if (local) tzOff = -new Date(Y, M, D, h, m, s).getTimezoneOffset();
  // jq hands the format to strftime as a C string: it ends at a NUL
  const format = fmt.split('\0')[0];
  // a number, its natural digits and its usual padding (glibc's)
  const num = (n: number, digits: number, pad: '0' | ' ' = '0'): Field => ({ n, digits, pad });
  const field = (f: string): Field | string | null => {
    switch (f) {
      case 'Y': return num(Y, 1);
      case 'C': return num(Math.floor(Y / 100), 2);
      case 'y': return num(((Y % 100) + 100) % 100, 2);
      case 'm': return num(M + 1, 2);
      case 'd': return num(D, 2);
      case 'e': return num(D, 2, ' ');
      case 'H': return num(h, 2);
      case 'k': return num(h, 2, ' ');
      case 'I': return num(((h + 11) % 12) + 1, 2);
      case 'l': return num(((h + 11) % 12) + 1, 2, ' ');
      case 'M': return num(m, 2);
      case 'S': return num(s, 2);
      case 'j': return num(yday + 1, 3);
      case 'a': return (DAYS[wday] ?? '?').slice(0, 3);
      case 'A': return DAYS[wday] ?? '?';
      case 'b': case 'h': return (MONTHS[M] ?? '?').slice(0, 3);
      case 'B': return MONTHS[M] ?? '?';
      case 'p': return h < 12 ? 'AM' : 'PM';
      case 'P': return h < 12 ? 'am' : 'pm';
      case 'Z': return local ? localTzName() : 'UTC';
      case 'z': {
        const a = Math.abs(tzOff);
        return (tzOff < 0 ? '-' : '+') + pad(Math.floor(a / 60), 2) + pad(a % 60, 2);
      }
      case 's': return num(utcMillis(Y, M, D, h, m, s) / 1000 - tzOff * 60, 1);
      case 'u': return num(wday === 0 ? 7 : wday, 1);
      case 'w': return num(wday, 1);
      case 'D': return `${pad(M + 1, 2)}/${pad(D, 2)}/${pad(((Y % 100) + 100) % 100, 2)}`;
      case 'F': return `${Y}-${pad(M + 1, 2)}-${pad(D, 2)}`;
      case 'T': return `${pad(h, 2)}:${pad(m, 2)}:${pad(s, 2)}`;
      case 'R': return `${pad(h, 2)}:${pad(m, 2)}`;
      case 'r': return `${pad(((h + 11) % 12) + 1, 2)}:${pad(m, 2)}:${pad(s, 2)} ${h < 12 ? 'AM' : 'PM'}`;
      case 'c': return `${DAYS[wday].slice(0, 3)} ${MONTHS[M].slice(0, 3)} ${pad(D, 2, ' ')} ${pad(h, 2)}:${pad(m, 2)}:${pad(s, 2)} ${Y}`;
      case 'x': return `${pad(M + 1, 2)}/${pad(D, 2)}/${pad(((Y % 100) + 100) % 100, 2)}`;
      case 'X': return `${pad(h, 2)}:${pad(m, 2)}:${pad(s, 2)}`;
      case 'U': return num(Math.floor((yday + 7 - wday) / 7), 2);
      case 'W': return num(Math.floor((yday + 7 - ((wday + 6) % 7)) / 7), 2);
      case 'V': return num(isoWeek(Y, yday, wday)[1], 2);
      case 'G': return num(isoWeek(Y, yday, wday)[0], 1);
      case 'g': return num(isoWeek(Y, yday, wday)[0] % 100, 2);
      case 'n': return '\n';
      case 't': return '\t';
      case '%': return '%';
      default: return null;
    }
  };
  // jq 1.7.1 asks strftime for at most strlen(format) + 100 bytes and fails when it returns 0:
  // for an empty result, and for one that does not fit (with its NUL)
  const limit = Buffer.byteLength(format) + 100;
  let out = '';
  for (let i = 0; i < format.length; i++) {
    const c = format[i];
    if (c !== '%') {
      out += c;
      continue;
    }
    // glibc: %, flags (the last padding flag wins), a field width, an E or O modifier, the conversion
    const spec = /^%([-_0^#]*)(\d*)([EO]?)([^]?)/.exec(format.slice(i))!;
    const [whole, flags, widthText, modifier, f] = spec;
    i += whole.length - 1;
    const padFlag = [...flags].reverse().find((x) => x === '-' || x === '_' || x === '0');
    const width = widthText === '' ? 0 : Number(widthText);
    // a field as wide as jq's buffer cannot fit in it: fail before padding (%999999999Y)
    if (width >= limit) throw new JqError(`${name}: unknown system failure`);
    const modifierOk = modifier === '' || (modifier === 'E' ? /[cCxXyY]/ : /[bBhdeHIklmMSuUVWwy]/).test(f);
    const v = f === '' || !modifierOk ? null : field(f);
    if (v === null) {
      // glibc copies an unknown conversion as written (C leaves it undefined)
      out += whole.padStart(width, ' ');
      continue;
    }
    if (typeof v !== 'string') {
      const fill = padFlag === '0' ? '0' : padFlag === '_' || (padFlag === '-' && width > 0) ? ' ' : padFlag === '-' ? '' : v.pad;
      const target = fill === '' ? 0 : Math.max(width, v.digits);
      const digits = String(Math.abs(Math.trunc(v.n)));
      const sign = v.n < 0 ? '-' : '';
      out += fill === '0' ? sign + digits.padStart(target - sign.length, '0') : (sign + digits).padStart(target, ' ');
      continue;
    }
    let text = v;
    if (flags.includes('^') && f !== 'P') text = text.toUpperCase();
    else if (flags.includes('#')) text = /[pZ]/.test(f) ? text.toLowerCase() : /[aAbBh]/.test(f) ? text.toUpperCase() : text;
    out += text.padStart(width, padFlag === '0' ? '0' : ' ');
  }
  if (out === '' || Buffer.byteLength(out) >= limit) throw new JqError(`${name}: unknown system failure`);
  return out;
}

/** a number strftime prints: its natural digits and usual padding */
interface Field {
  n: number;
  digits: number;
  pad: '0' | ' ';
}

function localTzName(): string {
  try {
    const parts = new Intl.DateTimeFormat('en-US', { timeZoneName: 'short' }).formatToParts(new Date());
    return parts.find((p) => p.type === 'timeZoneName')?.value ?? 'UTC';
  } catch {
    return 'UTC';
  }
}

function strptime(input: unknown, format: unknown): unknown[] {
  if (typeof input !== 'string') throw new JqError(`strptime/1 requires string inputs and arguments`);
  if (typeof format !== 'string') throw new JqError(`strptime/1 requires string inputs and arguments`);
  // jq passes both as C strings: they end at a NUL
  const v = input.split('\0')[0];
  const fmt = format.split('\0')[0];
  let Y = 1900, M = 0, D = 1, h = 0, m = 0, s = 0;
  let pos = 0;
  let epoch: number | null = null;
  let tz = 0;
  let wdaySet: number | null = null;
  let ydaySet: number | null = null;
  let pm: boolean | null = null;
  const fail = (): never => {
    throw new JqError(`date "${v}" does not match format "${fmt}"`);
  };
  const inRange = (n: number, lo: number, hi: number): number => (n < lo || n > hi ? fail() : n);
  const num = (maxLen: number, allowSign = false): number => {
    const re = new RegExp(`^${allowSign ? '[+-]?' : ''}\\d{1,${maxLen}}`);
    const mm = re.exec(v.slice(pos));
    if (!mm) fail();
    pos += mm![0].length;
    return parseInt(mm![0], 10);
  };
  const word = (list: string[]): number => {
    const rest = v.slice(pos).toLowerCase();
    for (let i = 0; i < list.length; i++) {
      const full = list[i].toLowerCase();
      if (rest.startsWith(full)) {
        pos += full.length;
        return i;
      }
    }
    for (let i = 0; i < list.length; i++) {
      const ab = list[i].slice(0, 3).toLowerCase();
      if (rest.startsWith(ab)) {
        pos += 3;
        return i;
      }
    }
    return fail();
  };
  // glibc's %c in the C locale
  const spec = fmt.replace(/%c/g, '%a %b %e %H:%M:%S %Y');
  for (let i = 0; i < spec.length; i++) {
    const c = spec[i];
    if (c === ' ' || c === '\t' || c === '\n') {
      while (pos < v.length && /\s/.test(v[pos])) pos++;
      continue;
    }
    if (c !== '%') {
      if (v[pos] !== c) fail();
      pos++;
      continue;
    }
    let f = spec[++i];
    if (f === 'E' || f === 'O') f = spec[++i];
    switch (f) {
      // glibc's field ranges: a number outside them does not match
      case 'Y': Y = num(4); break;
      case 'm': M = inRange(num(2), 1, 12) - 1; break;
      case 'd': case 'e': while (v[pos] === ' ') pos++; D = inRange(num(2), 1, 31); break;
      case 'H': case 'k': while (v[pos] === ' ') pos++; h = inRange(num(2), 0, 23); break;
      case 'I': case 'l': while (v[pos] === ' ') pos++; h = inRange(num(2), 1, 12); break;
      case 'M': m = inRange(num(2), 0, 59); break;
      case 'S': s = inRange(num(2), 0, 61); break;
      case 'j': ydaySet = inRange(num(3), 1, 366) - 1; break;
      case 'y': { const yy = num(2); Y = yy < 69 ? 2000 + yy : 1900 + yy; break; }
      case 'C': Y = num(2) * 100 + (Y % 100); break;
      case 'a': case 'A': wdaySet = word(DAYS); break;
      case 'b': case 'B': case 'h': M = word(MONTHS); break;
      case 'p': {
        const r = v.slice(pos, pos + 2).toUpperCase();
        if (r === 'AM') pm = false;
        else if (r === 'PM') pm = true;
        else fail();
        pos += 2;
        break;
      }
      case 'Z': {
        const mm = /^[A-Za-z]+/.exec(v.slice(pos));
        if (mm) pos += mm[0].length;
        break;
      }
      case 'z': {
        const mm = /^([+-])(\d{2}):?(\d{2})/.exec(v.slice(pos));
        if (mm) {
          tz = (mm[1] === '-' ? -1 : 1) * (parseInt(mm[2], 10) * 60 + parseInt(mm[3], 10));
          pos += mm[0].length;
        } else if (v[pos] === 'Z') pos++;
        else fail();
        break;
      }
      case 's': epoch = num(20, true); break;
      case 'T': h = num(2); if (v[pos++] !== ':') fail(); m = num(2); if (v[pos++] !== ':') fail(); s = num(2); break;
      case 'R': h = num(2); if (v[pos++] !== ':') fail(); m = num(2); break;
      case 'D': M = num(2) - 1; if (v[pos++] !== '/') fail(); D = num(2); if (v[pos++] !== '/') fail(); { const yy = num(2); Y = yy < 69 ? 2000 + yy : 1900 + yy; } break;
      case 'F': Y = num(4, true); if (v[pos++] !== '-') fail(); M = num(2) - 1; if (v[pos++] !== '-') fail(); D = num(2); break;
      case 'n': case 't': while (pos < v.length && /\s/.test(v[pos])) pos++; break;
      case '%': if (v[pos++] !== '%') fail(); break;
      default: fail();
    }
  }
  // jq accepts trailing whitespace and appends what is left to the result
  const rest = v.slice(pos);
  if (rest !== '' && !/^\s/.test(rest)) fail();
  if (pm !== null) {
    if (pm && h < 12) h += 12;
    if (!pm && h === 12) h = 0;
  }
  void tz;
  const withRest = (tm: unknown[]) => (rest === '' ? tm : [...tm, rest]);
  if (epoch !== null) return withRest(gmtime(epoch));
  const wday = new Date(utcMillis(Y, M, D)).getUTCDay();
  const yday = dayOfYear(Y, M, D);
  void wdaySet;
  void ydaySet;
  return withRest([Y, M, D, h, m, s, wday, yday]);
}

export function timeNatives(): [string, NativeDef][] {
  return [
    ['gmtime/0', { vf: gmtime }],
    ['localtime/0', { vf: localtime }],
    ['mktime/0', { vf: mktime }],
    ['timegm/0', { vf: mktime }],
    ['strftime/1', { vf: (v, f) => strftime(v, f, false) }],
    ['strflocaltime/1', { vf: (v, f) => strftime(v, f, true) }],
    ['strptime/1', { vf: strptime }],
  ];
}

export { describe };
