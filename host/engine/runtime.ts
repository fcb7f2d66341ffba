import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Action, HOST_ABI_VERSION, LOG_LEVELS, type EngineExports } from './abi.js';
import type { JqCompiled, JqEngine } from './jq-engine.js';
import { compileTemplate, type RenderFn } from './templates.js';
import { configErrorText } from '../jq/parser.js';
import { getKey } from '../jq/values.js';
import { DEFAULT_LIMITS, LimitExceeded, type Limits } from '../limits.js';
import { CallCancel, type CallRequest, type CallResponse, type CallTransport } from './http-client.js';
import { Capabilities, type CapabilityOp } from './capabilities.js';
import type { Logger, PropertyProvider } from '../types.js';
import type { SecretResolver } from '../secrets/reference.js';

const encoder = new TextEncoder();
const EMPTY = new Uint8Array(0);
const decoder = new TextDecoder();

/** Where `npm install` puts the compiled engine: build/ at the package
 * root, found from this file whether it runs from dist/ or from source. */
function findWasm(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    const candidate = join(dir, 'build', 'datakit.wasm');
    if (existsSync(candidate)) return candidate;
    dir = dirname(dir);
  }
  return join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'build', 'datakit.wasm');
}

export const WASM_PATH = process.env.DATAKIT_WASM ?? findWasm();

let cachedModule: WebAssembly.Module | undefined;

/** Compiles the engine once per process. */
export function engineModule(): WebAssembly.Module {
  if (!cachedModule) cachedModule = new WebAssembly.Module(readFileSync(WASM_PATH));
  return cachedModule;
}

/** Engine counters (dk_stats), for leak checks. */
export interface EngineStats {
  plans: number;
  /** live request contexts */
  contexts: number;
  /** open request arenas (one per live context) */
  arenas: number;
  /** bytes those arenas hold */
  arena_bytes: number;
  /** the module's linear memory */
  memory_bytes: number;
}

/** What the runtime calls back into for one request context. */
export interface ContextHooks {
  properties: PropertyProvider;
  /** the flow's limits: `value_bytes` bounds every buffer written into the module for this request, `call_response_body_bytes` its call answers */
  limits: Limits;
  /** a phase finished (Continue) or the request ends now (Respond) */
  settle(action: Action, meta: unknown, body: Uint8Array | undefined): void;
  /** per-node [index, state, ms] triples for the phase result that follows */
  timings(triples: number[]): void;
  /** the request cannot go on: the engine trapped while running it (EngineTrap: the context is gone) */
  crash(error: Error): void;
}

export interface RuntimeOptions {
  jq: JqEngine;
  secrets: SecretResolver;
  logger: Logger;
  http: CallTransport;
  capabilities: Capabilities;
  /**
   * Linear memory never shrinks: an instance whose memory grew past this
   * many bytes is replaced once it is idle (or a minute after it started),
   * and the old one is dropped when its last request ends. Default 256 MiB.
   */
  recycleBytes?: number;
}

const NO_VARIABLES: Record<string, unknown> = Object.freeze({}) as Record<string, unknown>;

/** A jq node's named inputs, bound as $variables too (3.10 configs); `inputVar` names the whole input (a 3.10 node-wise input). */
function jqVariables(vars: string[], input: unknown, inputVar?: string): Record<string, unknown> {
  if (inputVar !== undefined) return { [inputVar]: input };
  if (vars.length === 0 || input === null || typeof input !== 'object') return NO_VARIABLES;
  const variables: Record<string, unknown> = {};
  // getKey: the input may store a key encoded (host/jq/values.ts)
  for (const v of vars) variables[v] = getKey(input as Record<string, unknown>, v);
  return variables;
}

/** The module's variable list: input names, `@input:NAME` for a variable holding the whole input, `@syntax:jaq` for 3.10's jq syntax. */
function splitJqVariables(list: string[]): { vars: string[]; inputVar?: string; syntax?: 'jaq' } {
  const vars: string[] = [];
  let inputVar: string | undefined;
  let syntax: 'jaq' | undefined;
  for (const v of list) {
    if (v.startsWith('@input:')) inputVar = v.slice(7);
    else if (v === '@syntax:jaq') syntax = 'jaq';
    else vars.push(v);
  }
  return { vars: inputVar !== undefined ? [...vars, inputVar] : vars, inputVar, syntax };
}

