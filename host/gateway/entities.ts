/**
 * Kong's entity model: field schemas, defaults, validation and the in-memory
 * state (services, routes, plugins, consumers, key-auth credentials, consumer
 * groups, upstreams, targets, vaults).
 */
import { randomUUID } from 'node:crypto';
import type { FieldErrors } from '../plugins/types.js';

export type Rec = Record<string, unknown>;
export type EntityRec = Rec & { id: string };

export const COLLECTIONS = [
  'services',
  'routes',
  'consumers',
  'consumer_groups',
  'keyauth_credentials',
  'upstreams',
  'targets',
  'vaults',
  'plugins',
  'partials',
] as const;
export type Collection = (typeof COLLECTIONS)[number];

type Spec =
  | { t: 'string'; nullable?: boolean; default?: unknown; one_of?: string[]; pattern?: RegExp; patternMsg?: string; required?: boolean }
  | { t: 'integer'; nullable?: boolean; default?: unknown; between?: [number, number]; required?: boolean }
  | { t: 'boolean'; default?: unknown; required?: boolean; nullable?: boolean }
  | { t: 'array'; of: Spec; nullable?: boolean; default?: unknown; required?: boolean }
  | { t: 'map'; nullable?: boolean; default?: unknown; required?: boolean }
  | { t: 'any'; nullable?: boolean; default?: unknown; required?: boolean }
  | { t: 'foreign'; entity: Collection; nullable?: boolean; required?: boolean; default?: unknown };

const NAME = /^[A-Za-z0-9.\-_~]+$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const isUuid = (s: unknown): s is string => typeof s === 'string' && UUID.test(s);

const str = (extra: Partial<Extract<Spec, { t: 'string' }>> = {}): Spec => ({ t: 'string', ...extra });
const tags: Spec = { t: 'array', of: { t: 'string' }, nullable: true, default: null };
const timeout = (d: number): Spec => ({ t: 'integer', default: d, between: [1, 2147483646] });

