// One request through a plan: node states, values between ports, the
// scheduler (a node runs once all its inputs are ready; async nodes are
// dispatched to the host and resumed by token), branch skipping, failure
// and cancellation, and the phase results handed back to the host.

import { ByteWriter, clearOverflow, equalsIgnoreCase, overflowed, setWriteLimit, writeLimitBytes } from './bytes';
import { jsonQuote, Kind, parseJson, Value, valueTypeName, writeJson, writeJsonString, writeNumber } from './json';
import {
  host_async_cancel,
  host_phase_result,
  host_phase_timings,
  host_secret_get,
  log,
  LOG_ERROR,
  LOG_WARN,
  monoMs,
  takeResult,
} from './host';
import {
  Conn,
  N_IMPLICIT,
  N_REQUEST,
  N_RESPONSE,
  N_SERVICE_REQUEST,
  N_SERVICE_RESPONSE,
  N_VAULT,
  Plan,
  PNode,
  SELF,
} from './plan';
import { NodeType, PortType, portTypeName } from './types';
import { decodeBody, EncodedBody, encodeBody, headerCharProblem, headerValue, bodyError, rawJson, writeMessageHeaders, LENGTH_NONE, LENGTH_SET } from './http';
import { maskSecrets, MASK, Trace, writeMasked } from './trace';
import { runNode, NodeResult } from './nodes';
import { traceFail310, traceReport310, traceResponse310, traceResume310, traceRun310, traceValues310, traceWait310 } from './trace310';
import { decodeForm, DIALECT_310, jqVariableName310, KEPT_REQUEST_HEADERS_310, KEPT_RESPONSE_HEADERS_310, lowerCaseHeaders, query310, queryValues310, replacingHeaders310, traceHeaderOn310 } from './dialect';

export const S_PENDING: i32 = 0;
export const S_RUNNING: i32 = 1;
export const S_DONE: i32 = 2;
export const S_FAILED: i32 = 3;
export const S_SKIPPED: i32 = 4;
export const S_CANCELED: i32 = 5;

/** Actions returned to the host by the lifecycle exports. */
export const ACTION_PAUSE: i32 = 0;
export const ACTION_CONTINUE: i32 = 1;
export const ACTION_RESPOND: i32 = 2;
export const ACTION_NONE: i32 = 3;

const TRUE_WORDS: string[] = ['true', 'yes', 'on', '1', 'enabled'];

/** failure messages are cut to this many characters */
const MAX_MESSAGE: i32 = 4096;

/** The failure of a node whose output would be bigger than the request's value_bytes. */
export function tooLarge(): string {
  return 'value exceeds the value_bytes limit (' + writeLimitBytes().toString() + ' bytes)';
}

export class Ctx {
  id: i32;
  plan: Plan;
  /** the arena this context allocates from (assembly/rt/arena.ts) */
  arena: usize = 0;
  /** exports of this context running now (more than one only on re-entry) */
  busy: i32 = 0;
  /** the request's value_bytes (request metadata): no writer grows past it */
  valueLimit: i32 = 16 * 1024 * 1024;
  /** the write limit to restore when this context's outermost export returns */
  outerWriteLimit: i32 = 0;
  /** dk_done was called: close when no export of it runs */
  closing: bool = false;
  state: StaticArray<i32>;
  waiting: StaticArray<i32>;
  /** output port values of every node, flat: plan.outBase[i] + port */
  outs: StaticArray<Value | null>;
  selfs: StaticArray<Value | null>;
  /** in-flight async operations: the token each node waits on (0 = none) */
  tokenOf: StaticArray<i32>;
  inFlight: i32 = 0;
  ready: i32[] = [];
  phase: i32 = 0;
  finished: bool = false;
  requestId: string = '';
  trace: Trace | null = null;
  /** the trace is in Kong 3.10's shape (a 3.10-dialect plan) */
  trace310: bool = false;
  /** a node failed in a traced 3.10 request: no node runs any more, the request goes on */
  halted310: bool = false;
  /** every result of each jq node, for the 3.10 trace (its outputs keep only as many as it has ports) */
  jqResults310: Map<i32, Array<Value>> = new Map<i32, Array<Value>>();
  /** 3.10: a request body declared JSON that is not: request.body holds this failure (its parse error) instead of failing the request. */
  requestBodyFailure310: Value | null = null;
  secrets: string[] = [];
  /** the response status the client gets (for traces of proxied requests) */
  failedNode: i32 = -1;
  failure: string = '';
  /** per-node durations, reported in phase results when the host asks */
  timings: bool = false;
  nodeStart: StaticArray<f64> = new StaticArray<f64>(0);
  nodeMs: StaticArray<f64> = new StaticArray<f64>(0);

  constructor(id: i32, plan: Plan) {
    this.id = id;
    this.plan = plan;
    const n = plan.nodes.length;
    // one allocation per table: requests are many, nodes few
    this.state = new StaticArray<i32>(n);
    this.waiting = new StaticArray<i32>(n);
    this.tokenOf = new StaticArray<i32>(n);
    this.outs = new StaticArray<Value | null>(plan.outCount);
    this.selfs = new StaticArray<Value | null>(n);
    const deps = plan.depCount;
    for (let i = 0; i < n; i++) this.waiting[i] = unchecked(deps[i]);
  }

  @inline getOut(i: i32, port: i32): Value | null {
    return this.outs[unchecked(this.plan.outBase[i]) + port];
  }