export class EngineTrap extends Error {
  constructor(cause: unknown) {
    super(`engine trapped: ${(cause as Error)?.message ?? String(cause)}`);
    this.name = 'EngineTrap';
  }
}

/**
 * The engine's own ceiling on value_bytes, whatever a configuration says:
 * the module decodes text to UTF-16 (twice the bytes) and AssemblyScript
 * refuses any block of 1 GiB or more, which would trap it.
 */
export const VALUE_BYTES_CEILING = 256 * 1024 * 1024;

/** The value_bytes in force for a set of limits. */
export function valueBytes(limits: Limits): number {
  return Math.min(limits.value_bytes, VALUE_BYTES_CEILING);
}

/** The text a value over `value_bytes` fails its node with (and counts the hit). */
export function valueTooLarge(what: string, bytes: number, limit: number): LimitExceeded {
  return new LimitExceeded('value_bytes', `${what} of ${bytes} bytes exceeds the value_bytes limit (${limit} bytes)`);
}

const DEFAULT_RECYCLE_BYTES = 256 * 1024 * 1024;
/** a busy instance over the recycle size is replaced anyway after this long */
const RECYCLE_BUSY_AFTER_MS = 60_000;

/**
 * The engine for the process: one current module instance serves every new
 * request (like one proxy-wasm VM). A trap, or memory grown past
 * `recycleBytes`, retires the current instance: new requests get a fresh
 * one, while the requests already running on the old one finish there
 * (a trap fails only the requests whose exports it interrupted). A retired
 * instance is dropped with its last request.
 */
export class EngineRuntime {
  /** bumps whenever a new instance takes over; flows configure their plans again */
  generation = 0;
  /** the limits of the plan being configured: jq programs and templates compiled now keep them */
  configuringLimits: Limits = DEFAULT_LIMITS;
  /** retired instances whose requests are still running */
  readonly draining = new Set<EngineInstance>();
  /** collect after this many finished requests (the module never collects by itself) */
  static readonly COLLECT_EVERY = 1024;
  /** collect once this many bytes went in: garbage grows with input size */
  static readonly COLLECT_BYTES = 16 * 1024 * 1024;
  readonly recycleBytes: number;
  private current: EngineInstance | undefined;

  constructor(readonly options: RuntimeOptions) {
    this.recycleBytes = options.recycleBytes ?? DEFAULT_RECYCLE_BYTES;
    this.current = new EngineInstance(this, 0);
  }

  /** The instance new requests and configurations go to (made on first use after a retirement). */
  get instance(): EngineInstance {
    return (this.current ??= new EngineInstance(this, this.generation));
  }

  get exports(): EngineExports {
    return this.instance.exports;
  }

  /** Runs an export on the current instance (`ctx`: the request it acts for, if any). */
  call<T>(fn: () => T, ctx = 0): T {
    return this.instance.call(fn, ctx);
  }

  put(data: Uint8Array | undefined, limit?: number): [number, number] {
    return this.instance.put(data, limit);
  }

  putText(text: string, limit?: number): [number, number] {
    return this.instance.putText(text, limit);
  }

  returning(fn: () => number): { result: number; data: unknown } {
    return this.instance.returning(fn);
  }

  /** Configuring a plan makes much garbage (the parsed config): collect now. */
  configured(): void {
    this.instance.collect();
  }

  collect(): void {
    this.instance.collect();
  }

  stats(): EngineStats {
    return this.instance.stats();
  }

  /** Stops sending new work to `inst`; it is dropped once its requests are done. */
  retire(inst: EngineInstance): void {
    if (inst.retired) return;
    inst.retired = true;
    if (this.current === inst) {
      this.current = undefined;
      this.generation++;
    }
    if (inst.contexts.size > 0) this.draining.add(inst);
  }

  /** A retired instance finished its last request. */
  drained(inst: EngineInstance): void {
    this.draining.delete(inst);
  }
}

/**
 * One instance of the engine module and the host side of its ABI: the
 * imports, buffer passing, handle tables, and in-flight calls.
 */
