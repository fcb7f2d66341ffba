import { Action } from './engine/abi.js';
import { EngineRuntime, EngineTrap, valueBytes, type ContextHooks, type EngineInstance, type EngineStats } from './engine/runtime.js';
import { HttpClient, type CallTransport, type HttpClientOptions } from './engine/http-client.js';
import { Capabilities } from './engine/capabilities.js';
import { nativeJq, type JqEngine } from './engine/jq-engine.js';
import { toPluginConfig } from './config.js';
import { countLimitHit, LimitExceeded, resolveLimits, type Limits } from './limits.js';
import { EnvSecretResolver } from './secrets/env.js';
import type { SecretResolver } from './secrets/reference.js';
import { MemoryProperties } from './properties.js';
import { newRequestId, parseQueryString, requestMetaJson, responseMetaJson, toBytes } from './request-meta.js';
import type {
  ClientResponse,
  FlowNeeds,
  HeaderMap,
  Logger,
  NodeFailure,
  NodeRef,
  NodeTiming,
  PropertyProvider,
  RequestInfo,
  RequestPhaseOutcome,
  ResponseInfo,
  ResponseChanges,
  ResponsePhaseOutcome,
  ServiceRequestChanges,
  ValidationError,
} from './types.js';

const encoder = new TextEncoder();

export interface DatakitOptions {
  secrets?: SecretResolver;
  logger?: Logger;
  /** a jq implementation; defaults to the built-in compile-once engine */
  jq?: JqEngine;
  http?: HttpClientOptions;
  /** answers call nodes instead of the network (benchmarks, mocks) */
  transport?: CallTransport;
  /** budgets and buffer limits for every flow (host/limits.ts); `load` can narrow them per flow */
  limits?: Partial<Limits>;
  /** replace the engine instance once its memory passes this many bytes (linear memory never shrinks); default 256 MiB */
  recycleMemoryBytes?: number;
}

export interface LoadOptions {
  /** this flow's budgets and limits, over the engine's (host/limits.ts) */
  limits?: Partial<Limits>;
}

/** Invalid configuration: every error, node by node. */
export class DatakitConfigError extends Error {
  constructor(readonly errors: ValidationError[]) {
    super(errors.map((e) => e.message).join('\n'));
    this.name = 'DatakitConfigError';
  }
}

/** Logs warnings and errors to stderr as JSON lines. */
export const stderrLogger: Logger = {
  log(level, message, fields) {
    if (level === 'warn' || level === 'error') process.stderr.write(JSON.stringify({ level, msg: message, ...fields }) + '\n');
  },
};

interface PlanReport {
  ok: boolean;
  errors?: ValidationError[];
  request_body?: boolean;
  request_headers?: boolean;
  request_query?: boolean;
  response_phase?: boolean;
  response_body?: boolean;
  debug?: boolean;
  nodes?: Array<NodeRef & { phase: string }>;
}

/** The engine for one process: load configs into flows and run requests. */
export class Datakit {
  private constructor(
    readonly runtime: EngineRuntime,
    readonly http: CallTransport,
    readonly capabilities: Capabilities,
    /** the engine-wide limits; a flow's own are layered over them */
    readonly limits: Limits,
  ) {}

  static async create(options: DatakitOptions = {}): Promise<Datakit> {
    const limits = resolveLimits(options.limits);
    const http = options.transport ?? new HttpClient({ maxResponseBytes: limits.call_response_body_bytes, ...options.http });
    const capabilities = new Capabilities();
    const runtime = new EngineRuntime({
      jq: options.jq ?? nativeJq,
      secrets: options.secrets ?? new EnvSecretResolver(),
      logger: options.logger ?? stderrLogger,
      http,
      capabilities,
      recycleBytes: options.recycleMemoryBytes,
    });
    return new Datakit(runtime, http, capabilities, limits);
  }

  /** Configures a plan on the current engine instance; the report says
   * whether it compiled. `limits` bind the jq programs and templates
   * compiled for it. */
  configure(config: unknown, limits: Limits = this.limits): { plan: number; report: PlanReport; instance: EngineInstance } {
    const previous = this.runtime.configuringLimits;
    this.runtime.configuringLimits = limits;
    const instance = this.runtime.instance;
    try {
      return { ...this.configureOnce(instance, config), instance };
    } finally {
      this.runtime.configuringLimits = previous;
      instance.collect();
    }
  }

