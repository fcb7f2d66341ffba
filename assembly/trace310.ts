// The X-DataKit-Debug-Trace report of 3.10-dialect flows, in the shape of
// Kong's 3.10 filter (github.com/Kong/datakit, src/debug.rs): a JSON list of
// actions. `run` and `resume` name the node and its type; `value`, `wait`
// and `fail` give what the node holds after it ran, as positional
// `values: [{data_type, value}]` (`application/json` for JSON, `raw` for
// text, `none` with a null value for an empty port, `fail` for an error).
// Implicit nodes appear only as `value`s, one per port the request fills.
// Values are masked as in the 3.11+ trace.

import { ByteWriter } from './bytes';
import { alwaysMasked, Ctx, S_SKIPPED } from './context';
import { isJsonMedia, mediaType } from './http';
import { Kind, Value, writeJsonString } from './json';
import { N_IMPLICIT, N_REQUEST, N_SERVICE_REQUEST, N_SERVICE_RESPONSE, N_VAULT, PNode, SELF } from './plan';
import { MASK, Trace, writeMasked } from './trace';
import { NodeType, PortType } from './types';

/** Whether some node reads port p of node i (a whole-node read counts for every port). */
function portRead(ctx: Ctx, i: i32, p: i32): bool {
  const nodes = ctx.plan.nodes;
  for (let j = 0; j < nodes.length; j++) {
    const n = nodes[j];
    for (let k = 0; k < n.inConns.length; k++) {
      const c = n.inConns[k];
      if (c !== null && c.srcNode == i && c.srcPort == p) return true;
    }
    const sc = n.selfConn;
    if (sc !== null && sc.srcNode == i && (sc.srcPort == p || sc.srcPort == SELF)) return true;
  }
  return false;
}

/** 3.10's data_type of a value a node produced (src/debug.rs payloads_to_values). */
function dataType(n: PNode, port: string, v: Value): string {
  if (v.typeKind() != Kind.STR) return 'application/json';
  // text that was never JSON: a body or template output of another type, a property read as bytes, a call's error
  if (v.bytes !== null) return 'raw';
  if (v.ctype.length > 0 && !isJsonMedia(mediaType(v.ctype))) return 'raw';
  if (n.type == NodeType.PROPERTY && !isJsonMedia(mediaType(n.contentType))) return 'raw';
  if (n.type == NodeType.CALL && port == 'error') return 'raw';
  return 'application/json';
}

function writePortValue(ctx: Ctx, w: ByteWriter, index: i32, n: PNode, port: string, v: Value | null, mask: bool): void {
  if (index > 0) w.byte(0x2c);
  if (v === null) {
    w.str('{"data_type":"none","value":null}');
    return;
  }
  w.str('{"data_type":');
  // a request body that failed to parse: 3.10 listed the Payload::Error as `fail`
  writeJsonString(w, v === ctx.requestBodyFailure310 ? 'fail' : dataType(n, port, v));
  w.str(',"value":');
  if (mask) writeJsonString(w, MASK);
  else writeMasked(w, v, ctx.secrets, 0);
  w.byte(0x7d);
}

/** The ports 3.10's filter knew for an implicit node (body, headers[, query]). */
function implicitPorts310(i: i32): i32 {
  return i == N_REQUEST ? 3 : 2;
}

/**
 * A jq node's `values`: 3.10 listed its results, however many ports it had
 * (none: one empty value). Closes the action; false when `i` kept no results.
 */
function writeJqResults(ctx: Ctx, t: Trace, w: ByteWriter, i: i32, n: PNode): bool {
  if (!ctx.jqResults310.has(i)) return false;
  const results = ctx.jqResults310.get(i);
  for (let k = 0; k < results.length; k++) writePortValue(ctx, w, k, n, '', results[k], false);
  if (results.length == 0) writePortValue(ctx, w, 0, n, '', null, false);
  w.byte(0x5d);
  t.closeAt();
  return true;
}

/**
 * One `value` action of an implicit node: its 3.10 ports, then this engine's
 * other ports some node reads; ports not (yet) filled are `none`.
 */
function writeImplicitSnapshot(ctx: Ctx, t: Trace, i: i32, filled: StaticArray<bool>): void {
  const n = ctx.node(i);
  const w = t.open310('value', n.name, null);
  w.str(',"values":[');
  let count = 0;
  for (let p = 0; p < n.outPorts.length; p++) {
    if (p >= implicitPorts310(i) && !filled[p]) continue;
    writePortValue(ctx, w, count++, n, n.outPorts[p].name, filled[p] ? ctx.getOut(i, p) : null, false);
  }
  w.byte(0x5d);
  t.closeAt();
}

/**
 * request and service_response: 3.10 filled their ports one at a time, only
 * those some node reads (headers, then the query, then the body), and
 * traced the node after each.
 */