  @inline setOut(i: i32, port: i32, v: Value | null): void {
    this.outs[unchecked(this.plan.outBase[i]) + port] = v;
  }

  enableTimings(): void {
    const n = this.plan.nodes.length;
    this.timings = true;
    this.nodeStart = new StaticArray<f64>(n);
    this.nodeMs = new StaticArray<f64>(n);
    for (let i = 0; i < n; i++) this.nodeMs[i] = -1;
  }

  /** The node waiting on an async token, or -1. */
  nodeForToken(token: i32): i32 {
    if (token <= 0) return -1;
    for (let i = 0; i < this.tokenOf.length; i++) if (unchecked(this.tokenOf[i]) == token) return i;
    return -1;
  }

  node(i: i32): PNode {
    return this.plan.nodes[i];
  }

  // ------------------------------------------------------------ values

  /** The value a connection delivers, type-checked; null when absent. */
  fetch(c: Conn): Value | null {
    if (this.state[c.srcNode] != S_DONE) return null;
    let v: Value | null;
    if (c.srcPort == SELF) v = this.selfValue(c.srcNode);
    else v = this.getOut(c.srcNode, c.srcPort);
    return v;
  }

  /** The node-wise output: the whole object for fixed-port nodes. */
  selfValue(i: i32): Value | null {
    const s = this.selfs[i];
    if (s !== null) return s;
    const n = this.node(i);
    if (n.selfOutType != PortType.OBJECT && n.type != NodeType.VAULT) return null;
    const o = Value.obj();
    let sensitive = false;
    for (let p = 0; p < n.outPorts.length; p++) {
      const v = this.getOut(i, p);
      if (v === null) continue;
      if (v.sensitive) sensitive = true;
      o.set(n.outPorts[p].name, v);
    }
    o.sensitive = sensitive && n.type != NodeType.VAULT;
    this.selfs[i] = o;
    return o;
  }

  /**
   * Gathers a node's inputs: one value per input port (null when absent)
   * plus the node-wise input. Returns an error text, or null.
   */
  gather(n: PNode, ins: Array<Value | null>): string | null {
    for (let p = 0; p < n.inPorts.length; p++) {
      const c = n.inConns[p];
      if (c === null) {
        ins.push(null);
        continue;
      }
      const v = this.fetch(c);
      if (v === null) {
        ins.push(null);
        continue;
      }
      const checked = checkType(v, c.check);
      if (checked === null) return 'invalid value for input ' + jsonQuote(n.inPorts[p].name) + ': expected ' + portTypeName(c.check) + ', got ' + valueTypeName(v);
      ins.push(checked);
    }
    const sc = n.selfConn;
    if (sc !== null && n.selfInType == PortType.OBJECT) {
      // node-wise value into a fixed-port node: split it by field at run time
      const v = this.fetch(sc);
      if (v !== null && !v.isNull()) {
        if (v.typeKind() != Kind.OBJ) return 'invalid value for node-wise input: expected object, got ' + valueTypeName(v);
        for (let p = 0; p < n.inPorts.length; p++) {
          const f = v.get(n.inPorts[p].name);
          if (f === null || ins[p] !== null) continue;
          const checked = checkType(f, n.inPorts[p].type);
          if (checked === null) return 'invalid value for input ' + jsonQuote(n.inPorts[p].name) + ': expected ' + portTypeName(n.inPorts[p].type) + ', got ' + valueTypeName(f);
          if (v.sensitive) checked.sensitive = true;
          ins[p] = checked;
        }
      }
    }
    return null;
  }

  /**
   * 3.10: the failure a node gets for reading a request.body that was not
   * valid JSON (null when it reads none); jq named the input variable, a
   * handlebars template renders the failure's text (as 3.10's did).
   */
  failedInput310(n: PNode): string | null {
    const failure = this.requestBodyFailure310;
    if (failure === null || n.type == NodeType.HANDLEBARS) return null;
    let port: string | null = null;
    for (let p = 0; p < n.inConns.length && port === null; p++) {
      const c = n.inConns[p];
      if (c !== null && c.srcNode == N_REQUEST && c.srcPort == 0) port = n.inPorts[p].name;
    }
    const sc = n.selfConn;
    if (port === null && sc !== null && sc.srcNode == N_REQUEST && sc.srcPort == 0) port = 'request.body';
    if (port === null) return null;
    if (n.type == NodeType.JQ) return 'jq: input error at ' + jqVariableName310(port!) + ': ' + failure.s;
    return failure.s;
  }

  selfInput(n: PNode): Value | null {
    const sc = n.selfConn;
    if (sc === null) return null;
    const v = this.fetch(sc);
    if (v === null) return null;
    return checkType(v, sc.check);
  }

  // --------------------------------------------------------- scheduler

  traceOn(): bool {
    return this.trace !== null;
  }

  traceNode(i: i32, action: string): void {
    const t = this.trace;
    if (t === null) return;
    if (this.trace310) {
      // 3.10 traced a dispatch as `wait`; it had no skip or cancel
      if (action == 'dispatch') traceWait310(this, t, i);
      return;
    }
    const n = this.node(i);
    t.event(n.name, n.typeName, action);
  }

  /** `resume` or `cancel` of an async node: with the seconds since it ran. */
  traceAsync(i: i32, action: string): void {
    const t = this.trace;
    if (t === null) return;
    if (this.trace310) {
      if (action == 'resume') traceResume310(this, t, i);
      return;
    }
    const n = this.node(i);
    const w = t.open(n.name, n.typeName, action);
    w.str(',"duration":');
    writeNumber(w, t.durationOf(i));
    t.close();
  }

