// What each node type does when it runs (spec section 3).

import { ByteWriter } from './bytes';
import { JsonParser, Kind, parseJson, Value, writeJson, writeJsonString } from './json';
import {
  host_http_dispatch,
  host_jq_run,
  host_property_get,
  host_property_set,
  host_template_render,
  takeResult,
} from './host';
import { Ctx } from './context';
import { PNode, urlProblem } from './plan';
import { NodeType, PortType } from './types';
import {
  bodyError,
  decodeBody,
  encodeBody,
  headerIndex,
  headerMapProblem,
  headerValue,
  jsonQuote,
  mediaType,
  mergeQuery,
  rawJson,
  writeHeaderMap,
} from './http';
import { valueTypeName } from './trace';

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
  if (t == NodeType.STATIC) return runStatic(ctx, n);
  if (t == NodeType.JQ) return runJq(ctx, n);
  if (t == NodeType.HANDLEBARS) return runHandlebars(ctx, n);
  if (t == NodeType.CALL) return runCall(ctx, n);
  if (t == NodeType.EXIT) return runExit(ctx, n);
  if (t == NodeType.PROPERTY) return runProperty(ctx, n);
  if (t == NodeType.BRANCH) return runBranch(ctx, n);
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
  const outs = ctx.outs[n.index];
  for (let p = 0; p < n.outPorts.length; p++) outs[p] = vals.vals![p];
  ctx.selfs[n.index] = vals;
  return NodeResult.done();
}

// ---------------------------------------------------------------------- jq

function runJq(ctx: Ctx, n: PNode): NodeResult {
  const ins = new Array<Value | null>();
  const err = ctx.gather(n, ins);
  if (err !== null) return NodeResult.failed(err!);
  const w = new ByteWriter(256);
  let sensitive = false;
  if (n.selfConn !== null) {
    const v = ctx.selfInput(n);
    if (v === null) w.str('null');
    else {
      writeJson(w, v);
      sensitive = v.sensitive;
    }
  } else {
    // named inputs: an object whose keys are the input names
    w.byte(0x7b);
    for (let p = 0; p < n.inPorts.length; p++) {
      if (p > 0) w.byte(0x2c);
      writeJsonString(w, n.inPorts[p].name);
      w.byte(0x3a);
      const v = ins[p];
      if (v === null) w.str('null');
      else writeJson(w, v);
    }
    w.byte(0x7d);
    sensitive = anySensitive(ins, null);
  }
  const r = takeResult(host_jq_run(n.jqHandle, w.ptr, w.len));
  if (!r.ok) return NodeResult.failed(r.text);
  // the host answers a JSON array of all results
  const p = new JsonParser(r.data, 0, r.data.byteLength, 1);
  const arr = p.parseDocument();
  if (arr === null || arr.kind != Kind.ARR) return NodeResult.failed('jq: invalid result from host');
  const items = arr.items!;
  const first = items.length > 0 ? items[0] : Value.nul();
  first.sensitive = sensitive;
  ctx.selfs[n.index] = first;
  const outs = ctx.outs[n.index];
  for (let k = 0; k < n.outPorts.length; k++) {
    const v = k < items.length ? items[k] : Value.nul();
    v.sensitive = sensitive;
    outs[k] = v;
  }
  return NodeResult.done();
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
  const r = takeResult(host_template_render(n.tplHandle, w.ptr, w.len));
  if (!r.ok) return NodeResult.failed(r.text);
  let out: Value;
  if (mediaType(n.contentType) == 'application/json' || mediaType(n.contentType).endsWith('+json')) {
    const v = rawJson(r.data);
    if (v === null) return NodeResult.failed('rendered template is not valid JSON: ' + bodyError);
    out = v;
  } else {
    out = Value.fromBytes(r.data);
  }
  out.ctype = n.contentType;
  out.sensitive = anySensitive(ins, self);
  ctx.selfs[n.index] = out;
  return NodeResult.done();
}

