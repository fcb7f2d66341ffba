// What each node type does when it runs (spec section 3).

import { ByteWriter, overflowed, writeLimitBytes } from './bytes';
import { jsonQuote, JsonParser, Kind, parseJson, Value, writeJson, writeJsonString } from './json';
import {
  host_async_dispatch,
  host_call,
  host_http_dispatch,
  host_jq_run,
  host_property_get,
  host_property_set,
  host_template_render,
  HostResult,
  takeResult,
} from './host';
import { Ctx, tooLarge } from './context';
import { evalSimple } from './jqsimple';
import { PathTree, PNode, urlProblem } from './plan';
import { NodeType, PortType } from './types';
import {
  bodyError,
  decodeBody,
  encodeBody,
  headerCharProblem,
  headerIndex,
  headerMapProblem,
  headerValue,
  mediaType,
  mergeQuery,
  rawJson,
  writeMessageHeaders,
  LENGTH_DROP,
  LENGTH_SET,
} from './http';
import { valueTypeName } from './trace';
import { CALL_DISPATCH_ERROR_310, decodeForm, DIALECT_310, dispatchStatus310, lowerCaseHeaders, withQuery310 } from './dialect';

export class NodeResult {
  static readonly DONE: i32 = 0;
  static readonly RUNNING: i32 = 1;
  static readonly FAILED: i32 = 2;
  static readonly EXIT: i32 = 3;

  status: i32 = NodeResult.DONE;
  token: i32 = 0;
  error: string = '';
  branchValue: bool = false;
  exitStatus: i32 = 200;
  headers: string = '{}';
  body: ArrayBuffer = new ArrayBuffer(0);

  static done(): NodeResult {
    return new NodeResult();
  }
  static failed(msg: string): NodeResult {
    const r = new NodeResult();
    r.status = NodeResult.FAILED;
    r.error = msg;
    return r;
  }
}

export function runNode(ctx: Ctx, n: PNode): NodeResult {
  const t = n.type;
  if (ctx.requestBodyFailure310 !== null) {
    const failure = ctx.failedInput310(n);
    if (failure !== null) return NodeResult.failed(failure!);
  }
  if (t == NodeType.STATIC) return runStatic(ctx, n);
  if (t == NodeType.JQ) return runJq(ctx, n);
  if (t == NodeType.HANDLEBARS) return runHandlebars(ctx, n);
  if (t == NodeType.CALL) return runCall(ctx, n);
  if (t == NodeType.EXIT) return runExit(ctx, n);
  if (t == NodeType.PROPERTY) return runProperty(ctx, n);
  if (t == NodeType.BRANCH) return runBranch(ctx, n);
  if (t == NodeType.CACHE) return runCache(ctx, n);
  if (t == NodeType.XML_TO_JSON) return runXmlToJson(ctx, n);
  if (t == NodeType.JSON_TO_XML) return runJsonToXml(ctx, n);
  if (t == NodeType.JWT_DECODE) return runJwtDecode(ctx, n);
  if (t == NodeType.JWT_SIGN || t == NodeType.JWT_VERIFY) return runJwt(ctx, n);
  return NodeResult.failed('unsupported node type ' + n.typeName);
}

function anySensitive(ins: Array<Value | null>, self: Value | null): bool {
  if (self !== null && self.sensitive) return true;
  for (let i = 0; i < ins.length; i++) {
    const v = ins[i];
    if (v !== null && v.sensitive) return true;
  }
  return false;
}

// ------------------------------------------------------------------ static

function runStatic(ctx: Ctx, n: PNode): NodeResult {
  const vals = n.staticValue!;
  for (let p = 0; p < n.outPorts.length; p++) ctx.setOut(n.index, p, vals.vals![p]);
  ctx.selfs[n.index] = vals;
  return NodeResult.done();
}

// ---------------------------------------------------------------------- jq