export class EngineInstance {
  exports!: EngineExports;
  /** no new requests go here (it trapped, or was recycled) */
  retired = false;
  readonly contexts = new Map<number, ContextHooks>();
  private readonly createdAt = performance.now();
  private pending: Uint8Array = new Uint8Array(0);
  /** a pending text result (wins over `pending` when set) */
  private pendingText: string | undefined;
  private returned: Uint8Array | undefined;
  private readonly jq = new Map<number, { program: JqCompiled; vars: string[]; inputVar?: string }>();
  private readonly templates = new Map<number, RenderFn>();
  private nextHandle = 1;
  /** in-flight async work by token (tokens are unique per instance) */
  private readonly calls = new Map<number, { ctx: number; cancel: CallCancel }>();
  private nextToken = 1;
  /** the request each export on the stack acts for (0: none); a trap fails exactly these */
  private readonly active: number[] = [];
  /** requests finished since the last collection */
  private finishedSinceCollect = 0;
  /** bytes handed to the module since the last collection (bodies, results) */
  private bytesSinceCollect = 0;

  constructor(
    private readonly rt: EngineRuntime,
    /** the runtime generation this instance serves */
    readonly generation: number,
  ) {
    const instance = new WebAssembly.Instance(engineModule(), { datakit: this.imports() });
    this.exports = instance.exports as unknown as EngineExports;
    const abi = this.exports.dk_abi_version();
    if (abi !== HOST_ABI_VERSION) throw new Error(`engine ABI ${abi} does not match host ABI ${HOST_ABI_VERSION}`);
  }

  // ------------------------------------------------------------ memory

  /**
   * Views of module memory, re-made when memory grows (growth detaches the
   * old ArrayBuffer, so its views read 0 bytes). Checking byteLength is a
   * field load; reading `memory.buffer` each time is a call into V8.
   */
  private memView: Buffer = Buffer.alloc(0);
  private memF64: Float64Array = new Float64Array(0);

  private refreshViews(): void {
    const buf = this.exports.memory.buffer;
    this.memView = Buffer.from(buf);
    this.memF64 = new Float64Array(buf);
  }

  /** The Buffer view of module memory, current after growth. */
  private view(): Buffer {
    if (this.memView.byteLength === 0) this.refreshViews();
    return this.memView;
  }

  /** A Float64Array view of module memory, current after growth. */
  private f64View(): Float64Array {
    if (this.memF64.byteLength === 0) this.refreshViews();
    return this.memF64;
  }

  memoryBytes(): number {
    return this.view().byteLength;
  }

  /** A copy of module memory. */
  private copyOut(ptr: number, len: number): Buffer {
    const out = Buffer.allocUnsafe(len);
    this.view().copy(out, 0, ptr, ptr + len);
    return out;
  }

  private text(ptr: number, len: number): string {
    // Buffer's UTF-8 slice costs far less than TextDecoder for the short texts crossing here
    return this.view().toString('utf8', ptr, ptr + len);
  }

  /**
   * Copies bytes into a module-owned buffer; [ptr, len] for an export.
   * Refuses (LimitExceeded, nothing allocated) more than `limit` bytes.
   */
  put(data: Uint8Array | undefined, limit = valueBytes(this.rt.configuringLimits), what = 'value'): [number, number] {
    if (data === undefined) return [0, -1];
    const len = data.byteLength;
    if (len > limit) throw valueTooLarge(what, len, limit);
    this.bytesSinceCollect += len;
    const ptr = this.exports.dk_alloc(len);
    this.view().set(data, ptr);
    return [ptr, len];
  }

  /** Encodes a string as UTF-8 straight into a module-owned buffer (same limit as put). */
  putText(text: string, limit = valueBytes(this.rt.configuringLimits), what = 'value'): [number, number] {
    const len = Buffer.byteLength(text, 'utf8');
    if (len > limit) throw valueTooLarge(what, len, limit);
    this.bytesSinceCollect += len;
    const ptr = this.exports.dk_alloc(len);
    // view() after dk_alloc: the allocation may have grown memory
    this.view().write(text, ptr, len, 'utf8');
    return [ptr, len];
  }

