// The 3.10 dialect: where Kong's open-source 3.10 Datakit filter (a
// proxy-wasm filter, github.com/Kong/datakit) behaves differently from the
// 3.11+ plugin, a plan in this dialect gets 3.10's behaviour. Which plans
// are in it is decided in plan.ts (readDialect); this module holds the
// helpers the 3.10 behaviours need. docs/compat.md lists every difference.

import { ByteWriter, equalsIgnoreCase } from './bytes';
import { headerIndex } from './http';
import { Kind, Value } from './json';

export const DIALECT_311: i32 = 0;
export const DIALECT_310: i32 = 1;

/**
 * 3.10 named a jq input's `$variable` after its port, dots turned into
 * underscores and `$` dropped (`request.query` -> `$request_query`,
 * `$mycall` -> `$mycall`).
 */
export function jqVariableName310(port: string): string {
  return port.replaceAll('.', '_').replaceAll('$', '');
}

/** 3.10 turned tracing on for any X-DataKit-Debug-Trace value but these. */
export function traceHeaderOn310(value: string): bool {
  return value != 'off' && value != 'false' && value != '0';
}

/**
 * Header maps as 3.10 delivered them: names lower-cased; values of names
 * that differ only in case are merged into a list (first seen first).
 */
export function lowerCaseHeaders(map: Value): Value {
  if (map.typeKind() != Kind.OBJ) return map;
  map.resolve();
  const keys = map.keys!;
  const vals = map.vals!;
  let lower = true;
  for (let i = 0; i < keys.length && lower; i++) if (keys[i] != keys[i].toLowerCase()) lower = false;
  if (lower) return map;
  const out = Value.obj();
  out.sensitive = map.sensitive;
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i].toLowerCase();
    const v = vals[i];
    const prev = out.get(k);
    if (prev === null) {
      out.set(k, v);
      continue;
    }
    let list = prev;
    if (prev.typeKind() != Kind.ARR) {
      list = Value.arr();
      list.push(prev);
      out.set(k, list);
    } else list = prev.resolve();
    if (v.typeKind() == Kind.ARR) {
      const items = v.resolve().items!;
      for (let j = 0; j < items.length; j++) list.push(items[j]);
    } else list.push(v);
  }
  return out;
}

function hexVal(c: i32): i32 {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 65 && c <= 70) return c - 55;
  if (c >= 97 && c <= 102) return c - 87;
  return -1;
}

/** Percent-decodes one form component ('+' is a space); invalid escapes stay as they are. */
function formDecode(buf: ArrayBuffer, start: i32, end: i32): string {
  const w = new ByteWriter(end - start + 1);
  const base = changetype<usize>(buf);
  for (let i = start; i < end; i++) {
    const c = <i32>load<u8>(base + <usize>i);
    if (c == 0x2b) w.byte(0x20);
    else if (c == 0x25 && i + 2 < end && hexVal(<i32>load<u8>(base + <usize>(i + 1))) >= 0 && hexVal(<i32>load<u8>(base + <usize>(i + 2))) >= 0) {
      w.byte(<u8>(hexVal(<i32>load<u8>(base + <usize>(i + 1))) * 16 + hexVal(<i32>load<u8>(base + <usize>(i + 2)))));
      i += 2;
    } else w.byte(<u8>c);
  }
  return String.UTF8.decode(w.toBuffer());
}

/**
 * An application/x-www-form-urlencoded body as 3.10 decoded it: an object
 * of strings, a repeated name keeping its last value.
 */
export function decodeForm(buf: ArrayBuffer): Value {
  const out = Value.obj();
  const n = buf.byteLength;
  const base = changetype<usize>(buf);
  let start = 0;
  while (start <= n) {
    let end = start;
    while (end < n && load<u8>(base + <usize>end) != 0x26) end++;
    if (end > start) {
      let eq = start;
      while (eq < end && load<u8>(base + <usize>eq) != 0x3d) eq++;
      const name = formDecode(buf, start, eq);
      const value = eq < end ? formDecode(buf, eq + 1, end) : '';
      out.set(name, Value.str(value));
    }
    start = end + 1;
  }
  return out;
}

/**
 * 3.10's call `query` input replaced the url's query with the query as 3.10
 * wrote it (src/nodes/call.rs path_with_query: the path, `?`, then
 * formQuery310; an empty map leaves a bare `?`). The fragment is kept.
 */
