// The module's exports: the lifecycle a host drives (docs/host-abi.md).
//
//   dk_configure      plugin config JSON -> plan id (errors via return_data)
//   dk_request_new    plan -> request context
//   dk_on_request     request metadata (+ body) -> action
//   dk_on_http_response  a dispatched call's answer -> action
//   dk_on_response    upstream response metadata (+ body) -> action
//   dk_done           frees the context
//
// Buffers passed into exports are allocated with dk_alloc and owned by the
// module from then on.
//
// Memory: plans live in the collector's heap; each request context gets an
// arena (assembly/rt/arena.ts) that every export on it allocates from, and
// that dk_done frees at once. So exports on a context enter its arena first
// and restore the previous one before returning, and the global tables below
// are changed only outside any arena. Every export restores the arena it
// found, so a host that calls an export from inside an import (re-entry)
// cannot leave the outer export allocating in the wrong place; dk_done on a
// context whose export is still running closes it when that export returns.

import { ByteWriter, setWriteLimit } from './bytes';
import { parseJson, lastParseError, clearParseError, writeJsonString } from './json';
import { clearBodyError } from './http';
import { monoMs, returnData } from './host';
import { buildPlan, Plan } from './plan';
import { ACTION_NONE, Ctx } from './context';
import { asyncAnswered, callAnswered } from './nodes';
import { NodeType } from './types';

export const ABI_VERSION: i32 = 4;

const plans = new Map<i32, Plan>();
const contexts = new Map<i32, Ctx>();
/** plans freed (dk_plan_free) while contexts still ran on them; dropped with their last context */
const retired = new Set<Plan>();
let nextPlan: i32 = 1;
let nextCtx: i32 = 1;

export function dk_abi_version(): i32 {
  return ABI_VERSION;
}

/** Allocates `size` bytes for the host to fill; pass the pointer to exactly one export (or dk_free). */
export function dk_alloc(size: i32): usize {
  // in the collector's heap even if a host import calls this mid-export
  const arena = __arena_enter(0);
  const buf = new ArrayBuffer(size < 0 ? 0 : size);
  const p = changetype<usize>(buf);
  __pin(p);
  __arena_enter(arena);
  return p;
}

export function dk_free(ptr: usize): void {
  if (ptr != 0) __unpin(ptr);
}

/** Takes ownership of a dk_alloc'd buffer; null when ptr is 0 or len < 0.
 * Inside a context's arena the buffer stays pinned and the arena frees it
 * (the collector does not trace arena objects, so it must not free it first). */
function take(ptr: usize, len: i32): ArrayBuffer | null {
  if (ptr == 0 || len < 0) return null;
  const arena = __arena_current();
  if (arena != 0) __arena_own(arena, ptr);
  else __unpin(ptr);
  const buf = changetype<ArrayBuffer>(ptr);
  if (buf.byteLength == len) return buf;
  return buf.slice(0, len);
}

function takeOrEmpty(ptr: usize, len: i32): ArrayBuffer {
  const b = take(ptr, len);
  return b !== null ? b! : new ArrayBuffer(0);
}

/** Compiles a plugin config. Returns the plan id, or 0 with errors. Either
 * way the module calls return_data with a JSON report. */
export function dk_configure(ptr: usize, len: i32): i32 {
  const prev = __arena_enter(0);
  const plan = configure(ptr, len);
  __arena_enter(prev);
  return plan;
}

function configure(ptr: usize, len: i32): i32 {
  const buf = takeOrEmpty(ptr, len);
  const w = new ByteWriter(256);
  const cfg = parseJson(buf, false);
  if (cfg === null) {
    w.str('{"ok":false,"errors":[{"message":');
    writeJsonString(w, 'config: invalid JSON: ' + lastParseError);
    w.str('}]}');
    returnData(w);
    return 0;
  }
  const plan = buildPlan(cfg);
  if (plan.errors.length > 0) {
    plan.release();
    plan.errorsJson(w);
    returnData(w);
    return 0;
  }
  plan.id = nextPlan++;
  plans.set(plan.id, plan);
  plan.infoJson(w);
  returnData(w);
  return plan.id;
}

export function dk_plan_free(id: i32): void {
  if (!plans.has(id)) return;
  const prev = __arena_enter(0);
  const plan = plans.get(id);
  plan.release();
  plans.delete(id);
  // contexts point at their plan, but the collector does not see into arenas
  if (plan.live > 0) retired.add(plan);
  __arena_enter(prev);
}

/** Creates a request context on a plan; 0 when the plan is unknown. */
export function dk_request_new(planId: i32): i32 {
  if (!plans.has(planId)) return 0;
  const plan = plans.get(planId);
  const id = nextCtx++;
  if (nextCtx >= 0x7ffffff0) nextCtx = 1;
  const arena = __arena_open();
  const prev = __arena_enter(arena);
  const c = new Ctx(id, plan);
  c.arena = arena;
  __arena_enter(0);
  plan.live++;
  contexts.set(id, c);
  __arena_enter(prev);
  return id;
}

/** The context `ctx` with its arena entered, or null (nothing entered) when
 * unknown. Pair with leave(c, prev, ...), prev being the arena current before. */