  /** Metadata and an optional body for one export: both or neither (a refused body frees the metadata). */
  putPair(meta: string, body: Uint8Array | undefined, limit: number, what: string): [number, number, number, number] {
    const [bp, bl] = this.put(body, limit, what);
    try {
      const [mp, ml] = this.putText(meta, limit, what === 'value' ? what : `${what} metadata`);
      return [mp, ml, bp, bl];
    } catch (e) {
      if (bp !== 0) this.exports.dk_free(bp);
      throw e;
    }
  }

  /** the limits of the request the running export acts for (the configuring limits outside requests) */
  private activeLimits(): Limits {
    const ctx = this.active.length > 0 ? this.active[this.active.length - 1] : 0;
    const hooks = ctx !== 0 ? this.contexts.get(ctx) : undefined;
    return hooks !== undefined ? hooks.limits : this.rt.configuringLimits;
  }

  /** value_bytes of the request the running export acts for */
  private resultLimit(): number {
    return valueBytes(this.activeLimits());
  }

  private ok(data: Uint8Array, what: string): number {
    const limit = this.resultLimit();
    if (data.byteLength > limit) return this.err(valueTooLarge(what, data.byteLength, limit).message);
    this.bytesSinceCollect += data.byteLength;
    this.pending = data;
    this.pendingText = undefined;
    return data.byteLength;
  }

  /** A text result: encoded straight into the module's buffer by result_read (no intermediate bytes). */
  private okText(text: string, what: string): number {
    const len = Buffer.byteLength(text, 'utf8');
    const limit = this.resultLimit();
    if (len > limit) return this.err(valueTooLarge(what, len, limit).message);
    this.bytesSinceCollect += len;
    this.pendingText = text;
    return len;
  }

  private err(message: string): number {
    this.pendingText = undefined;
    this.pending = encoder.encode(message);
    return -this.pending.byteLength - 1;
  }

  // ------------------------------------------------------------ exports

  /**
   * Runs an export acting for request `ctx` (0: none). A trap retires this
   * instance and fails the requests whose exports it interrupted; the others
   * go on here.
   */
  call<T>(fn: () => T, ctx = 0): T {
    this.active.push(ctx);
    try {
      return fn();
    } catch (e) {
      if (e instanceof WebAssembly.RuntimeError) {
        this.trapped(e);
        throw new EngineTrap(e);
      }
      throw e;
    } finally {
      this.active.pop();
    }
  }

  /** The running export acts for `ctx` from now on (a context made inside it). */
  bind(ctx: number, hooks: ContextHooks): void {
    this.contexts.set(ctx, hooks);
    if (this.active.length > 0) this.active[this.active.length - 1] = ctx;
  }

  private trapped(e: Error): void {
    // every export on the stack was unwound: the requests they acted for cannot go on
    const crashed: ContextHooks[] = [];
    for (const ctx of new Set(this.active)) {
      const hooks = ctx !== 0 ? this.contexts.get(ctx) : undefined;
      if (hooks === undefined) continue;
      this.contexts.delete(ctx);
      for (const [token, c] of this.calls) {
        if (c.ctx !== ctx) continue;
        this.calls.delete(token);
        c.cancel.abort();
      }
      crashed.push(hooks);
    }
    this.rt.retire(this);
    if (this.contexts.size === 0) this.rt.drained(this);
    this.rt.options.logger.log('error', 'engine trapped: the requests it was running fail; new requests go to a new instance', {
      error: e.message,
      failed_requests: crashed.length,
      requests_finishing_on_old_instance: this.contexts.size,
    });
    const trap = new EngineTrap(e);
    for (const hooks of crashed) hooks.crash(trap);
  }

  /** Calls an export that reports through return_data. */
  returning(fn: () => number): { result: number; data: unknown } {
    this.returned = undefined;
    const result = this.call(fn);
    const data = this.returned ? JSON.parse(decoder.decode(this.returned)) : undefined;
    this.returned = undefined;
    return { result, data };
  }

