/**
 * A host for build/datakit.wasm that runs in a browser, written against
 * docs/host-abi.md alone (it imports nothing from host/engine or
 * host/flow.ts; test/studio/bundle.test.ts checks the bundle's imports).
 * It runs one sample request through a flow as a gateway would: request
 * phase, a canned upstream answer, response phase. Calls answer from canned
 * responses given per node, or go out with `fetch` when asked.
 *
 * Capabilities: jq (the project's engine), Handlebars (browser build),
 * `env` vault references from the sample, an in-memory cache, jwt_decode.
 * XML and JWT signing or verifying are refused at configure time.
 */
import Handlebars from 'handlebars';
import { compile as compileJq } from '../jq/index.js';
import { getKey, isObject } from '../jq/values.js';

export const ABI_VERSION = 4;
const PAUSE = 0;
const DEFAULT_CALL_TIMEOUT_MS = 60_000;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A canned answer for a call node (body: text as is, anything else as JSON). */
export interface CannedAnswer {
  status?: number;
  headers?: Record<string, string | string[]>;
  body?: unknown;
}

/** The sample request the page runs (all fields optional). */
export interface SampleRequest {
  method?: string;
  path?: string;
  scheme?: string;
  port?: number;
  headers?: Record<string, string | string[]>;
  query?: string | Record<string, unknown>;
  body?: unknown;
  /** properties the host answers (`kong.router.route`, ...) */
  properties?: Record<string, unknown>;
  /** the upstream's answer when the request is proxied */
  upstream?: CannedAnswer;
  /** variables for `{vault://env/NAME}` references */
  env?: Record<string, string>;
  request_id?: string;
}

export interface RunOptions {
  /** canned answers by call node name */
  calls?: Record<string, CannedAnswer>;
  /** calls without a canned answer go out with fetch (otherwise they fail) */
  fetchCalls?: boolean;
  /** answers of an earlier run, given again to the same calls (method and url, in order) before anything else */
  replay?: CallRecord[];
}

export interface ConfigureError {
  message: string;
  node?: { index: number; name: string; type: string };
  field?: string;
}

export interface ConfigureReport {
  ok: boolean;
  errors?: ConfigureError[];
  nodes?: Array<{ index: number; name: string; type: string; phase: string }>;
  request_body?: boolean;
  [key: string]: unknown;
}

/** A node's outcome from phase_timings. */
export interface NodeTiming {
  status: 'complete' | 'error' | 'skipped' | 'canceled';
  ms: number;
}

/** One call the run made, and where its answer came from. */
export interface CallRecord {
  node?: string;
  method: string;
  url: string;
  source: 'canned' | 'fetch' | 'none';
  status: number;
  error?: string;
  /** the answer given, to replay it (the traced run) */
  answer?: CannedAnswer;
}

export interface RunResult {
  status: number;
  headers: Record<string, unknown>;
  body: string;
  service_request?: { method: string; path: string; headers: Record<string, unknown>; query: unknown; body: string };
  properties?: Record<string, unknown>;
  failure?: { message: string; node?: { index: number; name: string; type: string } };
  /** per declared node, by name; nodes absent here are pending */
  timings: Record<string, NodeTiming>;
  calls: CallRecord[];
}

type Handle = { kind: 'jq'; program: ReturnType<typeof compileJq>; vars: string[]; whole?: string } | { kind: 'template'; render: (vars: unknown) => string };

interface CallAnswer {
  status: number;
  headers?: Record<string, string | string[]>;
  body?: Uint8Array;
  error?: string;
}

interface Context {
  properties: Map<string, unknown>;
  changes: Record<string, unknown>;
  env: Record<string, string>;
  options: RunOptions;
  config: Record<string, unknown>;
  report: ConfigureReport;
  calls: CallRecord[];
  /** answers already given to each call node in this run (same-url nodes take turns) */
  answered: Set<string>;
  /** what is left of options.replay */
  replay: CallRecord[];
  timings: Record<string, NodeTiming>;
  outcome?: { meta: Record<string, unknown>; body?: Uint8Array };
  wake?: (outcome: { meta: Record<string, unknown>; body?: Uint8Array }) => void;
}