  /** `run`: the node's inputs as Kong lists them, and (Kong 3.15) inline as `value`. */
  traceRun(i: i32): void {
    const t = this.trace;
    if (t === null) return;
    t.runAt[i] = monoMs();
    if (this.trace310) {
      traceRun310(this, t, i);
      return;
    }
    const n = this.node(i);
    const w = t.open(n.name, n.typeName, 'run');
    const inline = Value.obj();
    let whole: Value | null = null;
    w.str(',"values":[');
    let count = 0;
    for (let p = 0; p < n.inPorts.length && p < n.inConns.length; p++) {
      const c = n.inConns[p];
      if (c === null) continue;
      const v = this.fetch(c);
      const name = n.inPorts[p].name;
      const masked = v !== null && alwaysMasked(n.type, name, true) ? Value.str(MASK) : v;
      this.writeEntry(w, count++, name, n.inPorts[p].type, masked);
      if (masked !== null) inline.set(name, masked);
    }
    const sc = n.selfConn;
    if (sc !== null) {
      let v = this.fetch(sc);
      if (v !== null && alwaysMasked(n.type, '$self', true)) v = Value.str(MASK);
      this.writeEntry(w, count++, null, n.selfInType, v);
      whole = v;
    }
    w.byte(0x5d);
    if (whole !== null && inline.keys!.length == 0) this.writeInline(w, whole!, false);
    else if (inline.keys!.length > 0) this.writeInline(w, inline, false);
    t.close();
  }

  /** `complete`: every output port (a value when it has one), and the output inline. */
  traceValues(i: i32): void {
    const t = this.trace;
    if (t === null) return;
    if (this.trace310) {
      traceValues310(this, t, i);
      return;
    }
    // the vault node is reported only when the flow names secrets
    if (i == N_VAULT && this.secrets.length == 0) return;
    const n = this.node(i);
    const w = t.open(n.name, n.typeName, 'complete');
    const forceMask = i == N_VAULT;
    const inline = Value.obj();
    w.str(',"values":[');
    let count = 0;
    for (let p = 0; p < n.outPorts.length; p++) {
      let v = this.getOut(i, p);
      const name = n.outPorts[p].name;
      if (v !== null && alwaysMasked(n.type, name, false)) v = Value.str(MASK);
      this.writeEntry(w, count++, name, n.outPorts[p].type, v, forceMask);
      if (v !== null) inline.set(name, v);
    }
    const s = this.selfs[i];
    const ownSelf = s !== null && n.selfOutType != PortType.OBJECT && n.type != NodeType.STATIC && n.type != NodeType.VAULT;
    if (ownSelf) this.writeEntry(w, count++, null, n.selfOutType, s);
    w.byte(0x5d);
    if (ownSelf) this.writeInline(w, s!, false);
    else if (inline.keys!.length > 0) this.writeInline(w, inline, forceMask);
    t.close();
  }

  /** One `{"key","type","value"}` entry of an event's values; no `value` when the port has none. */
  writeEntry(w: ByteWriter, index: i32, key: string | null, type: i32, v: Value | null, forceMask: bool = false): void {
    if (index > 0) w.byte(0x2c);
    w.byte(0x7b);
    if (key !== null) {
      w.str('"key":');
      writeJsonString(w, key!);
      w.byte(0x2c);
    }
    w.str('"type":');
    writeJsonString(w, portTypeName(type));
    if (v !== null) {
      w.str(',"value":');
      if (forceMask) writeJsonString(w, MASK);
      else writeMasked(w, v, this.secrets, 0);
    }
    w.byte(0x7d);
  }

  writeInline(w: ByteWriter, v: Value, forceMask: bool): void {
    w.str(',"value":');
    if (forceMask) {
      // every field of the vault is a secret
      const o = Value.obj();
      for (let k = 0; k < v.keys!.length; k++) o.set(v.keys![k], Value.str(MASK));
      writeMasked(w, o, this.secrets, 0);
    } else writeMasked(w, v, this.secrets, 0);
  }

  /** Marks node i complete and wakes its dependants. */
  complete(i: i32): void {
    this.state[i] = S_DONE;
    if (this.trace !== null) this.traceValues(i);
    const n = this.node(i);
    for (let j = 0; j < n.dependants.length; j++) {
      const d = n.dependants[j];
      // a branch's listed nodes are released by the branch decision
      if (n.type == NodeType.BRANCH && (n.branchThen.includes(d) || n.branchElse.includes(d))) continue;
      this.release(d);
    }
  }

  release(d: i32): void {
    this.waiting[d]--;
    if (this.waiting[d] == 0 && this.state[d] == S_PENDING && d >= N_IMPLICIT) {
      this.ready.push(d);
    }
  }

  /** Skips node i and, transitively, the user nodes depending on it. */
  skip(i: i32): void {
    if (this.state[i] != S_PENDING) return;
    this.state[i] = S_SKIPPED;
    this.traceNode(i, 'skip');
    const n = this.node(i);
    for (let j = 0; j < n.dependants.length; j++) {
      const d = n.dependants[j];
      if (d < N_IMPLICIT) this.waiting[d]--; // implicit sinks just lack that input
      else this.skip(d);
    }
  }

