/**
 * Every limit and budget that keeps one request, one flow or one config
 * change from crashing, stalling or exhausting the process. One table so the
 * defaults, the setting names and docs/SECURITY.md stay in step.
 *
 * Names are the setting names: `settings.limits.<name>` in a declarative
 * file (gateway-wide), `config.limits.<name>` on a datakit plugin (that flow
 * only, flow-evaluation limits only), `limits` in `Datakit.create` /
 * `dk.load` / `startGateway`.
 */
export interface Limits {
  /** wall-clock budget of one jq evaluation, checked every few hundred steps */
  jq_time_ms: number;
  /** bytes one jq evaluation may allocate (strings, arrays, objects it builds) */
  jq_memory_bytes: number;
  /** evaluation steps of one jq run (a backstop behind the time budget) */
  jq_steps: number;
  /** largest jq program accepted at configure time (compiling costs tens of µs per term, on the event loop) */
  jq_source_bytes: number;
  /** wall-clock budget of one template render */
  template_time_ms: number;
  /** largest template source accepted at configure time */
  template_source_bytes: number;
  /** deepest block nesting ({{#each}} inside {{#if}} ...) accepted at configure time */
  template_nesting: number;
  /** largest text one template render may produce */
  template_output_bytes: number;
  /** largest request body a flow may read (and the gateway accepts) */
  request_body_bytes: number;
  /** largest upstream answer buffered for a flow's response phase */
  service_response_body_bytes: number;
  /** largest answer a call node buffers */
  call_response_body_bytes: number;
  /** largest single value (jq result, rendered template) handed to the engine */
  value_bytes: number;
  /** an upstream's whole answer (headers and body) must arrive within this, however slowly it drips (504 before the headers went out) */
  upstream_response_timeout_ms: number;
  /** largest XML document an xml_to_json node converts */
  xml_input_bytes: number;
  /** deepest element nesting xml_to_json accepts (and JSON nesting json_to_xml writes) */
  xml_depth: number;
  /** wall-clock budget of one XML conversion run in the worker thread (large inputs); the worker is stopped past it */
  xml_time_ms: number;
}

export const DEFAULT_LIMITS: Readonly<Limits> = Object.freeze({
  jq_time_ms: 50,
  jq_memory_bytes: 64 * 1024 * 1024,
  jq_steps: 10_000_000,
  jq_source_bytes: 32 * 1024,
  template_time_ms: 50,
  template_source_bytes: 16 * 1024,
  template_nesting: 32,
  template_output_bytes: 8 * 1024 * 1024,
  request_body_bytes: 10 * 1024 * 1024,
  service_response_body_bytes: 10 * 1024 * 1024,
  call_response_body_bytes: 10 * 1024 * 1024,
  value_bytes: 16 * 1024 * 1024,
  upstream_response_timeout_ms: 300_000,
  xml_input_bytes: 10 * 1024 * 1024,
  xml_depth: 256,
  xml_time_ms: 10_000,
});

export type LimitName = keyof Limits;

/** Limits a datakit plugin may set for its own flow (`config.limits`). */
export const FLOW_LIMITS: readonly LimitName[] = [
  'jq_time_ms',
  'jq_memory_bytes',
  'jq_steps',
  'jq_source_bytes',
  'template_time_ms',
  'template_source_bytes',
  'template_nesting',
  'template_output_bytes',
  'call_response_body_bytes',
  'value_bytes',
  'xml_input_bytes',
  'xml_depth',
  'xml_time_ms',
];

/**
 * Checks a partial limits object (from a config): every key known, every
 * value a positive integer. Returns error strings, `limits.<name>: ...`.
 */
export function checkLimits(value: unknown, allowed: readonly LimitName[] = Object.keys(DEFAULT_LIMITS) as LimitName[]): string[] {
  if (value === undefined || value === null) return [];
  if (typeof value !== 'object' || Array.isArray(value)) return ['limits: expected a record'];
  const errors: string[] = [];
  for (const [k, v] of Object.entries(value)) {
    if (!(allowed as string[]).includes(k)) errors.push(`limits.${k}: unknown limit`);
    else if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) errors.push(`limits.${k}: expected a positive integer`);
  }
  return errors;
}

/** Later layers win: defaults, then gateway settings, then a plugin's own. */
export function resolveLimits(...layers: Array<Partial<Limits> | undefined | null>): Limits {
  const out: Limits = { ...DEFAULT_LIMITS };
  for (const l of layers) if (l) for (const [k, v] of Object.entries(l)) if (typeof v === 'number' && k in out) out[k as LimitName] = v;
  return out;
}

/**
 * A limit was exceeded. The message names the limit the way the docs do
 * (`jq: evaluation exceeded its 50 ms budget`); `limit` is the setting.
 */
export class LimitExceeded extends Error {
  constructor(readonly limit: LimitName, message: string) {
    super(message);
    this.name = 'LimitExceeded';
    countLimitHit(limit);
  }
}

/**
 * Process-wide count of limit hits by name. The gateway exposes it as
 * `datakit_limit_exceeded_total{limit="..."}`; a library user can read it
 * with `limitHits()`.
 */
const hits = new Map<string, number>();

export function countLimitHit(limit: string): void {
  hits.set(limit, (hits.get(limit) ?? 0) + 1);
}

export function limitHits(): Record<string, number> {
  return Object.fromEntries(hits);
}

/**
 * Bounds on the PostgreSQL server connection (`--database postgres://...`):
 * a slow or unreachable server must neither pile up connections nor hang an
 * Admin API change. They hold for the whole process, so they are set where
 * the other process-wide limits are (flags and env of `datakit serve`,
 * `databaseLimits` in `startGateway`), not in a declarative document.
 */
export interface DatabaseLimits {
  /** connections one gateway process keeps to the server for reads and writes (the LISTEN connection is one more) */
  pool_size: number;
  /** a connection attempt gives up after this; the change is answered 503 */
  connect_timeout_ms: number;
  /** the server cancels one statement running longer than this (PostgreSQL's statement_timeout); the change is answered 503 */
  statement_timeout_ms: number;
  /** longest wait between two reconnection attempts while the server is unreachable (the wait doubles from 100 ms) */
  reconnect_backoff_max_ms: number;
}

export const DATABASE_LIMITS: Readonly<DatabaseLimits> = Object.freeze({
  pool_size: 4,
  connect_timeout_ms: 5_000,
  statement_timeout_ms: 10_000,
  reconnect_backoff_max_ms: 2_000,
});

/** The database limits in force: the defaults, then the given ones, each checked (a positive integer); throws naming the bad one. */
export function resolveDatabaseLimits(given: Partial<DatabaseLimits> = {}): DatabaseLimits {
  const out: DatabaseLimits = { ...DATABASE_LIMITS };
  for (const [k, v] of Object.entries(given)) {
    if (v === undefined) continue;
    if (!(k in out)) throw new Error(`database limit ${k}: unknown (known: ${Object.keys(DATABASE_LIMITS).join(', ')})`);
    if (typeof v !== 'number' || !Number.isInteger(v) || v <= 0) throw new Error(`database limit ${k}: expected a positive integer, got ${JSON.stringify(v)}`);
    out[k as keyof DatabaseLimits] = v;
  }
  return out;
}