const TIMING_STATES: Record<number, NodeTiming['status']> = { 2: 'complete', 3: 'error', 4: 'skipped', 5: 'canceled' };

interface Exports {
  memory: WebAssembly.Memory;
  dk_abi_version(): number;
  dk_alloc(size: number): number;
  dk_configure(ptr: number, len: number): number;
  dk_plan_free(plan: number): void;
  dk_request_new(plan: number): number;
  dk_on_request(ctx: number, mp: number, ml: number, bp: number, bl: number): number;
  dk_on_http_response(ctx: number, token: number, status: number, mp: number, ml: number, bp: number, bl: number): number;
  dk_on_async_result(ctx: number, token: number, ok: number, p: number, l: number): number;
  dk_on_response(ctx: number, mp: number, ml: number, bp: number, bl: number): number;
  dk_done(ctx: number): void;
  dk_collect(): void;
}

/** The version in the module's `datakit_abi` custom section, read before instantiating. */
export function moduleAbiVersion(module: WebAssembly.Module): number | undefined {
  const [section] = WebAssembly.Module.customSections(module, 'datakit_abi');
  return section ? Number(decoder.decode(section)) : undefined;
}

export class BrowserHost {
  private x!: Exports;
  private result: Uint8Array = new Uint8Array(0);
  private returned: string | undefined;
  private handles = new Map<number, Handle>();
  private contexts = new Map<number, Context>();
  private inflight = new Map<number, AbortController>();
  private nextHandle = 1;
  private nextToken = 1;
  private cache = new Map<string, { value: string; expires?: number }>();
  private templates = Handlebars.create();

  /** Compiles and instantiates the module, refusing another ABI version. */
  static async load(wasm: BufferSource): Promise<BrowserHost> {
    const module = await WebAssembly.compile(wasm);
    const version = moduleAbiVersion(module);
    if (version !== ABI_VERSION) throw new Error(`engine ABI ${version ?? '(no datakit_abi section)'} does not match host ABI ${ABI_VERSION}`);
    const host = new BrowserHost();
    const instance = await WebAssembly.instantiate(module, { datakit: host.imports() });
    host.x = instance.exports as unknown as Exports;
    return host;
  }

  // memory can grow during any export: always read through a fresh view
  private bytes(ptr: number, len: number): Uint8Array {
    return new Uint8Array(this.x.memory.buffer, ptr, len).slice();
  }
  private text(ptr: number, len: number): string {
    return decoder.decode(new Uint8Array(this.x.memory.buffer, ptr, len));
  }
  /** A module-owned buffer; undefined is passed as absent (0, -1). */
  private put(data: string | Uint8Array | undefined): [number, number] {
    if (data === undefined) return [0, -1];
    const bytes = typeof data === 'string' ? encoder.encode(data) : data;
    const ptr = this.x.dk_alloc(bytes.length);
    new Uint8Array(this.x.memory.buffer).set(bytes, ptr);
    return [ptr, bytes.length];
  }
  private ok(data: string): number {
    this.result = encoder.encode(data);
    return this.result.length;
  }
  private fail(message: unknown): number {
    this.result = encoder.encode(String(message));
    return -this.result.length - 1;
  }
  private guard(fn: () => number): number {
    try {
      return fn();
    } catch (e) {
      return this.fail((e as Error).message);
    }
  }
  private handle(h: Handle): number {
    this.handles.set(this.nextHandle, h);
    return this.nextHandle++;
  }