// -------------------------------------------------------------------- call

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
  const query = ins[2];
  if (query !== null && !query.isNull()) url = mergeQuery(url, query);

  let headers = ins[1];
  if (headers !== null && headers.isNull()) headers = null;
  if (headers !== null) {
    const hp = headerMapProblem(headers);
    if (hp !== null) return NodeResult.failed('invalid headers: ' + hp!);
  }
  let bodyBytes: ArrayBuffer | null = null;
  let ctAdd: string | null = null;
  const body = ins[0];
  if (body !== null && !body.isNull()) {
    const enc = encodeBody(body, headers);
    bodyBytes = enc.bytes;
    if (enc.contentType.length > 0) ctAdd = enc.contentType;
  }

  const w = new ByteWriter(256);
  w.str('{"method":');
  writeJsonString(w, n.method);
  w.str(',"url":');
  writeJsonString(w, url);
  w.str(',"headers":');
  const h = headers !== null ? headers : Value.obj();
  if (ctAdd !== null && headerIndex(h, 'content-type') < 0) {
    // the client computes Content-Length itself
    const copy = h.shallowCopy();
    copy.set('Content-Type', Value.str(ctAdd!));
    writeHeaderMap(w, copy, false, 'Content-Length', null);
  } else writeHeaderMap(w, h, false, 'Content-Length', null);
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
  const names = ['http_proxy', 'https_proxy', 'proxy_auth_username', 'proxy_auth_password'];
  for (let k = 0; k < 4; k++) {
    const v = ins[4 + k];
    if (v === null || v.isNull()) continue;
    w.str(',"');
    w.str(names[k]);
    w.str('":');
    writeJsonString(w, v.resolve().s);
  }
  w.byte(0x7d);
  const r = bodyBytes !== null
    ? host_http_dispatch(ctx.id, w.ptr, w.len, changetype<usize>(bodyBytes), bodyBytes.byteLength)
    : host_http_dispatch(ctx.id, w.ptr, w.len, 0, -1);
  if (r <= 0) return NodeResult.failed('could not dispatch HTTP call: ' + takeResult(r).text);
  const res = new NodeResult();
  res.status = NodeResult.RUNNING;
  res.token = r;
  return res;
}

/** The host delivered a call's answer: set the call node's outputs. */
export function callAnswered(ctx: Ctx, n: PNode, status: i32, meta: ArrayBuffer, body: ArrayBuffer | null): NodeResult {
  if (status <= 0) {
    const msg = String.UTF8.decode(meta);
    return NodeResult.failed(msg.length > 0 ? msg : 'HTTP call failed');
  }
  const m = parseJson(meta, true);
  if (m === null || m.typeKind() != Kind.OBJ) return NodeResult.failed('invalid call response metadata from host');
  let headers = m.get('headers');
  if (headers === null) headers = Value.obj();
  if (status < 200 || status > 299) return NodeResult.failed('HTTP call failed with status ' + status.toString());
  const outs = ctx.outs[n.index];
  outs[1] = headers;
  outs[2] = Value.num(<f64>status);
  if (body !== null) {
    const b = decodeBody(body!, headerValue(headers, 'content-type'));
    if (b === null) return NodeResult.failed('invalid JSON in response body: ' + bodyError);
    outs[0] = b;
    outs[3] = Value.fromBytes(body!);
  } else {
    outs[0] = Value.nul();
    outs[3] = Value.str('');
  }
  return NodeResult.done();
}

// -------------------------------------------------------------------- exit

function runExit(ctx: Ctx, n: PNode): NodeResult {
  const ins = new Array<Value | null>();
  const err = ctx.gather(n, ins);
  if (err !== null) return NodeResult.failed(err!);
  let headers = ins[1];
  if (headers !== null && headers.isNull()) headers = null;
  if (headers !== null) {
    const hp = headerMapProblem(headers);
    if (hp !== null) return NodeResult.failed('invalid headers: ' + hp!);
  }
  const r = new NodeResult();
  r.status = NodeResult.EXIT;
  r.exitStatus = n.status;
  const body = ins[0];
  let ctAdd: string | null = null;
  if (body !== null && !body.isNull()) {
    const enc = encodeBody(body, headers);
    r.body = enc.bytes;
    if (enc.contentType.length > 0) ctAdd = enc.contentType;
  }
  const h = headers !== null ? headers : Value.obj();
  const w = new ByteWriter(128);
  if (ctAdd !== null && headerIndex(h, 'content-type') < 0) {
    const copy = h.shallowCopy();
    copy.set('Content-Type', Value.str(ctAdd!));
    writeHeaderMap(w, copy, false, 'Content-Length', r.body.byteLength.toString());
  } else writeHeaderMap(w, h, false, 'Content-Length', r.body.byteLength.toString());
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
  const r = takeResult(host_property_set(ctx.id, changetype<usize>(name), name.byteLength, w.ptr, w.len));
  if (!r.ok) return NodeResult.failed('could not set property ' + n.property + ': ' + r.text);
  ctx.selfs[n.index] = out;
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