export const SCHEMAS: Record<Collection, Record<string, Spec>> = {
  services: {
    id: str(),
    name: str({ nullable: true, default: null, pattern: NAME, patternMsg: 'invalid value: must only contain alphanumeric and \'., -, _, ~\' characters' }),
    protocol: str({ default: 'http', one_of: ['http', 'https'] }),
    host: str({ required: true }),
    port: { t: 'integer', default: 80, between: [0, 65535] },
    path: str({ nullable: true, default: null, pattern: /^\//, patternMsg: 'should start with: /' }),
    retries: { t: 'integer', default: 5, between: [0, 32767] },
    connect_timeout: timeout(60000),
    write_timeout: timeout(60000),
    read_timeout: timeout(60000),
    enabled: { t: 'boolean', default: true },
    tags,
    ca_certificates: { t: 'any', nullable: true, default: null },
    client_certificate: { t: 'any', nullable: true, default: null },
    tls_verify: { t: 'boolean', nullable: true, default: null },
    tls_verify_depth: { t: 'integer', nullable: true, default: null },
    created_at: { t: 'integer' },
    updated_at: { t: 'integer' },
  },
  routes: {
    id: str(),
    name: str({ nullable: true, default: null, pattern: NAME, patternMsg: 'invalid value: must only contain alphanumeric and \'., -, _, ~\' characters' }),
    protocols: { t: 'array', of: str({ one_of: ['http', 'https'] }), default: ['http', 'https'] },
    methods: { t: 'array', of: str({ pattern: /^[A-Z]+$/, patternMsg: 'invalid value: must be uppercase letters' }), nullable: true, default: null },
    hosts: { t: 'array', of: str({ pattern: /^(\*\.)?[A-Za-z0-9.\-_]+(\.\*)?(:\d+)?$/, patternMsg: 'invalid hostname' }), nullable: true, default: null },
    paths: { t: 'array', of: str(), nullable: true, default: null },
    headers: { t: 'map', nullable: true, default: null },
    https_redirect_status_code: { t: 'integer', default: 426 },
    regex_priority: { t: 'integer', default: 0 },
    strip_path: { t: 'boolean', default: true },
    path_handling: str({ default: 'v0', one_of: ['v0', 'v1'] }),
    preserve_host: { t: 'boolean', default: false },
    request_buffering: { t: 'boolean', default: true },
    response_buffering: { t: 'boolean', default: true },
    snis: { t: 'any', nullable: true, default: null },
    sources: { t: 'any', nullable: true, default: null },
    destinations: { t: 'any', nullable: true, default: null },
    tags,
    service: { t: 'foreign', entity: 'services', nullable: true, default: null },
    created_at: { t: 'integer' },
    updated_at: { t: 'integer' },
  },
  consumers: {
    id: str(),
    username: str({ nullable: true, default: null }),
    custom_id: str({ nullable: true, default: null }),
    tags,
    created_at: { t: 'integer' },
    updated_at: { t: 'integer' },
  },
  consumer_groups: {
    id: str(),
    name: str({ required: true, pattern: NAME, patternMsg: 'invalid value' }),
    tags,
    created_at: { t: 'integer' },
    updated_at: { t: 'integer' },
  },
  keyauth_credentials: {
    id: str(),
    key: str(),
    consumer: { t: 'foreign', entity: 'consumers', required: true },
    ttl: { t: 'integer', nullable: true, default: null },
    tags,
    created_at: { t: 'integer' },
  },
  upstreams: {
    id: str(),
    name: str({ required: true, pattern: /^[A-Za-z0-9.\-_]+$/, patternMsg: 'invalid hostname' }),
    algorithm: str({ default: 'round-robin', one_of: ['round-robin', 'consistent-hashing', 'least-connections', 'latency'] }),
    slots: { t: 'integer', default: 10000, between: [10, 65536] },
    hash_on: str({ default: 'none' }),
    hash_fallback: str({ default: 'none' }),
    hash_on_header: str({ nullable: true, default: null }),
    hash_fallback_header: str({ nullable: true, default: null }),
    hash_on_cookie: str({ nullable: true, default: null }),
    hash_on_cookie_path: str({ default: '/' }),
    hash_on_query_arg: str({ nullable: true, default: null }),
    hash_fallback_query_arg: str({ nullable: true, default: null }),
    hash_on_uri_capture: str({ nullable: true, default: null }),
    hash_fallback_uri_capture: str({ nullable: true, default: null }),
    host_header: str({ nullable: true, default: null }),
    client_certificate: { t: 'any', nullable: true, default: null },
    use_srv_name: { t: 'boolean', default: false },
    healthchecks: { t: 'any', nullable: true, default: null },
    tags,
    created_at: { t: 'integer' },
    updated_at: { t: 'integer' },
  },
  targets: {
    id: str(),
    target: str({ required: true, pattern: /^[A-Za-z0-9.\-_[\]:]+$/, patternMsg: 'Invalid target; not a valid hostname or ip address' }),
    weight: { t: 'integer', default: 100, between: [0, 65535] },
    upstream: { t: 'foreign', entity: 'upstreams', required: true },
    tags,
    created_at: { t: 'integer' },
    updated_at: { t: 'integer' },
  },
  vaults: {
    id: str(),
    name: str({ required: true, one_of: ['env'] }),
    prefix: str({ required: true, pattern: /^[a-z][a-z\d-]*[a-z\d]$/, patternMsg: 'invalid value: must be lower case, digits and dashes' }),
    description: str({ nullable: true, default: null }),
    config: { t: 'map', default: {} },
    tags,
    created_at: { t: 'integer' },
    updated_at: { t: 'integer' },
  },
  plugins: {
    id: str(),
    name: str({ required: true }),
    instance_name: str({ nullable: true, default: null }),
    config: { t: 'any', nullable: true, default: null },
    protocols: { t: 'array', of: str({ one_of: ['grpc', 'grpcs', 'http', 'https'] }), default: ['grpc', 'grpcs', 'http', 'https'] },
    enabled: { t: 'boolean', default: true },
    tags,
    ordering: { t: 'any', nullable: true, default: null },
    partials: { t: 'any', nullable: true, default: null },
    service: { t: 'foreign', entity: 'services', nullable: true, default: null },
    route: { t: 'foreign', entity: 'routes', nullable: true, default: null },
    consumer: { t: 'foreign', entity: 'consumers', nullable: true, default: null },
    consumer_group: { t: 'foreign', entity: 'consumer_groups', nullable: true, default: null },
    created_at: { t: 'integer' },
    updated_at: { t: 'integer' },
  },
  partials: {
    id: str(),
    name: str({ nullable: true, default: null }),
    type: str({ required: true, one_of: ['redis-ce', 'redis-ee'] }),
    config: { t: 'any', default: {} },
    tags,
    created_at: { t: 'integer' },
    updated_at: { t: 'integer' },
  },
};

/** The field that names an entity (for `/collection/{name or id}` and uniqueness). */
export const NAME_FIELD: Partial<Record<Collection, string>> = {
  services: 'name',
  routes: 'name',
  consumers: 'username',
  consumer_groups: 'name',
  upstreams: 'name',
  vaults: 'prefix',
  keyauth_credentials: 'key',
  targets: 'target',
  partials: 'name',
  // Kong's endpoint key for plugins: /plugins/{instance_name}
  plugins: 'instance_name',
};

export const UNIQUE: Record<Collection, string[]> = {
  services: ['name'],
  routes: ['name'],
  consumers: ['username', 'custom_id'],
  consumer_groups: ['name'],
  keyauth_credentials: ['key'],
  upstreams: ['name'],
  targets: [],
  vaults: ['prefix'],
  plugins: [],
  partials: ['name'],
};

export function now(): number {
  return Math.floor(Date.now() / 1000);
}

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

/** Validates one value against a field spec; returns an error text or undefined (and the normalized value). */
function checkField(spec: Spec, v: unknown, errs: FieldErrors, key: string): unknown {
  if (v === null) {
    if (spec.nullable) return null;
    if (spec.required) errs[key] = 'required field missing';
    else errs[key] = 'value must not be null';
    return v;
  }
  switch (spec.t) {
    case 'string':
      if (typeof v !== 'string') { errs[key] = 'expected a string'; return v; }
      if (v.length === 0) { errs[key] = 'length must be at least 1'; return v; }
      if (spec.one_of && !spec.one_of.includes(v)) { errs[key] = `expected one of: ${spec.one_of.join(', ')}`; return v; }
      if (spec.pattern && !spec.pattern.test(v)) { errs[key] = spec.patternMsg ?? 'invalid value'; return v; }
      return v;
    case 'integer':
      if (typeof v !== 'number' || !Number.isInteger(v)) {
        if (typeof v === 'string' && /^-?\d+$/.test(v)) v = Number(v);
        else { errs[key] = 'expected an integer'; return v; }
      }
      if (spec.between && ((v as number) < spec.between[0] || (v as number) > spec.between[1])) {
        errs[key] = `value should be between ${spec.between[0]} and ${spec.between[1]}`;
      }
      return v;
    case 'boolean':
      if (v === 'true') return true;
      if (v === 'false') return false;
      if (typeof v !== 'boolean') errs[key] = 'expected a boolean';
      return v;
    case 'array': {
      if (!Array.isArray(v)) {
        if (typeof v === 'string' && spec.of.t === 'string') v = [v];
        else { errs[key] = 'expected an array'; return v; }
      }
      const sub: FieldErrors = {};
      const out = (v as unknown[]).map((x, i) => checkField(spec.of, x, sub, String(i + 1)));
      const msgs = Object.keys(sub);
      if (msgs.length) errs[key] = msgs.map((k) => sub[k] as string).filter((x) => typeof x === 'string') as string[];
      return out;
    }
    case 'map':
      if (typeof v !== 'object' || Array.isArray(v)) errs[key] = 'expected a record';
      return v;
    case 'foreign':
      return v; // resolved by the state
    default:
      return v;
  }
}

export interface ValidateOptions {
  partial?: boolean; // PATCH: only given fields
  extraAllowed?: string[];
}

/** Validates and fills defaults. `input` is not modified. */
export function validateFields(coll: Collection, input: Rec, opts: ValidateOptions = {}): { value: Rec; errors: FieldErrors } {
  const schema = SCHEMAS[coll];
  const errors: FieldErrors = {};
  const value: Rec = {};
  for (const key of Object.keys(input)) {
    if (!(key in schema) && !opts.extraAllowed?.includes(key)) errors[key] = 'unknown field';
  }
  for (const [key, spec] of Object.entries(schema)) {
    if (key === 'created_at' || key === 'updated_at') {
      if (input[key] !== undefined) value[key] = input[key];
      continue;
    }
    const has = Object.prototype.hasOwnProperty.call(input, key) && input[key] !== undefined;
    if (!has) {
      if (opts.partial) continue;
      if (spec.required) { errors[key] = 'required field missing'; continue; }
      if ('default' in spec && spec.default !== undefined) value[key] = structuredClone(spec.default);
      continue;
    }
    value[key] = checkField(spec, input[key], errors, key);
  }
  return { value, errors };
}

export function newId(): string {
  return randomUUID();
}

/** Parses `url` into protocol/host/port/path (services). */
export function expandServiceUrl(input: Rec, errors: FieldErrors): Rec {
  if (input.url === undefined) return input;
  const out = { ...input };
  delete out.url;
  if (typeof input.url !== 'string') {
    errors.url = 'expected a string';
    return out;
  }
  let u: URL;
  try {
    u = new URL(input.url);
  } catch {
    errors.url = 'missing host in url';
    return out;
  }
  const protocol = u.protocol.replace(':', '');
  if (protocol !== 'http' && protocol !== 'https') {
    errors.url = `expected one of: http, https`;
    return out;
  }
  out.protocol = protocol;
  out.host = u.hostname.replace(/^\[|\]$/g, '');
  out.port = u.port ? Number(u.port) : protocol === 'https' ? 443 : 80;
  out.path = u.pathname && u.pathname !== '' && !(u.pathname === '/' && !input.url.replace(/^[a-z]+:\/\/[^/]+/i, '')) ? u.pathname : null;
  return out;
}

/** Formats nested field errors as Kong's message text. */
export function errorsMessage(fields: FieldErrors, prefix = ''): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(fields)) {
    const path = prefix ? `${prefix}.${k}` : k;
    if (typeof v === 'string') out.push(`${path}: ${v}`);
    else if (Array.isArray(v)) out.push(`${path}: ${v.join(', ')}`);
    else out.push(...errorsMessage(v, path));
  }
  return out;
}

export function schemaViolation(fields: FieldErrors): { code: number; name: string; message: string; fields: FieldErrors } {
  const msgs = errorsMessage(fields);
  const message =
    msgs.length === 1 ? `schema violation (${msgs[0]})` : `${msgs.length} schema violations (${msgs.join('; ')})`;
  return { code: 2, name: 'schema violation', message, fields };
}
