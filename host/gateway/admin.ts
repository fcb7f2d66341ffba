/** The Admin API (Fastify): Kong's paths and JSON shapes. */
import { createHash, timingSafeEqual } from 'node:crypto';
import os from 'node:os';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import multipart from '@fastify/multipart';
import YAML from 'yaml';
import type { GatewayCore } from './core.js';
import { documentHash, exportState, parseDocument } from './declarative.js';
import { operationUnsupported, type AdminWrites } from './db-less.js';
import { COLLECTIONS, SCHEMAS, isUuid, type Collection, type EntityRec, type Rec } from './entities.js';
import { GatewayError, notFound, type State } from './state.js';
import { Metrics, type MetricsDump } from './metrics.js';
import { GATEWAY_VERSION } from '../plugins/datakit.js';
import { registerStudio, studioToken } from '../studio/serve.js';

export interface AdminHooks {
  /** true once the proxy listener accepts traffic */
  ready(): boolean;
  /** metrics of every process (cluster: merged from workers) */
  metrics(): Promise<MetricsDump[]>;
  /** connection stats */
  connections?(): Promise<number> | number;
}

export interface AdminOptions {
  /** every request must carry it in Kong-Admin-Token */
  token?: string;
  /** the proxy listener's client timeouts, applied here too */
  server?: { clientHeaderTimeoutMs: number; clientRequestTimeoutMs: number; keepAliveTimeoutMs: number; checkIntervalMs: number };
  /** without a database: 'refuse' entity writes as Kong's DB-less mode does (default), or keep them in 'memory' until the process stops */
  adminWrites?: AdminWrites;
}

/** Kong's answer to a missing or wrong admin token */
export const INVALID_CREDENTIALS = { message: 'Invalid credentials. Token or User credentials required' };

type Params = Record<string, string>;

const COLL_PATHS: Array<[string, Collection]> = [
  ['services', 'services'],
  ['routes', 'routes'],
  ['consumers', 'consumers'],
  ['consumer_groups', 'consumer_groups'],
  ['upstreams', 'upstreams'],
  ['vaults', 'vaults'],
  ['plugins', 'plugins'],
  ['key-auths', 'keyauth_credentials'],
  ['targets', 'targets'],
  ['partials', 'partials'],
];

/** Form fields (urlencoded or multipart), with Kong's dotted keys (`config.key_names`) and `[]` arrays */
function parseForm(entries: Iterable<[string, string]>): Rec {
  const out: Rec = {};
  for (const [rawK, v] of entries) {
    const k = rawK.replace(/\[\]$/, '');
    const isArr = rawK.endsWith('[]');
    const parts = k.split('.');
    let cur = out;
    for (let i = 0; i < parts.length - 1; i++) {
      if (!cur[parts[i]] || typeof cur[parts[i]] !== 'object') cur[parts[i]] = {};
      cur = cur[parts[i]] as Rec;
    }
    const last = parts[parts.length - 1];
    const val: unknown = v === 'true' ? true : v === 'false' ? false : /^-?\d+$/.test(v) && !['name', 'username', 'custom_id', 'key', 'id'].includes(last) ? Number(v) : v;
    if (isArr || last in cur) {
      const prev = cur[last];
      cur[last] = prev === undefined ? [val] : Array.isArray(prev) ? [...prev, val] : [prev, val];
    } else cur[last] = val;
  }
  return out;
}

type Spec = (typeof SCHEMAS)[Collection][string];

/** One field in Kong's `/schemas/{entity}` shape */
function fieldSchema(name: string, spec: Spec): Rec {
  const out: Rec = { type: spec.t === 'any' ? 'any' : spec.t };
  if (name === 'id') Object.assign(out, { type: 'string', uuid: true, auto: true });
  if (name === 'created_at' || name === 'updated_at') Object.assign(out, { timestamp: true, auto: true });
  if (spec.required) out.required = true;
  if ('nullable' in spec && spec.nullable === false) out.required = true;
  if (spec.default !== undefined) out.default = spec.default;
  if (spec.t === 'string' && spec.one_of) out.one_of = spec.one_of;
  if (spec.t === 'integer' && spec.between) out.between = spec.between;
  if (spec.t === 'array') out.elements = fieldSchema('', spec.of);
  if (spec.t === 'foreign') out.reference = spec.entity;
  return out;
}