function runJq(ctx: Ctx, n: PNode): NodeResult {
  const ins = new Array<Value | null>();
  const err = ctx.gather(n, ins);
  if (err !== null) return NodeResult.failed(err!);
  const self = n.selfConn !== null ? ctx.selfInput(n) : null;
  // a simple filter runs here on the values themselves; null: the host's jq decides
  if (n.jqSimple !== null) {
    let input: Value;
    let sensitive = false;
    if (n.selfConn !== null) {
      input = self === null ? Value.nul() : self;
      sensitive = self !== null && self.sensitive;
    } else if (unconnected310(ctx, n)) {
      input = Value.nul();
    } else {
      input = Value.obj();
      for (let p = 0; p < n.inPorts.length; p++) {
        const v = ins[p];
        input.keys!.push(n.inPorts[p].name);
        input.vals!.push(v === null ? Value.nul() : v);
      }
      sensitive = anySensitive(ins, null);
    }
    const out = evalSimple(n.jqSimple!, input);
    if (out !== null) {
      setJqOutputs(ctx, n, [out], sensitive);
      return NodeResult.done();
    }
  }
  const w = new ByteWriter(256);
  let sensitive = false;
  // the parts of its input the filter reads (null: all of it); a value still
  // in its original JSON text goes to the host as is unless cutting it pays
  const paths = n.jqPaths;
  let rawIn: Value | null = null;
  if (n.selfConn !== null) {
    const v = self;
    if (v === null) w.str('null');
    else {
      // a projection that would keep most of a RAW input is not worth its copy: the input goes as it is
      if (paths !== null && worthProjecting(v, paths) && (v.kind != Kind.RAW || writeProjectedRaw(w, v, paths, true) != PROJECT_WHOLE)) {
        if (w.len == 0) writeProjected(w, v, paths);
      } else if (v.kind == Kind.RAW) rawIn = v;
      else writeJson(w, v);
      sensitive = v.sensitive;
    }
  } else if (unconnected310(ctx, n)) {
    w.str('null');
  } else {
    // named inputs: an object whose keys are the input names (only those the filter reads, when it says)
    w.byte(0x7b);
    let first = true;
    for (let p = 0; p < n.inPorts.length; p++) {
      const name = n.inPorts[p].name;
      const t = paths !== null ? paths.find(name) : null;
      if (paths !== null && t === null) continue;
      if (!first) w.byte(0x2c);
      first = false;
      writeJsonString(w, name);
      w.byte(0x3a);
      const v = ins[p];
      if (v === null) w.str('null');
      else if (t !== null) writeProjected(w, v, t);
      else writeJson(w, v);
    }
    w.byte(0x7d);
    sensitive = anySensitive(ins, null);
  }
  if (overflowed()) return NodeResult.failed(tooLarge());
  const r = takeResult(
    rawIn !== null
      ? host_jq_run(n.jqHandle, changetype<usize>(rawIn.raw!) + <usize>rawIn.rawStart, rawIn.rawEnd - rawIn.rawStart)
      : host_jq_run(n.jqHandle, w.ptr, w.len),
  );
  if (!r.ok) return NodeResult.failed(r.text);
  // the host answers a JSON array of all results
  const p = new JsonParser(r.data, 0, r.data.byteLength, 1);
  const arr = p.parseDocument();
  if (arr === null || arr.kind != Kind.ARR) return NodeResult.failed('jq: invalid result from host');
  setJqOutputs(ctx, n, arr.items!, sensitive);
  return NodeResult.done();
}

/** 3.10 ran every filter on a null input (src/nodes/jq.rs): without inputs, `.` is null rather than an empty object. */
function unconnected310(ctx: Ctx, n: PNode): bool {
  return ctx.plan.dialect == DIALECT_310 && n.selfConn === null && n.inPorts.length == 0;
}

/** A jq node's outputs from its results: the first is the node's value, the k-th feeds output port k. */
function setJqOutputs(ctx: Ctx, n: PNode, items: Value[], sensitive: bool): void {
  // 3.10 left an output without a result empty (its readers never run)
  if (ctx.plan.dialect == DIALECT_310) {
    for (let k = 0; k < items.length; k++) items[k].sensitive = sensitive;
    if (ctx.trace310) ctx.jqResults310.set(n.index, items);
    ctx.selfs[n.index] = items.length > 0 ? items[0] : null;
    for (let k = 0; k < n.outPorts.length; k++) ctx.setOut(n.index, k, k < items.length ? items[k] : null);
    return;
  }
  const first = items.length > 0 ? items[0] : Value.nul();
  first.sensitive = sensitive;
  ctx.selfs[n.index] = first;
  for (let k = 0; k < n.outPorts.length; k++) {
    const v = k < items.length ? items[k] : Value.nul();
    v.sensitive = sensitive;
    ctx.setOut(n.index, k, v);
  }
}

/**
 * Writes the parts of `v` that `t` names: objects keep only the keys the
 * filter looks up (recursively); a path's value, and anything that is not
 * an object, is written whole. See host/jq/paths.ts for why jq cannot tell.
 */
/** JSON text shorter than this goes to jq whole: cutting it costs more than the host's parse saves */
const PROJECT_MIN_BYTES: i32 = 512;

