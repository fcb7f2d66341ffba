/**
 * The gateway's secret resolver: the `env` backend plus vault entities
 * (`vaults:` in declarative config / `/vaults` in the Admin API) that give a
 * prefix to a backend with its own settings. Resolution is synchronous (the
 * engine asks from inside a wasm import) and cached; a cached value is
 * re-resolved once its TTL has passed.
 */
import { isVaultReference, parseVaultReference, SecretError, type SecretResolver } from './reference.js';
import { readEnvSecret } from './env.js';

export interface VaultEntityLike {
  id?: string;
  name: string; // backend: only `env` is built in
  prefix: string; // the name used in references: {vault://PREFIX/...}
  config?: Record<string, unknown> | null;
}

interface CacheEntry {
  value: string;
  expires: number;
}

export const MASK = '********';

export interface SecretManagerOptions {
  env?: NodeJS.ProcessEnv;
  /** default TTL of a resolved secret in ms (vault config `ttl`, seconds, overrides) */
  ttlMs?: number;
  now?: () => number;
}

export class SecretManager implements SecretResolver {
  private vaults = new Map<string, VaultEntityLike>();
  private cache = new Map<string, CacheEntry>();
  private readonly known = new Set<string>();
  private readonly env: NodeJS.ProcessEnv;
  private readonly ttlMs: number;
  private readonly now: () => number;
  /** number of actual backend reads (for tests/metrics) */
  reads = 0;

  constructor(options: SecretManagerOptions = {}) {
    this.env = options.env ?? process.env;
    this.ttlMs = options.ttlMs ?? 60_000;
    this.now = options.now ?? Date.now;
  }

  /** Replaces the vault entity table; returns the previous one (to restore on a rejected reload). */
  setVaults(vaults: Iterable<VaultEntityLike>): Map<string, VaultEntityLike> {
    const previous = this.vaults;
    const next = new Map<string, VaultEntityLike>();
    for (const v of vaults) next.set(v.prefix, v);
    this.vaults = next;
    this.cache.clear();
    return previous;
  }

  restoreVaults(previous: Map<string, VaultEntityLike>): void {
    this.vaults = previous;
    this.cache.clear();
  }

  static isReference(value: unknown): value is string {
    return isVaultReference(value);
  }

  resolve(reference: string): string {
    const key = reference.trim();
    const hit = this.cache.get(key);
    const now = this.now();
    if (hit && hit.expires > now) return hit.value;
    const ref = parseVaultReference(key);
    if (!ref) throw new SecretError('invalid vault reference');
    let value: string;
    let ttl = this.ttlMs;
    const entity = this.vaults.get(ref.backend);
    if (entity) {
      if (entity.name !== 'env') {
        throw new SecretError(`could not resolve ${reference}: vault backend "${entity.name}" is not supported`);
      }
      const cfg = entity.config ?? {};
      const prefix = typeof cfg.prefix === 'string' ? cfg.prefix : '';
      if (typeof cfg.ttl === 'number' && cfg.ttl > 0) ttl = cfg.ttl * 1000;
      this.reads++;
      value = readEnvSecret(ref, this.env, prefix);
    } else if (ref.backend === 'env') {
      this.reads++;
      value = readEnvSecret(ref, this.env);
    } else {
      throw new SecretError(`could not resolve ${reference}: vault "${ref.backend}" is not configured`);
    }
    this.cache.set(key, { value, expires: now + ttl });
    if (value.length >= 3) this.known.add(value);
    return value;
  }

  /** Resolves a value if it is a reference, returns it unchanged otherwise. */
  resolveValue(value: string): string {
    return isVaultReference(value) ? this.resolve(value) : value;
  }

  /** Replaces resolved secret values in a text with `********`. */
  mask(text: string): string {
    if (this.known.size === 0 || !text) return text;
    let out = text;
    for (const v of this.known) if (out.includes(v)) out = out.split(v).join(MASK);
    return out;
  }

  /** Every reference inside a (config) value, depth first. */
  static references(value: unknown, out: string[] = []): string[] {
    if (typeof value === 'string') {
      if (isVaultReference(value)) out.push(value);
      else {
        // "Header:{vault://...}" forms (request-transformer)
        const m = (value as string).match(/\{vault:\/\/[^{}]+\}/g);
        if (m) out.push(...m);
      }
    } else if (Array.isArray(value)) for (const v of value) SecretManager.references(v, out);
    else if (value && typeof value === 'object') for (const v of Object.values(value)) SecretManager.references(v, out);
    return out;
  }

  /** Replaces every embedded `{vault://...}` in a string with its resolved value. */
  interpolate(text: string): string {
    if (!text.includes('{vault://')) return text;
    return text.replace(/\{vault:\/\/[^{}]+\}/g, (ref) => this.resolve(ref));
  }
}
