/**
 * The datakit plugin: runs a flow (the wasm engine, host/index.ts) around the
 * proxied request. Builds RequestInfo from the request, backs the flow's
 * properties with gateway data, applies service request changes / exits, and
 * drives the response phase when the flow asks for it.
 */
import type { Logger as PinoLogger } from 'pino';
import { encodeQuery, parseQuery } from './body.js';
import type { DatakitLike, Entity, FlowLike, FlowRunLike, MetricSeries, PluginDef, PluginEnv, RequestCtx } from './types.js';
import type { ClientResponse, Logger, LogLevel, NodeTiming, PropertyProvider, RequestInfo, ValidationError } from '../types.js';
import type { SecretManager } from '../secrets/manager.js';
import { checkLimits, FLOW_LIMITS, type Limits } from '../limits.js';

export const GATEWAY_VERSION = '3.11.0';

export const datakitSchema = {
  name: 'datakit',
  type: 'object',
  description: 'Datakit flow configuration (validated by the engine: nodes, resources, debug).',
  properties: {
    debug: { type: 'boolean', default: false },
    resources: { type: 'object' },
    limits: { type: 'object', description: "this flow's budgets and buffer limits (docs/SECURITY.md)" },
    nodes: { type: 'array', items: { type: 'object' } },
  },
  required: ['nodes'],
};

/** Loads the engine (host/index.ts) once; resolves to an error text when it is not available. */
export async function loadEngine(secrets: SecretManager, logger: PinoLogger): Promise<{ datakit?: DatakitLike; error?: string }> {
  const spec = '../index.js';
  try {
    // dynamic: the gateway still runs (and rejects datakit plugins clearly) when the engine is absent
    const mod = (await import(spec)) as Partial<typeof import('../index.js')>;
    if (!mod.Datakit) return { error: 'datakit engine unavailable: host/index.js exports no Datakit' };
    const engineLogger: Logger = {
      log(level: LogLevel, message: string, fields?: Record<string, unknown>) {
        const lvl = level === 'trace' ? 'trace' : level;
        logger[lvl]({ component: 'datakit', ...maskFields(secrets, fields) }, secrets.mask(message));
      },
    };
    const datakit: DatakitLike = await mod.Datakit.create({ secrets, logger: engineLogger });
    return { datakit };
  } catch (e) {
    return { error: `datakit engine unavailable: ${(e as Error).message}` };
  }
}

function maskFields(secrets: SecretManager, fields?: Record<string, unknown>): Record<string, unknown> {
  if (!fields) return {};
  try {
    return JSON.parse(secrets.mask(JSON.stringify(fields))) as Record<string, unknown>;
  } catch {
    return {};
  }
}

/** `config.limits` is the host's business (budgets), not the flow's: the engine never sees it. */
function splitLimits(config: Record<string, unknown>): { flowConfig: Record<string, unknown>; limits?: Partial<Limits> } {
  if (!('limits' in config)) return { flowConfig: config };
  const { limits, ...flowConfig } = config;
  return { flowConfig, limits: limits as Partial<Limits> };
}

export function formatValidationErrors(errs: ValidationError[]): string[] {
  return errs.map((e) => e.message);
}

interface RunState {
  run?: FlowRunLike;
  /** this route's node series */
  series?: MetricSeries[];
  /** the route's metric label (name or id) */
  route?: string;
  phase?: false | 'headers' | 'body';
  done?: boolean;
}

