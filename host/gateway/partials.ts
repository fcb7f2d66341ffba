/**
 * Kong's Partials (3.10+): shared configuration entities (here the Redis
 * types, `redis-ce` and `redis-ee`) that plugins link with
 * `partials: [{id | name, path}]`. The plugin entity keeps only its own
 * config; the partial's config is placed at the path when the plugin is
 * validated and instantiated, so editing the partial changes every plugin
 * linked to it.
 */
import type { FieldErrors } from '../plugins/types.js';
import type { EntityRec, Rec } from './entities.js';

export const PARTIAL_TYPES = ['redis-ce', 'redis-ee'] as const;
export type PartialType = (typeof PARTIAL_TYPES)[number];

type FieldKind = 'string' | 'integer' | 'boolean' | 'nodes' | 'record';
interface PartialField {
  kind: FieldKind;
  default?: unknown;
  between?: [number, number];
  one_of?: string[];
}

const port: PartialField = { kind: 'integer', default: 6379, between: [0, 65535] };
const ms = (d: number): PartialField => ({ kind: 'integer', default: d, between: [0, 2147483646] });

/** Kong's shared Redis schemas (the fields of `redis-ce` and `redis-ee`, with their defaults). */
const FIELDS: Record<PartialType, Record<string, PartialField>> = {
  'redis-ce': {
    host: { kind: 'string', default: '127.0.0.1' },
    port,
    timeout: ms(2000),
    username: { kind: 'string' },
    password: { kind: 'string' },
    database: { kind: 'integer', default: 0 },
    ssl: { kind: 'boolean', default: false },
    ssl_verify: { kind: 'boolean', default: false },
    server_name: { kind: 'string' },
    cloud_authentication: { kind: 'record' },
  },
  'redis-ee': {
    host: { kind: 'string', default: '127.0.0.1' },
    port,
    connect_timeout: ms(2000),
    send_timeout: ms(2000),
    read_timeout: ms(2000),
    username: { kind: 'string' },
    password: { kind: 'string' },
    database: { kind: 'integer', default: 0 },
    ssl: { kind: 'boolean', default: false },
    ssl_verify: { kind: 'boolean', default: false },
    server_name: { kind: 'string' },
    keepalive_pool_size: { kind: 'integer', default: 256, between: [1, 2147483646] },
    keepalive_backlog: { kind: 'integer', between: [0, 2147483646] },
    sentinel_master: { kind: 'string' },
    sentinel_role: { kind: 'string', one_of: ['master', 'slave', 'any'] },
    sentinel_nodes: { kind: 'nodes' },
    sentinel_username: { kind: 'string' },
    sentinel_password: { kind: 'string' },
    cluster_nodes: { kind: 'nodes' },
    cluster_max_redirections: { kind: 'integer', default: 5 },
    connection_is_proxied: { kind: 'boolean', default: false },
    cloud_authentication: { kind: 'record' },
  },
};

/**
 * Which partial types a plugin accepts, and the path each goes to (Kong's
 * `supported_partials`; datakit's from its 3.12+ schema).
 */
export const SUPPORTED_PARTIALS: Record<string, Partial<Record<PartialType, string>>> = {
  datakit: { 'redis-ee': 'config.resources.cache.redis' },
};

function fieldError(f: PartialField, v: unknown): string | undefined {
  switch (f.kind) {
    case 'string':
      if (typeof v !== 'string') return 'expected a string';
      if (f.one_of && !f.one_of.includes(v)) return `expected one of: ${f.one_of.join(', ')}`;
      return undefined;
    case 'integer':
      if (typeof v !== 'number' || !Number.isInteger(v)) return 'expected an integer';
      if (f.between && (v < f.between[0] || v > f.between[1])) return `value should be between ${f.between[0]} and ${f.between[1]}`;
      return undefined;
    case 'boolean':
      return typeof v === 'boolean' ? undefined : 'expected a boolean';
    case 'record':
      return v !== null && typeof v === 'object' && !Array.isArray(v) ? undefined : 'expected a record';
    case 'nodes':
      return Array.isArray(v) && v.every((n) => n !== null && typeof n === 'object' && !Array.isArray(n)) ? undefined : 'expected an array';
  }
}