  private imports(): Record<string, (...args: number[]) => unknown> {
    return {
      log: () => {},
      clock_ms: (kind) => (kind === 0 ? Date.now() : performance.now()),
      result_read: (dst) => {
        new Uint8Array(this.x.memory.buffer).set(this.result, dst);
        this.result = new Uint8Array(0);
      },
      return_data: (ptr, len) => {
        this.returned = this.text(ptr, len);
      },
      jq_compile: (ptr, len, vptr, vlen) =>
        this.guard(() => {
          const filter = this.text(ptr, len);
          const list = vlen > 0 ? (JSON.parse(this.text(vptr, vlen)) as string[]) : [];
          // `@` entries are 3.10 requests: `@input:NAME` binds $NAME to the whole input, `@syntax:jaq`
          const vars = list.filter((v) => !v.startsWith('@'));
          const whole = list.find((v) => v.startsWith('@input:'))?.slice(7);
          try {
            const program = compileJq(filter, { variables: whole ? [...vars, whole] : vars, syntax: list.includes('@syntax:jaq') ? 'jaq' : undefined });
            return this.handle({ kind: 'jq', program, vars, whole });
          } catch (e) {
            return this.fail(jqCompileError((e as Error).message, filter));
          }
        }),
      jq_run: (h, ptr, len) =>
        this.guard(() => {
          const jq = this.handles.get(h);
          if (jq?.kind !== 'jq') throw new Error('unknown jq handle');
          // the text path keeps jq's key order ("0" after "a" stays there)
          const variablesOf = (input: unknown): Record<string, unknown> => {
            const variables: Record<string, unknown> = {};
            if (jq.whole) variables[jq.whole] = input;
            else for (const v of jq.vars) variables[v] = isObject(input) ? getKey(input, v) : null;
            return variables;
          };
          return this.ok('[' + jq.program.runText(this.text(ptr, len), { variablesOf }).join(',') + ']');
        }),
      // optimisations: "cannot tell" is always correct
      jq_input_paths: () => this.ok('null'),
      jq_simple: () => this.ok('null'),
      jq_free: (h) => this.handles.delete(h),
      template_compile: (ptr, len) => {
        try {
          const source = this.text(ptr, len);
          this.templates.parse(source); // syntax errors now, not at the first render
          const render = this.templates.compile(source, { noEscape: true, strict: false, data: true });
          return this.handle({ kind: 'template', render });
        } catch (e) {
          return this.fail(templateCompileError((e as Error).message));
        }
      },
      template_render: (h, ptr, len) =>
        this.guard(() => {
          const t = this.handles.get(h);
          if (t?.kind !== 'template') throw new Error('unknown template handle');
          return this.ok(t.render(JSON.parse(this.text(ptr, len))));
        }),
      template_free: (h) => this.handles.delete(h),
      property_get: (ctx, ptr, len) => this.guard(() => this.ok(JSON.stringify(this.contexts.get(ctx)?.properties.get(this.text(ptr, len)) ?? null))),
      property_set: (ctx, ptr, len, vptr, vlen) =>
        this.guard(() => {
          setProperty(this.contexts.get(ctx)!, this.text(ptr, len), JSON.parse(this.text(vptr, vlen)));
          return this.ok('');
        }),
      secret_get: (ctx, ptr, len) => this.guard(() => this.ok(resolveSecret(this.text(ptr, len), this.contexts.get(ctx)?.env ?? {}))),
      http_dispatch: (ctx, ptr, len, bptr, blen) =>
        this.guard(() => {
          const call = JSON.parse(this.text(ptr, len)) as CallDescription;
          const body = blen >= 0 ? this.bytes(bptr, blen) : undefined;
          const token = this.nextToken++;
          const abort = new AbortController();
          this.inflight.set(token, abort);
          // the answer arrives after this import returns (an await always does)
          this.answerCall(this.contexts.get(ctx)!, call, body, abort.signal).then((answer) => {
            if (!this.inflight.delete(token)) return; // canceled: no answer
            const [mp, ml] = this.put(answer.error ?? JSON.stringify({ headers: answer.headers ?? {} }));
            const [bp, bl] = this.put(answer.error ? undefined : (answer.body ?? new Uint8Array(0)));
            this.settle(ctx, this.x.dk_on_http_response(ctx, token, answer.error ? 0 : answer.status, mp, ml, bp, bl));
          });
          return token;
        }),
      host_call: (optr, olen, dptr, dlen) =>
        this.guard(() => {
          const op = JSON.parse(this.text(optr, olen)) as { op: string; kind?: string; options?: Record<string, unknown> };
          const data = dlen >= 0 ? this.text(dptr, dlen) : '';
          if (op.op === 'validate') return this.ok(JSON.stringify(validateCapability(op.kind ?? '', op.options)));
          if (op.op === 'jwt_decode') return this.ok(JSON.stringify(jwtDecode(data)));
          return this.fail(`${op.op} is not supported by this host`);
        }),
      async_dispatch: (ctx, optr, olen, dptr, dlen) =>
        this.guard(() => {
          const op = JSON.parse(this.text(optr, olen)) as CacheOp;
          const data = dlen >= 0 ? this.text(dptr, dlen) : undefined;
          const token = this.nextToken++;
          this.inflight.set(token, new AbortController());
          Promise.resolve()
            .then(() => this.cacheOp(op, data))
            .then(
              (value): [number, string] => [1, JSON.stringify(value)],
              (e: Error): [number, string] => [0, e.message],
            )
            .then(([ok, out]) => {
              if (!this.inflight.delete(token)) return;
              const [p, l] = this.put(out);
              this.settle(ctx, this.x.dk_on_async_result(ctx, token, ok, p, l));
            });
          return token;
        }),
      async_cancel: (_ctx, token) => {
        this.inflight.get(token)?.abort();
        this.inflight.delete(token);
      },
      phase_timings: (ctx, ptr, count) => {
        const state = this.contexts.get(ctx);
        if (!state) return;
        const view = new Float64Array(this.x.memory.buffer, ptr, count * 3);
        for (let i = 0; i < count; i++) {
          const node = state.report.nodes?.find((n) => n.index === view[i * 3]);
          const status = TIMING_STATES[view[i * 3 + 1]];
          if (node && status) state.timings[node.name] = { status, ms: view[i * 3 + 2] };
        }
      },
      phase_result: (ctx, ptr, len, bptr, blen) => {
        const state = this.contexts.get(ctx);
        if (state) state.outcome = { meta: JSON.parse(this.text(ptr, len)), body: blen >= 0 ? this.bytes(bptr, blen) : undefined };
      },
    };
  }