  /**
   * Takes the ready node listed first in the configuration: nodes that are
   * ready together run in configuration order, as in Kong (a property set
   * and a later get of it rely on that).
   */
  nextReady(): i32 {
    const ready = this.ready;
    let k = 0;
    for (let j = 1; j < ready.length; j++) if (unchecked(ready[j]) < unchecked(ready[k])) k = j;
    const i = ready[k];
    ready.splice(k, 1);
    return i;
  }

  /** Applies a branch decision. */
  decide(i: i32, value: bool): void {
    const n = this.node(i);
    const take = value ? n.branchThen : n.branchElse;
    const drop = value ? n.branchElse : n.branchThen;
    for (let j = 0; j < drop.length; j++) this.skip(drop[j]);
    for (let j = 0; j < take.length; j++) if (this.state[take[j]] == S_PENDING) this.release(take[j]);
  }

  /** A received body as a value; 3.10 decoded form-urlencoded bodies to objects. */
  decodeBody(body: ArrayBuffer, contentType: string | null): Value | null {
    if (this.plan.dialect == DIALECT_310 && contentType !== null && contentType!.includes('application/x-www-form-urlencoded')) return decodeForm(body);
    return decodeBody(body, contentType);
  }

  /** 3.10 never triggered a node while a user node it reads from had left that output empty. */
  lacksInput310(n: PNode): bool {
    for (let p = 0; p < n.inConns.length; p++) {
      const c = n.inConns[p];
      if (c !== null && c.srcNode >= N_IMPLICIT && this.fetch(c) === null) return true;
    }
    const sc = n.selfConn;
    return sc !== null && sc.srcNode >= N_IMPLICIT && this.fetch(sc) === null;
  }

  /** Runs ready nodes until the phase finishes or waits for the host. */
  pump(): i32 {
    // one clock read per node: a node's end is the next node's start
    let clock: f64 = this.timings ? monoMs() : 0;
    while (this.ready.length > 0 && !this.finished && !this.halted310) {
      const i = this.nextReady();
      if (this.state[i] != S_PENDING) continue;
      const n = this.node(i);
      if (this.plan.dialect == DIALECT_310 && this.lacksInput310(n)) {
        this.skip(i);
        continue;
      }
      this.traceRun(i);
      if (this.timings) this.nodeStart[i] = clock;
      clearOverflow();
      const r = runNode(this, n);
      if (this.timings) {
        clock = monoMs();
        if (r.status != NodeResult.RUNNING) this.nodeMs[i] = clock - this.nodeStart[i];
      }
      if (this.finished) return ACTION_RESPOND;
      if (r.status == NodeResult.FAILED) {
        return this.failNode(i, r.error);
      }
      if (r.status == NodeResult.RUNNING) {
        this.state[i] = S_RUNNING;
        this.tokenOf[i] = r.token;
        this.inFlight++;
        this.traceNode(i, 'dispatch');
        continue;
      }
      if (r.status == NodeResult.EXIT) {
        this.complete(i);
        return this.exit(n, r);
      }
      this.complete(i);
      if (n.type == NodeType.BRANCH) this.decide(i, r.branchValue);
    }
    if (this.finished) return ACTION_RESPOND;
    if (this.inFlight > 0) return ACTION_PAUSE;
    return this.endPhase();
  }

  /** An async node's answer arrived (from dk_on_http_response). */
  resume(token: i32, r: NodeResult): i32 {
    if (this.finished) return ACTION_NONE;
    const i = this.nodeForToken(token);
    if (i < 0) return ACTION_NONE;
    this.tokenOf[i] = 0;
    this.inFlight--;
    this.traceAsync(i, 'resume');
    if (this.timings) this.nodeMs[i] = monoMs() - this.nodeStart[i];
    if (r.status == NodeResult.FAILED) return this.failNode(i, r.error);
    this.complete(i);
    return this.pump();
  }

  // ------------------------------------------------------------ phases

