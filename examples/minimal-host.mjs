#!/usr/bin/env node
// A minimal host for build/datakit.wasm, written from docs/host-abi.md alone:
// plain JavaScript, no framework. It runs one request through a flow and
// prints what `datakit run` prints (client response, service request,
// properties set, failure). Start here to embed the engine elsewhere.
//
//   node examples/minimal-host.mjs FLOW.yaml [--request request.json]
//
// request.json: {method, path, scheme, port, headers, query, body,
// properties, upstream: {status, headers, body}, request_id}; all optional.
//
// Capabilities: calls (undici; no proxies, no ssl_* options), jq (datakit-wasm/jq),
// Handlebars, `env` vault references, an in-memory cache and jwt_decode. XML and
// JWT signing or verifying are refused at configure time (host_call validate).
import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import Handlebars from 'handlebars';
import { request as httpRequest } from 'undici';
import { compile as compileJq } from 'datakit-wasm/jq';

const ABI_VERSION = 4;
const PAUSE = 0;
const DEFAULT_CALL_TIMEOUT_MS = 60_000;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

// ---------------------------------------------------------------- module

/** Checks the ABI version before instantiating: the datakit_abi custom section. */
function loadModule(path) {
  const module = new WebAssembly.Module(readFileSync(path));
  const [section] = WebAssembly.Module.customSections(module, 'datakit_abi');
  const version = section ? Number(decoder.decode(section)) : NaN;
  if (version !== ABI_VERSION) throw new Error(`${path}: engine ABI ${section ? version : '(no datakit_abi section)'}, this host implements ${ABI_VERSION}`);
  return module;
}

/** One engine instance and the host side of its imports. */
class Host {
  constructor(module) {
    this.result = new Uint8Array(0); // the result buffer (result_read)
    this.returned = undefined; // return_data of the current export
    this.handles = new Map(); // jq programs and templates, by handle
    this.contexts = new Map(); // ctx -> request state
    this.calls = new Map(); // token -> AbortController
    this.nextHandle = this.nextToken = 1;
    this.cache = new Map(); // cache_get / cache_set: key -> {value, expires}
    this.templates = Handlebars.create(); // private: no helpers leak in
    this.x = new WebAssembly.Instance(module, { datakit: this.imports() }).exports;
    if (this.x.dk_abi_version() !== ABI_VERSION) throw new Error(`engine reports ABI ${this.x.dk_abi_version()}`);
  }

  // memory can grow during any export: always read through a fresh view
  bytes(ptr, len) { return new Uint8Array(this.x.memory.buffer, ptr, len).slice(); }
  text(ptr, len) { return decoder.decode(new Uint8Array(this.x.memory.buffer, ptr, len)); }

  /** A module-owned buffer [ptr, len]; undefined is passed as absent (0, -1). */
  put(data) {
    if (data === undefined) return [0, -1];
    const bytes = typeof data === 'string' ? encoder.encode(data) : data;
    const ptr = this.x.dk_alloc(bytes.length);
    new Uint8Array(this.x.memory.buffer).set(bytes, ptr);
    return [ptr, bytes.length];
  }

  // results wait in the result buffer: r >= 0 bytes of data, or an error of -r - 1 bytes
  ok(data) { this.result = encoder.encode(data); return this.result.length; }
  fail(message) { this.result = encoder.encode(String(message)); return -this.result.length - 1; }
  guard(fn) { try { return fn(); } catch (e) { return this.fail(e.message); } }

