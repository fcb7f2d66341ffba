import { randomBytes } from 'node:crypto';
import type { RequestInfo, ResponseInfo } from './types.js';

const encoder = new TextEncoder();

export function toBytes(b: Uint8Array | string): Uint8Array {
  return typeof b === 'string' ? encoder.encode(b) : b;
}

/** Decodes a raw query string the way the gateway does (`+` is a space;
 * a key without `=` maps to null; repeated keys become arrays). */
export function parseQueryString(q: string): Record<string, string | string[] | null> {
  const out: Record<string, string | string[] | null> = Object.create(null);
  for (const part of q.split('&')) {
    if (!part) continue;
    const eq = part.indexOf('=');
    const k = safeDecode(eq < 0 ? part : part.slice(0, eq));
    const v = eq < 0 ? null : safeDecode(part.slice(eq + 1));
    const prev = out[k];
    if (prev === undefined) out[k] = v;
    else if (Array.isArray(prev)) prev.push(v ?? '');
    else out[k] = [prev ?? '', v ?? ''];
  }
  return { ...out };
}

function safeDecode(s: string): string {
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

/** The request metadata the engine's dk_on_request takes (docs/host-abi.md). */
export function requestMetaJson(r: RequestInfo, requestId: string, timings = false): string {
  const query = typeof r.query === 'string' ? parseQueryString(r.query) : (r.query ?? {});
  const version = r.version !== undefined ? Number.parseFloat(r.version) : 1.1;
  return JSON.stringify({
      request_id: requestId,
      method: r.method,
      scheme: r.scheme ?? 'http',
      host: r.host ?? '',
      port: r.port ?? null,
      path: r.path,
      raw_path: r.rawPath ?? r.path,
      version: Number.isFinite(version) ? version : 1.1,
      headers: r.headers ?? {},
      query,
      ...(timings ? { timings: true } : {}),
    });
}

export function responseMetaJson(r: ResponseInfo): string {
  return JSON.stringify({ status: r.status, headers: r.headers ?? {} });
}