  /** Request phase entry: request metadata (JSON) and optional body. */
  startRequest(meta: ArrayBuffer, body: ArrayBuffer | null): i32 {
    const m = parseJson(meta, true);
    if (m === null || m.typeKind() != Kind.OBJ) {
      this.requestId = '';
      return this.fail(N_REQUEST, 'invalid request metadata from host');
    }
    // one pass over the metadata's fields (not a key search per field)
    let headers: Value | null = null;
    let q: Value | null = null;
    m.resolve();
    const keys = m.keys!;
    const vals = m.vals!;
    for (let k = 0; k < keys.length; k++) {
      const key = keys[k];
      const v = vals[k];
      // request outputs: body 0, headers 1, query 2, path 3, raw_path 4, port 5, method 6, scheme 7, version 8
      if (key == 'path') this.setOut(N_REQUEST, 3, v);
      else if (key == 'method') this.setOut(N_REQUEST, 6, v);
      else if (key == 'headers') headers = v;
      else if (key == 'query') q = v;
      else if (key == 'request_id') {
        if (v.typeKind() == Kind.STR) this.requestId = v.resolve().s;
      } else if (key == 'timings') {
        if (v.typeKind() == Kind.BOOL && v.resolve().b) this.enableTimings();
      } else if (key == 'value_bytes') {
        if (v.typeKind() == Kind.NUM) {
          const n = v.resolve().n;
          this.valueLimit = n >= 2147483647.0 ? 2147483647 : n < 1.0 ? 1 : <i32>n;
          setWriteLimit(this.valueLimit);
        }
      } else if (key == 'raw_path') this.setOut(N_REQUEST, 4, v);
      else if (key == 'port') this.setOut(N_REQUEST, 5, v);
      else if (key == 'scheme') this.setOut(N_REQUEST, 7, v);
      else if (key == 'version') this.setOut(N_REQUEST, 8, v);
    }
    if (this.plan.debug && headers !== null) {
      const h = headerValue(headers!, 'x-datakit-debug-trace');
      if (h !== null && (this.plan.dialect == DIALECT_310 ? traceHeaderOn310(h!) : TRUE_WORDS.includes(h!.trim().toLowerCase()))) {
        this.trace = new Trace(this.plan.nodes.length);
        this.trace310 = this.plan.dialect == DIALECT_310;
        this.traceRun(N_REQUEST);
      }
    }
    let reqHeaders = headers !== null ? headers! : Value.obj();
    if (this.plan.dialect == DIALECT_310) reqHeaders = lowerCaseHeaders(reqHeaders);
    this.setOut(N_REQUEST, 1, reqHeaders);
    this.setOut(N_REQUEST, 2, q === null ? Value.obj() : this.plan.dialect == DIALECT_310 ? query310(q!) : q!);
    if (body !== null) {
      const ct = headerValue(reqHeaders, 'content-type');
      const b = this.decodeBody(body!, ct);
      if (b === null && this.plan.dialect == DIALECT_310) {
        // 3.10 kept the parse error as the port's value: the request goes on, and readers of request.body fail (failedInput310)
        const failure = Value.str(bodyError);
        this.requestBodyFailure310 = failure;
        this.setOut(N_REQUEST, 0, failure);
      } else if (b === null) {
        this.state[N_REQUEST] = S_FAILED;
        return this.fail(N_REQUEST, 'invalid JSON in request body: ' + bodyError);
      }
      else this.setOut(N_REQUEST, 0, b);
    }
    this.complete(N_REQUEST);

    // vault: resolve the secrets this plan names
    const plan = this.plan;
    if (plan.vaultRefs.length > 0 && this.node(N_VAULT).dependants.length > 0) {
      for (let k = 0; k < plan.vaultRefs.length; k++) {
        const ref = String.UTF8.encode(plan.vaultRefs[k]);
        const r = takeResult(host_secret_get(this.id, changetype<usize>(ref), ref.byteLength));
        if (!r.ok) return this.fail(N_VAULT, 'could not resolve secret ' + jsonQuote(plan.vaultNames[k]) + ': ' + r.text);
        const v = Value.str(r.text);
        v.sensitive = true;
        this.secrets.push(v.s);
        this.setOut(N_VAULT, k, v);
      }
    }
    this.complete(N_VAULT);
    // nodes with no inputs start now
    for (let i = N_IMPLICIT; i < plan.nodes.length; i++) {
      if (this.waiting[i] == 0 && this.state[i] == S_PENDING && !this.ready.includes(i)) {
        this.ready.push(i);
      }
    }
    return this.pump();
  }

  /** Response phase entry: upstream status/headers (JSON) and optional body. */
  startResponse(meta: ArrayBuffer, body: ArrayBuffer | null): i32 {
    if (this.finished) return ACTION_NONE;
    this.phase = 1;
    const m = parseJson(meta, true);
    if (m === null || m.typeKind() != Kind.OBJ) return this.fail(N_SERVICE_RESPONSE, 'invalid response metadata from host');
    const h = m.get('headers');
    let headers = h !== null ? h : Value.obj();
    if (this.plan.dialect == DIALECT_310) headers = lowerCaseHeaders(headers);
    this.setOut(N_SERVICE_RESPONSE, 1, headers);
    this.setOut(N_SERVICE_RESPONSE, 2, m.get('status'));
    if (body !== null) {
      if (this.node(N_SERVICE_RESPONSE).rawBodyUsed || this.trace !== null) this.setOut(N_SERVICE_RESPONSE, 3, Value.fromBytes(body!));
      const b = this.decodeBody(body!, headerValue(headers, 'content-type'));
      if (b === null) return this.fail(N_SERVICE_RESPONSE, 'invalid JSON in service response body: ' + bodyError);
      this.setOut(N_SERVICE_RESPONSE, 0, b);
    }
    this.complete(N_SERVICE_RESPONSE);
    return this.pump();
  }

  endPhase(): i32 {
    if (this.phase == 0) return this.endRequestPhase();
    return this.endResponsePhase();
  }