  /** A call's answer: the node's canned one, or fetch when asked, or a failure. */
  private async answerCall(state: Context, call: CallDescription, body: Uint8Array | undefined, signal: AbortSignal): Promise<CallAnswer> {
    let where = call.url;
    try {
      const u = new URL(call.url);
      where = `${u.origin}${u.pathname}`;
    } catch {
      return { status: 0, error: `invalid url "${call.url}"` };
    }
    const node = callNodeFor(state, where);
    if (node) state.answered.add(node);
    const canned = node !== undefined ? state.options.calls?.[node] : undefined;
    const record: CallRecord = { node, method: call.method, url: call.url, source: 'none', status: 0 };
    state.calls.push(record);
    const replayed = state.replay.findIndex((r) => r.method === call.method && r.url === call.url);
    let answer: CallAnswer;
    if (replayed >= 0) {
      const [earlier] = state.replay.splice(replayed, 1);
      record.source = earlier.source;
      answer = earlier.answer
        ? { status: earlier.answer.status ?? 200, headers: earlier.answer.headers, body: encoder.encode(String(earlier.answer.body ?? '')) }
        : { status: 0, error: earlier.error ?? 'call failed' };
    } else if (canned) {
      record.source = 'canned';
      const headers: Record<string, string | string[]> = {};
      for (const [k, v] of Object.entries(canned.headers ?? {})) headers[k.toLowerCase()] = v;
      const text = messageBody(canned.body, headers, 'content-type');
      answer = { status: canned.status ?? 200, headers, body: encoder.encode(text ?? '') };
    } else if (state.options.fetchCalls) {
      record.source = 'fetch';
      answer = await fetchCall(call, body, where, signal);
    } else {
      answer = { status: 0, error: `call to ${where} failed: no canned answer${node ? ` for ${node}` : ''} (enter one, or allow fetch)` };
    }
    record.status = answer.status;
    if (answer.error) record.error = answer.error;
    else record.answer = { status: answer.status, headers: answer.headers, body: decoder.decode(answer.body ?? new Uint8Array(0)) };
    return answer;
  }

