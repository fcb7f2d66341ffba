import { readFile } from 'node:fs/promises';
import { parseCommand, readInput } from './args.js';
import { Datakit } from '../flow.js';
import { parseConfigText, toPluginConfig } from '../config.js';
import { MemoryProperties } from '../properties.js';
import type { HeaderMap, RequestInfo, ResponseInfo } from '../types.js';

/** A request described in JSON for `datakit run` and `datakit bench`. */
export interface RequestFile {
  method?: string;
  path?: string;
  scheme?: string;
  host?: string;
  port?: number;
  headers?: HeaderMap;
  query?: Record<string, string | string[] | null> | string;
  /** a string is sent as is; anything else is JSON-encoded */
  body?: unknown;
  /** properties to preset (kong.client.consumer, ...) */
  properties?: Record<string, unknown>;
  /** canned upstream answer used when the flow proxies */
  upstream?: { status?: number; headers?: HeaderMap; body?: unknown };
}

export function toRequestInfo(r: RequestFile): RequestInfo {
  const headers: HeaderMap = { ...(r.headers ?? {}) };
  let body: string | undefined;
  if (r.body !== undefined) {
    body = typeof r.body === 'string' ? r.body : JSON.stringify(r.body);
    if (typeof r.body !== 'string' && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-type'))
      headers['Content-Type'] = 'application/json';
  }
  return {
    method: r.method ?? 'GET',
    path: r.path ?? '/',
    scheme: r.scheme ?? 'http',
    host: r.host ?? 'localhost',
    port: r.port ?? 8000,
    headers,
    query: r.query ?? {},
    body,
  };
}

export function toUpstream(u: RequestFile['upstream']): ResponseInfo | undefined {
  if (!u) return undefined;
  const headers: HeaderMap = { ...(u.headers ?? {}) };
  let body: string | undefined;
  if (u.body !== undefined) {
    body = typeof u.body === 'string' ? u.body : JSON.stringify(u.body);
    if (typeof u.body !== 'string' && !Object.keys(headers).some((h) => h.toLowerCase() === 'content-type'))
      headers['Content-Type'] = 'application/json';
  }
  return { status: u.status ?? 200, headers, body };
}

export async function loadFlowConfig(file: string): Promise<Record<string, unknown>> {
  const cfg = toPluginConfig(parseConfigText(await readInput(file)) as object);
  if (cfg === null || typeof cfg !== 'object' || !('nodes' in (cfg as object)))
    throw new Error(`${file}: expected a datakit plugin config (with "nodes") or one datakit plugin entry`);
  return cfg as Record<string, unknown>;
}

/** A body as `run` prints it: parsed when its Content-Type says JSON and it parses, else text. */
export function bodyOut(body: Uint8Array, headers: Record<string, unknown>): unknown {
  return bodyTextOut(Buffer.from(body).toString('utf8'), headers);
}

export function bodyTextOut(text: string, headers: Record<string, unknown>): unknown {
  const ct = Object.entries(headers).find(([k]) => k.toLowerCase() === 'content-type')?.[1];
  if (typeof ct === 'string' && /json/i.test(ct)) {
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  }
  return text;
}

export const RUN_HELP = `usage: datakit run FLOW [--request REQ.json] [--trace]

Runs a flow once, outside any gateway; call nodes go out for real.
FLOW is a datakit plugin config (YAML or JSON: \`nodes: [...]\`) or one
datakit plugin entry; "-" reads it from standard input.

options:
  -r, --request FILE   the client request, as JSON (default: GET /):
                         method, path, scheme, host, port,
                         headers  {name: value}
                         query    {name: value} or "a=1&b=2"
                         body     a string is sent as is, anything else as JSON
                         properties  preset properties ({"kong.client.consumer": {...}})
                         upstream    the canned upstream answer {status, headers, body}
  --trace              print the flow's debug trace instead of the result
  -h, --help           this help

Prints JSON: the client's status, headers and body, the request that would
go upstream (service_request), the properties the flow set, and the failure
if a node failed. Exit 0, or 1 when a node failed or the config is invalid.
`;

/** `datakit run FLOW --request REQ.json [--trace]`: calls go out for real. */
export async function runCli(args: string[], out = process.stdout, err = process.stderr): Promise<number> {
  const parsed = parseCommand({ help: RUN_HELP, operands: { min: 1, max: 1 }, options: { request: { type: 'string', short: 'r' }, trace: { type: 'boolean' } } }, args, out, err);
  if (typeof parsed === 'number') return parsed;
  const { values, operands: positionals } = parsed;
  const config = await loadFlowConfig(positionals[0]);
  const reqFile: RequestFile = values.request ? JSON.parse(await readFile(values.request, 'utf8')) : {};
  const request = toRequestInfo(reqFile);
  if (values.trace) {
    config.debug = true;
    request.headers = { ...request.headers, 'X-DataKit-Debug-Trace': 'true' };
  }
  const dk = await Datakit.create();
  try {
    let flow;
    try {
      flow = dk.load(config);
    } catch (e) {
      err.write(`${positionals[0]}: invalid configuration\n${(e as Error).message}\n`);
      return 1;
    }
    const properties = new MemoryProperties(request, reqFile.properties ?? {});
    const result = await flow.run(request, { properties, upstream: toUpstream(reqFile.upstream) });
    if (values.trace) {
      out.write(Buffer.from(result.response.body).toString('utf8') + '\n');
      return 0;
    }
    const report: Record<string, unknown> = {
      status: result.response.status,
      headers: result.response.headers,
      body: bodyOut(result.response.body, result.response.headers),
    };
    if (result.serviceRequest) {
      const s = result.serviceRequest;
      report.service_request = { method: s.method, path: s.path, headers: s.headers, query: s.query, body: bodyOut(s.body, s.headers) };
    }
    if (Object.keys(result.properties).length > 0) report.properties = result.properties;
    if (result.failure) report.failure = result.failure;
    out.write(JSON.stringify(report, null, 2) + '\n');
    return result.failure ? 1 : 0;
  } finally {
    await dk.close();
  }
}
