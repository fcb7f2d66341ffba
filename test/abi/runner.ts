/**
 * The host conformance kit: runs the cases in test/abi/cases/*.json through
 * any host that implements docs/host-abi.md, behind a small adapter.
 *
 * A case is a flow, a client request and the answers of the services its
 * call nodes reach; the runner serves those answers from a real HTTP server
 * on 127.0.0.1, runs the request through the host, and gives back what the
 * host produced next to what the case expects (both normalized), plus the
 * requests the call nodes made. The contract is in docs/host-abi.md
 * ("Host conformance kit").
 */
import { readdirSync, readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The client request of a case (what `datakit run --request` reads, plus a fixed request id). */
export interface CaseRequest {
  method?: string;
  path?: string;
  scheme?: string;
  port?: number;
  headers?: Record<string, string | string[]>;
  query?: Record<string, string | string[] | null> | string;
  /** a string is sent as is; anything else as JSON (with a JSON content-type) */
  body?: unknown;
  /** properties the host knows before the flow runs */
  properties?: Record<string, unknown>;
  /** the upstream's canned answer when the flow proxies (default: 200, no headers, empty body) */
  upstream?: { status?: number; headers?: Record<string, string | string[]>; body?: unknown };
  /** fixed, so error bodies and traces compare */
  request_id: string;
}

/** What a host produced for one request: the same shape `datakit run` prints. */
export interface HostResult {
  status?: number;
  headers?: Record<string, unknown>;
  body?: unknown;
  service_request?: { method: string; path: string; headers: Record<string, unknown>; query: Record<string, unknown>; body: unknown };
  properties?: Record<string, unknown>;
  failure?: { message: string; node: { index: number; name: string; type: string } };
  /** configuration errors (the flow was refused: nothing else is set) */
  errors?: Array<{ message: string; node?: { index: number; name: string; type: string }; field?: string }>;
}

/** What a host adapter is given for one case. */
export interface HostInput {
  /** the datakit plugin config (`nodes`, `resources`, `debug`) */
  flow: Record<string, unknown>;
  request: CaseRequest;
  /** environment variables `{vault://env/...}` references read */
  env: Record<string, string>;
}

/**
 * A host under test. `capabilities` lists the optional capability groups it
 * implements (`cache`, `jwt_decode`, `jwt`, `xml`); a case that needs one it
 * lacks must be refused at configure time with an error on that node.
 */
export interface HostAdapter {
  name: string;
  capabilities: readonly string[];
  run(input: HostInput): Promise<HostResult>;
  close?(): Promise<void>;
}

/** One canned answer of the call server, by request path (without the query). */
export interface CannedAnswer {
  status?: number;
  headers?: Record<string, string | string[]>;
  /** a string is sent as is; anything else as JSON (with a JSON content-type) */
  body?: unknown;
  /** wait this long before answering (call timeouts) */
  delay_ms?: number;
}

/** A request a call node made, as the call server saw it. */
export interface SeenCall {
  method: string;
  /** path and query */
  url: string;
  /** only the headers the case's expectation names (lowercase) */
  headers?: Record<string, string>;
  body?: unknown;
}

export interface AbiCase {
  /** file name without .json */
  name: string;
  description: string;
  /** capability groups the case needs (see HostAdapter.capabilities) */
  requires?: string[];
  /** `$CALLS` in any string: the call server's origin; `$REFUSED`: an origin nothing listens on (`$REFUSED_PORT` its port) */
  flow: Record<string, unknown>;
  request: CaseRequest;
  env?: Record<string, string>;
  calls?: Record<string, CannedAnswer>;
  expect: HostResult & {
    /** the requests the call nodes made, sorted by url */
    calls?: SeenCall[];
    /** the body is a debug trace: its times are zeroed before comparing */
    trace?: boolean;
  };
}

export const CASES_DIR = join(dirname(fileURLToPath(import.meta.url)), 'cases');

export function loadCases(dir = CASES_DIR): AbiCase[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => ({ ...(JSON.parse(readFileSync(join(dir, f), 'utf8')) as Omit<AbiCase, 'name'>), name: f.slice(0, -5) }));
}

/** Replaces `$CALLS` / `$REFUSED` in every string of a JSON value. */
function substitute<T>(value: T, origins: Record<string, string>): T {
  const text = JSON.stringify(value).replace(/\$(CALLS|REFUSED_PORT|REFUSED)/g, (_, k: string) => origins[k]);
  return JSON.parse(text) as T;
}

/** Connection-level headers: whether a call's answer carries them to the client depends on the transport, not on the flow. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade']);

function withoutHopByHop(headers: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(headers).filter(([k]) => !HOP_BY_HOP.has(k.toLowerCase())));
}

/** Trace times differ from run to run; their shape does not. */
function zeroTimes(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(zeroTimes);
  if (v === null || typeof v !== 'object') return v;
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) out[k] = ['started_at', 'ended_at', 'duration', 'at'].includes(k) && typeof x === 'number' ? 0 : zeroTimes(x);
  return out;
}