  /**
   * Gathers an implicit sink's inputs (service_request or response) and
   * writes its body and header patch into `w`; returns the new body or null.
   * `bodyOut[0]` receives the body; errors fail the sink node.
   */
  writeSink(i: i32, w: ByteWriter, bodyOut: Array<ArrayBuffer | null>): string | null {
    const ins = new Array<Value | null>();
    const err = this.gather(this.node(i), ins);
    if (err !== null) return err;
    const body = ins[0];
    let headers = ins[1];
    let enc = body !== null ? encodeBody(body, headers) : null;
    if (i == N_RESPONSE && this.trace !== null) {
      // a traced request answers the trace: the response node cannot run (Kong reports it skipped)
      this.state[N_RESPONSE] = S_SKIPPED;
      this.traceNode(N_RESPONSE, 'skip');
      if (this.trace310) traceResponse310(this, this.trace!, body !== null);
      enc = new EncodedBody();
      enc.bytes = this.traceReport('PLAN_COMPLETE');
      enc.contentType = 'application/json';
      const h = Value.obj();
      h.set('Content-Type', Value.str('application/json'));
      headers = h;
    }
    if (headers !== null && headers.typeKind() != Kind.OBJ) return 'invalid headers: expected a map, got ' + valueTypeName(headers);
    if (headers !== null && !(i == N_RESPONSE && this.trace !== null)) {
      // the flow's fault, not the upstream's: name the node that produced the header
      const hp = headerCharProblem(headers!);
      if (hp !== null) return hp! + ' set by node ' + jsonQuote(this.headersSource(i));
    }
    if (headers !== null && this.plan.dialect == DIALECT_310 && !(i == N_RESPONSE && this.trace !== null)) {
      // 3.10 replaced every header of the message with the map
      headers = i == N_SERVICE_REQUEST
        ? replacingHeaders310(headers!, this.getOut(N_REQUEST, 1), KEPT_REQUEST_HEADERS_310)
        : replacingHeaders310(headers!, this.getOut(N_SERVICE_RESPONSE, 1), KEPT_RESPONSE_HEADERS_310);
    }
    if (headers !== null || enc !== null) {
      w.str(',"headers":');
      writeMessageHeaders(w, headers, enc, true, enc !== null ? LENGTH_SET : LENGTH_NONE);
    }
    if (i == N_SERVICE_REQUEST && ins[2] !== null) {
      w.str(',"query":');
      writeJson(w, this.plan.dialect == DIALECT_310 ? queryValues310(ins[2]!) : ins[2]!);
    }
    bodyOut.push(enc !== null ? enc.bytes : null);
    return null;
  }

  /** The node whose output a sink's headers came from (their own input, else the node-wise one). */
  headersSource(i: i32): string {
    const n = this.node(i);
    const c = n.inConns.length > 1 ? n.inConns[1] : null;
    if (c !== null) return this.node(c.srcNode).name;
    const sc = n.selfConn;
    return sc !== null ? this.node(sc.srcNode).name : n.name;
  }

  endRequestPhase(): i32 {
    clearOverflow();
    const w = new ByteWriter(256);
    w.str('{"action":"continue"');
    const body = new Array<ArrayBuffer | null>();
    this.traceRun(N_SERVICE_REQUEST);
    let err = this.writeSink(N_SERVICE_REQUEST, w, body);
    if (err === null && overflowed()) err = tooLarge();
    if (err !== null) return this.fail(N_SERVICE_REQUEST, err!);
    const tracing = this.traceOn();
    const responsePhase = this.plan.responsePhase || tracing;
    w.str(',"response_phase":');
    w.str(responsePhase ? 'true' : 'false');
    w.str(',"response_body":');
    w.str(this.plan.responseBody || tracing ? 'true' : 'false');
    w.byte(0x7d);
    this.state[N_SERVICE_REQUEST] = S_DONE;
    this.traceValues(N_SERVICE_REQUEST);
    // release service_response's dependency on the service request
    this.waiting[N_SERVICE_RESPONSE]--;
    this.emit(w, body[0]);
    if (!responsePhase) this.finished = true;
    return ACTION_CONTINUE;
  }

  endResponsePhase(): i32 {
    clearOverflow();
    const w = new ByteWriter(256);
    w.str('{"action":"continue"');
    const body = new Array<ArrayBuffer | null>();
    let err = this.writeSink(N_RESPONSE, w, body);
    if (err === null && overflowed()) err = tooLarge();
    if (err !== null) return this.fail(N_RESPONSE, err!);
    w.byte(0x7d);
    this.state[N_RESPONSE] = S_DONE;
    this.finished = true;
    this.emit(w, body[0]);
    return ACTION_CONTINUE;
  }

  emit(w: ByteWriter, body: ArrayBuffer | null): void {
    if (this.timings) this.emitTimings();
    if (body === null) host_phase_result(this.id, w.ptr, w.len, 0, -1);
    else host_phase_result(this.id, w.ptr, w.len, changetype<usize>(body), body.byteLength);
  }

  /** Hands the host [index, state, ms] triples (f64) for the nodes timed since the last phase result. */
  emitTimings(): void {
    let count = 0;
    for (let i = N_IMPLICIT; i < this.nodeMs.length; i++) if (this.nodeMs[i] >= 0) count++;
    if (count == 0) return;
    const out = new StaticArray<f64>(count * 3);
    let k = 0;
    for (let i = N_IMPLICIT; i < this.nodeMs.length; i++) {
      const ms = this.nodeMs[i];
      if (ms < 0) continue;
      unchecked((out[k] = <f64>this.node(i).userIndex));
      unchecked((out[k + 1] = <f64>this.state[i]));
      unchecked((out[k + 2] = ms));
      k += 3;
      this.nodeMs[i] = -1;
    }
    host_phase_timings(this.id, changetype<usize>(out), count);
  }

  /** An exit node ends the request with its response. */
  exit(n: PNode, r: NodeResult): i32 {
    this.cancelAll();
    this.finished = true;
    if (n.bodyPhase310 && this.trace === null) return this.exitBody310(n, r);
    if (n.bodyPhase310) {
      // 3.10: the service's status and headers went out before this exit ran; the trace replaces the body
      const trace = this.traceReport('PLAN_COMPLETE');
      const cw = new ByteWriter(128);
      cw.str('{"action":"continue","headers":{"Content-Type":"application/json","Content-Length":"');
      cw.int(trace.byteLength);
      cw.str('"}}');
      this.emit(cw, trace);
      return ACTION_CONTINUE;
    }
    let body = r.body;
    let headers = r.headers;
    if (this.trace !== null) {
      body = this.traceReport('PLAN_COMPLETE');
      headers = '{"Content-Type":"application/json","Content-Length":"' + body.byteLength.toString() + '"}';
    }
    const w = new ByteWriter(128 + headers.length);
    w.str('{"action":"exit","status":');
    w.int(r.exitStatus);
    w.str(',"headers":');
    w.str(headers);
    w.byte(0x7d);
    this.emit(w, body);
    return ACTION_RESPOND;
  }

