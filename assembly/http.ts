// HTTP value encodings of spec section 2: header maps (case preserving,
// case-insensitive lookups, null = remove), query maps and bodies.

import { ByteWriter, equalsIgnoreCase, lowerAscii } from './bytes';
import { findRawMemberIgnoreCase, jsonQuote, JsonParser, Kind, RAW_UNKNOWN, Value, writeJson, writeJsonString, writeNumber } from './json';

/** Index of a header in an object map, ignoring case; -1 when absent. */
export function headerIndex(map: Value, name: string): i32 {
  map.resolve();
  if (map.kind != Kind.OBJ) return -1;
  const keys = map.keys!;
  for (let i = 0; i < keys.length; i++) if (equalsIgnoreCase(keys[i], name)) return i;
  return -1;
}

/** First value of a header as a string, or null. */
export function headerValue(map: Value | null, name: string): string | null {
  if (map === null) return null;
  // a header map straight from the host is RAW: find the one header without parsing them all
  let found = findRawMemberIgnoreCase(map, name);
  if (found === RAW_UNKNOWN) {
    const i = headerIndex(map, name);
    found = i < 0 ? null : map.vals![i];
  }
  if (found === null) return null;
  const v = found.resolve();
  if (v.kind == Kind.STR) return v.s;
  if (v.kind == Kind.ARR && v.items!.length > 0) {
    const f = v.items![0].resolve();
    return f.kind == Kind.STR ? f.s : scalarText(f);
  }
  if (v.kind == Kind.NULL) return null;
  return scalarText(v);
}

export function scalarText(v: Value): string {
  v.resolve();
  if (v.kind == Kind.STR) return v.s;
  if (v.kind == Kind.BOOL) return v.b ? 'true' : 'false';
  if (v.kind == Kind.NUM) {
    const w = new ByteWriter(24);
    writeNumber(w, v.n);
    return w.toString();
  }
  if (v.kind == Kind.NULL) return '';
  return v.toJsonString();
}

/** media type of a Content-Type value, lower-cased, without parameters */
export function mediaType(ct: string | null): string {
  if (ct === null) return '';
  let s = ct!;
  const semi = s.indexOf(';');
  if (semi >= 0) s = s.substring(0, semi);
  return lowerAscii(s.trim());
}

export function isJsonMedia(mt: string): bool {
  return mt == 'application/json' || mt.endsWith('+json');
}

/** Headers that describe one connection (RFC 9110 7.6.1): a message built from another's headers never carries them. */
const HOP_BY_HOP: string[] = ['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade'];

function isHopByHop(name: string): bool {
  for (let i = 0; i < HOP_BY_HOP.length; i++) if (equalsIgnoreCase(name, unchecked(HOP_BY_HOP[i]))) return true;
  return false;
}

/**
 * Writes a header map as JSON for the host: string values as they are,
 * scalars stringified, arrays of strings for repeated headers; null values
 * are kept only when `keepNull` (patches), dropped otherwise.
 */
export function writeHeaderMap(w: ByteWriter, map: Value, keepNull: bool, extraName: string | null, extraValue: string | null): void {
  w.byte(0x7b);
  let first = true;
  let extraDone = extraName === null;
  if (map.typeKind() == Kind.OBJ) {
    map.resolve();
    const keys = map.keys!;
    for (let i = 0; i < keys.length; i++) {
      let v = map.vals![i].resolve();
      if (!extraDone && equalsIgnoreCase(keys[i], extraName!)) {
        // an explicit extra (e.g. recomputed Content-Length) overrides
        continue;
      }
      if (v.kind == Kind.NULL && !keepNull) continue;
      // a call's answer passed node-wise to an exit or the service request brings its connection headers
      if (v.kind != Kind.NULL && isHopByHop(keys[i])) continue;
      if (!first) w.byte(0x2c);
      first = false;
      writeJsonString(w, keys[i]);
      w.byte(0x3a);
      if (v.kind == Kind.NULL) w.str('null');
      else if (v.kind == Kind.ARR) {
        w.byte(0x5b);
        const items = v.items!;
        for (let j = 0; j < items.length; j++) {
          if (j > 0) w.byte(0x2c);
          writeJsonString(w, scalarText(items[j]));
        }
        w.byte(0x5d);
      } else writeJsonString(w, scalarText(v));
    }
  }
  if (!extraDone && extraValue !== null) {
    if (!first) w.byte(0x2c);
    writeJsonString(w, extraName!);
    w.byte(0x3a);
    writeJsonString(w, extraValue!);
  }
  w.byte(0x7d);
}