  private cacheOp(op: CacheOp, data: string | undefined): unknown {
    const key = `${op.cache?.memory?.dictionary_name ?? 'kong_db_cache'}:${op.key}`;
    if (op.op === 'cache_get') {
      const hit = this.cache.get(key);
      if (hit && (hit.expires === undefined || hit.expires > Date.now())) return { hit: true, miss: false, stored: false, data: JSON.parse(hit.value) };
      return { hit: false, miss: true, stored: false, data: null };
    }
    if (op.op === 'cache_set' && data !== undefined) {
      this.cache.set(key, { value: data, expires: op.ttl && op.ttl > 0 ? Date.now() + op.ttl * 1000 : undefined });
      return { hit: false, miss: false, stored: true, data: JSON.parse(data) };
    }
    throw new Error(`${op.op} is not supported by this host`);
  }

  /** After an answer: a phase that ended hands its outcome to the waiting run. */
  private settle(ctx: number, action: number): void {
    const state = this.contexts.get(ctx);
    if (state?.wake && action !== PAUSE && state.outcome) state.wake(state.outcome);
  }

  private phase(ctx: number, start: () => number): Promise<{ meta: Record<string, unknown>; body?: Uint8Array }> {
    const state = this.contexts.get(ctx)!;
    state.outcome = undefined;
    return new Promise((resolve) => {
      state.wake = (outcome) => {
        state.outcome = undefined;
        state.wake = undefined;
        resolve(outcome);
      };
      const action = start();
      if (action < 0) resolve({ meta: { action: 'exit', status: 500, failure: { message: 'engine refused the request context' } } });
      else if (action !== PAUSE && state.outcome) state.wake(state.outcome);
    });
  }

  /** Validates a plugin config with the engine: the configure report (the plan is freed). */
  validate(config: unknown): ConfigureReport {
    const { plan, report } = this.configure(config);
    if (plan > 0) this.x.dk_plan_free(plan);
    return report;
  }

  private configure(config: unknown): { plan: number; report: ConfigureReport } {
    this.returned = undefined;
    const plan = this.x.dk_configure(...this.put(JSON.stringify(config)));
    const report = JSON.parse(this.returned ?? '{"ok":false,"errors":[{"message":"no configure report"}]}') as ConfigureReport;
    this.x.dk_collect(); // configure-time garbage, between exports
    return { plan, report };
  }