  private configureOnce(instance: EngineInstance, config: unknown): { plan: number; report: PlanReport } {
    let text: string;
    try {
      text = JSON.stringify(config ?? null);
    } catch (e) {
      // cyclic or absurdly deep structures cannot be JSON
      const why = e instanceof RangeError ? 'nested too deeply' : (e as Error).message;
      return { plan: 0, report: { ok: false, errors: [{ message: `config: invalid JSON: ${why}` }] } };
    }
    let out: { result: number; data: unknown };
    try {
      out = instance.returning(() => {
        const [p, l] = instance.putText(text, valueBytes(this.runtime.configuringLimits), 'config');
        return instance.exports.dk_configure(p, l);
      });
    } catch (e) {
      if (e instanceof LimitExceeded) return { plan: 0, report: { ok: false, errors: [{ message: `config: ${e.message}` }] } };
      throw e;
    }
    const { result, data } = out;
    return { plan: result, report: data as PlanReport };
  }

  /** Validation errors for a plugin config (object, or YAML/JSON text); [] when valid. */
  validate(config: object | string, options: LoadOptions = {}): ValidationError[] {
    let cfg: unknown;
    try {
      cfg = toPluginConfig(config);
    } catch (e) {
      return [{ message: (e as Error).message }];
    }
    const { plan, report, instance } = this.configure(cfg, resolveLimits(this.limits, options.limits));
    if (plan > 0) {
      instance.exports.dk_plan_free(plan);
      return [];
    }
    return report.errors ?? [{ message: 'invalid configuration' }];
  }

  /** Compiles a plugin config into a flow; throws DatakitConfigError. */
  load(config: object | string, options: LoadOptions = {}): Flow {
    let cfg: unknown;
    try {
      cfg = toPluginConfig(config);
    } catch (e) {
      throw new DatakitConfigError([{ message: (e as Error).message }]);
    }
    const limits = resolveLimits(this.limits, options.limits);
    const { plan, report, instance } = this.configure(cfg, limits);
    if (plan === 0) throw new DatakitConfigError(report.errors ?? [{ message: 'invalid configuration' }]);
    return new Flow(this, cfg, plan, instance, report, limits);
  }

  /** Engine counters, for leak checks. */
  stats(): EngineStats {
    return this.runtime.stats();
  }

  async close(): Promise<void> {
    await Promise.all([this.http.close(), this.capabilities.close()]);
  }
}

/** A compiled plugin config. */
export class Flow {
  /** what the flow reads: a host may skip building what it does not */
  readonly needs: FlowNeeds;
  readonly debug: boolean;
  readonly nodes: Array<NodeRef & { phase: string }>;
  private closed = false;

  constructor(
    readonly datakit: Datakit,
    private readonly config: unknown,
    private plan: number,
    /** the engine instance `plan` lives in */
    private planInstance: EngineInstance,
    report: PlanReport,
    /** this flow's budgets and buffer limits */
    readonly limits: Limits = datakit.limits,
  ) {
    this.needs = {
      requestBody: !!report.request_body,
      requestHeaders: !!report.request_headers,
      requestQuery: !!report.request_query,
      responsePhase: !!report.response_phase,
      responseBody: !!report.response_body,
    };
    this.debug = !!report.debug;
    this.nodes = report.nodes ?? [];
    this.refs = this.nodes.map((n) => Object.freeze({ index: n.index, name: n.name, type: n.type }));
  }

  /** The plan in the current engine instance (configured again when a new instance took over). */
  planFor(): { instance: EngineInstance; plan: number } {
    if (this.closed) throw new Error('flow is closed');
    const rt = this.datakit.runtime;
    if (this.planInstance !== rt.instance) {
      const { plan, instance } = this.datakit.configure(this.config, this.limits);
      this.plan = plan;
      this.planInstance = instance;
    }
    return { instance: this.planInstance, plan: this.plan };
  }

  planId(): number {
    return this.planFor().plan;
  }

  /** `timings: true` adds per-node durations to each phase outcome. */
  newRequest(request: RequestInfo, properties?: PropertyProvider, options: { timings?: boolean } = {}): FlowRun {
    return new FlowRun(this, request, properties ?? new MemoryProperties(request), !!options.timings);
  }

  /** one frozen reference per node, shared by every timing and failure report */
  private readonly refs: NodeRef[];

  /** Node reference by 1-based index. */
  nodeRef(index: number): NodeRef {
    return this.refs[index - 1] ?? { index, name: `#${index}`, type: 'unknown' };
  }