export function datakitPlugin(): PluginDef {
  return {
    name: 'datakit',
    priority: 810,
    version: GATEWAY_VERSION,
    schema: datakitSchema,
    validate(config: unknown, env: PluginEnv) {
      if (config === null || typeof config !== 'object' || Array.isArray(config)) {
        return { errors: { config: 'expected a record' } };
      }
      if (!env.datakit) return { errors: { config: env.datakitError ?? 'datakit engine unavailable' } };
      const { flowConfig, limits } = splitLimits(config as Record<string, unknown>);
      const limitErrors = checkLimits(limits, FLOW_LIMITS);
      if (limitErrors.length) return { errors: { config: limitErrors.length === 1 ? limitErrors[0] : limitErrors } };
      let errs: ValidationError[];
      try {
        errs = env.datakit.validate(flowConfig, { limits: { ...env.limits, ...limits } });
      } catch (e) {
        return { errors: { config: (e as Error).message } };
      }
      if (errs.length) {
        const msgs = formatValidationErrors(errs).map((m) => env.secrets.mask(m));
        return { errors: { config: msgs.length === 1 ? msgs[0] : msgs } };
      }
      return { config: config as Record<string, unknown> };
    },
    create(config: Record<string, unknown>, env: PluginEnv, entity: Entity) {
      if (!env.datakit) throw new Error(env.datakitError ?? 'datakit engine unavailable');
      const { flowConfig, limits } = splitLimits(config);
      const flow: FlowLike = env.datakit.load(flowConfig, { limits: { ...env.limits, ...limits } });
      const pluginId = entity.id;
      // node metric series by 1-based node index, resolved once per route (labels: route, plugin, node, type)
      const plugin = String(entity.instance_name ?? entity.id);
      const seriesByRoute = new Map<string, MetricSeries[]>();
      const seriesFor = (route: string): MetricSeries[] => {
        let s = seriesByRoute.get(route);
        if (s === undefined) {
          s = flow.nodes.map((n) => env.metrics.nodeSeries(n.name, n.type, { route, plugin }));
          if (seriesByRoute.size < 10_000) seriesByRoute.set(route, s);
        }
        return s;
      };
      const self = {
        async access(ctx: RequestCtx) {
          const state = ctx.pluginData(self) as RunState;
          const needs = flow.needs;
          const body = needs.requestBody ? await ctx.readBody() : undefined;
          // headers and query are copied only for flows that read them
          const info: RequestInfo = {
            method: ctx.method,
            path: ctx.path,
            rawPath: ctx.rawPath,
            scheme: ctx.scheme,
            host: ctx.host,
            port: ctx.port,
            version: '1.1',
            headers: needs.requestHeaders ? ctx.headers.toRecord() : undefined,
            query: needs.requestQuery ? parseQuery(ctx.query) : undefined,
            requestId: ctx.requestId,
          };
          if (body !== undefined) info.body = body;
          const t0 = performance.now();
          const routeLabel = ctx.route ? String(ctx.route.name ?? ctx.route.id) : '';
          state.route = routeLabel;
          const series = (state.series = seriesFor(routeLabel));
          let run: FlowRunLike;
          try {
            run = flow.newRequest(info, properties(ctx, self, env), { timings: true });
            state.run = run;
            const out = await run.request();
            recordTimings(series, out.timings);
            if (out.action === 'exit') {
              if (out.failure) {
                // the engine logs the failure itself (with index/name/type) through its Logger
                ctx.log.debug(
                  { request_id: ctx.requestId, plugin: 'datakit', node: out.failure.node, error: env.secrets.mask(out.failure.message) },
                  'datakit node failed',
                );
              }
              if (out.failure) series[out.failure.node.index - 1]?.fail();
              env.metrics.datakitRun(pluginId, routeLabel, !out.failure, (performance.now() - t0) / 1000);
              sendClient(ctx, out.response);
              finish(state);
              return;
            }
            const sr = out.serviceRequest;
            if (sr.headers) ctx.headers.applyPatch(sr.headers);
            if (sr.query) ctx.query = encodeQuery(sr.query);
            if (sr.body) ctx.body = asBuffer(sr.body);
            env.metrics.datakitRun(pluginId, routeLabel, true, (performance.now() - t0) / 1000);
            if (out.responsePhase) state.phase = out.responseBody ? 'body' : 'headers';
            else finish(state);
          } catch (e) {
            // the client went away: the log handler already ended the run
            if (state.done) return;
            env.metrics.datakitRun(pluginId, routeLabel, false, (performance.now() - t0) / 1000);
            ctx.log.error({ request_id: ctx.requestId, plugin: 'datakit', err: env.secrets.mask((e as Error).message) }, 'datakit flow error');
            ctx.exit({ status: 500, body: { message: 'An unexpected error occurred' } });
            finish(state);
          }
        },
        wantsResponse(ctx: RequestCtx) {
          // another plugin answered the client: there is no service response for the flow's response nodes
          if (ctx.responseSource === 'exit') return false;
          return (ctx.pluginData(self) as RunState).phase ?? false;
        },
        async response(ctx: RequestCtx) {
          const state = ctx.pluginData(self) as RunState;
          const up = ctx.upstreamResponse;
          if (!state.run || !state.phase || !up) return;
          try {
            const out = await state.run.response({
              status: up.status,
              headers: up.headers.toRecord(),
              ...(up.body !== undefined ? { body: up.body } : {}),
            });
            const series = state.series ?? [];
            recordTimings(series, out.timings);
            if (out.action === 'exit') {
              if (out.failure) {
                // the engine logs the failure itself (with index/name/type) through its Logger
                ctx.log.debug({ request_id: ctx.requestId, plugin: 'datakit', node: out.failure.node, error: env.secrets.mask(out.failure.message) }, 'datakit node failed');
                series[out.failure.node.index - 1]?.fail();
                // a response-phase failure: one failed run more, on the route's series
                env.metrics.datakitRun(pluginId, state.route ?? '', false, 0);
              }
              sendClient(ctx, out.response);
            } else {
              const r = out.response;
              if (r.status !== undefined) up.status = r.status;
              if (r.headers) up.headers.applyPatch(r.headers);
              if (r.body !== undefined) {
                up.body = asBuffer(r.body);
                up.bodyReplaced = true;
              }
            }
          } catch (e) {
            if (state.done) return;
            ctx.log.error({ request_id: ctx.requestId, plugin: 'datakit', err: env.secrets.mask((e as Error).message) }, 'datakit flow error');
            ctx.exit({ status: 500, body: { message: 'An unexpected error occurred' } });
          } finally {
            finish(state);
          }
        },
        log(ctx: RequestCtx) {
          finish(ctx.pluginData(self) as RunState);
        },
        close() {
          flow.close();
        },
      };
      return self;
    },
  };
}