  imports() {
    return {
      log: (level, ptr, len) => { if (level >= 3) process.stderr.write(this.text(ptr, len) + '\n'); },
      clock_ms: (kind) => (kind === 0 ? Date.now() : performance.now()),
      result_read: (dst) => {
        new Uint8Array(this.x.memory.buffer).set(this.result, dst);
        this.result = new Uint8Array(0);
      },
      return_data: (ptr, len) => { this.returned = this.text(ptr, len); },
      jq_compile: (ptr, len, vptr, vlen) => this.guard(() => {
        const filter = this.text(ptr, len);
        const list = vlen > 0 ? JSON.parse(this.text(vptr, vlen)) : [];
        // `@` entries are 3.10 requests: `@input:NAME` ($NAME is the whole input), `@syntax:jaq`
        const vars = list.filter((v) => !v.startsWith('@'));
        const whole = list.find((v) => v.startsWith('@input:'))?.slice(7);
        let program;
        try { program = compileJq(filter, { variables: whole ? [...vars, whole] : vars, syntax: list.includes('@syntax:jaq') ? 'jaq' : undefined }); } catch (e) { return this.fail(jqCompileError(e.message, filter)); }
        return this.handle({ program, vars, whole });
      }),
      jq_run: (h, ptr, len) => this.guard(() => {
        const { program, vars, whole } = this.handles.get(h);
        const input = JSON.parse(this.text(ptr, len));
        const variables = {};
        if (whole) variables[whole] = input;
        else for (const v of vars) variables[v] = input !== null && typeof input === 'object' ? (input[v] ?? null) : null;
        return this.ok(JSON.stringify(program.run(input, { variables })));
      }),
      jq_input_paths: () => this.ok('null'), jq_simple: () => this.ok('null'), // optimisations: "cannot tell"
      jq_free: (h) => this.handles.delete(h),
      template_compile: (ptr, len) => {
        try {
          const source = this.text(ptr, len);
          this.templates.parse(source); // syntax errors now, not at the first render
          return this.handle(this.templates.compile(source, { noEscape: true, strict: false, data: true }));
        } catch (e) {
          return this.fail(templateCompileError(e.message));
        }
      },
      template_render: (h, ptr, len) => this.guard(() => this.ok(this.handles.get(h)(JSON.parse(this.text(ptr, len))))),
      template_free: (h) => this.handles.delete(h),
      property_get: (ctx, ptr, len) => this.guard(() => this.ok(JSON.stringify(this.contexts.get(ctx).properties.get(this.text(ptr, len)) ?? null))),
      property_set: (ctx, ptr, len, vptr, vlen) => this.guard(() => {
        setProperty(this.contexts.get(ctx), this.text(ptr, len), JSON.parse(this.text(vptr, vlen)));
        return this.ok('');
      }),
      secret_get: (_ctx, ptr, len) => this.guard(() => this.ok(resolveSecret(this.text(ptr, len)))),
      http_dispatch: (ctx, ptr, len, bptr, blen) => this.guard(() => {
        const call = JSON.parse(this.text(ptr, len));
        const body = blen >= 0 ? this.bytes(bptr, blen) : undefined;
        const token = this.token();
        const abort = new AbortController();
        this.calls.set(token, abort);
        // the answer arrives after this import returns (an await always does)
        sendCall(call, body, abort.signal).then((answer) => {
          if (!this.calls.delete(token)) return; // canceled: no answer
          const [mp, ml] = this.put(answer.error ?? JSON.stringify({ headers: answer.headers }));
          const [bp, bl] = this.put(answer.body);
          this.settleAfter(ctx, this.x.dk_on_http_response(ctx, token, answer.status, mp, ml, bp, bl));
        });
        return token;
      }),
      host_call: (optr, olen, dptr, dlen) => this.guard(() => {
        const op = JSON.parse(this.text(optr, olen));
        const data = dlen >= 0 ? this.text(dptr, dlen) : undefined;
        if (op.op === 'validate') return this.ok(JSON.stringify(validateCapability(op.kind, op.options)));
        if (op.op === 'jwt_decode') return this.ok(JSON.stringify(jwtDecode(data)));
        return this.fail(`${op.op} is not supported by this host`);
      }),
      async_dispatch: (ctx, optr, olen, dptr, dlen) => this.guard(() => {
        const op = JSON.parse(this.text(optr, olen));
        const data = dlen >= 0 ? this.text(dptr, dlen) : undefined;
        const token = this.token();
        this.calls.set(token, new AbortController());
        Promise.resolve().then(() => this.asyncOp(op, data)).then(
          (value) => [1, JSON.stringify(value)],
          (e) => [0, e.message],
        ).then(([ok, out]) => {
          if (!this.calls.delete(token)) return;
          const [p, l] = this.put(out);
          this.settleAfter(ctx, this.x.dk_on_async_result(ctx, token, ok, p, l));
        });
        return token;
      }),
      async_cancel: (_ctx, token) => {
        this.calls.get(token)?.abort();
        this.calls.delete(token);
      },
      phase_timings: () => {}, // only sent when the request metadata asks for "timings"
      phase_result: (ctx, ptr, len, bptr, blen) => {
        this.contexts.get(ctx).outcome = { meta: JSON.parse(this.text(ptr, len)), body: blen >= 0 ? this.bytes(bptr, blen) : undefined };
      },
    };
  }

