/** Plugin contract between the gateway and its plugins (built-in and custom). */
import type { HeaderBag } from '../gateway/headers.js';
import type { SecretManager } from '../secrets/manager.js';
import type { Logger as PinoLogger } from 'pino';
import type { Limits } from '../limits.js';

export type Entity = Record<string, unknown> & { id: string };

/** Kong-style nested field errors: { add: { headers: "..." } } */
export type FieldErrors = { [k: string]: string | string[] | FieldErrors };

export interface ValidationResult {
  config?: Record<string, unknown>;
  errors?: FieldErrors;
}

/** Services plugins get when they are validated and instantiated. */
export interface PluginEnv {
  secrets: SecretManager;
  logger: PinoLogger;
  /** the datakit engine, when available */
  datakit?: DatakitLike;
  datakitError?: string;
  metrics: PluginMetricsHook;
  nodeId: string;
  settings: Record<string, unknown>;
  /** the gateway's limits (`settings.limits`, startGateway's `limits`); a datakit plugin's own `config.limits` go over them */
  limits?: Partial<Limits>;
  /** looks a consumer up by id, username or custom_id (current config) */
  findConsumer?: (q: { id?: string; username?: string; custom_id?: string }) => Entity | undefined;
  upstreamExists?: (name: string) => boolean;
}

export interface PluginMetricsHook {
  datakitRun(pluginId: string, route: string, ok: boolean, seconds: number, failedNode?: { name: string; type: string }): void;
  /**
   * a datakit node's runs (duration, whether it completed) and failures, as a
   * handle resolved once per node and route; `scope` labels the series with the
   * route (name or id) and plugin (instance name or id) so that same-named nodes
   * of two routes or plugins stay apart
   */
  nodeSeries(name: string, type: string, scope?: { route?: string; plugin?: string }): MetricSeries;
}

export interface MetricSeries {
  record(seconds: number, ok: boolean): void;
  /** the node failed the request (counted in datakit_node_failures_total) */
  fail(): void;
}

export interface PluginDef {
  name: string;
  priority: number;
  version: string;
  /** JSON Schema of `config` */
  schema: Record<string, unknown>;
  /** cannot be scoped to a consumer / consumer group (auth plugins) */
  noConsumer?: boolean;
  custom?: boolean;
  validate(config: unknown, env: PluginEnv): ValidationResult;
  create(config: Record<string, unknown>, env: PluginEnv, entity: Entity): PluginInstance;
}

export interface PluginInstance {
  /** runs before proxying, in priority order; may call ctx.exit() */
  access?(ctx: RequestCtx): void | Promise<void>;
  /** whether this request needs the response phase (decided after access) */
  wantsResponse?(ctx: RequestCtx): false | 'headers' | 'body';
  /** runs after the upstream answered, before the client gets the response */
  response?(ctx: RequestCtx): void | Promise<void>;
  /** runs after the response was sent */
  log?(ctx: RequestCtx): void;
  close?(): void;
}

export interface ExitResponse {
  status: number;
  headers?: Record<string, string | string[]>;
  body?: string | Uint8Array | object;
}

export interface UpstreamResponse {
  status: number;
  headers: HeaderBag;
  /** present when buffered */
  body?: Buffer;
  /** set when a plugin replaced the body */
  bodyReplaced?: boolean;
}

/** One request as plugins see it (a small PDK). */
export interface RequestCtx {
  readonly requestId: string;
  readonly startedAt: number;
  readonly route: Entity | null;
  readonly service: Entity | null;
  /** client view */
  readonly method: string;
  readonly scheme: string;
  readonly host: string;
  readonly port: number;
  /** the request path, normalized (as Kong's kong.request.get_path()), without the query string */
  readonly path: string;
  /** the path exactly as received: percent-encodings, `//` and dot segments kept, no query string (kong.request.get_raw_path()) */
  readonly rawPath: string;
  readonly clientIp: string;
  readonly clientPort: number;
  /** headers sent upstream (initially the client's), mutable */
  headers: HeaderBag;
  /** raw query string sent upstream (without '?'), mutable */
  query: string;
  /** upstream path override (request-transformer replace.uri, custom plugins) */
  upstreamPath?: string;
  /** upstream method override */
  upstreamMethod?: string;
  /** buffered request body (after readBody) or the replacement body */
  body?: Buffer;
  readBody(): Promise<Buffer>;
  /** target overrides (datakit properties) */
  target?: { host: string; port: number };
  upstreamName?: string;
  upstreamScheme?: string;
  /** authentication */
  consumer: Entity | null;
  credential: Entity | null;
  consumerGroups: Entity[];
  authenticate(consumer: Entity | null, credential: Entity | null): void;
  findConsumer(q: { id?: string; username?: string; custom_id?: string }): Entity | undefined;
  /** ends the request with this response (stops the plugin chain) */
  exit(res: ExitResponse): void;
  exited?: ExitResponse;
  /** response source once known: 'service' | 'exit' | 'error' */
  responseSource?: 'service' | 'exit' | 'error';
  /** the upstream response (response phase) */
  upstreamResponse?: UpstreamResponse;
  /** status set by a plugin (kong.response.status) */
  responseStatusOverride?: number;
  /** status finally sent to the client (log phase) */
  finalStatus?: number;
  shared: Record<string, unknown>;
  pluginData(instance: object): Record<string, unknown>;
  log: PinoLogger;
  upstreamLatency?: number;
}

/* The engine API (host/index.ts). Declared locally with the same shape so the
 * gateway builds and runs while the engine is absent; loaded dynamically. */
import type {
  RequestInfo,
  RequestPhaseOutcome,
  ResponseInfo,
  ResponsePhaseOutcome,
  ValidationError,
  FlowNeeds,
  PropertyProvider,
} from '../types.js';

export interface FlowRunLike {
  request(): Promise<RequestPhaseOutcome>;
  response(upstream: ResponseInfo): Promise<ResponsePhaseOutcome>;
  done(): void;
}
export interface FlowLike {
  readonly needs: FlowNeeds;
  readonly debug: boolean;
  /** the flow's nodes in config order (index is 1-based) */
  readonly nodes: ReadonlyArray<{ index: number; name: string; type: string }>;
  newRequest(request: RequestInfo, properties?: PropertyProvider, options?: { timings?: boolean }): FlowRunLike;
  close(): void;
}
export interface DatakitLike {
  validate(config: object | string, options?: { limits?: Partial<Limits> }): ValidationError[];
  load(config: object | string, options?: { limits?: Partial<Limits> }): FlowLike;
  close?(): Promise<void>;
}