function traceImplicit(ctx: Ctx, t: Trace, i: i32): void {
  const n = ctx.node(i);
  const filled = new StaticArray<bool>(n.outPorts.length);
  let extra = false;
  for (let p = implicitPorts310(i); p < n.outPorts.length; p++) {
    filled[p] = portRead(ctx, i, p) && ctx.getOut(i, p) !== null;
    if (filled[p]) extra = true;
  }
  const order: i32[] = i == N_REQUEST ? [1, 2, 0] : [1, 0];
  let events = 0;
  for (let k = 0; k < order.length; k++) {
    const p = order[k];
    if (!portRead(ctx, i, p) || ctx.getOut(i, p) === null) continue;
    filled[p] = true;
    writeImplicitSnapshot(ctx, t, i, filled);
    events++;
  }
  if (events == 0 && extra) writeImplicitSnapshot(ctx, t, i, filled);
}

/** `run`, as 3.10 traced a node it triggered (implicit nodes never run). */
export function traceRun310(ctx: Ctx, t: Trace, i: i32): void {
  if (i < N_IMPLICIT) return;
  const n = ctx.node(i);
  t.open310('run', n.name, n.typeName);
  t.closeAt();
}

/** `wait`: an async node was dispatched. */
export function traceWait310(ctx: Ctx, t: Trace, i: i32): void {
  t.open310('wait', ctx.node(i).name, null);
  t.closeAt();
}

/** `resume`: an async node's answer arrived (the `value` or `fail` follows). */
export function traceResume310(ctx: Ctx, t: Trace, i: i32): void {
  const n = ctx.node(i);
  t.open310('resume', n.name, n.typeName);
  t.closeDuration(i);
}

/** `value`: what a node holds once done. */
export function traceValues310(ctx: Ctx, t: Trace, i: i32): void {
  if (i == N_SERVICE_REQUEST) return; // a sink: 3.10 traced nothing for it
  if (i == N_REQUEST || i == N_SERVICE_RESPONSE) {
    traceImplicit(ctx, t, i);
    return;
  }
  // the vault node is reported only when the flow names secrets
  if (i == N_VAULT && ctx.secrets.length == 0) return;
  const n = ctx.node(i);
  const w = t.open310('value', n.name, null);
  w.str(',"values":[');
  let count = 0;
  if (writeJqResults(ctx, t, w, i, n)) return;
  for (let p = 0; p < n.outPorts.length; p++) {
    const name = n.outPorts[p].name;
    // a call's status and raw body are this engine's: listed only when read
    if (n.type == NodeType.CALL && (name == 'status' || name == 'raw_body') && !portRead(ctx, i, p)) continue;
    const v = ctx.getOut(i, p);
    writePortValue(ctx, w, count++, n, name, v, i == N_VAULT || (v !== null && alwaysMasked(n.type, name, false)));
  }
  if (count == 0 && n.selfOutType != PortType.OBJECT && n.type != NodeType.STATIC) {
    // a node-wise output (jq, handlebars, a property read); a node without a value (exit, a property set) has `none`
    writePortValue(ctx, w, count++, n, '', ctx.selfs[i], false);
  }
  if (count == 0) writePortValue(ctx, w, count++, n, '', null, false);
  w.byte(0x5d);
  t.closeAt();
}

/** `fail`: the node's error as its one value. */
export function traceFail310(ctx: Ctx, t: Trace, i: i32, message: string): void {
  const w = t.open310('fail', ctx.node(i).name, null);
  w.str(',"values":[{"data_type":"fail","value":');
  writeJsonString(w, message);
  w.str('}]');
  t.closeAt();
}

/**
 * A traced request that was proxied: with no node giving the response a
 * body, 3.10 traced the `response` node with the service's body as it
 * would have been sent.
 */
export function traceResponse310(ctx: Ctx, t: Trace, bodyGiven: bool): void {
  if (bodyGiven || ctx.state[N_SERVICE_RESPONSE] == S_SKIPPED) return;
  const up = ctx.getOut(N_SERVICE_RESPONSE, 0);
  if (up === null) return;
  const n = ctx.node(N_SERVICE_RESPONSE);
  const w = t.open310('value', 'response', null);
  w.str(',"values":[');
  writePortValue(ctx, w, 0, n, 'body', up, false);
  writePortValue(ctx, w, 1, n, 'headers', null, false);
  w.byte(0x5d);
  t.closeAt();
}

/** The report: the list of actions (and, past the write limit, a last `truncated` one). */
export function traceReport310(t: Trace): ArrayBuffer {
  const w = new ByteWriter(64 + t.events.len);
  w.byte(0x5b);
  w.slice(t.events.buf, 0, t.events.len);
  if (t.truncated) w.str(t.count > 0 ? ',{"action":"truncated"}' : '{"action":"truncated"}');
  w.byte(0x5d);
  return w.finish();
}
