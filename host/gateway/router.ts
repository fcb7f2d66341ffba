/**
 * Precompiled router following Kong's (traditional_compatible) order: every
 * (route, path) pair is one candidate, sorted by
 *   1. number of criteria set (methods, hosts, headers, paths)
 *   2. plain hosts only (no wildcard) first
 *   3. number of headers
 *   4. regex paths before prefix paths; regex by regex_priority (higher first)
 *   5. prefix paths: longest first
 *   6. creation order
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { EntityRec } from './entities.js';
import { compileLinear, NotLinear, type RE2JS } from '../linear-regex.js';

export interface RouteMatch<T> {
  target: T;
  /** matched prefix length (strip_path) */
  stripLen: number;
}

interface Candidate<T> {
  target: T;
  methods: Set<string> | null;
  hostsPlain: Set<string> | null;
  hostsWild: RE2JS[] | null;
  headers: Array<[string, Set<string>, RE2JS[]]> | null;
  prefix: string | null;
  regex: RE2JS | null;
  key: number[];
  order: number;
}

/**
 * Route regexes (paths, `~*` header values, wildcard hosts) match in linear
 * time, so no request path can stall the event loop on backtracking. A
 * pattern that needs backtracking (backreference, lookahead) is a config
 * error, as in Kong's router.
 */
export function routeRegex(source: string, ignoreCase = false): RE2JS {
  try {
    return compileLinear(source, { unicode: false, ignoreCase });
  } catch (e) {
    if (e instanceof NotLinear) throw new Error(`invalid regex: '${source}' (${e.message}; route regexes match in linear time, without lookahead or backreferences)`);
    throw e;
  }
}

function hostRegex(h: string): RE2JS {
  const esc = h.toLowerCase().replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^:]+');
  return routeRegex(`^${esc}$`);
}

/** A regex path, anchored at the start of the request path (Kong). */
function pathRegex(source: string): RE2JS {
  // checked on its own first, so `a)|(b` cannot escape the anchoring group
  routeRegex(source);
  return routeRegex(`^(?:${source})`);
}

export class Router<T> {
  private readonly candidates: Candidate<T>[] = [];
  /** true when any candidate needs hosts/headers (skip work otherwise) */
  private needsHost = false;

  constructor(routes: Array<{ route: EntityRec; target: T }>) {
    let order = 0;
    for (const { route, target } of routes) {
      const methods = Array.isArray(route.methods) && route.methods.length ? new Set(route.methods as string[]) : null;
      const hosts = Array.isArray(route.hosts) && route.hosts.length ? (route.hosts as string[]) : null;
      const hostsPlain = hosts ? new Set(hosts.filter((h) => !h.includes('*')).map((h) => h.toLowerCase())) : null;
      const wild = hosts ? hosts.filter((h) => h.includes('*')).map(hostRegex) : null;
      const hdrs = route.headers && typeof route.headers === 'object' ? Object.entries(route.headers as Record<string, string[]>) : [];
      const headers = hdrs.length
        ? hdrs.map(([k, vals]): [string, Set<string>, RE2JS[]] => [
            k.toLowerCase(),
            new Set(vals.filter((v) => !v.startsWith('~*')).map((v) => v.toLowerCase())),
            vals.filter((v) => v.startsWith('~*')).map((v) => routeRegex(v.slice(2), true)),
          ])
        : null;
      if (hosts || headers) this.needsHost = true;
      const weight = (methods ? 1 : 0) + (hosts ? 1 : 0) + (headers ? 1 : 0) + (Array.isArray(route.paths) && route.paths.length ? 1 : 0);
      const plainOnly = hosts && wild!.length === 0 ? 1 : 0;
      const paths = Array.isArray(route.paths) && route.paths.length ? (route.paths as string[]) : [null];
      const seq = order++;
      for (const p of paths) {
        const isRegex = p !== null && p.startsWith('~');
        const regex = isRegex ? pathRegex(p!.slice(1)) : null;
        const prefix = !isRegex && p !== null ? p : null;
        const key = [
          weight,
          plainOnly,
          headers ? headers.length : 0,
          isRegex ? 1 : 0,
          isRegex ? Number(route.regex_priority ?? 0) : 0,
          prefix ? prefix.length : 0,
        ];
        this.candidates.push({ target, methods, hostsPlain: hostsPlain && hostsPlain.size ? hostsPlain : null, hostsWild: wild && wild.length ? wild : null, headers, prefix, regex, key, order: seq });
      }
    }
    this.candidates.sort((a, b) => {
      for (let i = 0; i < a.key.length; i++) if (a.key[i] !== b.key[i]) return b.key[i] - a.key[i];
      return a.order - b.order;
    });
  }