  /**
   * Runs the sample request through the flow: request phase, the canned
   * upstream, response phase. Refused flows give their configure errors.
   */
  async run(config: Record<string, unknown>, sample: SampleRequest, options: RunOptions = {}): Promise<RunResult | { errors: ConfigureError[] }> {
    const { plan, report } = this.configure(config);
    if (plan === 0) return { errors: report.errors ?? [] };
    const headers: Record<string, string | string[]> = { ...(sample.headers ?? {}) };
    const body = messageBody(sample.body, headers, 'Content-Type');
    const query = typeof sample.query === 'string' ? parseQuery(sample.query) : (sample.query ?? {});
    const meta = {
      request_id: sample.request_id ?? randomId(),
      method: sample.method ?? 'GET',
      scheme: sample.scheme ?? 'http',
      port: sample.port ?? 8000,
      path: sample.path ?? '/',
      raw_path: sample.path ?? '/',
      version: 1.1,
      headers,
      query,
      timings: true,
    };
    const properties = new Map<string, unknown>(Object.entries({ 'kong.request.port': meta.port, 'kong.client.protocol': meta.scheme, 'kong.nginx.subsystem': 'http', ...(sample.properties ?? {}) }));
    const ctx = this.x.dk_request_new(plan);
    const state: Context = { properties, changes: {}, env: sample.env ?? {}, options, config, report, calls: [], answered: new Set(), replay: [...(options.replay ?? [])], timings: {} };
    this.contexts.set(ctx, state);
    try {
      let final = await this.phase(ctx, () => this.x.dk_on_request(ctx, ...this.put(JSON.stringify(meta)), ...this.put(report.request_body ? body : undefined)));
      let sent: RunResult['service_request'];
      if (final.meta.action !== 'exit') {
        const changes = final.meta as { headers?: Record<string, unknown>; query?: unknown; response_phase?: boolean };
        sent = {
          method: meta.method,
          path: meta.path,
          headers: patchHeaders(headers, changes.headers),
          query: changes.query ?? query,
          body: final.body ? decoder.decode(final.body) : (body ?? ''),
        };
        const upstreamHeaders: Record<string, string | string[]> = { ...(sample.upstream?.headers ?? {}) };
        const upstreamBody = messageBody(sample.upstream?.body, upstreamHeaders, 'Content-Type');
        const upstream = { status: sample.upstream?.status ?? 200, headers: upstreamHeaders };
        final = { meta: upstream, body: encoder.encode(upstreamBody ?? '') };
        if (changes.response_phase) {
          const second = await this.phase(ctx, () => this.x.dk_on_response(ctx, ...this.put(JSON.stringify(upstream)), ...this.put(upstreamBody)));
          if (second.meta.action === 'exit') final = second;
          else
            final = {
              meta: { status: (second.meta.status as number | undefined) ?? upstream.status, headers: patchHeaders(upstreamHeaders, second.meta.headers as Record<string, unknown>) },
              body: second.body ?? final.body,
            };
        }
      }
      const out: RunResult = {
        status: final.meta.status as number,
        headers: (final.meta.headers as Record<string, unknown>) ?? {},
        body: decoder.decode(final.body ?? new Uint8Array(0)),
        timings: state.timings,
        calls: state.calls,
      };
      if (sent) out.service_request = sent;
      if (Object.keys(state.changes).length > 0) out.properties = state.changes;
      if (final.meta.failure) out.failure = final.meta.failure as RunResult['failure'];
      return out;
    } finally {
      this.x.dk_done(ctx); // always, exactly once per context
      this.contexts.delete(ctx);
      this.x.dk_plan_free(plan);
      this.x.dk_collect();
    }
  }
}

interface CallDescription {
  method: string;
  url: string;
  headers?: Record<string, string | string[]>;
  timeout?: number;
}

interface CacheOp {
  op: string;
  key?: string;
  ttl?: number;
  cache?: { memory?: { dictionary_name?: string } };
}

/**
 * Which call node made a call: the declared `call` nodes whose static `url`
 * has the same origin and path, in order, each answered once per run; with
 * no static match, the only call node whose url comes from an input.
 */
function callNodeFor(state: Context, where: string): string | undefined {
  const nodes = (Array.isArray(state.config.nodes) ? state.config.nodes : []) as Array<Record<string, unknown>>;
  const calls = nodes.filter((n) => n.type === 'call' && typeof n.name === 'string');
  const sameUrl = calls.filter((n) => typeof n.url === 'string' && urlWhere(n.url) === where);
  const fresh = sameUrl.find((n) => !state.answered.has(n.name as string)) ?? sameUrl[0];
  if (fresh) return fresh.name as string;
  const dynamic = calls.filter((n) => typeof n.url !== 'string');
  return dynamic.length === 1 ? (dynamic[0].name as string) : undefined;
}

