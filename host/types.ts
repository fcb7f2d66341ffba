/**
 * Public types of the library API (`import ... from 'datakit-wasm'`).
 * The gateway and any Node service embedding the engine talk to it through these.
 */

/** Header map: original casing preserved; repeated headers as arrays. */
export type HeaderMap = Record<string, string | string[]>;
/** Header changes: a string/array sets the header, null removes it. */
export type HeaderPatch = Record<string, string | string[] | null>;
/** Decoded query string: repeated keys as arrays, a key with no value as null. */
export type QueryMap = Record<string, string | string[] | null>;

/** What the client sent, as the gateway (or a test) describes it. */
export interface RequestInfo {
  method: string;
  /** path without the query string, normalized */
  path: string;
  /** path as received (not normalized), without the query string; defaults to path */
  rawPath?: string;
  scheme?: string; // 'http' | 'https'
  host?: string;
  port?: number;
  version?: string; // '1.1'
  headers?: HeaderMap;
  /** decoded map, or the raw query string (without '?') */
  query?: QueryMap | string;
  /** needed only when `flow.needs.requestBody` */
  body?: Uint8Array | string;
  /** request id; generated when absent */
  requestId?: string;
}

/** What a flow reads from the request and the upstream's answer (from the engine's plan report). */
export interface FlowNeeds {
  requestBody: boolean;
  /** request.headers is read (or the body is, or the flow is in debug mode) */
  requestHeaders: boolean;
  /** request.query is read */
  requestQuery: boolean;
  responsePhase: boolean;
  responseBody: boolean;
}

/** What the upstream answered. */
export interface ResponseInfo {
  status: number;
  headers: HeaderMap;
  /** needed only when the request phase said `responseBody: true` */
  body?: Uint8Array | string;
}

/** A full response to send to the client (exit, node failure or trace). */
export interface ClientResponse {
  status: number;
  headers: HeaderMap;
  body: Uint8Array;
}

/** Changes the flow makes to the request sent upstream. Absent fields: unchanged. */
export interface ServiceRequestChanges {
  headers?: HeaderPatch;
  /** replaces the whole query string */
  query?: QueryMap;
  body?: Uint8Array;
}

/** Changes the flow makes to the upstream response before the client gets it. */
export interface ResponseChanges {
  status?: number;
  headers?: HeaderPatch;
  body?: Uint8Array;
}

export interface NodeRef { index: number; name: string; type: string }

export interface NodeFailure { message: string; node: NodeRef }

/** How long a node took in this phase (when timings were asked for). */
export interface NodeTiming {
  node: NodeRef;
  status: 'complete' | 'failed' | 'canceled' | 'skipped' | 'running';
  ms: number;
}

export type RequestPhaseOutcome =
  | {
      action: 'exit';
      /** the complete response for the client: exit node, node failure (500) or trace */
      response: ClientResponse;
      failure?: NodeFailure;
      timings?: NodeTiming[];
    }
  | {
      action: 'continue';
      timings?: NodeTiming[];
      serviceRequest: ServiceRequestChanges;
      /** true when the flow has work in the response phase for this request */
      responsePhase: boolean;
      /** true when that work needs the upstream response body (buffer it) */
      responseBody: boolean;
    };

export type ResponsePhaseOutcome =
  | { action: 'exit'; response: ClientResponse; failure?: NodeFailure; timings?: NodeTiming[] }
  | { action: 'continue'; response: ResponseChanges; timings?: NodeTiming[] };

/** One configuration error, tied to a node when it concerns one. */
export interface ValidationError {
  message: string;
  node?: NodeRef;
  field?: string;
}

/** Properties (spec section 3) a gateway backs with real data, per request. */
export interface PropertyProvider {
  /** undefined or null: the property is unset/unknown */
  get(name: string): unknown;
  /** throws an Error (with a message) when the value is rejected */
  set(name: string, value: unknown): void;
}

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error';
export interface Logger {
  log(level: LogLevel, message: string, fields?: Record<string, unknown>): void;
}