  /**
   * Runs one request end to end outside a gateway: the request phase, then
   * (unless the flow exits) the upstream given here, then the response phase.
   */
  async run(request: RequestInfo, options: RunOptions = {}): Promise<RunResult> {
    const properties = options.properties ?? new MemoryProperties(request);
    const r = this.newRequest(request, properties);
    try {
      const first = await r.request();
      if (first.action === 'exit') {
        return { response: first.response, failure: first.failure, properties: changesOf(properties), proxied: false };
      }
      const serviceRequest = first.serviceRequest;
      const sent = applyServiceRequest(request, serviceRequest);
      let upstream: ResponseInfo | undefined;
      if (typeof options.upstream === 'function') upstream = await options.upstream(sent);
      else upstream = options.upstream;
      const base: ResponseInfo = upstream ?? { status: 200, headers: {}, body: new Uint8Array(0) };
      if (!first.responsePhase) {
        return { response: toClientResponse(base), serviceRequest: sent, properties: changesOf(properties), proxied: true };
      }
      const second = await r.response(base);
      if (second.action === 'exit') {
        return { response: second.response, failure: second.failure, serviceRequest: sent, properties: changesOf(properties), proxied: true };
      }
      return {
        response: applyResponseChanges(base, second.response),
        serviceRequest: sent,
        properties: changesOf(properties),
        proxied: true,
      };
    } finally {
      r.done();
    }
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (!this.planInstance.retired) this.planInstance.exports.dk_plan_free(this.plan);
  }
}

export interface RunOptions {
  properties?: PropertyProvider;
  /** the upstream's answer, or a function producing it from the service request */
  upstream?: ResponseInfo | ((serviceRequest: SentRequest) => Promise<ResponseInfo>);
}

/** The request that goes upstream after the flow's changes. */
export interface SentRequest {
  method: string;
  path: string;
  headers: HeaderMap;
  query: Record<string, string | string[] | null>;
  body: Uint8Array;
}

export interface RunResult {
  response: ClientResponse;
  failure?: { message: string; node: NodeRef };
  serviceRequest?: SentRequest;
  properties: Record<string, unknown>;
  /** false when the flow answered by itself (exit or failure) */
  proxied: boolean;
}

function changesOf(p: PropertyProvider): Record<string, unknown> {
  return p instanceof MemoryProperties ? p.changes : {};
}

/** Engine node states, as phase results report them. */
const TIMING_STATES: Record<number, NodeTiming['status']> = { 1: 'running', 2: 'complete', 3: 'failed', 4: 'skipped', 5: 'canceled' };

type Pending = { resolve: (v: unknown) => void; reject: (e: Error) => void };

/** One request through a flow. */
export class FlowRun {
  private ctx = 0;
  /** the engine instance this request runs on (it stays there if a new one takes over) */
  private instance: EngineInstance | undefined;
  private settled: { action: Action; meta: Record<string, unknown>; body: Uint8Array | undefined } | undefined;
  /** [index, state, ms] triples the module sent for the next phase result */
  private pendingTimings: number[] | undefined;
  private waiter: Pending | undefined;
  private phase: 'request' | 'response' = 'request';
  private finished = false;
  readonly requestId: string;

  constructor(
    readonly flow: Flow,
    private readonly info: RequestInfo,
    readonly properties: PropertyProvider,
    private readonly timings = false,
  ) {
    this.requestId = info.requestId ?? newRequestId();
  }

  private hooks(): ContextHooks {
    return {
      properties: this.properties,
      limits: this.flow.limits,
      settle: (action, meta, body) => {
        this.settled = { action, meta: meta as Record<string, unknown>, body };
        if (action === Action.Respond) countEngineLimitHit(this.settled.meta);
        const w = this.waiter;
        if (w) {
          this.waiter = undefined;
          w.resolve(this.take());
        }
      },
      timings: (triples) => {
        this.pendingTimings = triples;
      },
      crash: (error) => {
        const w = this.waiter;
        this.waiter = undefined;
        // a trap took the context with it; otherwise done() still frees it
        if (error instanceof EngineTrap) this.ctx = 0;
        this.settled = crashResult(this.requestId, error);
        if (w) w.resolve(this.take());
      },
    };
  }