function urlWhere(url: string): string | undefined {
  try {
    const u = new URL(url);
    return `${u.origin}${u.pathname}`;
  } catch {
    return undefined;
  }
}

/** A call through the browser's fetch: lower-case header names, the failure texts of the ABI. */
async function fetchCall(call: CallDescription, body: Uint8Array | undefined, where: string, signal: AbortSignal): Promise<CallAnswer> {
  const timeout = call.timeout && call.timeout > 0 ? call.timeout : DEFAULT_CALL_TIMEOUT_MS;
  const expiry = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    expiry.abort();
  }, timeout);
  const onAbort = () => expiry.abort();
  signal.addEventListener('abort', onAbort);
  try {
    const headers = new Headers();
    for (const [k, v] of Object.entries(call.headers ?? {})) for (const one of Array.isArray(v) ? v : [v]) headers.append(k, one);
    const res = await fetch(call.url, { method: call.method, headers, body: body as BodyInit | undefined, signal: expiry.signal, redirect: 'manual' });
    const data = new Uint8Array(await res.arrayBuffer());
    const out: Record<string, string> = {};
    res.headers.forEach((v, k) => (out[k.toLowerCase()] = v));
    return { status: res.status, headers: out, body: data };
  } catch (e) {
    if (timedOut) return { status: 0, error: `timeout after ${timeout} ms calling ${where}` };
    return { status: 0, error: `call to ${where} failed: ${(e as Error).message}` };
  } finally {
    clearTimeout(timer);
    signal.removeEventListener('abort', onAbort);
  }
}

/** jq's compile message as a configuration shows it: one line, with the filter line it points at. */
function jqCompileError(message: string, filter: string): string {
  const m = message.replace(' (Unix shell quoting issues?)', '');
  const at = /, line (\d+):$/.exec(m);
  if (!at) return m;
  const lines = filter.split('\n');
  const short = (t: string) => (t.length > 200 ? `${t.slice(0, 200)}...` : t);
  const text = (lines[Number(at[1]) - 1] ?? '').trim();
  if (text) return `${m.slice(0, -1)}: ${short(text)}`;
  for (let i = Math.min(Number(at[1]) - 1, lines.length) - 1; i >= 0; i--) if (lines[i].trim()) return `${m.slice(0, -1)}, after: ${short(lines[i].trim())}`;
  return m.slice(0, -1);
}

/** Handlebars' four-line parse error on one line. */
function templateCompileError(message: string): string {
  const lines = message.split('\n');
  if (lines.length >= 4 && /^-*\^$/.test(lines[2])) return `${lines[0]} ${JSON.stringify(lines[1])}: ${lines.slice(3).join(' ')}`;
  return lines.join(' ');
}

function validateCapability(kind: string, options: Record<string, unknown> | undefined): string[] {
  if (kind === 'cache') {
    const strategy = options?.strategy ?? 'memory';
    return strategy === 'memory' ? [] : [`cache strategy "${String(strategy)}" is not supported by this host`];
  }
  return [`${kind} is not supported by this host`];
}

function base64UrlJson(s: string): unknown {
  const b64 = s.replace(/-/g, '+').replace(/_/g, '/');
  const bin = atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4));
  return JSON.parse(decoder.decode(Uint8Array.from(bin, (c) => c.charCodeAt(0))));
}

function jwtDecode(text: string): unknown {
  const token = String(text).trim().replace(/^bearer(\s+|$)/i, '').trim();
  const parts = token.split('.');
  if (parts.length !== 3) throw new Error(`jwt_decode: invalid token: expected 3 segments separated by ".", got ${parts.length}`);
  return { header: base64UrlJson(parts[0]), payload: base64UrlJson(parts[1]), signature: parts[2] };
}