/** Checks that a value can be a header map: an object of scalars/arrays. */
export function headerMapProblem(map: Value): string | null {
  if (map.typeKind() != Kind.OBJ) return 'expected a map of header names to values';
  map.resolve();
  for (let i = 0; i < map.keys!.length; i++) {
    const k = map.vals![i].typeKind();
    if (k == Kind.OBJ) return 'invalid value for header ' + map.keys![i] + ': an object';
    if (k == Kind.ARR) {
      const items = map.vals![i].resolve().items!;
      for (let j = 0; j < items.length; j++) {
        const ik = items[j].typeKind();
        if (ik == Kind.OBJ || ik == Kind.ARR) return 'invalid value for header ' + map.keys![i];
      }
    }
  }
  return null;
}

const TOKEN_PUNCT = "!#$%&'*+-.^_`|~";

function isTokenPunct(c: i32): bool {
  for (let j = 0; j < TOKEN_PUNCT.length; j++) if (TOKEN_PUNCT.charCodeAt(j) == c) return true;
  return false;
}

function isToken(s: string): bool {
  if (s.length == 0) return false;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if ((c >= 0x30 && c <= 0x39) || ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x7a)) continue;
    if (c < 0x80 && isTokenPunct(c)) continue;
    return false;
  }
  return true;
}

/** Header value characters HTTP (and Node) accept: tab, visible ASCII and space, obs-text up to U+00FF. */
function validFieldValue(s: string): bool {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 ? c != 0x09 : c == 0x7f || c > 0xff) return false;
  }
  return true;
}

/**
 * The first header of a map that cannot be sent: a name that is not a
 * token, or a value with CR, LF, NUL, another control character or a
 * character above U+00FF. Null when every header can be sent (null values,
 * which remove a header, always can).
 */
export function headerCharProblem(map: Value): string | null {
  if (map.typeKind() != Kind.OBJ) return null;
  map.resolve();
  const keys = map.keys!;
  for (let i = 0; i < keys.length; i++) {
    if (!isToken(keys[i])) return 'invalid header name ' + jsonQuote(keys[i]);
    const v = map.vals![i].resolve();
    if (v.kind == Kind.STR) {
      if (!validFieldValue(v.s)) return 'invalid header value for ' + jsonQuote(keys[i]);
    } else if (v.kind == Kind.ARR) {
      const items = v.items!;
      for (let j = 0; j < items.length; j++) if (!validFieldValue(scalarText(items[j]))) return 'invalid header value for ' + jsonQuote(keys[i]);
    }
  }
  return null;
}

// ------------------------------------------------------------------ query

const UNRESERVED = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~';
const HEXU = '0123456789ABCDEF';

export function percentEncode(w: ByteWriter, s: string, spaceAsPlus: bool): void {
  const b = String.UTF8.encode(s);
  const p = changetype<usize>(b);
  for (let i = 0; i < b.byteLength; i++) {
    const c = <i32>load<u8>(p + <usize>i);
    if (c < 128 && UNRESERVED.indexOf(String.fromCharCode(c)) >= 0) w.byte(c);
    else if (c == 0x20 && spaceAsPlus) w.byte(0x2b);
    else {
      w.byte(0x25);
      w.byte(HEXU.charCodeAt(c >> 4));
      w.byte(HEXU.charCodeAt(c & 15));
    }
  }
}

/** Encodes a map as `a=1&b=2` (null: key only; arrays: repeated keys). */
export function encodeQuery(w: ByteWriter, map: Value, form: bool): void {
  if (map.typeKind() != Kind.OBJ) return;
  map.resolve();
  let first = true;
  for (let i = 0; i < map.keys!.length; i++) {
    const v = map.vals![i].resolve();
    if (v.kind == Kind.ARR) {
      const items = v.items!;
      for (let j = 0; j < items.length; j++) {
        if (!first) w.byte(0x26);
        first = false;
        percentEncode(w, map.keys![i], form);
        const it = items[j].resolve();
        if (it.kind != Kind.NULL) {
          w.byte(0x3d);
          percentEncode(w, scalarText(it), form);
        }
      }
      continue;
    }
    if (!first) w.byte(0x26);
    first = false;
    percentEncode(w, map.keys![i], form);
    if (v.kind == Kind.NULL) continue;
    if (v.kind == Kind.BOOL && v.b && !form) continue; // `?flag` style, like Kong's `true`
    w.byte(0x3d);
    percentEncode(w, scalarText(v), form);
  }
}