  private take(): unknown {
    const s = this.settled!;
    this.settled = undefined;
    const meta = s.meta;
    const timings = this.timings ? (this.timingsOf(this.pendingTimings) ?? []) : undefined;
    this.pendingTimings = undefined;
    // plain assignments, not spreads: this runs for every phase of every request
    if (meta.action === 'exit') {
      const out: RequestPhaseOutcome = {
        action: 'exit',
        response: { status: meta.status as number, headers: (meta.headers ?? {}) as HeaderMap, body: s.body ?? new Uint8Array(0) },
        failure: meta.failure as NodeFailure | undefined,
      };
      if (timings) out.timings = timings;
      return out;
    }
    if (this.phase === 'request') {
      const serviceRequest: ServiceRequestChanges = {};
      if (meta.headers !== undefined) serviceRequest.headers = meta.headers as ServiceRequestChanges['headers'];
      if (meta.query !== undefined) serviceRequest.query = meta.query as ServiceRequestChanges['query'];
      if (s.body !== undefined) serviceRequest.body = s.body;
      const out: RequestPhaseOutcome = { action: 'continue', serviceRequest, responsePhase: !!meta.response_phase, responseBody: !!meta.response_body };
      if (timings) out.timings = timings;
      return out;
    }
    const response: ResponseChanges = {};
    if (meta.status !== undefined) response.status = meta.status as number;
    if (meta.headers !== undefined) response.headers = meta.headers as ResponseChanges['headers'];
    if (s.body !== undefined) response.body = s.body;
    const out: ResponsePhaseOutcome = { action: 'continue', response };
    if (timings) out.timings = timings;
    return out;
  }

  private timingsOf(t: number[] | undefined): NodeTiming[] | undefined {
    if (t === undefined) return undefined;
    const out: NodeTiming[] = [];
    for (let k = 0; k + 2 < t.length; k += 3) {
      out.push({ node: this.flow.nodeRef(t[k]), status: TIMING_STATES[t[k + 1]] ?? 'complete', ms: Math.round(t[k + 2] * 1000) / 1000 });
    }
    return out;
  }

  private wait<T>(action: number): Promise<T> {
    if (this.settled) return Promise.resolve(this.take() as T);
    if (action === Action.Pause) return new Promise<T>((resolve, reject) => (this.waiter = { resolve: resolve as (v: unknown) => void, reject }));
    return Promise.reject(new Error(`engine returned action ${action} without a result`));
  }

  /** Runs the request phase (before proxying). */
  request(): Promise<RequestPhaseOutcome> {
    const { instance, plan } = this.flow.planFor();
    this.instance = instance;
    const limit = valueBytes(this.flow.limits);
    const meta = requestMetaJson(this.info, this.requestId, this.timings, this.flow.needs, limit);
    const body = this.flow.needs.requestBody && this.info.body !== undefined ? toBytes(this.info.body) : undefined;
    let action: number;
    try {
      action = instance.call(() => {
        // buffers first: one over value_bytes is refused before a context exists
        const [mp, ml, bp, bl] = instance.putPair(meta, body, limit, 'request body');
        this.ctx = instance.exports.dk_request_new(plan);
        instance.bind(this.ctx, this.hooks());
        return instance.exports.dk_on_request(this.ctx, mp, ml, bp, bl);
      });
    } catch (e) {
      if (e instanceof EngineTrap) return Promise.resolve(this.crashNow(e) as RequestPhaseOutcome);
      if (e instanceof LimitExceeded) return Promise.resolve(this.refuse(e, 413, 'Request size limit exceeded', 'request') as RequestPhaseOutcome);
      throw e;
    }
    return this.wait<RequestPhaseOutcome>(action);
  }

  /** Runs the response phase with the upstream's answer. */
  response(upstream: ResponseInfo): Promise<ResponsePhaseOutcome> {
    const inst = this.instance;
    this.phase = 'response';
    if (this.ctx === 0 || inst === undefined || !inst.contexts.has(this.ctx)) return Promise.reject(new Error('response() called without an active request phase'));
    const ctx = this.ctx;
    let action: number;
    try {
      action = inst.call(() => {
        const body = upstream.body !== undefined ? toBytes(upstream.body) : undefined;
        const [mp, ml, bp, bl] = inst.putPair(responseMetaJson(upstream), body, valueBytes(this.flow.limits), 'service response body');
        return inst.exports.dk_on_response(ctx, mp, ml, bp, bl);
      }, ctx);
    } catch (e) {
      if (e instanceof EngineTrap) return Promise.resolve(this.crashNow(e) as ResponsePhaseOutcome);
      if (e instanceof LimitExceeded) {
        return Promise.resolve(this.refuse(e, 502, 'An invalid response was received from the upstream server', 'service_response') as ResponsePhaseOutcome);
      }
      throw e;
    }
    return this.wait<ResponsePhaseOutcome>(action);
  }