/** Whether `v` can be cut to `t`'s paths, and cutting it saves the host more than it costs. */
function worthProjecting(v: Value, t: PathTree): bool {
  return !t.whole && v.typeKind() == Kind.OBJ && (v.kind != Kind.RAW || v.rawEnd - v.rawStart >= PROJECT_MIN_BYTES);
}

function writeProjected(w: ByteWriter, v: Value, t: PathTree): void {
  if (!worthProjecting(v, t)) {
    writeJson(w, v);
    return;
  }
  if (v.kind == Kind.RAW && writeProjectedRaw(w, v, t, false) == PROJECT_WRITTEN) return;
  // a parsed object (or raw keys with escapes): look keys up in a copy, since
  // resolving `v` in place would change how other nodes that pass it on
  // verbatim write it
  let o = v;
  if (v.kind == Kind.RAW) {
    o = new Value();
    o.kind = Kind.RAW;
    o.raw = v.raw;
    o.rawStart = v.rawStart;
    o.rawEnd = v.rawEnd;
  }
  w.byte(0x7b);
  let first = true;
  for (let i = 0; i < t.keys.length; i++) {
    const c = o.get(t.keys[i]);
    if (c === null) continue;
    if (!first) w.byte(0x2c);
    first = false;
    writeJsonString(w, t.keys[i]);
    w.byte(0x3a);
    writeProjected(w, c, t.kids[i]);
  }
  w.byte(0x7d);
}

const PROJECT_ESCAPED: i32 = 0;
const PROJECT_WRITTEN: i32 = 1;
const PROJECT_WHOLE: i32 = 2;

/**
 * The same for an object still in its JSON text, in one pass over its
 * members without decoding them: wanted keys are found by their bytes and
 * their values copied as they are (the last of duplicate keys wins, as in a
 * parse). PROJECT_ESCAPED, with nothing written, when a key has escapes;
 * PROJECT_WHOLE, with nothing written, when `wholeIfMost` and the
 * projection would keep more than half of the text.
 */
function writeProjectedRaw(w: ByteWriter, v: Value, t: PathTree, wholeIfMost: bool): i32 {
  const n = t.keys.length;
  const starts = new StaticArray<i32>(n);
  const ends = new StaticArray<i32>(n);
  for (let i = 0; i < n; i++) starts[i] = -1;
  const p = new JsonParser(v.raw!, v.rawStart, v.rawEnd, 1);
  p.trusted = true; // a RAW slice was validated when it was cut
  const base = p.base;
  p.pos++; // '{'
  p.ws();
  if (p.peek() != 0x7d) {
    while (true) {
      p.ws();
      const ks = p.pos + 1;
      let k = ks;
      while (load<u8>(base + <usize>k) != 0x22) {
        if (load<u8>(base + <usize>k) == 0x5c) return PROJECT_ESCAPED;
        k++;
      }
      const klen = k - ks;
      let found = -1;
      for (let i = 0; i < n; i++) {
        const kb = t.keyBytes[i];
        if (kb.byteLength == klen && memory.compare(base + <usize>ks, changetype<usize>(kb), <usize>klen) == 0) {
          found = i;
          break;
        }
      }
      p.pos = k + 1;
      p.ws();
      p.pos++; // ':'
      p.ws();
      const vs = p.pos;
      p.skipValue(1);
      if (found >= 0) {
        starts[found] = vs;
        ends[found] = p.pos;
      }
      p.ws();
      if (p.peek() != 0x2c) break;
      p.pos++;
    }
  }
  // one allocation for the projection (a path's value is often most of the input)
  let size: i64 = 2;
  for (let i = 0; i < n; i++) if (starts[i] >= 0) size += <i64>(ends[i] - starts[i]) + <i64>t.keyBytes[i].byteLength + 4;
  if (wholeIfMost && size * 2 > <i64>(v.rawEnd - v.rawStart)) {
    // exact only when every kept value goes whole (deeper cuts keep less)
    let exact = true;
    for (let i = 0; i < n; i++) if (starts[i] >= 0 && !t.kids[i].whole && load<u8>(base + <usize>starts[i]) == 0x7b) exact = false;
    if (exact) return PROJECT_WHOLE;
  }
  if (size <= <i64>writeLimitBytes()) w.ensure(<i32>size);
  w.byte(0x7b);
  let first = true;
  for (let i = 0; i < n; i++) {
    const vs = starts[i];
    if (vs < 0) continue;
    if (!first) w.byte(0x2c);
    first = false;
    writeJsonString(w, t.keys[i]);
    w.byte(0x3a);
    const kid = t.kids[i];
    if (kid.whole || load<u8>(base + <usize>vs) != 0x7b) w.slice(v.raw!, vs, ends[i]);
    else writeProjected(w, Value.rawSlice(v.raw!, vs, ends[i]), kid);
  }
  w.byte(0x7d);
  return PROJECT_WRITTEN;
}

