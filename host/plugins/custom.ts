/**
 * Custom plugins: JS modules exporting `name`, `priority`, `version`, `schema`
 * (a JSON Schema for `config`, whose `name` must equal the module's) and phase
 * handlers `access(kong, config)`, `response(kong, config)`, `log(kong, config)`
 * receiving a small PDK-like context.
 */
import { readdir, stat } from 'node:fs/promises';
import { extname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { compileSchema, validateWith } from './schema.js';
import { encodeQuery, parseQuery } from './body.js';
import type { PluginDef, PluginEnv, RequestCtx } from './types.js';

export class PluginLoadError extends Error {}

type Handler = (kong: Record<string, unknown>, config: Record<string, unknown>) => unknown;

interface CustomModule {
  name?: unknown;
  priority?: unknown;
  version?: unknown;
  schema?: unknown;
  access?: unknown;
  response?: unknown;
  log?: unknown;
  needs?: { requestBody?: boolean; responseBody?: boolean };
}

async function moduleFiles(p: string): Promise<string[]> {
  const abs = resolve(p);
  let st;
  try {
    st = await stat(abs);
  } catch {
    throw new PluginLoadError(`custom plugin path ${abs} does not exist`);
  }
  if (st.isFile()) return [abs];
  const out: string[] = [];
  for (const entry of (await readdir(abs, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name))) {
    if (entry.isFile() && ['.js', '.mjs'].includes(extname(entry.name))) out.push(join(abs, entry.name));
    else if (entry.isDirectory()) {
      for (const idx of ['index.js', 'index.mjs', 'handler.js']) {
        try {
          if ((await stat(join(abs, entry.name, idx))).isFile()) {
            out.push(join(abs, entry.name, idx));
            break;
          }
        } catch {
          /* next */
        }
      }
    }
  }
  return out;
}

/** Loads every module from the given files/directories; throws PluginLoadError with a clear message. */
export async function loadCustomPlugins(paths: string[], reserved: Set<string>): Promise<PluginDef[]> {
  const defs: PluginDef[] = [];
  const seen = new Set<string>();
  for (const p of paths) {
    for (const file of await moduleFiles(p)) {
      const def = await loadOne(file);
      if (reserved.has(def.name)) throw new PluginLoadError(`custom plugin ${file}: name "${def.name}" clashes with a bundled plugin`);
      if (seen.has(def.name)) throw new PluginLoadError(`custom plugin ${file}: duplicate plugin name "${def.name}"`);
      seen.add(def.name);
      defs.push(def);
    }
  }
  return defs;
}

async function loadOne(file: string): Promise<PluginDef> {
  let mod: CustomModule;
  try {
    const m = (await import(pathToFileURL(file).href)) as CustomModule & { default?: CustomModule };
    mod = m.default && typeof m.default === 'object' && !m.name ? m.default : m;
  } catch (e) {
    throw new PluginLoadError(`custom plugin ${file}: failed to load: ${(e as Error).message}`);
  }
  const fail = (msg: string): never => {
    throw new PluginLoadError(`custom plugin ${file}: ${msg}`);
  };
  if (typeof mod.name !== 'string' || !/^[a-z0-9][a-z0-9_-]*$/.test(mod.name)) fail('`name` must be a lower-case string (letters, digits, - and _)');
  const name = mod.name as string;
  if (typeof mod.priority !== 'number' || !Number.isFinite(mod.priority)) fail('`priority` must be a number');
  if (typeof mod.version !== 'string') fail('`version` must be a string');
  if (!mod.schema || typeof mod.schema !== 'object') fail('`schema` (a JSON Schema for the config) is required');
  const schema = mod.schema as Record<string, unknown>;
  const schemaName = schema.name ?? schema.title;
  if (schemaName !== name) fail(`the schema's name ("${String(schemaName)}") must equal the plugin's name ("${name}")`);
  for (const h of ['access', 'response', 'log'] as const) {
    if (mod[h] !== undefined && typeof mod[h] !== 'function') fail(`\`${h}\` must be a function`);
  }
  if (!mod.access && !mod.response && !mod.log) fail('at least one phase handler (access, response, log) is required');
  let validate;
  try {
    validate = compileSchema(schema);
  } catch (e) {
    return fail(`invalid schema: ${(e as Error).message}`);
  }
  const access = mod.access as Handler | undefined;
  const response = mod.response as Handler | undefined;
  const log = mod.log as Handler | undefined;
  const needs = mod.needs ?? {};
  const def: PluginDef = {
    name,
    priority: mod.priority as number,
    version: mod.version as string,
    schema,
    custom: true,
    validate: (config) => validateWith(validate, config ?? {}),
    create(config: Record<string, unknown>, env: PluginEnv) {
      const logger = env.logger.child({ plugin: name });
      const frozen = Object.freeze(structuredClone(config));
      const self = {
        access: access
          ? async (ctx: RequestCtx) => {
              if (needs.requestBody) await ctx.readBody();
              await access(pdk(ctx, self, 'access', logger), frozen);
            }
          : undefined,
        wantsResponse: response ? () => (needs.responseBody === false ? ('headers' as const) : ('body' as const)) : undefined,
        response: response ? async (ctx: RequestCtx) => void (await response(pdk(ctx, self, 'response', logger), frozen)) : undefined,
        log: log
          ? (ctx: RequestCtx) => {
              try {
                const r = log(pdk(ctx, self, 'log', logger), frozen);
                if (r && typeof (r as Promise<unknown>).catch === 'function') (r as Promise<unknown>).catch((e) => logger.error({ err: (e as Error).message }, 'log handler failed'));
              } catch (e) {
                logger.error({ err: (e as Error).message }, 'log handler failed');
              }
            }
          : undefined,
      };
      return self;
    },
  };
  return def;
}

type PinoLike = PluginEnv['logger'];

/** The PDK-like context handed to custom plugin handlers. */
export function pdk(ctx: RequestCtx, instance: object, phase: string, logger: PinoLike): Record<string, unknown> {
  const toBuf = (b: unknown) => (typeof b === 'string' ? Buffer.from(b) : b instanceof Uint8Array ? Buffer.from(b) : Buffer.from(JSON.stringify(b)));
  return {
    phase,
    requestId: ctx.requestId,
    request: {
      getMethod: () => ctx.method,
      getScheme: () => ctx.scheme,
      getHost: () => ctx.host,
      getPort: () => ctx.port,
      getPath: () => ctx.path,
      getRawPath: () => ctx.rawPath,
      getHeader: (n: string) => ctx.headers.get(n),
      getHeaders: () => ctx.headers.toRecord(),
      getQuery: () => parseQuery(ctx.query),
      getRawQuery: () => ctx.query,
      getBody: async () => (await ctx.readBody()).toString('utf8'),
    },
    serviceRequest: {
      setHeader: (n: string, v: string | string[]) => ctx.headers.set(n, v),
      addHeader: (n: string, v: string) => ctx.headers.append(n, v),
      clearHeader: (n: string) => ctx.headers.delete(n),
      setQuery: (q: string | Record<string, unknown>) => {
        ctx.query = typeof q === 'string' ? q.replace(/^\?/, '') : encodeQuery(q);
      },
      setPath: (p: string) => {
        ctx.upstreamPath = p;
      },
      setMethod: (m: string) => {
        ctx.upstreamMethod = m.toUpperCase();
      },
      setBody: (b: unknown) => {
        ctx.body = toBuf(b);
      },
    },
    response: {
      exit: (status: number, body?: unknown, headers?: Record<string, string>) =>
        ctx.exit({ status, body: body as string | object | undefined, headers }),
      getStatus: () => ctx.upstreamResponse?.status ?? ctx.exited?.status,
      getHeader: (n: string) => ctx.upstreamResponse?.headers.get(n),
      getHeaders: () => ctx.upstreamResponse?.headers.toRecord() ?? {},
      setStatus: (s: number) => {
        if (ctx.upstreamResponse) ctx.upstreamResponse.status = s;
      },
      setHeader: (n: string, v: string | string[]) => ctx.upstreamResponse?.headers.set(n, v),
      clearHeader: (n: string) => ctx.upstreamResponse?.headers.delete(n),
      getBody: () => ctx.upstreamResponse?.body?.toString('utf8'),
      setBody: (b: unknown) => {
        if (ctx.upstreamResponse) {
          ctx.upstreamResponse.body = toBuf(b);
          ctx.upstreamResponse.bodyReplaced = true;
        }
      },
      getSource: () => ctx.responseSource,
      getFinalStatus: () => ctx.finalStatus,
    },
    client: {
      getIp: () => ctx.clientIp,
      getPort: () => ctx.clientPort,
      getConsumer: () => ctx.consumer,
      getCredential: () => ctx.credential,
      getConsumerGroups: () => ctx.consumerGroups,
      authenticate: (q: { id?: string; username?: string; custom_id?: string }) => {
        const c = ctx.findConsumer(q);
        if (!c) throw new Error('consumer not found');
        ctx.authenticate(c, null);
      },
    },
    router: { getRoute: () => ctx.route, getService: () => ctx.service },
    ctx: { shared: ctx.shared, plugin: ctx.pluginData(instance) },
    log: {
      debug: (...a: unknown[]) => logger.debug({ request_id: ctx.requestId }, a.map(String).join(' ')),
      info: (...a: unknown[]) => logger.info({ request_id: ctx.requestId }, a.map(String).join(' ')),
      warn: (...a: unknown[]) => logger.warn({ request_id: ctx.requestId }, a.map(String).join(' ')),
      error: (...a: unknown[]) => logger.error({ request_id: ctx.requestId }, a.map(String).join(' ')),
    },
  };
}
