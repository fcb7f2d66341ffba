/** Declarative configuration (`_format_version: "3.0"`): parse, load into a State, export. */
import { createHash } from 'node:crypto';
import YAML from 'yaml';
import { GatewayError, State, type PluginValidator } from './state.js';
import { COLLECTIONS, NAME_FIELD, type EntityRec, type Rec } from './entities.js';

export interface DeclarativeIssue {
  path: string;
  message: string;
}

export class DeclarativeError extends GatewayError {
  constructor(readonly issues: DeclarativeIssue[]) {
    const fields: Rec = {};
    for (const i of issues) {
      const had = fields[i.path];
      // several errors on one field (a plugin's nodes) are kept as a list, as Kong's `fields` does
      fields[i.path] = had === undefined ? i.message : Array.isArray(had) ? [...had, i.message] : [had, i.message];
    }
    super(400, {
      code: 14,
      name: 'invalid declarative configuration',
      message: `declarative config is invalid: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`,
      fields,
      flattened_errors: issues,
    });
  }
}

const TOP_LEVEL = new Set([
  '_format_version',
  '_transform',
  '_comment',
  '_info',
  '_workspace',
  'settings',
  'services',
  'routes',
  'plugins',
  'consumers',
  'consumer_groups',
  'keyauth_credentials',
  'upstreams',
  'targets',
  'vaults',
  'partials',
  'filter_chains',
]);

/** YAML (a superset of JSON) or an already parsed object. */
export function parseDocument(input: string | Rec): Rec {
  if (typeof input !== 'string') return input;
  let doc: unknown;
  try {
    const d = YAML.parseDocument(input, { prettyErrors: true, uniqueKeys: true });
    if (d.errors.length) {
      const e = d.errors[0];
      throw new DeclarativeError([{ path: e.linePos ? `line ${e.linePos[0].line}, column ${e.linePos[0].col}` : '(document)', message: `failed parsing: ${e.message.split('\n')[0]}` }]);
    }
    doc = d.toJS({ maxAliasCount: 1000 });
  } catch (e) {
    if (e instanceof DeclarativeError) throw e;
    throw new DeclarativeError([{ path: '(document)', message: `failed parsing: ${(e as Error).message}` }]);
  }
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) {
    throw new DeclarativeError([{ path: '(document)', message: 'expected an object' }]);
  }
  return doc as Rec;
}

/** Kong's configuration_hash before any configuration is loaded */
export const EMPTY_CONFIG_HASH = '00000000000000000000000000000000';

/** JSON with object keys sorted, so that key order (or YAML vs JSON) does not change a hash */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v as Rec).sort().filter((k) => (v as Rec)[k] !== undefined).map((k) => `${JSON.stringify(k)}:${canonical((v as Rec)[k])}`).join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

/** A document's content hash (md5 hex, as Kong's configuration_hash): the same content, the same hash */
export function documentHash(doc: Rec): string {
  return createHash('md5').update(canonical(doc)).digest('hex');
}

/** The content hash of entities changed through the Admin API: linear in their number (an export pairs children with parents) */
export function stateHash(state: State): string {
  const h = createHash('md5');
  for (const coll of COLLECTIONS) {
    h.update(coll);
    for (const e of state.map(coll).values()) h.update(canonical({ ...e, created_at: undefined, updated_at: undefined }));
  }
  h.update(canonical([...state.memberships].sort())).update(canonical(state.settings));
  return h.digest('hex');
}

/** decK's `_info.select_tags`: tags every entity of the document gets; issues when malformed */
function selectTags(doc: Rec, issues: DeclarativeIssue[]): string[] {
  const info = doc._info;
  if (info === undefined || info === null) return [];
  if (typeof info !== 'object' || Array.isArray(info)) {
    issues.push({ path: '_info', message: 'expected a record' });
    return [];
  }
  const tags = (info as Rec).select_tags;
  if (tags === undefined || tags === null) return [];
  if (!Array.isArray(tags) || !tags.every((t) => typeof t === 'string')) {
    issues.push({ path: '_info.select_tags', message: 'expected an array of strings' });
    return [];
  }
  return tags;
}

/** Gateway settings from the document (`settings:`), never secrets. */
export function documentSettings(doc: Rec): Rec {
  const s = doc.settings;
  return s && typeof s === 'object' && !Array.isArray(s) ? (s as Rec) : {};
}

function arr(doc: Rec, key: string, path: string, issues: DeclarativeIssue[]): Rec[] {
  const v = doc[key];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) {
    issues.push({ path: path ? `${path}.${key}` : key, message: 'expected an array' });
    return [];
  }
  return v as Rec[];
}