// -------------------------------------------------------------- handlebars

function varName(port: string): string {
  return port.replaceAll('.', '_');
}

function runHandlebars(ctx: Ctx, n: PNode): NodeResult {
  const ins = new Array<Value | null>();
  const err = ctx.gather(n, ins);
  if (err !== null) return NodeResult.failed(err!);
  const w = new ByteWriter(256);
  w.byte(0x7b);
  let count = 0;
  const self = ctx.selfInput(n);
  if (self !== null) {
    // node-wise input: its fields are variables, and so is the value itself
    // under the connection's name (dots as underscores)
    if (self.typeKind() == Kind.OBJ) {
      self.resolve();
      for (let i = 0; i < self.keys!.length; i++) {
        if (count++ > 0) w.byte(0x2c);
        writeJsonString(w, self.keys![i]);
        w.byte(0x3a);
        writeJson(w, self.vals![i]);
      }
    }
    const src = ctx.node(n.selfConn!.srcNode);
    let label = src.name;
    if (n.selfConn!.srcPort >= 0) label += '_' + src.outPorts[n.selfConn!.srcPort].name;
    // 3.10 names it after the source as written (`input: CALL` is CALL, though it reads CALL.body)
    if (n.selfSource.length > 0) label = n.selfSource;
    if (count++ > 0) w.byte(0x2c);
    writeJsonString(w, varName(label));
    w.byte(0x3a);
    writeJson(w, self);
  }
  for (let p = 0; p < n.inPorts.length; p++) {
    if (count++ > 0) w.byte(0x2c);
    writeJsonString(w, varName(n.inPorts[p].name));
    w.byte(0x3a);
    const v = ins[p];
    if (v === null) w.str('null');
    else writeJson(w, v);
  }
  w.byte(0x7d);
  if (overflowed()) return NodeResult.failed(tooLarge());
  const r = takeResult(host_template_render(n.tplHandle, w.ptr, w.len));
  if (!r.ok) return NodeResult.failed(r.text);
  let out: Value;
  // 3.10 (src/payload.rs from_bytes) parsed any content_type containing application/json, and kept the rest as raw bytes
  const is310 = ctx.plan.dialect == DIALECT_310;
  const json = is310 ? n.contentType.includes('application/json') : mediaType(n.contentType) == 'application/json' || mediaType(n.contentType).endsWith('+json');
  if (json) {
    const v = rawJson(r.data);
    if (v === null) return NodeResult.failed('rendered template is not valid JSON: ' + bodyError);
    out = v;
  } else {
    out = Value.fromBytes(r.data);
  }
  // 3.10 gave only a JSON payload a Content-Type (Payload::content_type): a raw body reaches exit, service_request and response without one
  out.ctype = is310 ? (json ? 'application/json' : '') : n.contentType;
  out.sensitive = anySensitive(ins, self);
  ctx.selfs[n.index] = out;
  return NodeResult.done();
}

// -------------------------------------------------------------------- call

/** The call node's proxy inputs (ports 4-7), by the name the call description gives them. */
const PROXY_FIELDS: string[] = ['http_proxy', 'https_proxy', 'proxy_auth_username', 'proxy_auth_password'];