  handle(value) { this.handles.set(this.nextHandle, value); return this.nextHandle++; }
  token() { return this.nextToken++; }

  /** cache_get / cache_set on an in-memory map (the `memory` strategy). */
  asyncOp(op, data) {
    const key = `${op.cache?.memory?.dictionary_name ?? 'kong_db_cache'}:${op.key}`;
    if (op.op === 'cache_get') {
      const hit = this.cache.get(key);
      if (hit && (hit.expires === undefined || hit.expires > Date.now())) return { hit: true, miss: false, stored: false, data: JSON.parse(hit.value) };
      return { hit: false, miss: true, stored: false, data: null };
    }
    if (op.op === 'cache_set') {
      this.cache.set(key, { value: data, expires: op.ttl > 0 ? Date.now() + op.ttl * 1000 : undefined });
      return { hit: false, miss: false, stored: true, data: JSON.parse(data) };
    }
    throw new Error(`${op.op} is not supported by this host`);
  }

  /** After an answer: a phase that ended now hands its outcome to the waiting request. */
  settleAfter(ctx, action) {
    const state = this.contexts.get(ctx);
    if (state && action !== PAUSE && state.outcome) state.wake(state.outcome);
  }

  /** Runs one phase export; resolves with the phase result. */
  phase(ctx, start) {
    const state = this.contexts.get(ctx);
    state.outcome = undefined;
    return new Promise((resolve) => {
      state.wake = (outcome) => { state.outcome = undefined; resolve(outcome); };
      const action = start();
      if (action !== PAUSE && state.outcome) state.wake(state.outcome);
    });
  }

  configure(config) {
    this.returned = undefined;
    const plan = this.x.dk_configure(...this.put(JSON.stringify(config)));
    return { plan, report: JSON.parse(this.returned) };
  }
}

// ----------------------------------------------------------- capabilities

/** jq's compile message as a configuration shows it: one line, with the filter line it points at. */
function jqCompileError(message, filter) {
  const m = message.replace(' (Unix shell quoting issues?)', '');
  const at = /, line (\d+):$/.exec(m);
  if (!at) return m;
  const lines = filter.split('\n');
  const short = (t) => (t.length > 200 ? `${t.slice(0, 200)}...` : t);
  const text = (lines[Number(at[1]) - 1] ?? '').trim();
  if (text) return `${m.slice(0, -1)}: ${short(text)}`;
  for (let i = Math.min(Number(at[1]) - 1, lines.length) - 1; i >= 0; i--) if (lines[i].trim()) return `${m.slice(0, -1)}, after: ${short(lines[i].trim())}`;
  return m.slice(0, -1);
}

/** Handlebars' four-line parse error on one line: `Parse error on line 1: "{{#if}}": Expecting ...`. */
function templateCompileError(message) {
  const lines = message.split('\n');
  if (lines.length >= 4 && /^-*\^$/.test(lines[2])) return `${lines[0]} ${JSON.stringify(lines[1])}: ${lines.slice(3).join(' ')}`;
  return lines.join(' ');
}

function validateCapability(kind, options) {
  if (kind === 'cache') {
    const strategy = options?.strategy ?? 'memory';
    return strategy === 'memory' ? [] : [`cache strategy "${strategy}" is not supported by this host`];
  }
  return [`${kind} is not supported by this host`];
}

function jwtDecode(text) {
  const token = String(text).trim().replace(/^bearer(\s+|$)/i, '').trim();
  const parts = token.split('.');
  if (parts.length !== 3) throw new Error(`jwt_decode: invalid token: expected 3 segments separated by ".", got ${parts.length}`);
  const json = (s) => JSON.parse(Buffer.from(s, 'base64url').toString('utf8'));
  return { header: json(parts[0]), payload: json(parts[1]), signature: parts[2] };
}