  private crashNow(e: Error): unknown {
    this.settled = crashResult(this.requestId, e);
    this.ctx = 0;
    return this.take();
  }

  /**
   * An input over value_bytes never reaches the module: the request ends
   * the way a node failure ends it (logged, JSON with the request id),
   * blamed on the implicit node that would have carried it.
   */
  private refuse(e: LimitExceeded, status: number, message: string, node: 'request' | 'service_response'): unknown {
    const ref: NodeRef = { index: 0, name: node, type: node };
    this.flow.datakit.runtime.options.logger.log('error', 'node execution error', { request_id: this.requestId, error: e.message, limit: e.limit, node: ref });
    this.settled = {
      action: Action.Respond,
      meta: { action: 'exit', status, headers: { 'Content-Type': 'application/json' }, failure: { message: e.message, node: ref } },
      body: encoder.encode(JSON.stringify({ message, request_id: this.requestId })),
    };
    return this.take();
  }

  /** Frees the request context; in-flight calls are canceled. */
  done(): void {
    if (this.finished) return;
    this.finished = true;
    const ctx = this.ctx;
    this.ctx = 0;
    try {
      if (ctx !== 0) this.instance?.finish(ctx);
    } catch (e) {
      if (!(e instanceof EngineTrap)) throw e;
    } finally {
      const w = this.waiter;
      this.waiter = undefined;
      if (w) w.reject(new Error('request finished before the flow did'));
    }
  }
}

/** A value the module refused to build (its writers stop at value_bytes) counts as a value_bytes hit. */
function countEngineLimitHit(meta: Record<string, unknown>): void {
  const failure = meta.failure as NodeFailure | undefined;
  if (failure !== undefined && failure.message.startsWith('value exceeds the value_bytes limit')) countLimitHit('value_bytes');
}

function crashResult(requestId: string, error: Error) {
  return {
    action: Action.Respond,
    meta: {
      action: 'exit',
      status: 500,
      headers: { 'Content-Type': 'application/json' },
      failure: { message: error.message, node: { index: 0, name: 'engine', type: 'engine' } },
    } as Record<string, unknown>,
    body: encoder.encode(JSON.stringify({ message: 'An unexpected error occurred', request_id: requestId })),
  };
}

// ---------------------------------------------------------------- helpers

function findHeader(h: HeaderMap, name: string): string | undefined {
  const lower = name.toLowerCase();
  return Object.keys(h).find((k) => k.toLowerCase() === lower);
}

/** Applies a header patch: strings/arrays set, null removes, case-insensitively. */
export function applyHeaderPatch(base: HeaderMap, patch: Record<string, string | string[] | null> | undefined): HeaderMap {
  const out: HeaderMap = { ...base };
  if (!patch) return out;
  for (const [k, v] of Object.entries(patch)) {
    const existing = findHeader(out, k);
    if (existing !== undefined) delete out[existing];
    if (v !== null) out[k] = v;
  }
  return out;
}

function applyServiceRequest(req: RequestInfo, changes: { headers?: Record<string, string | string[] | null>; query?: Record<string, string | string[] | null>; body?: Uint8Array }): SentRequest {
  return {
    method: req.method,
    path: req.path,
    headers: applyHeaderPatch(req.headers ?? {}, changes.headers),
    query: changes.query ?? (typeof req.query === 'string' ? parseQueryString(req.query) : { ...(req.query ?? {}) }),
    body: changes.body ?? (req.body !== undefined ? toBytes(req.body) : new Uint8Array(0)),
  };
}

function toClientResponse(r: ResponseInfo): ClientResponse {
  return { status: r.status, headers: { ...r.headers }, body: r.body !== undefined ? toBytes(r.body) : new Uint8Array(0) };
}

function applyResponseChanges(base: ResponseInfo, changes: { status?: number; headers?: Record<string, string | string[] | null>; body?: Uint8Array }): ClientResponse {
  return {
    status: changes.status ?? base.status,
    headers: applyHeaderPatch(base.headers, changes.headers),
    body: changes.body ?? (base.body !== undefined ? toBytes(base.body) : new Uint8Array(0)),
  };
}