function runCall(ctx: Ctx, n: PNode): NodeResult {
  const ins = new Array<Value | null>();
  const err = ctx.gather(n, ins);
  if (err !== null) return NodeResult.failed(err!);
  // inputs: body, headers, query, url, http_proxy, https_proxy, proxy_auth_username, proxy_auth_password
  let url = n.url;
  const urlIn = ins[3];
  if (urlIn !== null && !urlIn.isNull()) {
    url = urlIn.resolve().s;
    const problem = urlProblem(url);
    if (problem !== null) return NodeResult.failed('invalid url ' + jsonQuote(url) + ': ' + problem!);
  }
  if (url.length == 0) return NodeResult.failed('no url: the url input is null and the node sets no url attribute');
  const query = ins[2];
  // 3.10's query input replaced the url's query, its values written as 3.10 wrote them
  if (query !== null && !query.isNull()) url = ctx.plan.dialect == DIALECT_310 ? withQuery310(url, query) : mergeQuery(url, query);

  let headers = ins[1];
  if (headers !== null && headers.isNull()) headers = null;
  if (headers !== null) {
    let hp = headerMapProblem(headers);
    if (hp === null) hp = headerCharProblem(headers);
    if (hp !== null) return NodeResult.failed('invalid headers: ' + hp!);
  }
  const body = ins[0];
  const enc = body !== null && !body.isNull() ? encodeBody(body, headers) : null;
  // 3.10 sent a call's body with only the headers the flow gave it
  if (enc !== null && ctx.plan.dialect == DIALECT_310) enc.contentType = '';

  const w = new ByteWriter(256);
  w.str('{"method":');
  writeJsonString(w, n.method);
  w.str(',"url":');
  writeJsonString(w, url);
  w.str(',"headers":');
  writeMessageHeaders(w, headers, enc, false, LENGTH_DROP); // the client computes Content-Length
  if (n.timeout >= 0) {
    w.str(',"timeout":');
    w.int(n.timeout);
  }
  w.str(',"ssl_verify":');
  w.str(n.sslVerify ? 'true' : 'false');
  if (n.sslServerName.length > 0) {
    w.str(',"ssl_server_name":');
    writeJsonString(w, n.sslServerName);
  }
  for (let k = 0; k < 4; k++) {
    const v = ins[4 + k];
    if (v === null || v.isNull()) continue;
    w.str(',"');
    w.str(PROXY_FIELDS[k]);
    w.str('":');
    writeJsonString(w, v.resolve().s);
  }
  // the answer's content-type decides how its body decodes; other headers only matter when read
  if (!n.headersUsed) w.str(',"response_headers":["content-type"]');
  w.byte(0x7d);
  if (overflowed()) return NodeResult.failed(tooLarge());
  const r = enc !== null
    ? host_http_dispatch(ctx.id, w.ptr, w.len, changetype<usize>(enc.bytes), enc.bytes.byteLength)
    : host_http_dispatch(ctx.id, w.ptr, w.len, 0, -1);
  if (r <= 0) {
    const text = takeResult(r).text;
    return NodeResult.failed(ctx.plan.dialect == DIALECT_310 ? CALL_DISPATCH_ERROR_310 : 'could not dispatch HTTP call: ' + text);
  }
  const res = new NodeResult();
  res.status = NodeResult.RUNNING;
  res.token = r;
  return res;
}

/** The host delivered a call's answer: set the call node's outputs. */
export function callAnswered(ctx: Ctx, n: PNode, status: i32, meta: ArrayBuffer, body: ArrayBuffer | null): NodeResult {
  const dialect310 = ctx.plan.dialect == DIALECT_310;
  if (status <= 0) {
    const msg = String.UTF8.decode(meta);
    // 3.10: the call completes with only its `error` output (port 4) set
    if (dialect310) {
      ctx.setOut(n.index, 4, Value.str(msg.length > 0 ? dispatchStatus310(msg) : 'internal failure'));
      return NodeResult.done();
    }
    return NodeResult.failed(msg.length > 0 ? msg : 'HTTP call failed');
  }
  const m = parseJson(meta, true);
  if (m === null || m.typeKind() != Kind.OBJ) return NodeResult.failed('invalid call response metadata from host');
  let headers = m.get('headers');
  if (headers === null) headers = Value.obj();
  const i = n.index;
  // 3.10: any answer is a result, and its header names are lower-case
  if (dialect310) headers = lowerCaseHeaders(headers);
  else if (status < 200 || status > 299) {
    if (ctx.traceOn()) {
      // the trace shows the answer that failed the call
      ctx.setOut(i, 1, headers);
      ctx.setOut(i, 2, Value.num(<f64>status));
      if (body !== null) {
        const b = decodeBody(body!, headerValue(headers, 'content-type'));
        ctx.setOut(i, 0, b !== null ? b : Value.fromBytes(body!));
      }
    }
    // Kong's wording
    return NodeResult.failed('non-2XX response code: ' + status.toString());
  }
  ctx.setOut(i, 1, headers);
  ctx.setOut(i, 2, Value.num(<f64>status));
  if (body !== null) {
    const ct = headerValue(headers, 'content-type');
    const b = dialect310 && ct !== null && ct!.includes('application/x-www-form-urlencoded') ? decodeForm(body!) : decodeBody(body!, ct);
    if (b === null) return NodeResult.failed('invalid JSON in response body: ' + bodyError);
    ctx.setOut(i, 0, b);
    if (n.rawBodyUsed || ctx.traceOn()) ctx.setOut(i, 3, Value.fromBytes(body!));
  } else {
    ctx.setOut(i, 0, Value.nul());
    ctx.setOut(i, 3, Value.str(''));
  }
  return NodeResult.done();
}