  /**
   * Ends request `ctx` (dk_done: the module cancels its in-flight work).
   * Collects every COLLECT_EVERY requests, or sooner when COLLECT_BYTES of
   * data went into the module (large bodies); waiting for memory to grow
   * would let garbage double it each time. A retired instance is dropped
   * with its last request; a current one that grew past recycleBytes is
   * retired.
   */
  finish(ctx: number): void {
    if (!this.contexts.has(ctx)) return;
    try {
      this.call(() => this.exports.dk_done(ctx), ctx);
    } finally {
      this.contexts.delete(ctx);
    }
    if (this.retired) {
      if (this.contexts.size === 0) this.rt.drained(this);
      return;
    }
    if (++this.finishedSinceCollect >= EngineRuntime.COLLECT_EVERY || this.bytesSinceCollect >= EngineRuntime.COLLECT_BYTES) this.collect();
    if (this.memoryBytes() > this.rt.recycleBytes && (this.contexts.size === 0 || performance.now() - this.createdAt > RECYCLE_BUSY_AFTER_MS)) {
      this.rt.retire(this);
      this.rt.options.logger.log('info', 'engine instance recycled (linear memory never shrinks)', {
        memory_bytes: this.memoryBytes(),
        requests_finishing_on_old_instance: this.contexts.size,
      });
    }
  }

  /** Runs the module's collector; only between exports. */
  collect(): void {
    if (this.active.length > 0 || this.retired) return; // a module frame is live: try again later
    this.finishedSinceCollect = 0;
    this.bytesSinceCollect = 0;
    this.call(() => this.exports.dk_collect());
  }

  stats(): EngineStats {
    return this.returning(() => {
      this.exports.dk_stats();
      return 0;
    }).data as EngineStats;
  }

  // ----------------------------------------------------------- imports

