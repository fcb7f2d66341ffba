/** A mutable, case-insensitive header collection that keeps the original casing. */
export class HeaderBag {
  /** lower-case name -> [original name, value(s)] */
  private readonly map = new Map<string, [string, string | string[]]>();

  static fromRaw(raw: string[]): HeaderBag {
    const bag = new HeaderBag();
    for (let i = 0; i < raw.length; i += 2) bag.append(raw[i], raw[i + 1]);
    return bag;
  }

  static fromObject(obj: Record<string, string | string[] | number | undefined>): HeaderBag {
    const bag = new HeaderBag();
    for (const k of Object.keys(obj)) {
      const v = obj[k];
      if (v === undefined) continue;
      if (Array.isArray(v)) for (const x of v) bag.append(k, String(x));
      else bag.append(k, String(v));
    }
    return bag;
  }

  has(name: string): boolean {
    return this.map.has(name.toLowerCase());
  }

  /** first value (or undefined) */
  get(name: string): string | undefined {
    const e = this.map.get(name.toLowerCase());
    if (!e) return undefined;
    return Array.isArray(e[1]) ? e[1][0] : e[1];
  }

  getAll(name: string): string | string[] | undefined {
    return this.map.get(name.toLowerCase())?.[1];
  }

  set(name: string, value: string | string[]): void {
    const lower = name.toLowerCase();
    const prev = this.map.get(lower);
    this.map.set(lower, [prev ? prev[0] : name, Array.isArray(value) ? value.slice() : value]);
  }

  append(name: string, value: string): void {
    const lower = name.toLowerCase();
    const prev = this.map.get(lower);
    if (!prev) this.map.set(lower, [name, value]);
    else if (Array.isArray(prev[1])) prev[1].push(value);
    else prev[1] = [prev[1], value];
  }

  delete(name: string): void {
    this.map.delete(name.toLowerCase());
  }

  names(): string[] {
    return [...this.map.values()].map((e) => e[0]);
  }

  /** headers with original casing; repeated ones as arrays */
  toRecord(): Record<string, string | string[]> {
    const out: Record<string, string | string[]> = {};
    for (const [name, value] of this.map.values()) out[name] = Array.isArray(value) ? value.slice() : value;
    return out;
  }

  /** flat [name, value, name, value...] list (undici/node accept this) */
  toFlat(): string[] {
    const out: string[] = [];
    for (const [name, value] of this.map.values()) {
      if (Array.isArray(value)) for (const v of value) out.push(name, v);
      else out.push(name, value);
    }
    return out;
  }

  /**
   * Removes every header whose lower-case name `drop` matches and appends
   * the rest to `out` as flat pairs: one pass instead of a delete per name.
   */
  flatWithout(drop: (lower: string) => boolean, out: string[]): void {
    for (const [lower, e] of this.map) {
      if (drop(lower)) {
        this.map.delete(lower);
        continue;
      }
      const value = e[1];
      if (Array.isArray(value)) for (const v of value) out.push(e[0], v);
      else out.push(e[0], value);
    }
  }

  applyPatch(patch: Record<string, string | string[] | null | undefined>): void {
    for (const k of Object.keys(patch)) {
      const v = patch[k];
      if (v === null) this.delete(k);
      else if (v !== undefined) this.set(k, Array.isArray(v) ? v.map(String) : String(v));
    }
  }
}

/** Hop-by-hop headers (RFC 7230 6.1) never forwarded. */
export const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

/** Header names a Connection header lists (besides close/keep-alive), or null. */
export function connectionListed(bag: HeaderBag): Set<string> | null {
  const conn = bag.getAll('connection');
  if (!conn) return null;
  let out: Set<string> | null = null;
  for (const part of (Array.isArray(conn) ? conn.join(',') : conn).split(',')) {
    const n = part.trim().toLowerCase();
    if (n && n !== 'close' && n !== 'keep-alive') (out ??= new Set()).add(n);
  }
  return out;
}

export function stripHopByHop(bag: HeaderBag): void {
  const listed = connectionListed(bag);
  if (listed) for (const n of listed) bag.delete(n);
  for (const h of HOP_BY_HOP) bag.delete(h);
}