/** `{vault://env/my-secret}` reads MY_SECRET; `{vault://env/my-secret/key}` a key of its JSON. */
function resolveSecret(reference) {
  const m = /^\{vault:\/\/([^/{}]+)\/([^{}]+)\}$/.exec(reference.trim());
  if (!m) throw new Error('invalid vault reference');
  if (m[1] !== 'env') throw new Error(`could not resolve ${reference}: vault "${m[1]}" is not configured`);
  const [id, key] = m[2].endsWith('/') ? [m[2].slice(0, -1)] : m[2].split(/\/(.*)/s);
  const name = id.toUpperCase().replace(/-/g, '_');
  const raw = process.env[name];
  if (raw === undefined) throw new Error(`could not resolve ${reference}: environment variable ${name} is not set`);
  if (!key) return raw;
  let parsed;
  try { parsed = JSON.parse(raw); } catch { throw new Error(`could not resolve ${reference}: environment variable ${name} does not hold JSON`); }
  if (parsed === null || typeof parsed !== 'object' || !Object.hasOwn(parsed, key)) throw new Error(`could not resolve ${reference}: key "${key}" not found`);
  return typeof parsed[key] === 'string' ? parsed[key] : JSON.stringify(parsed[key]);
}

/** Writable properties are the module's call; the host checks the values it acts on. */
function setProperty(state, name, value) {
  if (name === 'kong.service.target' && (typeof value !== 'string' || !/^(\[[^\]]+\]|[^:\s]+):(\d{1,5})$/.test(value)))
    throw new Error(`invalid target "${String(value)}": expected host:port`);
  if (name === 'kong.response.status' && !(Number.isInteger(value) && value >= 100 && value <= 599))
    throw new Error(`invalid status "${String(value)}"`);
  state.properties.set(name, value);
  state.changes[name] = value;
}

/** One call: {status, headers, body} or {status: 0, error}. */
async function sendCall(call, body, signal) {
  const url = new URL(call.url);
  const where = `${url.origin}${url.pathname}`;
  const timeout = call.timeout > 0 ? call.timeout : DEFAULT_CALL_TIMEOUT_MS;
  const expiry = new AbortController();
  let timedOut = false;
  const timer = setTimeout(() => { timedOut = true; expiry.abort(); }, timeout);
  try {
    const res = await httpRequest(url, { method: call.method, headers: call.headers, body, signal: AbortSignal.any([signal, expiry.signal]) });
    const data = new Uint8Array(await res.body.arrayBuffer());
    const wanted = call.response_headers;
    const headers = {};
    for (const [k, v] of Object.entries(res.headers)) if (!wanted || wanted.includes(k)) headers[k] = v;
    return { status: res.statusCode, headers, body: data };
  } catch (e) {
    if (timedOut) return { status: 0, error: `timeout after ${timeout} ms calling ${where}` };
    if (signal.aborted) return { status: 0, error: 'call canceled' };
    const cause = e.cause?.code ? `${e.cause.code} ${e.cause.message}` : e.code ? `${e.code} ${e.message}` : e.message;
    return { status: 0, error: `call to ${where} failed: ${cause}` };
  } finally {
    clearTimeout(timer);
  }
}

// ---------------------------------------------------------------- request

function findHeader(headers, name) {
  return Object.keys(headers).find((k) => k.toLowerCase() === name.toLowerCase());
}

/** A header patch: a value sets (replacing any same name, case-insensitively), null removes. */
function patchHeaders(base, patch = {}) {
  const out = { ...base };
  for (const [k, v] of Object.entries(patch)) {
    const existing = findHeader(out, k);
    if (existing !== undefined) delete out[existing];
    if (v !== null) out[k] = v;
  }
  return out;
}

/** `a=1&a=2&flag` -> {a: ["1", "2"], flag: null} */
function parseQuery(q) {
  const out = {};
  const dec = (s) => { try { return decodeURIComponent(s.replace(/\+/g, ' ')); } catch { return s; } };
  for (const [k, v] of q.split('&').filter(Boolean).map((p) => (p.includes('=') ? p.split(/=(.*)/s).slice(0, 2).map(dec) : [dec(p), null])))
    out[k] = Object.hasOwn(out, k) ? [].concat(out[k] ?? '', v ?? '') : v;
  return out;
}

/** A message body from the request file: text as is, anything else as JSON (with a JSON content-type). */
function fileBody(value, headers) {
  if (value === undefined) return undefined;
  if (typeof value === 'string') return value;
  if (findHeader(headers, 'content-type') === undefined) headers['Content-Type'] = 'application/json';
  return JSON.stringify(value);
}