  private imports(): Record<string, WebAssembly.ImportValue> {
    const o = this.rt.options;
    return {
      log: (level: number, ptr: number, len: number) => {
        const text = this.text(ptr, len);
        const lvl = LOG_LEVELS[level] ?? 'info';
        if (text.startsWith('{')) {
          try {
            const { msg, ...fields } = JSON.parse(text) as { msg?: string };
            o.logger.log(lvl, msg ?? 'datakit', fields);
            return;
          } catch {
            /* plain text */
          }
        }
        o.logger.log(lvl, text);
      },
      clock_ms: (kind: number) => (kind === 0 ? performance.timeOrigin + performance.now() : performance.now()),
      result_read: (dst: number) => {
        if (this.pendingText !== undefined) {
          this.view().write(this.pendingText, dst, 'utf8');
          this.pendingText = undefined;
          return;
        }
        this.view().set(this.pending, dst);
        this.pending = EMPTY;
      },
      return_data: (ptr: number, len: number) => {
        this.returned = this.copyOut(ptr, len);
      },
      jq_compile: (ptr: number, len: number, varsPtr: number, varsLen: number) => {
        const filter = this.text(ptr, len);
        const { vars, inputVar, syntax } = splitJqVariables(varsLen > 0 ? JSON.parse(this.text(varsPtr, varsLen)) : []);
        try {
          const program = o.jq.compile(filter, vars, this.rt.configuringLimits, syntax);
          const h = this.nextHandle++;
          this.jq.set(h, { program, vars, inputVar });
          return h;
        } catch (e) {
          return this.err(configErrorText((e as Error).message, filter));
        }
      },
      jq_run: (handle: number, ptr: number, len: number) => {
        const entry = this.jq.get(handle);
        if (!entry) return this.err('unknown jq program');
        try {
          const text = this.text(ptr, len);
          const variablesOf = (input: unknown) => jqVariables(entry.vars, input, entry.inputVar);
          if (entry.program.runText) return this.okText(entry.program.runText(text, variablesOf), 'jq result');
          const input = JSON.parse(text);
          return this.okText(JSON.stringify(entry.program.run(input, variablesOf(input))), 'jq result');
        } catch (e) {
          return this.err((e as Error).message);
        }
      },
      jq_input_paths: (handle: number) => {
        const entry = this.jq.get(handle);
        if (!entry) return this.err('unknown jq program');
        return this.okText(JSON.stringify(entry.program.inputPaths ?? null), 'jq input paths');
      },
      jq_simple: (handle: number) => {
        const entry = this.jq.get(handle);
        if (!entry) return this.err('unknown jq program');
        return this.okText(JSON.stringify(entry.program.simple ?? null), 'jq filter');
      },
      jq_free: (handle: number) => {
        this.jq.delete(handle);
      },
      template_compile: (ptr: number, len: number) => {
        try {
          const fn = compileTemplate(this.text(ptr, len), this.rt.configuringLimits);
          const h = this.nextHandle++;
          this.templates.set(h, fn);
          return h;
        } catch (e) {
          return this.err(templateErrorText((e as Error).message));
        }
      },
      template_render: (handle: number, ptr: number, len: number) => {
        const fn = this.templates.get(handle);
        if (!fn) return this.err('unknown template');
        try {
          return this.okText(fn(JSON.parse(this.text(ptr, len))), 'rendered template');
        } catch (e) {
          return this.err((e as Error).message);
        }
      },
      template_free: (handle: number) => {
        this.templates.delete(handle);
      },
      property_get: (ctx: number, ptr: number, len: number) => {
        const hooks = this.contexts.get(ctx);
        if (!hooks) return this.err('unknown request context');
        try {
          const v = hooks.properties.get(this.text(ptr, len));
          return this.okText(v === undefined ? 'null' : JSON.stringify(v), 'property value');
        } catch (e) {
          return this.err((e as Error).message);
        }
      },
      property_set: (ctx: number, ptr: number, len: number, vptr: number, vlen: number) => {
        const hooks = this.contexts.get(ctx);
        if (!hooks) return this.err('unknown request context');
        try {
          hooks.properties.set(this.text(ptr, len), JSON.parse(this.text(vptr, vlen)));
          return this.ok(EMPTY, 'property value');
        } catch (e) {
          return this.err((e as Error).message);
        }
      },
      secret_get: (_ctx: number, ptr: number, len: number) => {
        try {
          return this.okText(o.secrets.resolve(this.text(ptr, len)), 'secret');
        } catch (e) {
          return this.err((e as Error).message);
        }
      },
      http_dispatch: (ctx: number, ptr: number, len: number, bptr: number, blen: number) => {
        const hooks = this.contexts.get(ctx);
        if (!hooks) return this.err('unknown request context');
        let req: CallRequest;
        try {
          req = JSON.parse(this.text(ptr, len)) as CallRequest;
        } catch (e) {
          return this.err('invalid call description');
        }
        // the flow's own limit, not only the client's default
        req.max_response_bytes = hooks.limits.call_response_body_bytes;
        const body = blen >= 0 ? this.copyOut(bptr, blen) : undefined;
        const token = this.nextToken++;
        if (this.nextToken > 0x7ffffff0) this.nextToken = 1;
        const cancel = new CallCancel();
        this.calls.set(token, { ctx, cancel });
        // answers always come after this import returns (the module does not know the token yet)
        let dispatching = true;
        const finished = (err: Error | null, res: CallResponse | undefined): void => {
          if (dispatching) {
            queueMicrotask(() => finished(err, res));
            return;
          }
          if (!this.calls.delete(token)) return;
          if (err) this.deliver(ctx, token, 0, err.message, undefined);
          else this.deliver(ctx, token, res!.status, '{"headers":' + JSON.stringify(res!.headers) + '}', res!.body);
        };
        try {
          if (o.http.dispatch) o.http.dispatch(req, body, cancel, finished);
          else o.http.send(req, body, cancel).then((res) => finished(null, res), (err: Error) => finished(err, undefined));
        } catch (e) {
          finished(e as Error, undefined);
        }
        dispatching = false;
        return token;
      },
      host_call: (ptr: number, len: number, dptr: number, dlen: number) => {
        try {
          const op = JSON.parse(this.text(ptr, len)) as CapabilityOp;
          return this.ok(o.capabilities.sync(op, dlen >= 0 ? this.copyOut(dptr, dlen) : undefined, this.activeLimits()), `${op.op} result`);
        } catch (e) {
          return this.err((e as Error).message);
        }
      },
      async_dispatch: (ctx: number, ptr: number, len: number, dptr: number, dlen: number) => {
        const hooks = this.contexts.get(ctx);
        if (!hooks) return this.err('unknown request context');
        let op: CapabilityOp;
        try {
          op = JSON.parse(this.text(ptr, len)) as CapabilityOp;
        } catch {
          return this.err('invalid operation');
        }
        const data = dlen >= 0 ? this.copyOut(dptr, dlen) : undefined;
        const token = this.nextToken++;
        if (this.nextToken > 0x7ffffff0) this.nextToken = 1;
        const cancel = new CallCancel();
        this.calls.set(token, { ctx, cancel });
        o.capabilities.async(op, data, hooks.limits, cancel).then(
          (result) => {
            if (!this.calls.delete(token)) return;
            this.deliverAsync(ctx, token, 1, result, `${op.op} result`);
          },
          (err: Error) => {
            if (!this.calls.delete(token)) return;
            this.deliverAsync(ctx, token, 0, encoder.encode(err.message), '');
          },
        );
        return token;
      },
      async_cancel: (_ctx: number, token: number) => {
        const c = this.calls.get(token);
        if (c) {
          this.calls.delete(token);
          c.cancel.abort();
        }
      },
      phase_timings: (ctx: number, ptr: number, count: number) => {
        const hooks = this.contexts.get(ctx);
        if (!hooks) return;
        // a copy: module memory is reused once the export returns
        const triples = new Array<number>(count * 3);
        if ((ptr & 7) === 0) {
          // the module's allocations are 16-aligned: index the f64 view directly
          const f = this.f64View();
          const base = ptr >>> 3;
          for (let i = 0; i < triples.length; i++) triples[i] = f[base + i];
        } else {
          const b = this.view();
          for (let i = 0; i < triples.length; i++) triples[i] = b.readDoubleLE(ptr + i * 8);
        }
        hooks.timings(triples);
      },
      phase_result: (ctx: number, ptr: number, len: number, bptr: number, blen: number) => {
        const hooks = this.contexts.get(ctx);
        if (!hooks) return;
        const meta = JSON.parse(this.text(ptr, len)) as { action: string };
        const body = blen >= 0 ? this.copyOut(bptr, blen) : undefined;
        hooks.settle(meta.action === 'exit' ? Action.Respond : Action.Continue, meta, body);
      },
    };
  }

