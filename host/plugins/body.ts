import { parseQueryString } from '../request-meta.js';
/** Request body helpers shared by plugins (JSON and form bodies). */
export type BodyKind = 'json' | 'form' | 'multipart' | 'other';

export function bodyKind(contentType: string | undefined): BodyKind {
  const ct = (contentType ?? '').toLowerCase();
  if (ct.includes('application/json') || /\+json\b/.test(ct)) return 'json';
  if (ct.includes('application/x-www-form-urlencoded')) return 'form';
  if (ct.includes('multipart/form-data')) return 'multipart';
  return 'other';
}

export type FormMap = Record<string, string | string[]>;

export function parseForm(text: string): FormMap {
  // null prototype while collecting: keys like "constructor" are plain keys
  const out: FormMap = Object.create(null);
  const params = new URLSearchParams(text);
  for (const [k, v] of params) {
    const prev = out[k];
    if (prev === undefined) out[k] = v;
    else if (Array.isArray(prev)) prev.push(v);
    else out[k] = [prev, v];
  }
  return { ...out };
}

export function encodeForm(map: FormMap): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(map)) {
    if (Array.isArray(v)) for (const x of v) p.append(k, x);
    else p.append(k, v);
  }
  return p.toString();
}

/** Parses a query string into a map: repeated keys as arrays, a key without '=' as null. */
/** Decoded query map (one decoder for the whole host: see request-meta.ts). */
export const parseQuery = (qs: string): Record<string, string | string[] | null> => (qs ? parseQueryString(qs) : {});


export function encodeQuery(map: Record<string, unknown>): string {
  const parts: string[] = [];
  for (const [k, v] of Object.entries(map)) {
    const ek = encodeURIComponent(k);
    if (v === null || v === true) parts.push(ek);
    else if (v === undefined || v === false) continue;
    else if (Array.isArray(v)) for (const x of v) parts.push(x === null || x === true ? ek : `${ek}=${encodeURIComponent(String(x))}`);
    else parts.push(`${ek}=${encodeURIComponent(typeof v === 'object' ? JSON.stringify(v) : String(v))}`);
  }
  return parts.join('&');
}