/** Builds a fresh State from a document; throws DeclarativeError listing every bad field by path. */
export function buildState(doc: Rec, validatePlugin: PluginValidator): State {
  const issues: DeclarativeIssue[] = [];
  const state = new State(validatePlugin);
  const fv = doc._format_version;
  if (fv === undefined) issues.push({ path: '_format_version', message: 'required field missing' });
  else if (!['1.1', '2.1', '3.0'].includes(String(fv))) issues.push({ path: '_format_version', message: `unsupported value "${String(fv)}" (expected "3.0")` });
  for (const k of Object.keys(doc)) if (!TOP_LEVEL.has(k)) issues.push({ path: k, message: 'unknown field' });
  if (doc.settings !== undefined && (typeof doc.settings !== 'object' || doc.settings === null || Array.isArray(doc.settings))) {
    issues.push({ path: 'settings', message: 'expected a record' });
  }
  state.settings = structuredClone(documentSettings(doc));
  const docTags = selectTags(doc, issues);

  const usedIds = new Set<string>();
  const add = (coll: (typeof COLLECTIONS)[number], input: Rec, path: string): EntityRec | undefined => {
    if (!input || typeof input !== 'object' || Array.isArray(input)) {
      issues.push({ path, message: 'expected a record' });
      return undefined;
    }
    // a malformed `tags` is left for the entity's validation to report
    if (docTags.length && (input.tags === undefined || input.tags === null || Array.isArray(input.tags))) {
      input = { ...input, tags: [...new Set([...((input.tags as unknown[] | null) ?? []), ...docTags])] };
    }
    try {
      return state.upsert(coll, input.id === undefined ? { ...input, id: stableId(coll, input, path, usedIds) } : input);
    } catch (e) {
      if (e instanceof GatewayError) {
        const b = e.body;
        const fields = b.fields as Rec | undefined;
        if (b.code === 2 && fields) {
          for (const line of flatten(fields)) issues.push({ path: `${path}.${line.path}`, message: line.message });
        } else if (b.code === 5) issues.push({ path, message: `duplicate: ${String(b.message)}` });
        else issues.push({ path, message: String(b.message) });
        return undefined;
      }
      throw e;
    }
  };
  const strip = (e: Rec, ...keys: string[]): Rec => {
    const o = { ...e };
    for (const k of keys) delete o[k];
    return o;
  };

  const deferredRoutes: Array<[Rec, string]> = [];
  const deferredPlugins: Array<[Rec, string]> = [];
  const deferredChains: Array<[Rec, string, Rec]> = [];

  arr(doc, 'vaults', '', issues).forEach((v, i) => add('vaults', v, `vaults[${i}]`));
  arr(doc, 'partials', '', issues).forEach((p, i) => add('partials', p, `partials[${i}]`));

  arr(doc, 'services', '', issues).forEach((s, i) => {
    const path = `services[${i}]`;
    if (!s || typeof s !== 'object') return void issues.push({ path, message: 'expected a record' });
    const svc = add('services', strip(s, 'routes', 'plugins', 'filter_chains'), path);
    arr(s, 'routes', path, issues).forEach((r, j) => {
      const rp = `${path}.routes[${j}]`;
      if (!r || typeof r !== 'object') return void issues.push({ path: rp, message: 'expected a record' });
      if (svc) deferredRoutes.push([{ ...r, service: { id: svc.id } }, rp]);
    });
    arr(s, 'plugins', path, issues).forEach((p, j) => {
      if (svc) deferredPlugins.push([{ ...p, service: { id: svc.id } }, `${path}.plugins[${j}]`]);
    });
    arr(s, 'filter_chains', path, issues).forEach((c, j) => {
      if (svc) deferredChains.push([c, `${path}.filter_chains[${j}]`, { service: { id: svc.id } }]);
    });
  });

  arr(doc, 'upstreams', '', issues).forEach((u, i) => {
    const path = `upstreams[${i}]`;
    if (!u || typeof u !== 'object') return void issues.push({ path, message: 'expected a record' });
    const up = add('upstreams', strip(u, 'targets'), path);
    arr(u, 'targets', path, issues).forEach((t, j) => {
      if (up) add('targets', { ...t, upstream: { id: up.id } }, `${path}.targets[${j}]`);
    });
  });
  arr(doc, 'targets', '', issues).forEach((t, i) => add('targets', t, `targets[${i}]`));

  const groupMembers: Array<[string, unknown, string]> = [];
  arr(doc, 'consumer_groups', '', issues).forEach((g, i) => {
    const path = `consumer_groups[${i}]`;
    if (!g || typeof g !== 'object') return void issues.push({ path, message: 'expected a record' });
    const ge = add('consumer_groups', strip(g, 'plugins', 'consumers'), path);
    if (!ge) return;
    arr(g, 'plugins', path, issues).forEach((p, j) => deferredPlugins.push([{ ...p, consumer_group: { id: ge.id } }, `${path}.plugins[${j}]`]));
    arr(g, 'consumers', path, issues).forEach((c, j) => groupMembers.push([ge.id, c, `${path}.consumers[${j}]`]));
  });

  arr(doc, 'consumers', '', issues).forEach((c, i) => {
    const path = `consumers[${i}]`;
    if (!c || typeof c !== 'object') return void issues.push({ path, message: 'expected a record' });
    const ce = add('consumers', strip(c, 'plugins', 'keyauth_credentials', 'groups'), path);
    if (!ce) return;
    arr(c, 'keyauth_credentials', path, issues).forEach((k, j) =>
      add('keyauth_credentials', { ...k, consumer: { id: ce.id } }, `${path}.keyauth_credentials[${j}]`),
    );
    arr(c, 'plugins', path, issues).forEach((p, j) => deferredPlugins.push([{ ...p, consumer: { id: ce.id } }, `${path}.plugins[${j}]`]));
    arr(c, 'groups', path, issues).forEach((g, j) => {
      const ge = state.resolveRef('consumer_groups', g);
      if (!ge) issues.push({ path: `${path}.groups[${j}]`, message: `consumer group ${JSON.stringify(g)} does not exist` });
      else state.memberships.add(`${ge.id}|${ce.id}`);
    });
  });
  for (const [gid, c, path] of groupMembers) {
    const ce = state.resolveRef('consumers', c);
    if (!ce) issues.push({ path, message: `consumer ${JSON.stringify(c)} does not exist` });
    else state.memberships.add(`${gid}|${ce.id}`);
  }
  arr(doc, 'keyauth_credentials', '', issues).forEach((k, i) => add('keyauth_credentials', k, `keyauth_credentials[${i}]`));

  arr(doc, 'routes', '', issues).forEach((r, i) => {
    const path = `routes[${i}]`;
    if (!r || typeof r !== 'object') return void issues.push({ path, message: 'expected a record' });
    deferredRoutes.push([r, path]);
  });
  for (const [r, path] of deferredRoutes) {
    const re = add('routes', strip(r, 'plugins', 'filter_chains'), path);
    if (!re) continue;
    arr(r, 'plugins', path, issues).forEach((p, j) => deferredPlugins.push([{ ...p, route: { id: re.id } }, `${path}.plugins[${j}]`]));
    arr(r, 'filter_chains', path, issues).forEach((c, j) => deferredChains.push([c, `${path}.filter_chains[${j}]`, { route: { id: re.id } }]));
  }

  arr(doc, 'plugins', '', issues).forEach((p, i) => deferredPlugins.push([p, `plugins[${i}]`]));
  arr(doc, 'filter_chains', '', issues).forEach((c, i) => deferredChains.push([c, `filter_chains[${i}]`, {}]));

  // 3.10 shape: filter_chains[].filters[] with datakit filters become datakit plugins
  for (const [chain, path, scope] of deferredChains) {
    if (!chain || typeof chain !== 'object') {
      issues.push({ path, message: 'expected a record' });
      continue;
    }
    const sc: Rec = { ...scope };
    if (chain.service !== undefined) sc.service = chain.service;
    if (chain.route !== undefined) sc.route = chain.route;
    const chainEnabled = chain.enabled !== false;
    arr(chain, 'filters', path, issues).forEach((f, j) => {
      const fp = `${path}.filters[${j}]`;
      if (!f || typeof f !== 'object') return void issues.push({ path: fp, message: 'expected a record' });
      if (f.name !== 'datakit') return void issues.push({ path: `${fp}.name`, message: `unknown filter "${String(f.name)}" (only datakit is supported)` });
      let config = f.config;
      if (typeof config === 'string') {
        try {
          config = JSON.parse(config);
        } catch (e) {
          return void issues.push({ path: `${fp}.config`, message: `invalid JSON: ${(e as Error).message}` });
        }
      }
      // a filter runs with 3.10's semantics unless its config names a dialect (docs/compat.md)
      if (config && typeof config === 'object' && !Array.isArray(config) && (config as Rec).dialect === undefined) config = { ...(config as Rec), dialect: '3.10' };
      deferredPlugins.push([{ name: 'datakit', config, enabled: chainEnabled && f.enabled !== false, ...sc }, fp]);
    });
  }

  for (const [p, path] of deferredPlugins) {
    if (!p || typeof p !== 'object') {
      issues.push({ path, message: 'expected a record' });
      continue;
    }
    const plugin = add('plugins', p, path);
    if (plugin) state.sourcePaths.set(plugin.id, path);
  }

  if (issues.length) throw new DeclarativeError(issues);
  return state;
}