/** Validates a partial's `config` for its type; returns it with defaults filled, or the field errors. */
export function checkPartialConfig(type: PartialType, config: unknown): { config?: Rec; errors?: FieldErrors } {
  if (config === undefined || config === null) config = {};
  if (typeof config !== 'object' || Array.isArray(config)) return { errors: { config: 'expected a record' } };
  const fields = FIELDS[type];
  const errors: FieldErrors = {};
  const out: Rec = {};
  for (const [k, v] of Object.entries(config as Rec)) {
    const f = fields[k];
    if (!f) errors[k] = 'unknown field';
    else if (v !== null) {
      const e = fieldError(f, v);
      if (e) errors[k] = e;
    }
    out[k] = v;
  }
  for (const [k, f] of Object.entries(fields)) if (out[k] === undefined && f.default !== undefined) out[k] = f.default;
  return Object.keys(errors).length ? { errors: { config: errors } } : { config: out };
}

export interface PartialLink {
  id: string;
  name: string | null;
  path: string;
}

/**
 * Resolves a plugin's `partials` (each `{id}` or `{name}`, `path` optional)
 * against the partials stored; `find` looks one up by id or name.
 */
export function resolvePartialLinks(
  pluginName: string,
  value: unknown,
  find: (key: string) => EntityRec | undefined,
): { links?: PartialLink[] | null; errors?: FieldErrors | string } {
  if (value === null || value === undefined) return { links: null };
  if (!Array.isArray(value)) return { errors: 'expected an array' };
  const supported = SUPPORTED_PARTIALS[pluginName] ?? {};
  const links: PartialLink[] = [];
  const errors: FieldErrors = {};
  value.forEach((ref, i) => {
    const at = String(i + 1);
    if (ref === null || typeof ref !== 'object' || Array.isArray(ref)) return void (errors[at] = 'expected a record');
    const r = ref as Rec;
    const key = typeof r.id === 'string' ? r.id : typeof r.name === 'string' ? r.name : undefined;
    if (key === undefined) return void (errors[at] = "at least one of these fields must be non-empty: 'id', 'name'");
    const partial = find(key);
    if (!partial) return void (errors[at] = `partial '${key}' not found`);
    const type = partial.type as PartialType;
    const path = supported[type];
    if (!path) return void (errors[at] = `plugin '${pluginName}' does not support partials of type '${type}'`);
    if (r.path !== undefined && r.path !== null && r.path !== path) return void (errors[at] = `invalid path '${String(r.path)}' for a '${type}' partial of plugin '${pluginName}' (expected '${path}')`);
    if (links.some((l) => l.path === path)) return void (errors[at] = `more than one partial for path '${path}'`);
    links.push({ id: partial.id, name: (partial.name as string | null) ?? null, path });
  });
  return Object.keys(errors).length ? { errors } : { links };
}

/** The plugin's config with each linked partial's config at its path (`config.a.b` → `config.a.b`). */
export function withPartials(config: unknown, links: PartialLink[] | null | undefined, partialById: (id: string) => EntityRec | undefined): unknown {
  if (!links || links.length === 0) return config;
  const out = structuredClone((config ?? {}) as Rec);
  for (const l of links) {
    const partial = partialById(l.id);
    if (!partial) continue;
    const keys = l.path.split('.').slice(1);
    let at = out;
    for (const k of keys.slice(0, -1)) {
      if (at[k] === null || typeof at[k] !== 'object' || Array.isArray(at[k])) at[k] = {};
      at = at[k] as Rec;
    }
    at[keys[keys.length - 1]] = structuredClone(partial.config);
  }
  return out;
}