function enter(ctx: i32): Ctx | null {
  if (!contexts.has(ctx)) return null;
  const c = contexts.get(ctx);
  __arena_enter(c.arena);
  // writers stop at this request's value_bytes (re-entry from another context keeps the outer one's to restore)
  if (c.busy == 0) c.outerWriteLimit = setWriteLimit(c.valueLimit);
  c.busy++;
  return c;
}

function leave(c: Ctx, prev: usize, result: i32): i32 {
  c.busy--;
  if (c.busy == 0) setWriteLimit(c.outerWriteLimit);
  __arena_enter(prev);
  if (c.busy == 0 && c.closing) close(c);
  return result;
}

/** Forgets a context and frees its arena; no export of it may be running. */
function close(c: Ctx): void {
  const prev = __arena_enter(0);
  const arena = c.arena;
  const plan = c.plan;
  contexts.delete(c.id);
  if (--plan.live == 0 && retired.has(plan)) retired.delete(plan);
  // module globals that may still point into the arena
  clearBodyError();
  clearParseError();
  __arena_close(arena);
  __arena_enter(prev);
}

export function dk_on_request(ctx: i32, metaPtr: usize, metaLen: i32, bodyPtr: usize, bodyLen: i32): i32 {
  const prev = __arena_current();
  const c = enter(ctx);
  const meta = takeOrEmpty(metaPtr, metaLen);
  const body = take(bodyPtr, bodyLen);
  if (c === null) return -1;
  return leave(c, prev, c.startRequest(meta, body));
}

/** A call's answer: status 0 means transport failure (meta holds the message). */
export function dk_on_http_response(ctx: i32, token: i32, status: i32, metaPtr: usize, metaLen: i32, bodyPtr: usize, bodyLen: i32): i32 {
  const prev = __arena_current();
  const c = enter(ctx);
  const meta = takeOrEmpty(metaPtr, metaLen);
  const body = take(bodyPtr, bodyLen);
  if (c === null) return -1;
  const ni = c.finished ? -1 : c.nodeForToken(token);
  if (ni < 0) return leave(c, prev, ACTION_NONE);
  const n = c.node(ni);
  if (n.type != NodeType.CALL) return leave(c, prev, ACTION_NONE);
  return leave(c, prev, c.resume(token, callAnswered(c, n, status, meta, body)));
}

/** An async capability's answer (cache, JWT): ok = 0 means failure (data holds the message). */
export function dk_on_async_result(ctx: i32, token: i32, ok: i32, ptr: usize, len: i32): i32 {
  const prev = __arena_current();
  const c = enter(ctx);
  const data = takeOrEmpty(ptr, len);
  if (c === null) return -1;
  const ni = c.finished ? -1 : c.nodeForToken(token);
  if (ni < 0) return leave(c, prev, ACTION_NONE);
  const n = c.node(ni);
  if (n.type == NodeType.CALL) return leave(c, prev, ACTION_NONE);
  return leave(c, prev, c.resume(token, asyncAnswered(c, n, ok != 0, data)));
}

export function dk_on_response(ctx: i32, metaPtr: usize, metaLen: i32, bodyPtr: usize, bodyLen: i32): i32 {
  const prev = __arena_current();
  const c = enter(ctx);
  const meta = takeOrEmpty(metaPtr, metaLen);
  const body = take(bodyPtr, bodyLen);
  if (c === null) return -1;
  return leave(c, prev, c.startResponse(meta, body));
}

/** Ends a request: in-flight calls are canceled, nothing survives (its arena
 * is freed; when called from inside one of this context's own exports, as
 * that export returns). */
export function dk_done(ctx: i32): void {
  const prev = __arena_current();
  const c = enter(ctx);
  if (c === null || c.closing) {
    if (c !== null) leave(c, prev, 0);
    return;
  }
  c.abandon();
  c.closing = true;
  leave(c, prev, 0);
}

/**
 * Collects garbage. The module uses AssemblyScript's minimal runtime: no
 * incremental collector running during requests; the host calls this
 * between exports (when no module frame is live), e.g. every N requests.
 */
export function dk_collect(): void {
  // never while an export is running (the host must not call it from an import)
  if (__arena_current() != 0) return;
  __collect();
}

/** Calls the clock import n times: measures one module-to-host crossing. */
export function dk_ping(n: i32): f64 {
  let acc: f64 = 0;
  for (let i = 0; i < n; i++) acc += monoMs();
  return acc;
}

/** Counts for leak checks: {"plans":N,"contexts":N,"arenas":N,"arena_bytes":N,"memory_bytes":bytes}. */
export function dk_stats(): void {
  const w = new ByteWriter(64);
  w.str('{"plans":');
  w.int(plans.size);
  w.str(',"contexts":');
  w.int(contexts.size);
  w.str(',"arenas":');
  w.int(__arena_count());
  w.str(',"arena_bytes":');
  w.int(<i64>__arena_open_bytes());
  w.str(',"memory_bytes":');
  w.int(<i64>memory.size() << 16);
  w.byte(0x7d);
  returnData(w);
}