/**
 * An id for an entity given without one, the same every time the same document
 * is loaded (as Kong's DB-less mode): a UUIDv5 of the collection and the
 * entity's unique key (its name, username, key, target; a plugin's name and
 * scope), or of its position in the document when it has none (or shares it).
 */
function stableId(coll: string, e: Rec, path: string, used: Set<string>): string {
  const nf = coll === 'plugins' ? undefined : NAME_FIELD[coll as keyof typeof NAME_FIELD];
  let key: string | undefined;
  if (coll === 'plugins') key = JSON.stringify([e.name, e.service, e.route, e.consumer, e.consumer_group, e.instance_name]);
  else if (nf && (typeof e[nf] === 'string' || typeof e[nf] === 'number')) key = JSON.stringify([String(e[nf]), e.upstream ?? e.consumer]);
  else if (coll === 'consumers' && typeof e.custom_id === 'string') key = JSON.stringify(['custom_id', e.custom_id]);
  let id = uuidV5(`${coll}:${key ?? path}`);
  if (used.has(id)) id = uuidV5(`${coll}@${path}`);
  used.add(id);
  return id;
}

/** RFC 4122 version 5 (SHA-1) in the namespace of this gateway's declarative ids. */
const ID_NAMESPACE = Buffer.from('5b2c7f0e4d1a4c9e8f3a6d2b1e0c9a47', 'hex');
function uuidV5(name: string): string {
  const h = createHash('sha1').update(ID_NAMESPACE).update(name).digest();
  h[6] = (h[6] & 0x0f) | 0x50;
  h[8] = (h[8] & 0x3f) | 0x80;
  const x = h.subarray(0, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

function flatten(fields: Rec, prefix = ''): DeclarativeIssue[] {
  const out: DeclarativeIssue[] = [];
  for (const [k, v] of Object.entries(fields)) {
    const p = prefix ? `${prefix}.${k}` : k;
    if (typeof v === 'string') out.push({ path: p, message: v });
    // one issue per message: a datakit plugin's node errors stay separate, each locatable
    else if (Array.isArray(v)) for (const m of v) out.push({ path: p, message: String(m) });
    else if (v && typeof v === 'object') out.push(...flatten(v as Rec, p));
  }
  return out;
}

const DROP = new Set(['created_at', 'updated_at']);

function clean(e: EntityRec, drop: string[] = []): Rec {
  const o: Rec = {};
  for (const [k, v] of Object.entries(e)) {
    if (DROP.has(k) || drop.includes(k)) continue;
    o[k] = v;
  }
  return o;
}

/** Exports the current state as a declarative document (ids kept; secrets stay references). */
export function exportState(state: State): Rec {
  const doc: Rec = { _format_version: '3.0' };
  if (Object.keys(state.settings).length) doc.settings = structuredClone(state.settings);
  const put = (k: string, list: Rec[]) => {
    if (list.length) doc[k] = list;
  };
  put('vaults', state.list('vaults').map((v) => clean(v)));
  put('partials', state.list('partials').map((p) => clean(p)));
  put('services', state.list('services').map((s) => clean(s)));
  put('routes', state.list('routes').map((r) => {
    const o = clean(r);
    if (o.service === null) delete o.service;
    return o;
  }));
  put('upstreams', state.list('upstreams').map((u) => ({
    ...clean(u),
    targets: state.list('targets').filter((t) => (t.upstream as Rec).id === u.id).map((t) => clean(t, ['upstream'])),
  })));
  put('consumer_groups', state.list('consumer_groups').map((g) => clean(g)));
  put('consumers', state.list('consumers').map((c) => {
    const o = clean(c);
    const creds = state.list('keyauth_credentials').filter((k) => (k.consumer as Rec).id === c.id).map((k) => clean(k, ['consumer']));
    if (creds.length) o.keyauth_credentials = creds;
    const groups = state.groupsOf(c.id).map((g) => ({ id: g.id }));
    if (groups.length) o.groups = groups;
    return o;
  }));
  put('plugins', state.list('plugins').map((p) => {
    const o = clean(p);
    for (const k of ['service', 'route', 'consumer', 'consumer_group', 'partials', 'ordering']) if (o[k] === null) delete o[k];
    return o;
  }));
  return doc;
}