// -------------------------------------------------------------------- exit

function runExit(ctx: Ctx, n: PNode): NodeResult {
  const ins = new Array<Value | null>();
  const err = ctx.gather(n, ins);
  if (err !== null) return NodeResult.failed(err!);
  // 3.10's schema allows 100-199, but an informational status cannot be a request's final answer (a client would wait on)
  if (n.status < 200 && !n.bodyPhase310) return NodeResult.failed('exit status ' + n.status.toString() + ' is informational (1xx) and cannot end a request');
  let headers = ins[1];
  if (headers !== null && headers.isNull()) headers = null;
  if (headers !== null) {
    let hp = headerMapProblem(headers);
    if (hp === null) hp = headerCharProblem(headers);
    if (hp !== null) return NodeResult.failed('invalid headers: ' + hp!);
  }
  const r = new NodeResult();
  r.status = NodeResult.EXIT;
  r.exitStatus = n.status;
  const body = ins[0];
  const enc = body !== null && !body.isNull() ? encodeBody(body, headers) : null;
  if (enc !== null) r.body = enc.bytes;
  const w = new ByteWriter(128);
  writeMessageHeaders(w, headers, enc, false, LENGTH_SET);
  if (overflowed()) return NodeResult.failed(tooLarge());
  r.headers = w.toString();
  return r;
}

// ---------------------------------------------------------------- property

function runProperty(ctx: Ctx, n: PNode): NodeResult {
  const name = String.UTF8.encode(n.property);
  const json = mediaType(n.contentType) == 'application/json';
  if (n.selfConn === null) {
    const r = takeResult(host_property_get(ctx.id, changetype<usize>(name), name.byteLength));
    if (!r.ok) return NodeResult.failed('could not get property ' + n.property + ': ' + r.text);
    let v = rawJson(r.data);
    if (v === null) return NodeResult.failed('could not get property ' + n.property + ': invalid value from host');
    if (json && v.typeKind() == Kind.STR) {
      const parsed = rawJson(String.UTF8.encode(v.resolve().s));
      if (parsed === null) return NodeResult.failed('property ' + n.property + ' is not valid JSON: ' + bodyError);
      v = parsed;
    }
    if (n.nonNil && v.isNull()) return NodeResult.failed('property ' + n.property + ' is nil');
    ctx.selfs[n.index] = v;
    return NodeResult.done();
  }
  let v = ctx.selfInput(n);
  if (v === null) v = Value.nul();
  if (n.nonNil && v.isNull()) return NodeResult.failed('cannot set property ' + n.property + ' to nil');
  let out = v;
  if (json && !v.isNull()) {
    out = Value.str(v.toJsonString());
    out.sensitive = v.sensitive;
  }
  const w = new ByteWriter(64);
  writeJson(w, out);
  if (overflowed()) return NodeResult.failed(tooLarge());
  const r = takeResult(host_property_set(ctx.id, changetype<usize>(name), name.byteLength, w.ptr, w.len));
  if (!r.ok) return NodeResult.failed('could not set property ' + n.property + ': ' + r.text);
  // 3.10's set has no output: nodes reading it never run
  if (ctx.plan.dialect != DIALECT_310) ctx.selfs[n.index] = out;
  return NodeResult.done();
}

// ------------------------------------------------------------------ branch

function runBranch(ctx: Ctx, n: PNode): NodeResult {
  const v = n.selfConn !== null ? ctx.fetch(n.selfConn!) : null;
  if (v === null || v.typeKind() != Kind.BOOL) {
    return NodeResult.failed('branch input must be a boolean, got ' + (v === null ? 'nothing' : valueTypeName(v!)));
  }
  const r = NodeResult.done();
  r.branchValue = v.resolve().b;
  ctx.selfs[n.index] = v;
  return r;
}

// ---------------------------------------------------- capability nodes

function opJson(op: string, n: PNode, extra: string): ByteWriter {
  const w = new ByteWriter(128);
  w.str('{"op":"');
  w.str(op);
  w.str('","options":');
  w.str(n.optionsJson);
  w.str(extra);
  w.byte(0x7d);
  return w;
}

/** A synchronous capability call; data is passed as given bytes. */
function callHost(op: ByteWriter, data: ArrayBuffer): HostResult {
  if (overflowed()) {
    const r = new HostResult();
    r.ok = false;
    r.data = String.UTF8.encode(tooLarge());
    return r;
  }
  return takeResult(host_call(op.ptr, op.len, changetype<usize>(data), data.byteLength));
}

