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

import { ByteWriter } from './bytes';
import { parseJson, lastParseError, writeJsonString } from './json';
import { monoMs, returnData } from './host';
import { buildPlan, Plan } from './plan';
import { ACTION_NONE, Ctx } from './context';
import { asyncAnswered, callAnswered } from './nodes';
import { NodeType } from './types';

export const ABI_VERSION: i32 = 2;

const plans = new Map<i32, Plan>();
const contexts = new Map<i32, Ctx>();
let nextPlan: i32 = 1;
let nextCtx: i32 = 1;

export function dk_abi_version(): i32 {
  return ABI_VERSION;
}

/** Allocates `size` bytes for the host to fill; pass the pointer to exactly one export (or dk_free). */
export function dk_alloc(size: i32): usize {
  const buf = new ArrayBuffer(size < 0 ? 0 : size);
  const p = changetype<usize>(buf);
  __pin(p);
  return p;
}

export function dk_free(ptr: usize): void {
  if (ptr != 0) __unpin(ptr);
}

/** Takes ownership of a dk_alloc'd buffer; null when ptr is 0 or len < 0. */
function take(ptr: usize, len: i32): ArrayBuffer | null {
  if (ptr == 0 || len < 0) return null;
  __unpin(ptr);
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
  plans.get(id).release();
  plans.delete(id);
}

/** Creates a request context on a plan; 0 when the plan is unknown. */
export function dk_request_new(planId: i32): i32 {
  if (!plans.has(planId)) return 0;
  const id = nextCtx++;
  if (nextCtx >= 0x7ffffff0) nextCtx = 1;
  contexts.set(id, new Ctx(id, plans.get(planId)));
  return id;
}

export function dk_on_request(ctx: i32, metaPtr: usize, metaLen: i32, bodyPtr: usize, bodyLen: i32): i32 {
  const meta = takeOrEmpty(metaPtr, metaLen);
  const body = take(bodyPtr, bodyLen);
  if (!contexts.has(ctx)) return -1;
  return contexts.get(ctx).startRequest(meta, body);
}

/** A call's answer: status 0 means transport failure (meta holds the message). */
export function dk_on_http_response(ctx: i32, token: i32, status: i32, metaPtr: usize, metaLen: i32, bodyPtr: usize, bodyLen: i32): i32 {
  const meta = takeOrEmpty(metaPtr, metaLen);
  const body = take(bodyPtr, bodyLen);
  if (!contexts.has(ctx)) return -1;
  const c = contexts.get(ctx);
  const ni = c.finished ? -1 : c.nodeForToken(token);
  if (ni < 0) return ACTION_NONE;
  const n = c.node(ni);
  if (n.type != NodeType.CALL) return ACTION_NONE;
  return c.resume(token, callAnswered(c, n, status, meta, body));
}

/** An async capability's answer (cache, JWT): ok = 0 means failure (data holds the message). */
export function dk_on_async_result(ctx: i32, token: i32, ok: i32, ptr: usize, len: i32): i32 {
  const data = takeOrEmpty(ptr, len);
  if (!contexts.has(ctx)) return -1;
  const c = contexts.get(ctx);
  const ni = c.finished ? -1 : c.nodeForToken(token);
  if (ni < 0) return ACTION_NONE;
  const n = c.node(ni);
  if (n.type == NodeType.CALL) return ACTION_NONE;
  return c.resume(token, asyncAnswered(c, n, ok != 0, data));
}

export function dk_on_response(ctx: i32, metaPtr: usize, metaLen: i32, bodyPtr: usize, bodyLen: i32): i32 {
  const meta = takeOrEmpty(metaPtr, metaLen);
  const body = take(bodyPtr, bodyLen);
  if (!contexts.has(ctx)) return -1;
  return contexts.get(ctx).startResponse(meta, body);
}

/** Ends a request: in-flight calls are canceled, nothing survives. */
export function dk_done(ctx: i32): void {
  if (!contexts.has(ctx)) return;
  contexts.get(ctx).abandon();
  contexts.delete(ctx);
}

/**
 * Collects garbage. The module uses AssemblyScript's minimal runtime: no
 * incremental collector running during requests; the host calls this
 * between exports (when no module frame is live), e.g. every N requests.
 */
export function dk_collect(): void {
  __collect();
}

/** Calls the clock import n times: measures one module-to-host crossing. */
export function dk_ping(n: i32): f64 {
  let acc: f64 = 0;
  for (let i = 0; i < n; i++) acc += monoMs();
  return acc;
}

/** Counts for leak checks: {"plans":N,"contexts":N,"heap":bytes}. */
export function dk_stats(): void {
  const w = new ByteWriter(64);
  w.str('{"plans":');
  w.int(plans.size);
  w.str(',"contexts":');
  w.int(contexts.size);
  w.str(',"memory_bytes":');
  w.int(<i64>memory.size() << 16);
  w.byte(0x7d);
  returnData(w);
}