  get size(): number {
    return this.candidates.length;
  }

  match(method: string, path: string, hostHeader: string | undefined, headers: IncomingHttpHeaders): RouteMatch<T> | undefined {
    let host = '';
    let hostNoPort = '';
    if (this.needsHost && hostHeader) {
      host = hostHeader.toLowerCase();
      const c = host.lastIndexOf(':');
      hostNoPort = c > 0 && !host.endsWith(']') ? host.slice(0, c) : host;
    }
    const list = this.candidates;
    outer: for (let i = 0; i < list.length; i++) {
      const c = list[i];
      if (c.methods !== null && !c.methods.has(method)) continue;
      if (c.hostsPlain !== null || c.hostsWild !== null) {
        let ok = false;
        if (c.hostsPlain !== null && (c.hostsPlain.has(hostNoPort) || c.hostsPlain.has(host))) ok = true;
        if (!ok && c.hostsWild !== null) for (const r of c.hostsWild) if (r.test(hostNoPort) || r.test(host)) { ok = true; break; }
        if (!ok) continue;
      }
      if (c.headers !== null) {
        for (const [name, plain, regs] of c.headers) {
          const v = headers[name];
          if (v === undefined) continue outer;
          const vals = Array.isArray(v) ? v : [v];
          let ok = false;
          for (const x of vals) {
            const lx = x.toLowerCase();
            if (plain.has(lx) || regs.some((r) => r.test(x))) { ok = true; break; }
          }
          if (!ok) continue outer;
        }
      }
      if (c.prefix !== null) {
        if (!path.startsWith(c.prefix)) continue;
        return { target: c.target, stripLen: c.prefix.length };
      }
      if (c.regex !== null) {
        const m = c.regex.matcher(path);
        if (!m.find()) continue;
        return { target: c.target, stripLen: m.end() };
      }
      return { target: c.target, stripLen: 0 };
    }
    return undefined;
  }
}

/** Kong's path_handling v0: joins the service path and the (stripped) request path. */
export function joinPath(servicePath: string | null, rest: string): string {
  if (!servicePath || servicePath === '/') {
    if (rest === '') return '/';
    return rest.charCodeAt(0) === 47 ? rest : '/' + rest;
  }
  if (rest === '') return servicePath;
  const endsSlash = servicePath.endsWith('/');
  const startsSlash = rest.charCodeAt(0) === 47;
  if (endsSlash && startsSlash) return servicePath + rest.slice(1);
  if (!endsSlash && !startsSlash) return servicePath + '/' + rest;
  return servicePath + rest;
}

/** Normalizes a request path: decodes percent-encoded unreserved characters, resolves dot segments, merges slashes. */
export function normalizePath(p: string): string {
  if (p.indexOf('%') < 0 && p.indexOf('/.') < 0 && p.indexOf('//') < 0) return p;
  let s = p.replace(/%([0-9A-Fa-f]{2})/g, (m, h: string) => {
    const c = parseInt(h, 16);
    const ch = String.fromCharCode(c);
    return /[A-Za-z0-9\-._~]/.test(ch) ? ch : m.toUpperCase();
  });
  s = s.replace(/\/{2,}/g, '/');
  const out: string[] = [];
  const segs = s.split('/');
  for (let i = 0; i < segs.length; i++) {
    const seg = segs[i];
    if (seg === '.') {
      if (i === segs.length - 1) out.push('');
      continue;
    }
    if (seg === '..') {
      if (out.length > 1) out.pop();
      if (i === segs.length - 1) out.push('');
      continue;
    }
    out.push(seg);
  }
  const r = out.join('/');
  return r.startsWith('/') ? r : '/' + r;
}
