/** In-memory entity store with Kong's integrity rules (unique names, foreign keys, cascades). */
import { routeRegex } from './router.js';
import { randomBytes } from 'node:crypto';
import { orderingErrors, orderingSpec } from './plugin-ordering.js';
import { checkPartialConfig, resolvePartialLinks, withPartials, type PartialLink, type PartialType } from './partials.js';
import type { FieldErrors } from '../plugins/types.js';
import {
  COLLECTIONS,
  NAME_FIELD,
  SCHEMAS,
  UNIQUE,
  expandServiceUrl,
  isUuid,
  newId,
  now,
  schemaViolation,
  validateFields,
  type Collection,
  type EntityRec,
  type Rec,
} from './entities.js';

export class GatewayError extends Error {
  constructor(
    readonly status: number,
    readonly body: Rec,
  ) {
    super(typeof body.message === 'string' ? body.message : `error ${status}`);
  }
}

export const notFound = (): GatewayError => new GatewayError(404, { message: 'Not found' });

export function violation(fields: FieldErrors): GatewayError {
  return new GatewayError(400, schemaViolation(fields));
}

/** Validates a plugin's `config`: returns the normalized config or field errors. */
export type PluginValidator = (
  entity: Rec,
) => { config?: Rec; errors?: FieldErrors; priority?: number; noConsumer?: boolean };

function luaish(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'object') {
    return '{' + Object.entries(v as Rec).map(([k, x]) => `${k}=${luaish(x)}`).join(',') + '}';
  }
  return String(v);
}

export function uniqueViolation(fields: Rec): GatewayError {
  return new GatewayError(409, {
    code: 5,
    name: 'unique constraint violation',
    message: `UNIQUE violation detected on '${luaish(fields)}'`,
    fields,
  });
}

export function foreignViolation(field: string, coll: string, ref: unknown): GatewayError {
  return new GatewayError(400, {
    code: 3,
    name: 'foreign key violation',
    message: `the foreign key '${luaish(ref)}' does not reference an existing '${coll}' entity.`,
    fields: { [field]: ref },
  });
}

const ROUTE_HEADER_FORBIDDEN = new Set(['host']);

export class State {
  services = new Map<string, EntityRec>();
  routes = new Map<string, EntityRec>();
  consumers = new Map<string, EntityRec>();
  consumer_groups = new Map<string, EntityRec>();
  keyauth_credentials = new Map<string, EntityRec>();
  upstreams = new Map<string, EntityRec>();
  targets = new Map<string, EntityRec>();
  vaults = new Map<string, EntityRec>();
  plugins = new Map<string, EntityRec>();
  partials = new Map<string, EntityRec>();
  /** `${groupId}|${consumerId}` */
  memberships = new Set<string>();
  settings: Rec = {};
  /** where a declarative document declared each plugin (by id), for errors found later; not cloned */
  readonly sourcePaths = new Map<string, string>();

  constructor(readonly validatePlugin: PluginValidator) {}

  map(coll: Collection): Map<string, EntityRec> {
    return this[coll];
  }

  clone(): State {
    const s = new State(this.validatePlugin);
    for (const c of COLLECTIONS) s[c] = new Map([...this[c]].map(([k, v]) => [k, structuredClone(v)]));
    s.memberships = new Set(this.memberships);
    s.settings = structuredClone(this.settings);
    return s;
  }

  /** by id, or by the collection's name field */
  get(coll: Collection, key: string | undefined | null): EntityRec | undefined {
    if (key === undefined || key === null || key === '') return undefined;
    const m = this[coll];
    const byId = m.get(key);
    if (byId) return byId;
    const nf = NAME_FIELD[coll];
    if (!nf) return undefined;
    for (const e of m.values()) if (e[nf] === key) return e;
    if (coll === 'consumers') for (const e of m.values()) if (e.custom_id === key) return e;
    return undefined;
  }

  mustGet(coll: Collection, key: string): EntityRec {
    const e = this.get(coll, key);
    if (!e) throw notFound();
    return e;
  }