function bodyOut(body, headers) {
  const text = decoder.decode(body ?? new Uint8Array(0));
  try { return /json/i.test(headers[findHeader(headers, 'content-type')]) ? JSON.parse(text) : text; } catch { return text; }
}

/** Runs the request phase, the (canned) upstream and the response phase, as a gateway would. */
async function runFlow(host, config, file) {
  const { plan, report } = host.configure(config);
  if (plan === 0) return { exit: 1, out: { errors: report.errors } };
  const headers = { ...(file.headers ?? {}) };
  const body = fileBody(file.body, headers);
  const query = typeof file.query === 'string' ? parseQuery(file.query) : (file.query ?? {});
  const meta = {
    request_id: file.request_id ?? randomBytes(16).toString('hex'), method: file.method ?? 'GET', scheme: file.scheme ?? 'http',
    port: file.port ?? 8000, path: file.path ?? '/', raw_path: file.path ?? '/', version: 1.1, headers, query,
  };
  const properties = new Map(Object.entries({ 'kong.request.port': meta.port, 'kong.client.protocol': meta.scheme, 'kong.nginx.subsystem': 'http', ...file.properties }));
  const ctx = host.x.dk_request_new(plan);
  const state = { properties, changes: {} };
  host.contexts.set(ctx, state);
  const result = {};
  try {
    let final = await host.phase(ctx, () => host.x.dk_on_request(ctx, ...host.put(JSON.stringify(meta)), ...host.put(report.request_body ? body : undefined)));
    let sent;
    if (final.meta.action !== 'exit') {
      const changes = final.meta;
      sent = { method: meta.method, path: meta.path, headers: patchHeaders(headers, changes.headers), query: changes.query ?? query, body: final.body ?? encoder.encode(body ?? '') };
      const upstream = { status: file.upstream?.status ?? 200, headers: { ...file.upstream?.headers } };
      const upstreamBody = fileBody(file.upstream?.body, upstream.headers);
      final = { meta: upstream, body: encoder.encode(upstreamBody ?? '') };
      if (changes.response_phase) {
        const second = await host.phase(ctx, () => host.x.dk_on_response(ctx, ...host.put(JSON.stringify(upstream)), ...host.put(upstreamBody)));
        if (second.meta.action === 'exit') final = second;
        else final = { meta: { status: second.meta.status ?? upstream.status, headers: patchHeaders(upstream.headers, second.meta.headers) }, body: second.body ?? final.body };
      }
    }
    Object.assign(result, { status: final.meta.status, headers: final.meta.headers ?? {} });
    result.body = bodyOut(final.body, result.headers);
    if (sent) result.service_request = { ...sent, body: bodyOut(sent.body, sent.headers) };
    if (Object.keys(state.changes).length > 0) result.properties = state.changes;
    if (final.meta.failure) result.failure = final.meta.failure;
    return { exit: final.meta.failure ? 1 : 0, out: result };
  } finally {
    host.x.dk_done(ctx); // always, exactly once per context
    // one request, then exit: a long-running host also calls dk_collect between exports (docs/host-abi.md)
    host.contexts.delete(ctx);
  }
}

/** The flow file: a bare plugin config (`nodes: ...`) or one plugin entry (`name: datakit, config: ...`). */
function readFlow(path) {
  const doc = YAML.parse(readFileSync(path, 'utf8'));
  return doc && doc.name === 'datakit' && doc.config ? doc.config : doc;
}

async function main(argv) {
  const at = argv.findIndex((a) => a === '--request' || a === '-r');
  const flowPath = argv.find((a, i) => !a.startsWith('-') && (at < 0 || i !== at + 1));
  if (!flowPath) { process.stderr.write('usage: node examples/minimal-host.mjs FLOW.yaml [--request request.json]\n'); return 2; }
  const file = at >= 0 ? JSON.parse(readFileSync(argv[at + 1], 'utf8')) : {};
  const wasm = process.env.DATAKIT_WASM ?? fileURLToPath(import.meta.resolve('datakit-wasm/wasm'));
  const host = new Host(loadModule(wasm));
  const { exit, out } = await runFlow(host, readFlow(flowPath), file);
  process.stdout.write(JSON.stringify(out, null, 2) + '\n');
  return exit;
}

process.exitCode = await main(process.argv.slice(2));
