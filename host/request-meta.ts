import { randomBytes } from 'node:crypto';
import type { RequestInfo, ResponseInfo } from './types.js';

const encoder = new TextEncoder();

export function toBytes(b: Uint8Array | string): Uint8Array {
  return typeof b === 'string' ? encoder.encode(b) : b;
}

/** Decodes a raw query string the way the gateway does (`+` is a space;
 * a key without `=` maps to null; repeated keys become arrays). Keys like
 * `__proto__` or `constructor` are plain own keys. */
export function parseQueryString(q: string): Record<string, string | string[] | null> {
  const out: Record<string, string | string[] | null> = {};
  let start = 0;
  while (start <= q.length) {
    let end = q.indexOf('&', start);
    if (end < 0) end = q.length;
    if (end > start) {
      const eq = q.indexOf('=', start);
      const hasValue = eq >= 0 && eq < end;
      const k = decodeComponent(q.slice(start, hasValue ? eq : end));
      const v = hasValue ? decodeComponent(q.slice(eq + 1, end)) : null;
      const prev = Object.hasOwn(out, k) ? out[k] : undefined;
      if (prev === undefined) setOwn(out, k, v);
      else if (Array.isArray(prev)) prev.push(v ?? '');
      else setOwn(out, k, [prev ?? '', v ?? '']);
    }
    start = end + 1;
  }
  return out;
}

/** Assigns an own data property, even for `__proto__` (which `=` would treat as the prototype). */
function setOwn(o: Record<string, unknown>, k: string, v: unknown): void {
  if (k === '__proto__') Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
  else o[k] = v;
}

/** Percent-decoding with `+` as a space; malformed escapes stay as they are. */
function decodeComponent(s: string): string {
  // most keys and values need no decoding at all
  if (s.indexOf('%') < 0 && s.indexOf('+') < 0) return s;
  const t = s.replace(/\+/g, ' ');
  try {
    return decodeURIComponent(t);
  } catch {
    return t;
  }
}

/** Request ids: 32 hex characters, a random per-process prefix and a counter
 * (unique, cheaper than a UUID per request). */
const ID_PREFIX = randomBytes(8).toString('hex');
let idCounter = 0;
export function newRequestId(): string {
  idCounter = (idCounter + 1) % 0x10000000000000;
  return ID_PREFIX + idCounter.toString(16).padStart(16, '0');
}

/**
 * The request metadata the engine's dk_on_request takes (docs/host-abi.md).
 * Headers and query are left out when the flow does not read them (`needs`);
 * `valueBytes` is the flow's value_bytes limit.
 * Written by hand: JSON.stringify of a fresh object literal per request cost
 * more than the strings it joins.
 */
export function requestMetaJson(
  r: RequestInfo,
  requestId: string,
  timings = false,
  needs: { requestHeaders: boolean; requestQuery: boolean } = { requestHeaders: true, requestQuery: true },
  valueBytes?: number,
): string {
  const parsed = r.version !== undefined ? Number.parseFloat(r.version) : 1.1;
  const path = jsonText(r.path);
  let out =
    '{"request_id":' + jsonText(requestId) +
    ',"method":' + jsonText(r.method) +
    ',"scheme":' + jsonText(r.scheme ?? 'http') +
    ',"port":' + jsonNumber(r.port) +
    ',"path":' + path +
    ',"raw_path":' + (r.rawPath === undefined || r.rawPath === r.path ? path : jsonText(r.rawPath)) +
    ',"version":' + (Number.isFinite(parsed) ? String(parsed) : '1.1');
  if (needs.requestHeaders) out += ',"headers":' + JSON.stringify(r.headers ?? {});
  if (needs.requestQuery) out += ',"query":' + JSON.stringify(typeof r.query === 'string' ? parseQueryString(r.query) : (r.query ?? {}));
  if (timings) out += ',"timings":true';
  // the module fails a node rather than build a value bigger than this
  if (valueBytes !== undefined) out += ',"value_bytes":' + valueBytes;
  return out + '}';
}

/** Strings JSON writes as they are: no quote, backslash, control character or lone surrogate half. */
const PLAIN = /^[^"\\\u0000-\u001f\ud800-\udfff]*$/;

/** A string as JSON (anything else as null); most need no escaping. */
function jsonText(v: unknown): string {
  if (typeof v !== 'string') return 'null';
  return PLAIN.test(v) ? '"' + v + '"' : JSON.stringify(v);
}

/** A finite number as JSON (anything else as null). */
function jsonNumber(v: unknown): string {
  return typeof v === 'number' && Number.isFinite(v) ? String(v) : 'null';
}

export function responseMetaJson(r: ResponseInfo): string {
  return JSON.stringify({ status: r.status, headers: r.headers ?? {} });
}