  list(coll: Collection): EntityRec[] {
    return [...this[coll].values()];
  }

  /** Resolves a foreign reference given as `{id}`, `{name}`, an id or a name. */
  resolveRef(coll: Collection, ref: unknown): EntityRec | undefined {
    if (ref === null || ref === undefined) return undefined;
    if (typeof ref === 'string') return this.get(coll, ref);
    if (typeof ref === 'object') {
      const r = ref as Rec;
      if (typeof r.id === 'string') return this[coll].get(r.id);
      const nf = NAME_FIELD[coll] ?? 'name';
      const n = r[nf] ?? r.name ?? r.username;
      if (typeof n === 'string') return this.get(coll, n);
    }
    return undefined;
  }

  /** Creates (or, with `existing`, replaces/updates) an entity; throws GatewayError. */
  upsert(coll: Collection, input: Rec, opts: { existing?: EntityRec; partial?: boolean } = {}): EntityRec {
    if (input === null || typeof input !== 'object' || Array.isArray(input)) {
      throw violation({ '@entity': 'expected a record' });
    }
    const fieldErrors: FieldErrors = {};
    let raw: Rec = { ...input };
    if (coll === 'services') raw = expandServiceUrl(raw, fieldErrors);
    if (coll === 'services' && raw.port === undefined && raw.protocol === 'https' && !opts.partial) raw.port = 443;
    let merged: Rec = raw;
    if (opts.existing && opts.partial) {
      merged = { ...opts.existing, ...raw };
      if ((coll === 'plugins' || coll === 'partials') && raw.config && typeof raw.config === 'object' && opts.existing.config && typeof opts.existing.config === 'object') {
        merged.config = deepMerge(opts.existing.config as Rec, raw.config as Rec);
      }
    }
    const { value, errors } = validateFields(coll, merged);
    Object.assign(errors, fieldErrors);
    const t = now();
    const id = opts.existing ? opts.existing.id : typeof value.id === 'string' ? value.id : newId();
    if (value.id !== undefined && !isUuid(value.id)) errors.id = 'expected a valid UUID';
    value.id = id;
    value.created_at = opts.existing?.created_at ?? (typeof value.created_at === 'number' ? value.created_at : t);
    if ('updated_at' in SCHEMAS[coll]) value.updated_at = t;

    // foreign keys
    for (const [field, spec] of Object.entries(SCHEMAS[coll])) {
      if (spec.t !== 'foreign') continue;
      const ref = value[field];
      if (ref === null || ref === undefined) continue;
      if (errors[field]) continue;
      const target = this.resolveRef(spec.entity, ref);
      if (!target) throw foreignViolation(field, spec.entity, typeof ref === 'string' ? (isUuid(ref) ? { id: ref } : { name: ref }) : ref);
      value[field] = { id: target.id };
    }

    // per-collection checks
    if (coll === 'consumers' && value.username == null && value.custom_id == null) {
      errors['@entity'] = ["at least one of these fields must be non-empty: 'custom_id', 'username'"];
    }
    if (coll === 'routes') checkRoute(value, errors);
    if (coll === 'keyauth_credentials' && (value.key === undefined || value.key === null)) {
      value.key = randomBytes(16).toString('hex');
    }
    if (coll === 'targets' && typeof value.target === 'string' && !errors.target) {
      value.target = normalizeTarget(value.target);
    }
    if (coll === 'plugins') {
      const oe = orderingErrors(value.ordering);
      if (oe) errors.ordering = oe;
      // as Kong 3.8 to 3.13: the access order of consumer-scoped plugins is never rearranged
      else if (orderingSpec(value.ordering) && (value.consumer || value.consumer_group)) {
        errors.ordering = 'dynamic ordering is not supported for plugins scoped to a consumer or consumer group';
      }
    }
    if (coll === 'partials' && !errors.type) {
      const r = checkPartialConfig(value.type as PartialType, value.config);
      if (r.errors) Object.assign(errors, r.errors);
      else value.config = r.config;
    }
    if (coll === 'plugins' && !errors.partials) {
      const r = resolvePartialLinks(String(value.name), value.partials, (k) => this.get('partials', k));
      if (r.errors) errors.partials = r.errors;
      else value.partials = r.links;
    }
    if (coll === 'plugins' && Object.keys(errors).length === 0) {
      // validated with the linked partials' settings in place; stored without them
      const own = value.config;
      const r = this.validatePlugin(this.withPartials(value));
      if (r.errors && Object.keys(r.errors).length) Object.assign(errors, r.errors);
      else {
        value.config = value.partials ? own : (r.config ?? value.config);
        if (r.noConsumer && (value.consumer || value.consumer_group)) {
          errors[value.consumer ? 'consumer' : 'consumer_group'] = `value must be null`;
        }
      }
    }
    if (Object.keys(errors).length) throw violation(errors);

    // uniqueness
    const m = this[coll];
    for (const f of UNIQUE[coll]) {
      if (value[f] === null || value[f] === undefined) continue;
      for (const e of m.values()) if (e.id !== id && e[f] === value[f]) throw uniqueViolation({ [f]: value[f] });
    }
    if (m.has(id) && !opts.existing) throw uniqueViolation({ id });
    if (coll === 'plugins') {
      const key = (e: Rec) =>
        [e.name, ...(['service', 'route', 'consumer', 'consumer_group'] as const).map((k) => (e[k] as Rec | null)?.id ?? '')].join('|');
      const k = key(value);
      for (const e of m.values()) {
        if (e.id !== id && key(e) === k) {
          throw uniqueViolation({
            name: value.name,
            consumer: value.consumer ?? null,
            consumer_group: value.consumer_group ?? null,
            route: value.route ?? null,
            service: value.service ?? null,
          });
        }
      }
    }
    if (coll === 'targets') {
      for (const e of m.values()) {
        if (e.id !== id && e.target === value.target && (e.upstream as Rec).id === (value.upstream as Rec).id) {
          throw uniqueViolation({ target: value.target, upstream: value.upstream });
        }
      }
    }
    const entity = value as EntityRec;
    m.set(id, entity);
    // a changed partial changes every plugin linked to it: each must stay valid (the copy is dropped otherwise)
    if (coll === 'partials' && opts.existing) {
      for (const plugin of this.linkedPlugins(id)) {
        const r = this.validatePlugin(this.withPartials(plugin));
        if (r.errors && Object.keys(r.errors).length) throw violation({ [`@plugins.${plugin.id}`]: r.errors });
      }
    }
    return entity;
  }