function finish(state: RunState): void {
  if (state.run && !state.done) {
    state.done = true;
    try {
      state.run.done();
    } catch {
      /* ignore */
    }
  }
}

/** The engine's bytes as a Buffer without copying them (they are a fresh copy already). */
function asBuffer(b: Uint8Array): Buffer {
  return Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}

function sendClient(ctx: RequestCtx, r: ClientResponse): void {
  ctx.exit({ status: r.status, headers: r.headers, body: r.body });
}

const SECRETISH = /pass|secret|token|credential|key|cert/i;

/** PropertyProvider (spec section 3) backed by the request and the gateway. */
export function properties(ctx: RequestCtx, instance: object, env: PluginEnv): PropertyProvider {
  return new GatewayProperties(ctx, instance, env);
}

/** A class, not an object literal of closures: one small allocation per request. */
class GatewayProperties implements PropertyProvider {
  constructor(
    private readonly ctx: RequestCtx,
    private readonly instance: object,
    private readonly env: PluginEnv,
  ) {}

  get(name: string): unknown {
    const { ctx, instance, env } = this;
    switch (name) {
      case 'kong.client.consumer':
        return ctx.consumer;
      case 'kong.client.consumer_groups':
        return ctx.consumerGroups;
      case 'kong.client.credential':
        return ctx.credential;
      case 'kong.client.ip':
      case 'kong.client.forwarded_ip':
        return ctx.clientIp;
      case 'kong.client.port':
      case 'kong.client.forwarded_port':
        return ctx.clientPort;
      case 'kong.client.protocol':
        return ctx.scheme;
      case 'kong.request.forwarded_host':
        return ctx.host;
      case 'kong.request.forwarded_port':
      case 'kong.request.port':
        return ctx.port;
      case 'kong.request.forwarded_scheme':
        return ctx.scheme;
      case 'kong.response.source':
        return ctx.responseSource ?? (ctx.exited ? 'exit' : 'error');
      case 'kong.router.route':
        return ctx.route;
      case 'kong.router.service':
        return ctx.service;
      case 'kong.route_id':
        return ctx.route?.id ?? null;
      case 'kong.route_name':
        return ctx.route?.name ?? null;
      case 'kong.service_id':
        return ctx.service?.id ?? null;
      case 'kong.service_name':
        return ctx.service?.name ?? null;
      case 'kong.service.response.status':
        return ctx.upstreamResponse?.status ?? null;
      case 'kong.version':
        return GATEWAY_VERSION;
      case 'kong.node.id':
        return env.nodeId;
      case 'kong.node.memory_stats': {
        const m = process.memoryUsage();
        return {
          lua_shared_dicts: {},
          workers_lua_vms: [{ pid: process.pid, http_allocated_gc: m.heapUsed }],
          node: { rss: m.rss, heap_total: m.heapTotal, heap_used: m.heapUsed, external: m.external },
        };
      }
      case 'kong.nginx.subsystem':
        return 'http';
    }
    if (name.startsWith('kong.ctx.shared.')) return ctx.shared[name.slice(16)];
    if (name.startsWith('kong.ctx.plugin.')) return ctx.pluginData(instance)[name.slice(16)];
    if (name.startsWith('kong.configuration.')) {
      const key = name.slice(19);
      if (SECRETISH.test(key)) return undefined;
      const v = env.settings[key];
      return v === undefined ? undefined : structuredClone(v);
    }
    return undefined;
  }