  /** Feeds a call's answer back into the module; one over value_bytes fails the call instead. */
  private deliver(ctx: number, token: number, status: number, meta: string, body: Uint8Array | undefined): void {
    const hooks = this.contexts.get(ctx);
    if (!hooks) return;
    const run = (status: number, meta: string, body: Uint8Array | undefined, limit: number) =>
      this.call(() => {
        const [mp, ml, bp, bl] = this.putPair(meta, body, limit, 'call response body');
        return this.exports.dk_on_http_response(ctx, token, status, mp, ml, bp, bl);
      }, ctx);
    try {
      try {
        run(status, meta, body, valueBytes(hooks.limits));
      } catch (e) {
        if (!(e instanceof LimitExceeded)) throw e;
        run(0, e.message, undefined, Infinity);
      }
    } catch (e) {
      if (!(e instanceof EngineTrap)) hooks.crash(e as Error);
    }
  }

  private deliverAsync(ctx: number, token: number, ok: number, data: Uint8Array, what: string): void {
    const hooks = this.contexts.get(ctx);
    if (!hooks) return;
    const run = (ok: number, data: Uint8Array, limit: number) =>
      this.call(() => {
        const [p, l] = this.put(data, limit, what);
        return this.exports.dk_on_async_result(ctx, token, ok, p, l);
      }, ctx);
    try {
      try {
        run(ok, data, valueBytes(hooks.limits));
      } catch (e) {
        if (!(e instanceof LimitExceeded)) throw e;
        run(0, encoder.encode(e.message), Infinity);
      }
    } catch (e) {
      if (!(e instanceof EngineTrap)) hooks.crash(e as Error);
    }
  }
}

/**
 * A template's parse error on one line, complete: Handlebars writes the
 * position, the text around it, a caret line and what it expected on four
 * lines (`Parse error on line 1: "Hello {{#if}}": Expecting ..., got 'EOF'`).
 */
function templateErrorText(message: string): string {
  const lines = message.split('\n');
  if (lines.length >= 4 && /^-*\^$/.test(lines[2])) return `${lines[0]} ${JSON.stringify(lines[1])}: ${lines.slice(3).join(' ')}`;
  return lines.join(' ');
}
