/**
 * request-transformer, as Kong: remove, rename, replace, add, append (in that
 * order) for headers, querystring and body (JSON and form). Values may hold
 * vault references, resolved through the gateway's secret manager per request
 * (cached, re-resolved on its TTL).
 */
import { compileSchema, validateWith } from './schema.js';
import { bodyKind, encodeForm, encodeQuery, parseForm, parseQuery } from './body.js';
import { isVaultReference } from '../secrets/reference.js';
import type { PluginDef, PluginEnv, RequestCtx } from './types.js';

const list = { type: 'array', items: { type: 'string' }, default: [] as string[] };
const colonList = { type: 'array', items: { type: 'string', pattern: '^[^:]+:' }, default: [] as string[] };
const colonOrRef = { type: 'array', items: { type: 'string', pattern: '(^[^:]+:)|(^\\{vault://)' }, default: [] as string[] };

export const requestTransformerSchema = {
  name: 'request-transformer',
  type: 'object',
  additionalProperties: false,
  properties: {
    http_method: { type: ['string', 'null'], pattern: '^[A-Z]+$', default: null },
    remove: {
      type: 'object', additionalProperties: false, default: {},
      properties: { headers: list, querystring: list, body: list },
    },
    rename: {
      type: 'object', additionalProperties: false, default: {},
      properties: { headers: colonList, querystring: colonList, body: colonList },
    },
    replace: {
      type: 'object', additionalProperties: false, default: {},
      properties: { uri: { type: ['string', 'null'], default: null }, headers: colonOrRef, querystring: colonOrRef, body: colonOrRef },
    },
    add: {
      type: 'object', additionalProperties: false, default: {},
      properties: { headers: colonOrRef, querystring: colonOrRef, body: colonOrRef },
    },
    append: {
      type: 'object', additionalProperties: false, default: {},
      properties: { headers: colonOrRef, querystring: colonOrRef, body: colonOrRef },
    },
  },
};

const validate = compileSchema(requestTransformerSchema);

type Part = { headers: string[]; querystring: string[]; body: string[] };
interface RTConfig {
  http_method: string | null;
  remove: Part;
  rename: Part;
  replace: Part & { uri: string | null };
  add: Part;
  append: Part;
}

function splitPair(s: string): [string, string] {
  const i = s.indexOf(':');
  return i < 0 ? [s, ''] : [s.slice(0, i), s.slice(i + 1)];
}

export function requestTransformerPlugin(): PluginDef {
  return {
    name: 'request-transformer',
    priority: 801,
    version: '3.11.0',
    schema: requestTransformerSchema,
    validate(config) {
      const r = validateWith(validate, config);
      return r;
    },
    create(config: Record<string, unknown>, env: PluginEnv) {
      const c = config as unknown as RTConfig;
      // resolves a "name:value" entry (whole-entry reference, or references inside the value)
      const pair = (entry: string): [string, string] => {
        if (isVaultReference(entry)) return splitPair(env.secrets.resolve(entry));
        const [k, v] = splitPair(entry);
        return [k, env.secrets.interpolate(v)];
      };
      // warm the cache: a bad reference shows up when the plugin is configured
      for (const phase of [c.replace, c.add, c.append]) {
        for (const e of [...phase.headers, ...phase.querystring, ...phase.body]) {
          try {
            pair(e);
          } catch (err) {
            env.logger.warn({ plugin: 'request-transformer', err: (err as Error).message }, 'could not resolve a vault reference');
          }
        }
      }
      const bodyOps = ['remove', 'rename', 'replace', 'add', 'append'].some((k) => (c[k as keyof RTConfig] as Part).body.length > 0);
      const queryOps = ['remove', 'rename', 'replace', 'add', 'append'].some((k) => (c[k as keyof RTConfig] as Part).querystring.length > 0);

      return {
        async access(ctx: RequestCtx) {
          if (c.http_method) ctx.upstreamMethod = c.http_method;
          // headers
          const h = ctx.headers;
          for (const name of c.remove.headers) h.delete(name);
          for (const e of c.rename.headers) {
            const [from, to] = splitPair(e);
            const v = h.getAll(from);
            if (v !== undefined) {
              h.delete(from);
              h.set(to, v);
            }
          }
          for (const e of c.replace.headers) {
            const [k, v] = pair(e);
            if (h.has(k)) h.set(k, v);
          }
          for (const e of c.add.headers) {
            const [k, v] = pair(e);
            if (!h.has(k)) h.set(k, v);
          }
          for (const e of c.append.headers) {
            const [k, v] = pair(e);
            h.append(k, v);
          }
          // querystring
          if (queryOps) {
            const q = parseQuery(ctx.query);
            for (const name of c.remove.querystring) delete q[name];
            for (const e of c.rename.querystring) {
              const [from, to] = splitPair(e);
              if (from in q) {
                q[to] = q[from];
                delete q[from];
              }
            }
            for (const e of c.replace.querystring) {
              const [k, v] = pair(e);
              if (k in q) q[k] = v;
            }
            for (const e of c.add.querystring) {
              const [k, v] = pair(e);
              if (!(k in q)) q[k] = v;
            }
            for (const e of c.append.querystring) {
              const [k, v] = pair(e);
              const prev = q[k];
              if (prev === undefined) q[k] = v;
              else q[k] = [...(Array.isArray(prev) ? prev : [prev ?? '']), v];
            }
            ctx.query = encodeQuery(q);
          }
          if (c.replace.uri) ctx.upstreamPath = c.replace.uri;
          // body
          if (bodyOps) {
            const kind = bodyKind(h.get('content-type'));
            if (kind !== 'json' && kind !== 'form') return;
            const raw = (await ctx.readBody()).toString('utf8');
            let obj: Record<string, unknown>;
            if (kind === 'json') {
              try {
                const parsed = raw.trim() === '' ? {} : JSON.parse(raw);
                if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return;
                obj = parsed as Record<string, unknown>;
              } catch {
                return;
              }
            } else obj = parseForm(raw);
            for (const name of c.remove.body) delete obj[name];
            for (const e of c.rename.body) {
              const [from, to] = splitPair(e);
              if (from in obj) {
                obj[to] = obj[from];
                delete obj[from];
              }
            }
            for (const e of c.replace.body) {
              const [k, v] = pair(e);
              if (k in obj) obj[k] = v;
            }
            for (const e of c.add.body) {
              const [k, v] = pair(e);
              if (!(k in obj)) obj[k] = v;
            }
            for (const e of c.append.body) {
              const [k, v] = pair(e);
              const prev = obj[k];
              if (prev === undefined) obj[k] = v;
              else obj[k] = [...(Array.isArray(prev) ? prev : [prev]), v];
            }
            ctx.body = Buffer.from(kind === 'json' ? JSON.stringify(obj) : encodeForm(obj as Record<string, string | string[]>));
          }
        },
      };
    },
  };
}