  set(name: string, value: unknown): void {
    const { ctx, instance, env } = this;
    if (name.startsWith('kong.ctx.shared.')) {
      ctx.shared[name.slice(16)] = value;
      return;
    }
    if (name.startsWith('kong.ctx.plugin.')) {
      ctx.pluginData(instance)[name.slice(16)] = value;
      return;
    }
    switch (name) {
      case 'kong.service.target': {
        const m = typeof value === 'string' ? /^(\[[^\]]+\]|[^:]+):(\d+)$/.exec(value) : null;
        if (!m) throw new Error(`invalid target "${String(value)}": expected host:port`);
        const port = Number(m[2]);
        if (port < 1 || port > 65535) throw new Error(`invalid target port ${port}`);
        ctx.target = { host: m[1].replace(/^\[|\]$/g, ''), port };
        ctx.upstreamName = undefined;
        return;
      }
      case 'kong.service.upstream': {
        if (typeof value !== 'string' || !env.upstreamExists?.(value)) throw new Error(`could not find upstream "${String(value)}"`);
        ctx.upstreamName = value;
        ctx.target = undefined;
        return;
      }
      case 'kong.service.request.scheme':
        if (value !== 'http' && value !== 'https') throw new Error(`invalid scheme "${String(value)}": expected http or https`);
        ctx.upstreamScheme = value;
        return;
      case 'kong.response.status': {
        const n = typeof value === 'string' ? Number(value) : value;
        if (typeof n !== 'number' || !Number.isInteger(n) || n < 100 || n > 999) throw new Error(`invalid status "${String(value)}"`);
        ctx.responseStatusOverride = n;
        if (ctx.upstreamResponse) ctx.upstreamResponse.status = n;
        return;
      }
      case 'kong.client.consumer': {
        if (value === null || typeof value !== 'object') throw new Error('consumer must be an object with id, username or custom_id');
        const q = value as { id?: unknown; username?: unknown; custom_id?: unknown };
        const consumer =
          (typeof q.id === 'string' && ctx.findConsumer({ id: q.id })) ||
          (typeof q.username === 'string' && ctx.findConsumer({ username: q.username })) ||
          (typeof q.custom_id === 'string' && ctx.findConsumer({ custom_id: q.custom_id })) ||
          undefined;
        if (!consumer) throw new Error('consumer not found');
        ctx.authenticate(consumer, null);
        return;
      }
    }
    throw new Error(`property "${name}" cannot be set`);
  }
}

/** Per-node runs and durations for /metrics, from the engine's timings. */
function recordTimings(series: MetricSeries[], timings: NodeTiming[] | undefined): void {
  if (!timings) return;
  for (const t of timings) series[t.node.index - 1]?.record(t.ms / 1000, t.status === 'complete');
}