  /** Deletes an entity with Kong's cascades; throws when still referenced. */
  remove(coll: Collection, id: string): void {
    const m = this[coll];
    if (!m.has(id)) return;
    const refs = (c: Collection, field: string) => [...this[c].values()].filter((e) => (e[field] as Rec | null)?.id === id);
    if (coll === 'services') {
      const routes = refs('routes', 'service');
      if (routes.length) {
        throw new GatewayError(400, {
          code: 4,
          name: 'foreign key violation',
          message: "an existing 'routes' entity references this 'services' entity",
          fields: { '@referenced_by': 'routes' },
        });
      }
      for (const p of refs('plugins', 'service')) this.plugins.delete(p.id);
    }
    if (coll === 'routes') for (const p of refs('plugins', 'route')) this.plugins.delete(p.id);
    if (coll === 'consumers') {
      for (const p of refs('plugins', 'consumer')) this.plugins.delete(p.id);
      for (const c of refs('keyauth_credentials', 'consumer')) this.keyauth_credentials.delete(c.id);
      for (const k of [...this.memberships]) if (k.endsWith(`|${id}`)) this.memberships.delete(k);
    }
    if (coll === 'consumer_groups') {
      for (const p of refs('plugins', 'consumer_group')) this.plugins.delete(p.id);
      for (const k of [...this.memberships]) if (k.startsWith(`${id}|`)) this.memberships.delete(k);
    }
    if (coll === 'upstreams') for (const t of refs('targets', 'upstream')) this.targets.delete(t.id);
    if (coll === 'partials' && this.linkedPlugins(id).length) {
      throw new GatewayError(400, {
        code: 4,
        name: 'foreign key violation',
        message: "an existing 'plugins' entity references this 'partials' entity",
        fields: { '@referenced_by': 'plugins' },
      });
    }
    m.delete(id);
  }