/** The collection a route works on, for the audit log: the last fixed segment of its pattern */
function entityOf(pattern: string): string {
  const seg = pattern.split('/').filter((p) => p && !p.startsWith(':'));
  const last = seg[seg.length - 1] ?? '';
  return last === 'key-auth' || last === 'key-auths' ? 'keyauth_credentials' : last;
}

function bodyOf(req: FastifyRequest): Rec {
  const b = req.body;
  if (b === undefined || b === null || b === '') return {};
  if (typeof b !== 'object' || Array.isArray(b)) throw new GatewayError(400, { message: 'Cannot parse JSON body' });
  return b as Rec;
}

export async function buildAdmin(core: GatewayCore, hooks: AdminHooks, opts: AdminOptions = {}): Promise<FastifyInstance> {
  const l = opts.server;
  const app = Fastify({
    logger: false,
    bodyLimit: 32 * 1024 * 1024,
    ...(l && {
      http: { headersTimeout: l.clientHeaderTimeoutMs, requestTimeout: l.clientRequestTimeoutMs, connectionsCheckingInterval: l.checkIntervalMs },
      requestTimeout: l.clientRequestTimeoutMs,
      keepAliveTimeout: l.keepAliveTimeoutMs,
    }),
  });

  if (opts.token) {
    // digests have one length, so the comparison takes the same time whatever was sent
    const digest = (v: string) => createHash('sha256').update(v).digest();
    const want = digest(opts.token);
    // every route, /status and /metrics included, as Kong's RBAC protects the whole admin listener
    app.addHook('onRequest', async (req, reply) => {
      const got = req.headers['kong-admin-token'] ?? studioToken(req.url);
      if (typeof got !== 'string' || !timingSafeEqual(digest(got), want)) return reply.code(401).send(INVALID_CREDENTIALS);
    });
  }

  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
    try {
      done(null, parseForm(new URLSearchParams(body as string)));
    } catch (e) {
      done(e as Error, undefined);
    }
  });
  // Kong's DB-less way to load a file: `curl -F config=@kong.yaml`; file parts arrive as text.
  // One file, and text fields of 128 KiB at most (256 of them): a multipart body holds 64 MiB at most.
  await app.register(multipart, {
    attachFieldsToBody: true,
    limits: { fileSize: 32 * 1024 * 1024, files: 1, fieldSize: 128 * 1024, fields: 256, parts: 257 },
    async onFile(part) {
      (part as unknown as { value: string }).value = (await part.toBuffer()).toString('utf8');
    },
  });
  app.addHook('preHandler', async (req) => {
    if (req.isMultipart() && req.body && typeof req.body === 'object') {
      const pairs: Array<[string, string]> = [];
      for (const [k, v] of Object.entries(req.body as Rec)) {
        for (const part of (Array.isArray(v) ? v : [v]) as Array<{ value: unknown; valueTruncated?: boolean }>) {
          // busboy cuts a field over fieldSize short silently: a cut configuration must not load
          if (part.valueTruncated) throw new GatewayError(413, { message: `Request body too large (form field '${k}' over 128 KiB: send it as a file)` });
          pairs.push([k, String(part.value)]);
        }
      }
      req.body = parseForm(pairs);
    }
  });
  for (const ct of ['application/yaml', 'application/x-yaml', 'text/yaml', 'text/plain']) {
    app.addContentTypeParser(ct, { parseAs: 'string' }, (_req, body, done) => done(null, body));
  }

  // the audit trail: one line per change (never its body); the entity id of a deleted entity is looked up before it goes
  const deletedIds = new WeakMap<FastifyRequest, string>();
  const changedIds = new WeakMap<FastifyRequest, string>();
  const isWrite = (m: string) => m !== 'GET' && m !== 'HEAD' && m !== 'OPTIONS';
  let warnedVolatile = false;
  // DB-less (no database): the declarative configuration is the truth; entity writes answer Kong's 405 unless kept in memory on request
  const inMemoryWrites = !core.store && opts.adminWrites === 'memory';
  const refuseEntityWrite = (req: FastifyRequest, entity: string, key?: string) => {
    if (!core.store && !inMemoryWrites) throw new GatewayError(405, { ...operationUnsupported(req.method, entity, key) });
  };
  app.addHook('preHandler', async (req) => {
    if (req.method !== 'DELETE') return;
    const key = (req.params as Params).key;
    const coll = entityOf(req.routeOptions.url ?? '');
    if (key && (COLLECTIONS as readonly string[]).includes(coll)) {
      const e = st().get(coll as Collection, key);
      if (e) deletedIds.set(req, e.id);
    }
  });
  app.addHook('onSend', async (req, reply, payload) => {
    if (isWrite(req.method) && reply.statusCode < 300 && typeof payload === 'string' && req.routeOptions.url !== '/config' && payload.length < 1_000_000) {
      try {
        const id = (JSON.parse(payload) as Rec).id;
        if (typeof id === 'string') changedIds.set(req, id);
      } catch {
        /* not JSON: no id */
      }
    }
    return payload;
  });
  app.addHook('onResponse', async (req, reply) => {
    // validating against a schema changes nothing
    if (!isWrite(req.method) || (req.routeOptions.url ?? '').startsWith('/schemas/')) return;
    const entity = entityOf(req.routeOptions.url ?? req.url);
    const entityId = changedIds.get(req) ?? deletedIds.get(req);
    // a key-auth key can be the path's last segment: it is logged as the credential's id
    let path = req.url.split('?')[0];
    if (entity === 'keyauth_credentials' && (req.params as Params).key) path = path.slice(0, path.lastIndexOf('/') + 1) + (entityId ?? '<key>');
    core.logger.info(
      {
        method: req.method,
        path,
        entity,
        ...(entityId && { entity_id: entityId }),
        status: reply.statusCode,
        remote: req.ip,
        token: !!opts.token && reply.statusCode !== 401,
      },
      'admin change',
    );
    // DB-less: say once that these changes will not outlive the process (Kong refuses them; this gateway keeps them in memory)
    if (inMemoryWrites && !warnedVolatile && reply.statusCode < 300 && req.routeOptions.url !== '/config') {
      warnedVolatile = true;
      core.logger.warn(
        'DB-less mode: Admin API changes are kept in memory only and are lost when the gateway stops; start with --database DIR to keep them (docs/cluster.md)',
      );
    }
  });

  app.setErrorHandler((err: Error & { statusCode?: number; code?: string }, _req, reply) => {
    if (err instanceof GatewayError) return reply.code(err.status).send(err.body);
    if (err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return reply.code(415).send({ message: 'Unsupported Content-Type' });
    if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE' || err.statusCode === 413) return reply.code(413).send({ message: 'Request body too large' });
    if (err.statusCode === 400 || (err.code ?? '').startsWith('FST_ERR_CTP')) return reply.code(400).send({ message: 'Cannot parse JSON body' });
    // multipart's own refusals (too many parts, not multipart): their messages carry no data
    if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500 && (err.code ?? '').startsWith('FST_')) return reply.code(err.statusCode).send({ message: err.message });
    core.logger.error({ err: core.secrets.mask(err.message) }, 'admin API error');
    return reply.code(500).send({ message: 'An unexpected error occurred' });
  });
  app.setNotFoundHandler((_req, reply) => reply.code(404).send({ message: 'Not found' }));

  /** Kong's pages: `size` (default 100, at most 1000), an opaque `offset`; `next` is the following page's path */
  const list = (req: FastifyRequest, data: unknown[]) => {
    const q = req.query as Params;
    const size = q.size === undefined ? 100 : Number(q.size);
    if (!Number.isInteger(size) || size < 1 || size > 1000) {
      throw new GatewayError(400, { code: 9, name: 'invalid size', message: 'size must be an integer between 1 and 1000' });
    }
    let start = 0;
    if (q.offset !== undefined) {
      start = Number(Buffer.from(q.offset, 'base64url').toString());
      if (!/^[A-Za-z0-9_-]+$/.test(q.offset) || !Number.isInteger(start) || start < 0) {
        throw new GatewayError(400, { code: 7, name: 'invalid offset', message: `'${q.offset.slice(0, 100)}' is not a valid offset: bad base64 encoding` });
      }
    }
    const page = data.slice(start, start + size);
    if (start + size >= data.length) return { data: page, next: null };
    const offset = Buffer.from(String(start + size)).toString('base64url');
    const next = new URLSearchParams({ ...(q.size !== undefined && { size: String(size) }), ...(q.tags !== undefined && { tags: q.tags }), offset });
    return { data: page, next: `${req.url.split('?')[0]}?${next}`, offset };
  };
  /** Kong's tag filter: `tags=a,b` both, `tags=a/b` either (not mixed) */
  const tagged = (req: FastifyRequest, items: EntityRec[]): EntityRec[] => {
    const t = (req.query as Params).tags;
    if (t === undefined) return items;
    if (t.includes(',') && t.includes('/')) {
      throw new GatewayError(400, { code: 11, name: 'invalid options', message: 'invalid option (tags: invalid filter syntax)', fields: { tags: 'invalid filter syntax' } });
    }
    const all = t.includes(',');
    const want = t.split(/[,/]/);
    return items.filter((e) => {
      const has = Array.isArray(e.tags) ? (e.tags as string[]) : [];
      return all ? want.every((w) => has.includes(w)) : want.some((w) => has.includes(w));
    });
  };
  const view = (coll: Collection, e: EntityRec): Rec => {
    if (coll === 'targets') return { ...e, target: e.target };
    return e;
  };
  const st = (): State => core.state;

  /* ---------------- info ---------------- */
  app.get('/', async () => {
    const plugins = [...core.registry.defs.values()];
    return {
      version: GATEWAY_VERSION,
      tagline: 'Welcome to datakit-gateway',
      edition: 'community',
      lua_version: 'node ' + process.version,
      hostname: os.hostname(),
      node_id: core.nodeId,
      timers: { running: 0, pending: 0 },
      plugins: {
        available_on_server: Object.fromEntries(plugins.map((d) => [d.name, { version: d.version, priority: d.priority }])),
        enabled_in_cluster: [...new Set(st().list('plugins').map((p) => String(p.name)))].sort(),
      },
      configuration: core.settingsView(),
      datakit: { engine: core.engineAvailable ? 'loaded' : 'unavailable' },
    };
  });

  app.get('/status', async (_req, reply) => {
    const ok = hooks.ready();
    const m = process.memoryUsage();
    // the proxy's own counters (every worker's, in a cluster): requests answered, connections open
    const dumps = await hooks.metrics();
    const sum = (series: Record<string, number> | undefined) => Object.values(series ?? {}).reduce((a, b) => a + b, 0);
    const counter = (name: string) => dumps.reduce((n, d) => n + sum(d.counters[name]), 0);
    const total = counter('datakit_gateway_requests_total');
    const accepted = counter('datakit_gateway_connections_accepted_total');
    const open = dumps.some((d) => d.gauges?.datakit_gateway_connections_open)
      ? dumps.reduce((n, d) => n + sum(d.gauges?.datakit_gateway_connections_open), 0)
      : ((await hooks.connections?.()) ?? 0);
    return reply.code(ok ? 200 : 503).send({
      database: { reachable: core.databaseReachable },
      configuration_hash: core.configHash,
      // connections closed at once for max_connections were accepted, not handled
      server: { connections_accepted: accepted, connections_handled: accepted - counter('datakit_gateway_connections_dropped_total'), connections_active: open, total_requests: total },
      memory: { workers_lua_vms: [{ pid: process.pid, http_allocated_gc: `${(m.heapUsed / 1048576).toFixed(2)} MiB` }], lua_shared_dicts: {} },
      ready: ok,
    });
  });

  app.get('/metrics', async (_req, reply) => {
    const dumps = await hooks.metrics();
    const all = new Metrics();
    for (const d of dumps) all.merge(d);
    const mem = process.memoryUsage();
    reply.header('Content-Type', 'text/plain; version=0.0.4; charset=utf-8');
    return Metrics.render(all.dump(), {
      datakit_gateway_config_version: core.version,
      datakit_gateway_routes: st().routes.size,
      datakit_gateway_plugins: st().plugins.size,
      datakit_gateway_admin_process_heap_bytes: mem.heapUsed,
      // database mode: the process that owns the database answers the scrape (the cluster primary)
      ...(core.store ? { datakit_database_reachable: core.databaseReachable ? 1 : 0, datakit_database_config_version: core.dbVersion } : {}),
    });
  });

  /* ---------------- declarative ---------------- */
  app.get('/config', async (req) => {
    const doc = exportState(st());
    if ((req.query as Params).format === 'json') return doc;
    return { config: YAML.stringify(doc) };
  });

  app.post('/config', async (req, reply) => {
    let input: string | Rec;
    if (typeof req.body === 'string') input = req.body;
    else {
      const b = bodyOf(req);
      input = typeof b.config === 'string' ? b.config : b.config && typeof b.config === 'object' && !b._format_version ? (b.config as Rec) : b;
    }
    const doc = parseDocument(input);
    const previous = core.configHash;
    // Kong: with check_hash=1 the same configuration is not loaded again
    if ((req.query as Params).check_hash === '1' && documentHash(doc) === previous) {
      core.logger.info({ hash: previous }, 'configuration unchanged (check_hash)');
      return reply.code(304).send();
    }
    await core.applyDocument(doc);
    core.logger.info({ hash: core.configHash, previous_hash: previous, version: core.version }, 'configuration loaded');
    return reply.code(201).send(exportState(st()));
  });

  /* ---------------- schemas and tags ---------------- */
  app.get('/schemas/:entity', async (req) => {
    const name = (req.params as Params).entity;
    const coll = (COLLECTIONS as readonly string[]).includes(name) ? (name as Collection) : name === 'key-auths' ? 'keyauth_credentials' : undefined;
    if (!coll) throw new GatewayError(404, { message: `No entity named '${name}'` });
    return { fields: Object.entries(SCHEMAS[coll]).map(([field, spec]) => ({ [field]: fieldSchema(field, spec) })) };
  });
  // Kong: validate an entity without storing it (against the current entities, for foreign keys and uniqueness)
  app.post('/schemas/:entity/validate', async (req) => {
    const name = (req.params as Params).entity;
    if (!(COLLECTIONS as readonly string[]).includes(name)) throw new GatewayError(404, { message: `No entity named '${name}'` });
    st().clone().upsert(name as Collection, bodyOf(req));
    return { message: 'schema validation successful' };
  });
  const tagRows = (only?: string) => {
    const rows: Rec[] = [];
    for (const coll of COLLECTIONS) {
      for (const e of st().list(coll)) {
        if (!Array.isArray(e.tags)) continue;
        for (const tag of e.tags as string[]) if (only === undefined || tag === only) rows.push({ entity_name: coll, entity_id: e.id, tag });
      }
    }
    return rows;
  };
  app.get('/tags', async (req) => list(req, tagRows()));
  app.get('/tags/:tag', async (req) => list(req, tagRows((req.params as Params).tag)));

  app.get('/schemas/plugins/:name', async (req) => {
    const def = core.registry.get((req.params as Params).name);
    if (!def) throw new GatewayError(404, { message: `No plugin named '${(req.params as Params).name}'` });
    return { name: def.name, version: def.version, priority: def.priority, fields: [{ config: def.schema }], config: def.schema };
  });
  app.post('/schemas/plugins/validate', async (req) => {
    const b = bodyOf(req);
    await core.prepare(b);
    const s = st().clone();
    s.upsert('plugins', b);
    return { message: 'schema validation successful' };
  });
  app.get('/plugins/enabled', async () => ({ enabled_plugins: core.registry.names() }));

  /* ---------------- generic CRUD ---------------- */
  // a plugin's templates compile in a worker thread first: the change itself then runs on the event loop in no time
  const prepare = (coll: Collection, input: Rec) => (coll === 'plugins' ? core.prepare(input) : undefined);
  const create = async (coll: Collection, input: Rec) => {
    await prepare(coll, input);
    return core.mutate((s) => s.upsert(coll, input));
  };
  const get = (coll: Collection, key: string) => st().mustGet(coll, key);
  const patch = async (coll: Collection, key: string, input: Rec) => {
    await prepare(coll, input);
    return core.mutate((s) => s.upsert(coll, input, { existing: s.mustGet(coll, key), partial: true }));
  };
  const put = async (coll: Collection, key: string, input: Rec) => {
    await prepare(coll, input);
    return core.mutate((s) => {
      const existing = s.get(coll, key);
      if (existing) return s.upsert(coll, { ...input, id: existing.id, created_at: existing.created_at }, { existing });
      const nf = coll === 'consumers' ? 'username' : coll === 'vaults' ? 'prefix' : 'name';
      return s.upsert(coll, isUuid(key) ? { ...input, id: key } : { ...input, [nf]: key });
    });
  };
  const del = async (coll: Collection, key: string) => {
    const e = st().get(coll, key);
    if (!e) return;
    await core.mutate((s) => s.remove(coll, e.id));
  };

  // Kong: the plugins linked to a partial, as {id, name, instance_name}, with their count
  app.get('/partials/:key/links', async (req) => {
    const partial = get('partials', (req.params as Params).key);
    const links = st().linkedPlugins(partial.id).map((p) => ({ id: p.id, name: p.name, instance_name: p.instance_name ?? null }));
    return { ...(list(req, links) as Rec), count: links.length };
  });

  for (const [path, coll] of COLL_PATHS) {
    app.get(`/${path}`, async (req) => {
      let items = tagged(req, st().list(coll));
      const q = req.query as Params;
      if (coll === 'plugins' && q.name) items = items.filter((e) => e.name === q.name);
      return list(req, items.map((e) => view(coll, e)));
    });
    if (coll === 'targets') continue;
    app.post(`/${path}`, async (req, reply) => {
      refuseEntityWrite(req, coll);
      return reply.code(201).send(await create(coll, bodyOf(req)));
    });
    app.get(`/${path}/:key`, async (req) => view(coll, get(coll, (req.params as Params).key)));
    app.patch(`/${path}/:key`, async (req) => {
      refuseEntityWrite(req, coll, (req.params as Params).key);
      return patch(coll, (req.params as Params).key, bodyOf(req));
    });
    app.put(`/${path}/:key`, async (req) => {
      refuseEntityWrite(req, coll, (req.params as Params).key);
      return put(coll, (req.params as Params).key, bodyOf(req));
    });
    app.delete(`/${path}/:key`, async (req, reply) => {
      refuseEntityWrite(req, coll, (req.params as Params).key);
      await del(coll, (req.params as Params).key);
      return reply.code(204).send();
    });
  }

  /* ---------------- nested ---------------- */
  const nested = (
    parentPath: string,
    parentColl: Collection,
    childPath: string,
    childColl: Collection,
    field: string,
  ) => {
    const parent = (req: FastifyRequest) => st().mustGet(parentColl, (req.params as Params).parent);
    const child = (req: FastifyRequest) => {
      const p = parent(req);
      const key = (req.params as Params).key;
      const e = st().get(childColl, key);
      const byTarget = childColl === 'targets' ? st().list('targets').find((t) => t.target === key && (t.upstream as Rec).id === p.id) : undefined;
      const found = e ?? byTarget;
      if (!found || (found[field] as Rec | null)?.id !== p.id) throw notFound();
      return found;
    };
    app.get(`/${parentPath}/:parent/${childPath}`, async (req) => {
      const p = parent(req);
      return list(req, tagged(req, st().list(childColl)).filter((e) => (e[field] as Rec | null)?.id === p.id).map((e) => view(childColl, e)));
    });
    app.post(`/${parentPath}/:parent/${childPath}`, async (req, reply) => {
      const p = parent(req);
      refuseEntityWrite(req, childColl);
      return reply.code(201).send(await create(childColl, { ...bodyOf(req), [field]: { id: p.id } }));
    });
    app.get(`/${parentPath}/:parent/${childPath}/:key`, async (req) => view(childColl, child(req)));
    app.patch(`/${parentPath}/:parent/${childPath}/:key`, async (req) => {
      const c = child(req);
      refuseEntityWrite(req, childColl, (req.params as Params).key);
      return patch(childColl, c.id, bodyOf(req));
    });
    app.put(`/${parentPath}/:parent/${childPath}/:key`, async (req) => {
      const p = parent(req);
      const key = (req.params as Params).key;
      refuseEntityWrite(req, childColl, key);
      return put(childColl, key, { ...bodyOf(req), [field]: { id: p.id } });
    });
    app.delete(`/${parentPath}/:parent/${childPath}/:key`, async (req, reply) => {
      const c = child(req);
      refuseEntityWrite(req, childColl, (req.params as Params).key);
      await core.mutate((s) => s.remove(childColl, c.id));
      return reply.code(204).send();
    });
  };
  nested('services', 'services', 'routes', 'routes', 'service');
  nested('services', 'services', 'plugins', 'plugins', 'service');
  nested('routes', 'routes', 'plugins', 'plugins', 'route');
  nested('consumers', 'consumers', 'plugins', 'plugins', 'consumer');
  nested('consumer_groups', 'consumer_groups', 'plugins', 'plugins', 'consumer_group');
  nested('consumers', 'consumers', 'key-auth', 'keyauth_credentials', 'consumer');
  nested('upstreams', 'upstreams', 'targets', 'targets', 'upstream');

  app.get('/routes/:key/service', async (req) => {
    const r = get('routes', (req.params as Params).key);
    const sid = (r.service as Rec | null)?.id as string | undefined;
    if (!sid) throw notFound();
    return get('services', sid);
  });
  app.get('/plugins/:key/route', async (req) => {
    const p = get('plugins', (req.params as Params).key);
    const rid = (p.route as Rec | null)?.id as string | undefined;
    if (!rid) throw notFound();
    return get('routes', rid);
  });

  /* ---------------- consumer group membership ---------------- */
  const memberRefs = (b: Rec, key: string): string[] => {
    const v = b[key];
    if (typeof v === 'string') return [v];
    if (Array.isArray(v)) return v.map(String);
    throw new GatewayError(400, { code: 2, name: 'schema violation', message: `schema violation (${key}: required field missing)`, fields: { [key]: 'required field missing' } });
  };
  app.get('/consumer_groups/:g/consumers', async (req) => {
    const g = get('consumer_groups', (req.params as Params).g);
    return list(req, st().membersOf(g.id));
  });
  app.post('/consumer_groups/:g/consumers', async (req, reply) => {
    const g = get('consumer_groups', (req.params as Params).g);
    refuseEntityWrite(req, 'consumer_group_consumers');
    const refs = memberRefs(bodyOf(req), 'consumer');
    const consumers = refs.map((r) => {
      const c = st().get('consumers', r);
      if (!c) throw new GatewayError(404, { message: `Consumer '${r}' not found` });
      return c;
    });
    await core.mutate((s) => consumers.forEach((c) => s.memberships.add(`${g.id}|${c.id}`)));
    return reply.code(201).send({ consumer_group: g, consumers });
  });
  app.delete('/consumer_groups/:g/consumers', async (req, reply) => {
    const g = get('consumer_groups', (req.params as Params).g);
    refuseEntityWrite(req, 'consumer_group_consumers');
    await core.mutate((s) => {
      for (const k of [...s.memberships]) if (k.startsWith(`${g.id}|`)) s.memberships.delete(k);
    });
    return reply.code(204).send();
  });
  app.delete('/consumer_groups/:g/consumers/:c', async (req, reply) => {
    const g = get('consumer_groups', (req.params as Params).g);
    const c = get('consumers', (req.params as Params).c);
    if (!st().memberships.has(`${g.id}|${c.id}`)) throw notFound();
    refuseEntityWrite(req, 'consumer_group_consumers');
    await core.mutate((s) => s.memberships.delete(`${g.id}|${c.id}`));
    return reply.code(204).send();
  });
  app.get('/consumers/:c/consumer_groups', async (req) => {
    const c = get('consumers', (req.params as Params).c);
    return list(req, st().groupsOf(c.id));
  });
  app.post('/consumers/:c/consumer_groups', async (req, reply) => {
    const c = get('consumers', (req.params as Params).c);
    refuseEntityWrite(req, 'consumer_group_consumers');
    const refs = memberRefs(bodyOf(req), 'group');
    const groups = refs.map((r) => {
      const g = st().get('consumer_groups', r);
      if (!g) throw new GatewayError(404, { message: `Consumer group '${r}' not found` });
      return g;
    });
    await core.mutate((s) => groups.forEach((g) => s.memberships.add(`${g.id}|${c.id}`)));
    return reply.code(201).send({ consumer: c, consumer_groups: groups });
  });
  app.delete('/consumers/:c/consumer_groups/:g', async (req, reply) => {
    const g = get('consumer_groups', (req.params as Params).g);
    const c = get('consumers', (req.params as Params).c);
    if (!st().memberships.has(`${g.id}|${c.id}`)) throw notFound();
    refuseEntityWrite(req, 'consumer_group_consumers');
    await core.mutate((s) => s.memberships.delete(`${g.id}|${c.id}`));
    return reply.code(204).send();
  });

  // the flow studio page (host/studio), behind the same access rules
  registerStudio(app);

  return app;
}

export type { FastifyReply };