  /**
   * 3.10's exit in the response-body phase: the upstream's status and headers
   * were sent already, so only the body is replaced (none given: kept), and
   * a status or headers it was given are dropped with a warning, once per
   * flow unless `warn_headers_sent: false`.
   */
  exitBody310(n: PNode, r: NodeResult): i32 {
    const headersIn = n.inConns.length > 1 && n.inConns[1] !== null;
    if (n.warnHeadersSent && (n.statusSet || headersIn)) {
      const what = n.statusSet && headersIn ? 'status or headers' : n.statusSet ? 'status' : 'headers';
      log(LOG_WARN, "exit: node '" + n.name + "' cannot set " + what + " when processing response body, headers already sent; set 'warn_headers_sent' to false to silence this warning");
      n.warnHeadersSent = false;
    }
    const hasBody = n.inConns.length > 0 && n.inConns[0] !== null && r.body.byteLength > 0;
    const w = new ByteWriter(64);
    w.str('{"action":"continue"');
    if (hasBody) {
      w.str(',"headers":{"Content-Length":"');
      w.int(r.body.byteLength);
      w.str('"}');
    }
    w.byte(0x7d);
    this.emit(w, hasBody ? r.body : null);
    return ACTION_CONTINUE;
  }

  /**
   * A user node failed. A traced 3.10 request went on (src/filter.rs
   * run_nodes sends no failure answer while tracing): no node runs any
   * more, the request goes to the service, and the trace is the body of the
   * service's answer.
   */
  failNode(i: i32, error: string): i32 {
    if (!this.trace310 || this.finished) return this.fail(i, error);
    const msg = this.recordFailure(i, error);
    traceFail310(this, this.trace!, i, msg);
    this.halted310 = true;
    this.cancelAll();
    return this.endPhase();
  }

  /** Marks node i failed and logs why; returns the message, masked and cut to size. */
  recordFailure(i: i32, error: string): string {
    const n = this.node(i);
    this.state[i] = S_FAILED;
    this.failedNode = i;
    // a message quoting a huge value stays readable, and the failure always fits its writers
    let msg = maskSecrets(error, this.secrets);
    if (msg.length > MAX_MESSAGE) msg = msg.substring(0, MAX_MESSAGE) + '...';
    this.failure = msg;
    // the full error goes to the log with node index, name and type
    const lw = new ByteWriter(256);
    lw.str('{"msg":"node execution error","request_id":');
    writeJsonString(lw, this.requestId);
    lw.str(',"error":');
    writeJsonString(lw, msg);
    lw.str(',"node":');
    writeNodeRef(lw, n);
    lw.byte(0x7d);
    log(LOG_ERROR, lw.toString());
    return msg;
  }

  /** A node failed: cancel the rest and answer 500. */
  fail(i: i32, error: string): i32 {
    if (this.finished) return ACTION_RESPOND;
    const n = this.node(i);
    const msg = this.recordFailure(i, error);
    if (this.trace !== null && this.trace310) traceFail310(this, this.trace!, i, msg);
    else if (this.trace !== null) {
      // Kong lists the error among the event's values, typed "error"
      const w = this.trace!.open(n.name, n.typeName, 'fail');
      w.str(',"error":');
      writeJsonString(w, msg);
      w.str(',"values":[{"type":"error","value":');
      writeJsonString(w, msg);
      w.byte(0x7d);
      // what the node had produced (a call's non-2XX answer), listed and (3.15) inline
      const partial = Value.obj();
      if (i >= N_IMPLICIT)
        for (let p = 0, k = 1; p < n.outPorts.length; p++) {
          const v = this.getOut(i, p);
          if (v === null) continue;
          this.writeEntry(w, k++, n.outPorts[p].name, n.outPorts[p].type, v);
          partial.set(n.outPorts[p].name, v);
        }
      w.byte(0x5d);
      if (partial.keys!.length > 0) this.writeInline(w, partial, false);
      this.trace!.close();
    }
    this.cancelAll();
    this.finished = true;

    let body: ArrayBuffer;
    if (this.trace !== null) body = this.traceReport('PLAN_ERROR');
    else {
      const b = new ByteWriter(256);
      // 3.10 answered every failure the same way, debug or not, in its own spelling
      const dialect310 = this.plan.dialect == DIALECT_310;
      if (this.plan.debug && !dialect310) {
        b.str('{"message":"node execution error","request_id":');
        writeJsonString(b, this.requestId);
        b.str(',"error":');
        writeJsonString(b, msg);
        b.str(',"node":');
        writeNodeRef(b, n);
        b.byte(0x7d);
      } else {
        b.str(dialect310 ? '{"message":"An unexpected error ocurred","request_id":' : '{"message":"An unexpected error occurred","request_id":');
        writeJsonString(b, this.requestId);
        b.byte(0x7d);
      }
      body = b.toBuffer();
    }
    const w = new ByteWriter(256);
    w.str('{"action":"exit","status":500,"headers":{"Content-Type":"application/json"},"failure":{"message":');
    writeJsonString(w, msg);
    w.str(',"node":');
    writeNodeRef(w, n);
    w.str('}}');
    this.emit(w, body);
    return ACTION_RESPOND;
  }

