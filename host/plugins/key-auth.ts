/** key-auth, as Kong: API key in a header, the query string or the body; consumers via credentials. */
import { compileSchema, validateWith } from './schema.js';
import { bodyKind, encodeForm, encodeQuery, parseForm, parseQuery } from './body.js';
import type { Entity, PluginDef, PluginEnv, RequestCtx } from './types.js';

export const keyAuthSchema = {
  name: 'key-auth',
  type: 'object',
  additionalProperties: false,
  properties: {
    key_names: { type: 'array', items: { type: 'string', pattern: '^[A-Za-z0-9_\\-.]+$' }, minItems: 1, default: ['apikey'] },
    hide_credentials: { type: 'boolean', default: false },
    anonymous: { type: ['string', 'null'], default: null },
    key_in_header: { type: 'boolean', default: true },
    key_in_query: { type: 'boolean', default: true },
    key_in_body: { type: 'boolean', default: false },
    run_on_preflight: { type: 'boolean', default: true },
    realm: { type: ['string', 'null'], default: null },
  },
};

const validate = compileSchema(keyAuthSchema);

export interface KeyAuthLookup {
  /** credential by key, with its consumer */
  byKey(key: string): { credential: Entity; consumer: Entity } | undefined;
}

interface KeyAuthConfig {
  key_names: string[];
  hide_credentials: boolean;
  anonymous: string | null;
  key_in_header: boolean;
  key_in_query: boolean;
  key_in_body: boolean;
  run_on_preflight: boolean;
  realm: string | null;
}

export function keyAuthPlugin(lookup: () => KeyAuthLookup): PluginDef {
  return {
    name: 'key-auth',
    priority: 1250,
    version: '3.11.0',
    schema: keyAuthSchema,
    noConsumer: true,
    validate: (config) => validateWith(validate, config),
    create(config: Record<string, unknown>, _env: PluginEnv) {
      const conf = config as unknown as KeyAuthConfig;
      const wwwAuth = conf.realm ? `Key realm="${conf.realm}"` : 'Key';
      const fail = (ctx: RequestCtx, status: number, message: string) =>
        ctx.exit({ status, body: { message }, headers: status === 401 ? { 'WWW-Authenticate': wwwAuth } : {} });

      const setAnonymous = (ctx: RequestCtx): boolean => {
        const anon = ctx.findConsumer({ id: conf.anonymous! }) ?? ctx.findConsumer({ username: conf.anonymous! });
        if (!anon) {
          ctx.log.error({ anonymous: conf.anonymous }, 'key-auth: anonymous consumer not found');
          fail(ctx, 500, 'An unexpected error occurred');
          return false;
        }
        ctx.authenticate(anon, null);
        ctx.headers.set('X-Anonymous-Consumer', 'true');
        setConsumerHeaders(ctx, anon, null);
        return true;
      };

      return {
        async access(ctx) {
          if (!conf.run_on_preflight && ctx.method === 'OPTIONS') return;
          if (conf.anonymous && ctx.credential) return; // already authenticated (logical OR)
          let key: string | undefined;
          let dup = false;
          let where: { kind: 'header' | 'query' | 'body'; name: string } | undefined;
          let query: Record<string, string | string[] | null> | undefined;
          let body: Record<string, unknown> | undefined;
          let kind: ReturnType<typeof bodyKind> | undefined;
          for (const name of conf.key_names) {
            if (conf.key_in_header) {
              const v = ctx.headers.getAll(name);
              if (v !== undefined) {
                if (Array.isArray(v)) dup = true;
                else key = v;
                where = { kind: 'header', name };
                break;
              }
            }
            if (conf.key_in_query) {
              query ??= parseQuery(ctx.query);
              const v = query[name];
              if (v !== undefined && v !== null) {
                if (Array.isArray(v)) dup = true;
                else key = v;
                where = { kind: 'query', name };
                break;
              }
            }
            if (conf.key_in_body) {
              if (!body) {
                kind = bodyKind(ctx.headers.get('content-type'));
                const raw = (await ctx.readBody()).toString('utf8');
                try {
                  body = kind === 'json' ? (JSON.parse(raw || '{}') as Record<string, unknown>) : kind === 'form' ? parseForm(raw) : {};
                } catch {
                  body = {};
                }
                if (!body || typeof body !== 'object') body = {};
              }
              const v = body[name];
              if (v !== undefined && v !== null) {
                if (Array.isArray(v)) dup = true;
                else key = String(v);
                where = { kind: 'body', name };
                break;
              }
            }
          }
          if (dup) return fail(ctx, 401, 'Duplicate API key found');
          if (key === undefined || key === '') {
            if (conf.anonymous) return void setAnonymous(ctx);
            return fail(ctx, 401, 'No API key found in request');
          }
          const found = lookup().byKey(key);
          if (!found) {
            if (conf.anonymous) return void setAnonymous(ctx);
            return fail(ctx, 401, 'Unauthorized');
          }
          if (conf.hide_credentials && where) {
            if (where.kind === 'header') ctx.headers.delete(where.name);
            else if (where.kind === 'query' && query) {
              delete query[where.name];
              ctx.query = encodeQuery(query);
            } else if (where.kind === 'body' && body) {
              delete body[where.name];
              ctx.body = Buffer.from(kind === 'json' ? JSON.stringify(body) : encodeForm(body as Record<string, string>));
            }
          }
          ctx.authenticate(found.consumer, found.credential);
          ctx.headers.delete('X-Anonymous-Consumer');
          setConsumerHeaders(ctx, found.consumer, found.credential);
        },
      };
    },
  };
}

function setConsumerHeaders(ctx: RequestCtx, consumer: Entity, credential: Entity | null): void {
  ctx.headers.set('X-Consumer-ID', consumer.id);
  if (consumer.username) ctx.headers.set('X-Consumer-Username', String(consumer.username));
  else ctx.headers.delete('X-Consumer-Username');
  if (consumer.custom_id) ctx.headers.set('X-Consumer-Custom-ID', String(consumer.custom_id));
  else ctx.headers.delete('X-Consumer-Custom-ID');
  if (credential) ctx.headers.set('X-Credential-Identifier', credential.id);
  else ctx.headers.delete('X-Credential-Identifier');
  const groups = ctx.consumerGroups.map((g) => String(g.name));
  if (groups.length) ctx.headers.set('X-Consumer-Groups', groups.join(', '));
}