/** `{vault://env/my-secret}` reads MY_SECRET from the sample's env; `/KEY` a key of its JSON. */
function resolveSecret(reference: string, env: Record<string, string>): string {
  const m = /^\{vault:\/\/([^/{}]+)\/([^{}]+)\}$/.exec(reference.trim());
  if (!m) throw new Error('invalid vault reference');
  if (m[1] !== 'env') throw new Error(`could not resolve ${reference}: vault "${m[1]}" is not configured`);
  const [id, key] = m[2].endsWith('/') ? [m[2].slice(0, -1)] : m[2].split(/\/(.*)/s);
  const name = id.toUpperCase().replace(/-/g, '_');
  const raw = env[name];
  if (raw === undefined) throw new Error(`could not resolve ${reference}: environment variable ${name} is not set`);
  if (!key) return raw;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new Error(`could not resolve ${reference}: environment variable ${name} does not hold JSON`);
  }
  if (parsed === null || typeof parsed !== 'object' || !Object.hasOwn(parsed, key)) throw new Error(`could not resolve ${reference}: key "${key}" not found`);
  const v = (parsed as Record<string, unknown>)[key];
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/** The host checks the values of the writable properties it acts on. */
function setProperty(state: Context, name: string, value: unknown): void {
  if (name === 'kong.service.target' && (typeof value !== 'string' || !/^(\[[^\]]+\]|[^:\s]+):(\d{1,5})$/.test(value))) throw new Error(`invalid target "${String(value)}": expected host:port`);
  if (name === 'kong.service.target') {
    const port = Number(/:(\d+)$/.exec(value as string)![1]);
    if (port < 1 || port > 65535) throw new Error(`invalid target port ${port}`);
  }
  if (name === 'kong.service.request.scheme' && value !== 'http' && value !== 'https') throw new Error(`invalid scheme "${String(value)}": expected http or https`);
  if (name === 'kong.response.status' && !(Number.isInteger(value) && (value as number) >= 100 && (value as number) <= 599)) throw new Error(`invalid status "${String(value)}"`);
  if (name === 'kong.client.consumer' && (value === null || typeof value !== 'object')) throw new Error('consumer must be an object with id, username or custom_id');
  state.properties.set(name, value);
  state.changes[name] = value;
}

function findHeader(headers: Record<string, unknown>, name: string): string | undefined {
  return Object.keys(headers).find((k) => k.toLowerCase() === name.toLowerCase());
}

/** A header patch: a value sets (replacing any same name, case-insensitively), null removes. */
function patchHeaders(base: Record<string, unknown>, patch: Record<string, unknown> = {}): Record<string, unknown> {
  const out = { ...base };
  for (const [k, v] of Object.entries(patch)) {
    const existing = findHeader(out, k);
    if (existing !== undefined) delete out[existing];
    if (v !== null) out[k] = v;
  }
  return out;
}

/** `a=1&a=2&flag` -> {a: ["1", "2"], flag: null} */
function parseQuery(q: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const dec = (s: string) => {
    try {
      return decodeURIComponent(s.replace(/\+/g, ' '));
    } catch {
      return s;
    }
  };
  for (const part of q.replace(/^\?/, '').split('&').filter(Boolean)) {
    const eq = part.indexOf('=');
    const k = dec(eq < 0 ? part : part.slice(0, eq));
    const v = eq < 0 ? null : dec(part.slice(eq + 1));
    out[k] = Object.hasOwn(out, k) ? ([] as unknown[]).concat(out[k] ?? '', v ?? '') : v;
  }
  return out;
}

/** A message body from the sample: text as is, anything else as JSON (with a JSON content-type). */
function messageBody(value: unknown, headers: Record<string, string | string[]>, contentType: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value;
  if (findHeader(headers, 'content-type') === undefined) headers[contentType] = 'application/json';
  return JSON.stringify(value);
}

function randomId(): string {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}