  /** Cancels running async nodes (host aborts them) and pending nodes. */
  cancelAll(): void {
    for (let i = 0; i < this.tokenOf.length; i++) {
      const t = this.tokenOf[i];
      if (t == 0) continue;
      host_async_cancel(this.id, t);
      this.tokenOf[i] = 0;
      this.state[i] = S_CANCELED;
      this.traceAsync(i, 'cancel');
    }
    this.inFlight = 0;
    for (let i = N_IMPLICIT; i < this.state.length; i++) {
      if (this.state[i] == S_PENDING) {
        this.state[i] = S_CANCELED;
        this.traceNode(i, 'cancel');
      }
    }
  }

  /** Cancels in-flight work when the host finishes the request early. */
  abandon(): void {
    if (this.finished) return;
    for (let i = 0; i < this.tokenOf.length; i++) {
      const t = this.tokenOf[i];
      if (t != 0) host_async_cancel(this.id, t);
      this.tokenOf[i] = 0;
    }
    this.inFlight = 0;
    this.finished = true;
  }

  traceReport(status: string): ArrayBuffer {
    const t = this.trace!;
    if (this.trace310) return traceReport310(t);
    const w = new ByteWriter(1024 + t.events.len);
    // seconds, as Kong reports them
    const started = t.startedAt / 1000.0;
    const duration = t.elapsed();
    w.str('{"started_at":');
    writeNumber(w, started);
    w.str(',"ended_at":');
    writeNumber(w, started + duration);
    w.str(',"duration":');
    writeNumber(w, duration);
    w.str(',"status":"');
    w.str(status);
    w.str('","request_id":');
    writeJsonString(w, this.requestId);
    if (t.truncated) w.str(',"truncated":true');
    w.str(',"nodes":[');
    let count = 0;
    for (let i = N_IMPLICIT; i < this.state.length; i++) this.writeNodeStatus(w, i, count++);
    // the implicit nodes the request reached; `response` cannot run when the trace is the answer
    for (let i = 0; i < N_IMPLICIT; i++) {
      const s = this.state[i];
      if (i == N_VAULT && this.secrets.length == 0 && s != S_FAILED) continue;
      if (s == S_PENDING && i != N_RESPONSE) continue;
      if (i == N_RESPONSE && s != S_FAILED) this.state[i] = S_SKIPPED;
      this.writeNodeStatus(w, i, count++);
    }
    w.str('],"events":[');
    w.slice(t.events.buf, 0, t.events.len);
    w.str(']}');
    return w.finish();
  }

  writeNodeStatus(w: ByteWriter, i: i32, index: i32): void {
    const n = this.node(i);
    if (index > 0) w.byte(0x2c);
    w.str('{"name":');
    writeJsonString(w, n.name);
    w.str(',"type":');
    writeJsonString(w, n.typeName);
    w.str(',"status":"');
    const s = this.state[i];
    w.str(
      s == S_DONE ? 'NODE_COMPLETE' : s == S_FAILED ? 'NODE_ERROR' : s == S_CANCELED ? 'NODE_CANCELED' : s == S_SKIPPED ? 'NODE_SKIPPED' : 'NODE_PENDING',
    );
    w.byte(0x22);
    if (s == S_FAILED) {
      w.str(',"error":');
      writeJsonString(w, this.failure);
    }
    w.byte(0x7d);
  }
}

/** Values Kong 3.15 always redacts in traces: JWTs and keys, whoever produced them. */
export function alwaysMasked(type: i32, port: string, input: bool): bool {
  if (type == NodeType.JWT_DECODE) return input || port == 'signature';
  if (type == NodeType.JWT_VERIFY) return input;
  if (type == NodeType.JWT_SIGN) return input ? port == 'key' : port == 'token';
  return false;
}

function writeNodeRef(w: ByteWriter, n: PNode): void {
  w.str('{"index":');
  w.int(n.userIndex);
  w.str(',"name":');
  writeJsonString(w, n.name);
  w.str(',"type":');
  writeJsonString(w, n.typeName);
  w.byte(0x7d);
}

/** Run-time type check for `any`/convertible connections; null = mismatch. */
export function checkType(v: Value, t: i32): Value | null {
  if (t < 0 || t == PortType.ANY) return v;
  const k = v.typeKind();
  if (k == Kind.NULL) return v;
  if (t == PortType.MAP || t == PortType.OBJECT) return k == Kind.OBJ ? v : null;
  if (t == PortType.STRING) {
    if (k == Kind.STR) return v;
    if (k == Kind.NUM) {
      const s = Value.str(v.toJsonString());
      s.sensitive = v.sensitive;
      return s;
    }
    return null;
  }
  if (t == PortType.NUMBER) {
    if (k == Kind.NUM) return v;
    if (k == Kind.STR) {
      const s = v.resolve().s.trim();
      if (s.length == 0) return null;
      const p = rawJson(String.UTF8.encode(s));
      if (p === null || p.typeKind() != Kind.NUM) return null;
      p.sensitive = v.sensitive;
      return p;
    }
    return null;
  }
  if (t == PortType.BOOLEAN) return k == Kind.BOOL ? v : null;
  return v;
}