  /** The plugins that link a partial (Kong's `/partials/{id}/links`). */
  linkedPlugins(partialId: string): EntityRec[] {
    return this.list('plugins').filter((p) => Array.isArray(p.partials) && (p.partials as PartialLink[]).some((l) => l.id === partialId));
  }

  /** A plugin entity with its linked partials' config in place (what it is validated and run with). */
  withPartials(plugin: Rec): Rec {
    if (!Array.isArray(plugin.partials) || plugin.partials.length === 0) return plugin;
    return { ...plugin, config: withPartials(plugin.config, plugin.partials as PartialLink[], (id) => this.partials.get(id)) };
  }

  groupsOf(consumerId: string): EntityRec[] {
    const out: EntityRec[] = [];
    for (const k of this.memberships) {
      const [g, c] = k.split('|');
      if (c === consumerId) {
        const ge = this.consumer_groups.get(g);
        if (ge) out.push(ge);
      }
    }
    return out;
  }

  membersOf(groupId: string): EntityRec[] {
    const out: EntityRec[] = [];
    for (const k of this.memberships) {
      const [g, c] = k.split('|');
      if (g === groupId) {
        const ce = this.consumers.get(c);
        if (ce) out.push(ce);
      }
    }
    return out;
  }
}

function deepMerge(a: Rec, b: Rec): Rec {
  const out: Rec = { ...a };
  for (const [k, v] of Object.entries(b)) {
    if (v && typeof v === 'object' && !Array.isArray(v) && out[k] && typeof out[k] === 'object' && !Array.isArray(out[k])) {
      out[k] = deepMerge(out[k] as Rec, v as Rec);
    } else out[k] = v;
  }
  return out;
}

export function normalizeTarget(t: string): string {
  if (t.startsWith('[')) return /\]:\d+$/.test(t) ? t : `${t}:8000`;
  return /:\d+$/.test(t) ? t : `${t}:8000`;
}

function checkRoute(value: Rec, errors: FieldErrors): void {
  const fields = ['methods', 'hosts', 'paths', 'headers'] as const;
  const any = fields.some((f) => {
    const v = value[f];
    return v !== null && v !== undefined && (Array.isArray(v) ? v.length > 0 : Object.keys(v as Rec).length > 0);
  });
  if (!any && Object.keys(errors).length === 0) {
    errors['@entity'] = ["must set one of 'methods', 'hosts', 'headers', 'paths' when 'protocols' is 'https'"];
  }
  if (Array.isArray(value.paths) && !errors.paths) {
    const bad: string[] = [];
    for (const p of value.paths as string[]) {
      if (p.startsWith('~')) {
        // the router's own compiler: a pattern it cannot match in linear time is refused here, by field
        try {
          routeRegex(p.slice(1));
        } catch (e) {
          const m = (e as Error).message;
          bad.push(m.startsWith('invalid regex:') ? m : `invalid regex: '${p.slice(1)}' (${m})`);
        }
      } else if (!p.startsWith('/')) bad.push('should start with: / (fixed path) or ~/ (regex path)');
    }
    if (bad.length) errors.paths = bad;
  }
  if (value.headers && typeof value.headers === 'object' && !errors.headers) {
    const h: Rec = {};
    for (const [k, v] of Object.entries(value.headers as Rec)) {
      if (ROUTE_HEADER_FORBIDDEN.has(k.toLowerCase())) {
        errors.headers = "cannot contain 'host' header, which must be specified in the 'hosts' attribute";
        return;
      }
      const arr = Array.isArray(v) ? v : [v];
      if (!arr.every((x) => typeof x === 'string')) {
        errors.headers = 'expected an array of strings';
        return;
      }
      h[k] = arr;
    }
    value.headers = h;
  }
}