function dispatchAsync(ctx: Ctx, op: ByteWriter, data: ArrayBuffer | null): NodeResult {
  if (overflowed()) return NodeResult.failed(tooLarge());
  const t = data !== null
    ? host_async_dispatch(ctx.id, op.ptr, op.len, changetype<usize>(data), data.byteLength)
    : host_async_dispatch(ctx.id, op.ptr, op.len, 0, -1);
  if (t <= 0) return NodeResult.failed(takeResult(t).text);
  const r = new NodeResult();
  r.status = NodeResult.RUNNING;
  r.token = t;
  return r;
}

/** The string a STRING-typed $self input carries (bodies keep their bytes). */
function stringInput(ctx: Ctx, n: PNode, what: string): ArrayBuffer | null {
  const v = n.selfConn !== null ? ctx.fetch(n.selfConn!) : null;
  if (v === null || v.isNull()) return null;
  if (v.typeKind() != Kind.STR) return null;
  v.resolve();
  return v.bytes !== null ? v.bytes! : String.UTF8.encode(v.s);
}

function runCache(ctx: Ctx, n: PNode): NodeResult {
  const ins = new Array<Value | null>();
  const err = ctx.gather(n, ins);
  if (err !== null) return NodeResult.failed(err!);
  // inputs: key, ttl, data
  const key = ins[0];
  if (key === null || key.isNull()) return NodeResult.failed('cache key is required');
  if (key.typeKind() != Kind.STR) return NodeResult.failed('cache key must be a string, got ' + valueTypeName(key));
  let ttl = n.ttl;
  const ttlIn = ins[1];
  if (ttlIn !== null && !ttlIn.isNull()) ttl = <i32>ttlIn.resolve().n;
  const data = ins[2];
  const w = new ByteWriter(128);
  const setting = data !== null && !data.isNull();
  w.str(setting ? '{"op":"cache_set","cache":' : '{"op":"cache_get","cache":');
  w.str(ctx.plan.cacheJson);
  w.str(',"key":');
  writeJsonString(w, key.resolve().s);
  if (setting && ttl >= 0) {
    w.str(',"ttl":');
    w.int(ttl);
  }
  w.byte(0x7d);
  let payload: ArrayBuffer | null = null;
  if (setting) payload = data!.toJson();
  return dispatchAsync(ctx, w, payload);
}

/**
 * Inputs from these sizes are converted in a host worker thread (async), not
 * inline: about 2 ms of conversion (host/capabilities/xml-worker.ts has the
 * same numbers and the measurements).
 */
const XML_TO_JSON_WORKER_BYTES: i32 = 16 * 1024;
const JSON_TO_XML_WORKER_BYTES: i32 = 64 * 1024;

function runXmlToJson(ctx: Ctx, n: PNode): NodeResult {
  const xml = stringInput(ctx, n, 'XML');
  if (xml === null) {
    // name what arrived, in the words of the other input type checks
    const got = n.selfConn !== null ? ctx.fetch(n.selfConn!) : null;
    if (got !== null && !got.isNull()) return NodeResult.failed('invalid value for node-wise input: expected string, got ' + valueTypeName(got));
    return NodeResult.failed('xml_to_json needs a string input');
  }
  if (xml!.byteLength >= XML_TO_JSON_WORKER_BYTES) return dispatchAsync(ctx, opJson('xml_to_json', n, ''), xml);
  const r = callHost(opJson('xml_to_json', n, ''), xml!);
  if (!r.ok) return NodeResult.failed(r.text);
  return xmlToJsonDone(ctx, n, r.data);
}

function xmlToJsonDone(ctx: Ctx, n: PNode, data: ArrayBuffer): NodeResult {
  const v = rawJson(data);
  if (v === null) return NodeResult.failed('xml_to_json: invalid result from host');
  ctx.selfs[n.index] = v;
  return NodeResult.done();
}