function sendBody(value: unknown, headers: Record<string, string | string[]>): string {
  if (value === undefined) return '';
  if (typeof value === 'string') return value;
  if (!Object.keys(headers).some((h) => h.toLowerCase() === 'content-type')) headers['Content-Type'] = 'application/json';
  return JSON.stringify(value);
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function listen(server: Server): Promise<string> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`)));
}

function close(server: Server): Promise<void> {
  server.closeAllConnections();
  return new Promise((resolve) => server.close(() => resolve()));
}

/** The call server of one case: canned answers by path; records what it was asked. */
async function startCallServer(answers: Record<string, CannedAnswer>): Promise<{ origin: string; seen: Array<SeenCall & { allHeaders: IncomingMessage['headers'] }>; server: Server }> {
  const seen: Array<SeenCall & { allHeaders: IncomingMessage['headers'] }> = [];
  const server = createServer(async (req, res) => {
    const body = await readBody(req);
    seen.push({ method: req.method ?? '', url: req.url ?? '', allHeaders: req.headers, body });
    const answer = answers[(req.url ?? '').split('?')[0]];
    if (!answer) {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end(`no canned answer for ${req.url}`);
      return;
    }
    if (answer.delay_ms) await new Promise((r) => setTimeout(r, answer.delay_ms));
    if (res.destroyed) return;
    const headers = { ...(answer.headers ?? {}) };
    const text = sendBody(answer.body, headers);
    // answers are byte-for-byte the same every run: no Date, a fixed length
    res.sendDate = false;
    res.writeHead(answer.status ?? 200, { ...headers, 'Content-Length': String(Buffer.byteLength(text)) }).end(text);
  });
  return { origin: await listen(server), seen, server };
}

/** An origin nothing listens on: a port that was just bound and released. */
async function refusedOrigin(): Promise<string> {
  const server = createServer();
  const origin = await listen(server);
  await close(server);
  return origin;
}

/** The calls as the case compares them: sorted, with only the headers it names. */
function projectCalls(seen: Array<SeenCall & { allHeaders: IncomingMessage['headers'] }>, expected: SeenCall[]): SeenCall[] {
  const named = new Set(expected.flatMap((c) => Object.keys(c.headers ?? {}).map((h) => h.toLowerCase())));
  return seen
    .map((s) => {
      const out: SeenCall = { method: s.method, url: s.url };
      const headers: Record<string, string> = {};
      for (const h of named) if (s.allHeaders[h] !== undefined) headers[h] = String(s.allHeaders[h]);
      if (named.size > 0) out.headers = headers;
      out.body = parseMaybe(s.body as string);
      return out;
    })
    .sort((a, b) => (a.url < b.url ? -1 : a.url > b.url ? 1 : 0));
}

function parseMaybe(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export interface CaseOutcome {
  /** what the host produced, normalized as the expectation is */
  actual: unknown;
  expected: unknown;
  /** what `$CALLS` and `$REFUSED` stood for in this run */
  origins: Record<string, string>;
}

/**
 * Runs one case through a host. A case needing a capability the host does
 * not declare expects, instead of its own answer, that the host refuses the
 * flow at configure time with an error on a node of that capability.
 */
export async function runCase(adapter: HostAdapter, abiCase: AbiCase): Promise<CaseOutcome> {
  const calls = await startCallServer(abiCase.calls ?? {});
  try {
    const refused = await refusedOrigin();
    const origins = { CALLS: calls.origin, REFUSED: refused, REFUSED_PORT: new URL(refused).port };
    const input: HostInput = { flow: substitute(abiCase.flow, origins), request: substitute(abiCase.request, origins), env: abiCase.env ?? {} };
    const result = await adapter.run(input);
    const missing = (abiCase.requires ?? []).filter((c) => !adapter.capabilities.includes(c));
    if (missing.length > 0) {
      return {
        actual: { refused: Array.isArray(result.errors) && result.errors.length > 0 && result.errors.every((e) => e.node !== undefined) },
        expected: { refused: true },
        origins,
      };
    }
    const { calls: expectedCalls, trace, ...expected } = substitute(abiCase.expect, origins);
    const actual: Record<string, unknown> = { ...result };
    if (actual.headers) actual.headers = withoutHopByHop(actual.headers as Record<string, unknown>);
    if (trace) {
      // the trace's times, and so its length, change from run to run
      actual.body = zeroTimes(actual.body);
      actual.headers = Object.fromEntries(Object.entries(actual.headers ?? {}).filter(([k]) => k.toLowerCase() !== 'content-length'));
    }
    if (expectedCalls !== undefined) actual.calls = projectCalls(calls.seen, expectedCalls);
    return { actual, expected: expectedCalls !== undefined ? { ...expected, calls: expectedCalls } : expected, origins };
  } finally {
    await close(calls.server);
  }
}