/** Appends query parameters to a url, merging with any query it has. */
export function mergeQuery(url: string, query: Value): string {
  const w = new ByteWriter(64);
  encodeQuery(w, query, false);
  if (w.len == 0) return url;
  const hash = url.indexOf('#');
  const base = hash >= 0 ? url.substring(0, hash) : url;
  const frag = hash >= 0 ? url.substring(hash) : '';
  const sep = base.indexOf('?') >= 0 ? (base.endsWith('?') || base.endsWith('&') ? '' : '&') : '?';
  return base + sep + w.toString() + frag;
}

// ------------------------------------------------------------------- body

export class EncodedBody {
  bytes: ArrayBuffer = new ArrayBuffer(0);
  /** Content-Type to add when the headers have none ('' = none) */
  contentType: string = '';
}

/**
 * Encodes a body input: strings as they are, objects/arrays as JSON (or as
 * a form when the headers say application/x-www-form-urlencoded).
 */
export function encodeBody(body: Value, headers: Value | null): EncodedBody {
  const out = new EncodedBody();
  const k = body.typeKind();
  const ct = headers !== null ? headerValue(headers, 'content-type') : null;
  if (k == Kind.STR) {
    body.resolve();
    out.bytes = body.bytes !== null ? body.bytes! : String.UTF8.encode(body.s);
    if (ct === null && body.ctype.length > 0) out.contentType = body.ctype;
    return out;
  }
  if (k == Kind.NULL) return out;
  if (k == Kind.OBJ && mediaType(ct) == 'application/x-www-form-urlencoded') {
    const w = new ByteWriter(64);
    encodeQuery(w, body, true);
    out.bytes = w.finish();
    return out;
  }
  const w = new ByteWriter(128);
  writeJson(w, body);
  out.bytes = w.finish();
  if (ct === null) out.contentType = body.ctype.length > 0 ? body.ctype : 'application/json';
  return out;
}

export const LENGTH_NONE: i32 = 0; // leave Content-Length as given
export const LENGTH_SET: i32 = 1; // recompute it from the body
export const LENGTH_DROP: i32 = 2; // remove it (the HTTP client computes it)

/**
 * Writes the headers of a message whose body was encoded: the given map,
 * plus the Content-Type the encoding chose (unless one is set), and
 * Content-Length per `length`.
 */
export function writeMessageHeaders(w: ByteWriter, headers: Value | null, enc: EncodedBody | null, keepNull: bool, length: i32): void {
  let h = headers !== null ? headers : Value.obj();
  if (enc !== null && enc.contentType.length > 0 && headerIndex(h, 'content-type') < 0) {
    h = h.shallowCopy();
    h.set('Content-Type', Value.str(enc.contentType));
  }
  if (length == LENGTH_SET) writeHeaderMap(w, h, keepNull, 'Content-Length', (enc !== null ? enc.bytes.byteLength : 0).toString());
  else if (length == LENGTH_DROP) writeHeaderMap(w, h, keepNull, 'Content-Length', null);
  else writeHeaderMap(w, h, keepNull, null, null);
}

/** Last JSON error from decodeBody. */
export let bodyError: string = '';

/** Forgets the last error text (it may live in a request arena that is about to go). */
export function clearBodyError(): void {
  bodyError = '';
}

/**
 * Decodes a received body: JSON types are parsed (null on invalid JSON,
 * with bodyError set); anything else is a string holding the exact bytes.
 */
export function decodeBody(buf: ArrayBuffer, contentType: string | null): Value | null {
  const mt = mediaType(contentType);
  if (isJsonMedia(mt)) {
    return rawJson(buf);
  }
  return Value.fromBytes(buf);
}

/** Validates a JSON document and returns it as one RAW value. */
export function rawJson(buf: ArrayBuffer): Value | null {
  const p = new JsonParser(buf, 0, buf.byteLength, 0);
  p.ws();
  if (p.pos >= p.end) {
    // an empty JSON body carries no value
    return Value.nul();
  }
  const start = p.pos;
  if (!p.skipValue(0)) {
    bodyError = p.error !== null ? p.error! : 'invalid JSON';
    return null;
  }
  const end = p.pos;
  p.ws();
  if (p.pos != p.end) {
    bodyError = 'trailing characters after JSON value at byte ' + p.pos.toString();
    return null;
  }
  const c = load<u8>(changetype<usize>(buf) + <usize>start);
  if (c == 0x7b || c == 0x5b) return Value.rawSlice(buf, start, end);
  // scalars: parse them now so they are plain values
  const q = new JsonParser(buf, start, end);
  return q.parseValue(0);
}