function runJsonToXml(ctx: Ctx, n: PNode): NodeResult {
  let v = n.selfConn !== null ? ctx.fetch(n.selfConn!) : null;
  if (v === null && n.inPorts.length > 0) {
    // named `inputs` (Kong's schema): converted as one object of those fields
    const ins = new Array<Value | null>();
    const err = ctx.gather(n, ins);
    if (err !== null) return NodeResult.failed(err!);
    v = Value.obj();
    for (let p = 0; p < n.inPorts.length; p++) {
      const f = ins[p];
      v.keys!.push(n.inPorts[p].name);
      v.vals!.push(f === null ? Value.nul() : f);
    }
    v.sensitive = anySensitive(ins, null);
  }
  if (v === null) v = Value.nul();
  const json = v.toJson();
  if (json.byteLength >= JSON_TO_XML_WORKER_BYTES) {
    // the input waits in the node's slot until the answer: its sensitivity carries over
    ctx.selfs[n.index] = v;
    return dispatchAsync(ctx, opJson('json_to_xml', n, ''), json);
  }
  const r = callHost(opJson('json_to_xml', n, ''), json);
  if (!r.ok) return NodeResult.failed(r.text);
  return jsonToXmlDone(ctx, n, r.data, v.sensitive);
}

function jsonToXmlDone(ctx: Ctx, n: PNode, data: ArrayBuffer, sensitive: bool): NodeResult {
  const out = Value.fromBytes(data);
  out.ctype = 'application/xml';
  out.sensitive = sensitive;
  ctx.selfs[n.index] = out;
  return NodeResult.done();
}

function runJwtDecode(ctx: Ctx, n: PNode): NodeResult {
  const token = stringInput(ctx, n, 'token');
  if (token === null) return NodeResult.failed('jwt_decode needs a token string');
  const r = callHost(opJson('jwt_decode', n, ''), token!);
  if (!r.ok) return NodeResult.failed(r.text);
  return setObjectOutputs(ctx, n, r.data, false);
}

function runJwt(ctx: Ctx, n: PNode): NodeResult {
  const ins = new Array<Value | null>();
  const err = ctx.gather(n, ins);
  if (err !== null) return NodeResult.failed(err!);
  const sign = n.type == NodeType.JWT_SIGN;
  // jwt_sign: claims, key; jwt_verify: token, key
  const first = ins[0];
  const key = ins[1];
  if (key === null || key.isNull()) return NodeResult.failed('a key is required');
  if (!sign && (first === null || first.typeKind() != Kind.STR)) return NodeResult.failed('a token string is required');
  const w = new ByteWriter(256);
  w.str(sign ? '{"claims":' : '{"token":');
  if (first === null) w.str('null');
  else writeJson(w, first);
  w.str(',"key":');
  writeJson(w, key);
  w.byte(0x7d);
  return dispatchAsync(ctx, opJson(sign ? 'jwt_sign' : 'jwt_verify', n, ''), w.toBuffer());
}

/** Sets a node's output ports from the fields of a JSON object result. */
function setObjectOutputs(ctx: Ctx, n: PNode, data: ArrayBuffer, sensitive: bool): NodeResult {
  const p = new JsonParser(data, 0, data.byteLength, 1);
  const o = p.parseDocument();
  if (o === null || o.kind != Kind.OBJ) return NodeResult.failed(n.typeName + ': invalid result from host');
  for (let i = 0; i < n.outPorts.length; i++) {
    const v = o.get(n.outPorts[i].name);
    const val = v !== null ? v : Value.nul();
    val.sensitive = sensitive;
    ctx.setOut(n.index, i, val);
  }
  return NodeResult.done();
}

/** An async capability answered (dk_on_async_result). */
export function asyncAnswered(ctx: Ctx, n: PNode, ok: bool, data: ArrayBuffer): NodeResult {
  if (n.type == NodeType.CACHE) {
    if (!ok) {
      if (!n.bypassOnError) return NodeResult.failed('cache: ' + String.UTF8.decode(data));
      // a backend failure becomes a miss (or a store that did not happen)
      ctx.setOut(n.index, 0, Value.bool(false));
      ctx.setOut(n.index, 1, Value.bool(true));
      ctx.setOut(n.index, 2, Value.bool(false));
      ctx.setOut(n.index, 3, Value.nul());
      return NodeResult.done();
    }
    return setObjectOutputs(ctx, n, data, false);
  }
  if (n.type == NodeType.XML_TO_JSON || n.type == NodeType.JSON_TO_XML) {
    const input = ctx.selfs[n.index];
    ctx.selfs[n.index] = null;
    if (!ok) return NodeResult.failed(String.UTF8.decode(data));
    if (n.type == NodeType.XML_TO_JSON) return xmlToJsonDone(ctx, n, data);
    return jsonToXmlDone(ctx, n, data, input !== null && input.sensitive);
  }
  if (!ok) return NodeResult.failed(String.UTF8.decode(data));
  // jwt_sign's token and claims stay sensitive if the key was
  return setObjectOutputs(ctx, n, data, false);
}