export function withQuery310(url: string, query: Value): string {
  const hash = url.indexOf('#');
  const base = hash >= 0 ? url.substring(0, hash) : url;
  const frag = hash >= 0 ? url.substring(hash) : '';
  const q = base.indexOf('?');
  return (q >= 0 ? base.substring(0, q) : base) + '?' + formQuery310(query) + frag;
}

const HEX_UPPER = '0123456789ABCDEF';

/**
 * One name or value as 3.10's form serializer escaped it (the url crate's
 * form_urlencoded::byte_serialize): letters, digits and `*-._` as they are,
 * a space as `+`, every other byte as `%XX`.
 */
function formEscape(w: ByteWriter, s: string): void {
  const b = String.UTF8.encode(s);
  const base = changetype<usize>(b);
  for (let i = 0; i < b.byteLength; i++) {
    const c = <i32>load<u8>(base + <usize>i);
    const plain = (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c == 0x2a || c == 0x2d || c == 0x2e || c == 0x5f;
    if (plain) w.byte(<u8>c);
    else if (c == 0x20) w.byte(0x2b);
    else {
      w.byte(0x25);
      w.byte(<u8>HEX_UPPER.charCodeAt(c >> 4));
      w.byte(<u8>HEX_UPPER.charCodeAt(c & 15));
    }
  }
}

/**
 * A query map as 3.10 wrote it (src/payload.rs to_pwm_query): its values
 * per queryValues310, `&`-joined and form-escaped. (The query port takes
 * only maps here; 3.10's bare-name form of other values cannot arise.)
 */
export function formQuery310(q: Value): string {
  const w = new ByteWriter(64);
  if (q.typeKind() == Kind.OBJ) {
    const m = queryValues310(q);
    let first = true;
    for (let i = 0; i < m.keys!.length; i++) {
      const v = m.vals![i];
      const items: Value[] = v.typeKind() == Kind.ARR ? v.resolve().items! : [v];
      for (let j = 0; j < items.length; j++) {
        if (!first) w.byte(0x26);
        first = false;
        formEscape(w, m.keys![i]);
        if (items[j].isNull()) continue;
        w.byte(0x3d);
        formEscape(w, items[j].resolve().s);
      }
    }
  }
  return w.toString();
}

/**
 * A configuration error as 3.10 worded it: `failed checking configuration:
 * in node `NAME` of type `TYPE`: ...`, with 3.10's own text for the errors
 * it had, and this engine's (after its node label) for the checks it adds.
 */
export function configError310(message: string, name: string, type: string): string {
  let rest = message;
  if (rest.startsWith('node #')) {
    const at = rest.indexOf(': ');
    if (at >= 0) rest = rest.substring(at + 2);
  }
  if (rest == 'type: required field missing') return 'failed parsing configuration: missing field `type`';
  if (rest == 'inputs: invalid list value' || rest == 'outputs: invalid list value') return 'failed parsing configuration: invalid list value';
  if (rest.startsWith('name: duplicate node name ')) return 'failed checking configuration: multiple definitions of node `' + name + '`';
  let text = rest;
  if (rest.startsWith('type: unknown node type')) text = 'unknown node type';
  else if (rest.startsWith('name: ') && rest.endsWith(' is a reserved node name')) text = 'cannot use reserved node name';
  else if (rest.endsWith('): node cannot connect to itself')) text = 'node cannot connect to itself';
  else if (type == 'call' && rest == 'url: required field missing') text = "call: 'url' is a required attribute";
  else if (type == 'property' && rest == 'property: required field missing') text = 'Missing `property` attribute';
  else if (rest.startsWith('inputs: too many inputs declared')) text = rest.substring(8);
  if (name.length == 0) return 'failed checking configuration: ' + text;
  return 'failed checking configuration: in node `' + name + '` of type `' + type + '`: ' + text;
}

/**
 * `request.query` as 3.10 decoded it: one string per name (a repeated name
 * keeps its last value, a name without `=` is "").
 */
export function query310(q: Value): Value {
  if (q.typeKind() != Kind.OBJ) return q;
  q.resolve();
  const out = Value.obj();
  for (let i = 0; i < q.keys!.length; i++) {
    let v = q.vals![i];
    if (v.typeKind() == Kind.ARR) {
      const items = v.resolve().items!;
      v = items.length > 0 ? items[items.length - 1] : Value.str('');
    }
    out.set(q.keys![i], v.isNull() ? Value.str('') : v);
  }
  return out;
}

/** What a 3.10 header map leaves of a service request's headers: the gateway sets Host and frames the body itself. */
export const KEPT_REQUEST_HEADERS_310: string[] = ['host', 'content-length', 'transfer-encoding'];
/** What a 3.10 header map leaves of a response's headers: the body's framing, which the gateway recomputes. */
export const KEPT_RESPONSE_HEADERS_310: string[] = ['content-length', 'transfer-encoding'];

/**
 * 3.10 replaced every header of a message with a header map
 * (set_http_request_headers, set_http_response_headers): the map as a patch
 * that also removes (null) each header of `current` it does not name, but
 * for those in `kept`.
 */
export function replacingHeaders310(map: Value, current: Value | null, kept: string[]): Value {
  if (current === null || current.typeKind() != Kind.OBJ) return map;
  current.resolve();
  const names = current.keys!;
  let out: Value | null = null;
  for (let i = 0; i < names.length; i++) {
    const name = names[i];
    let isKept = false;
    for (let k = 0; k < kept.length && !isKept; k++) if (equalsIgnoreCase(name, kept[k])) isKept = true;
    if (isKept || headerIndex(map, name) >= 0) continue;
    if (out === null) out = map.shallowCopy();
    else if (headerIndex(out!, name) >= 0) continue; // the same name in another case
    out!.set(name, Value.nul());
  }
  return out !== null ? out! : map;
}

/**
 * A query map as 3.10 wrote it to a url (src/payload.rs to_pwm_query):
 * strings as they are, `null` as the bare name, any other value (`true`,
 * numbers, objects; a list's non-string items, `null` included) as its
 * JSON text, so `{"flag": true}` is `flag=true`.
 */
export function queryValues310(q: Value): Value {
  if (q.typeKind() != Kind.OBJ) return q;
  q.resolve();
  const out = Value.obj();
  out.sensitive = q.sensitive;
  for (let i = 0; i < q.keys!.length; i++) {
    const v = q.vals![i];
    const k = v.typeKind();
    if (k == Kind.STR || k == Kind.NULL) out.set(q.keys![i], v);
    else if (k == Kind.ARR) {
      const items = v.resolve().items!;
      const list = Value.arr();
      for (let j = 0; j < items.length; j++) list.push(items[j].typeKind() == Kind.STR ? items[j] : jsonText(items[j]));
      out.set(q.keys![i], list);
    } else out.set(q.keys![i], jsonText(v));
  }
  return out;
}

function jsonText(v: Value): Value {
  const s = Value.str(v.toJsonString());
  s.sensitive = v.sensitive;
  return s;
}

/** 3.10's failure text for a call the host could not dispatch (call.rs: `call error: {:?}` of the proxy-wasm status ngx_wasm_module returns). */
export const CALL_DISPATCH_ERROR_310 = 'call error: InternalFailure';

const BROKEN_CONNECTION_CODES: string[] = ['ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED'];
const RESOLVER_CODES: string[] = ['ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL', 'EAI_NONAME'];
const TLS_MARKERS: string[] = ['ERR_TLS_', 'ERR_SSL_', 'CERT_', 'SELF_SIGNED_CERT', 'UNABLE_TO_VERIFY', 'UNABLE_TO_GET_ISSUER', 'EPROTO'];

/**
 * A failed call's `error` output as 3.10 had it: the `:dispatch_status` of
 * ngx_wasm_module's answer (its socket status words: `timeout`, `broken
 * connection`, `resolver failure`, `tls handshake failure`, `reader
 * failure`), classified from the host's message; a failure 3.10 had no
 * word for (a limit of this engine) keeps the host's message.
 */
export function dispatchStatus310(message: string): string {
  if (message.startsWith('timeout')) return 'timeout';
  const failed = message.indexOf(' failed: ');
  if (!message.startsWith('call to ') || failed < 0) return message;
  const cause = message.substring(failed + 9);
  for (let i = 0; i < BROKEN_CONNECTION_CODES.length; i++) if (cause.startsWith(BROKEN_CONNECTION_CODES[i] + ' ')) return 'broken connection';
  for (let i = 0; i < RESOLVER_CODES.length; i++) if (cause.startsWith(RESOLVER_CODES[i] + ' ')) return 'resolver failure';
  for (let i = 0; i < TLS_MARKERS.length; i++) if (cause.startsWith(TLS_MARKERS[i]) || cause.includes(' ' + TLS_MARKERS[i])) return 'tls handshake failure';
  if (cause.startsWith('HPE_') || cause.startsWith('UND_ERR_INFO') || cause.startsWith('UND_ERR_RES')) return 'reader failure';
  return message;
}
