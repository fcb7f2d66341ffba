/// <reference lib="dom" />
/**
 * The flow studio page: a YAML editor validated by the engine on every
 * change, the flow's graph (host/graph's model and elkjs layout), runs of a
 * sample request in the page through the browser host, and trace overlays.
 * Served at /studio by the gateway's Admin listener and by `datakit studio`.
 */
import YAML from 'yaml';
import { BrowserHost, type CannedAnswer, type ConfigureError, type ConfigureReport, type RunOptions, type RunResult, type SampleRequest } from './browser-host.js';
import { readFlowSource, type FlowSource } from './source-map.js';
import { overlayFromTrace, type Overlay } from './trace.js';
import { flowGraph, type ReportedNode } from '../graph/model.js';
import { layoutGraph } from '../graph/layout.js';
import { renderSvg } from '../graph/render-svg.js';

const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;

const STARTER = `nodes:
  - name: GREETING
    type: static
    values:
      message: hello
  - name: ANSWER
    type: exit
    status: 200
    inputs:
      body: GREETING
`;

const SAMPLE: SampleRequest = { method: 'GET', path: '/', headers: { Accept: 'application/json' }, query: {}, properties: {}, upstream: { status: 200, headers: { 'Content-Type': 'application/json' }, body: { ok: true } } };

const token = new URLSearchParams(location.search).get('token');

/** Admin API and studio requests carry the admin token the page was opened with. */
function studioFetch(path: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  if (token) headers.set('Kong-Admin-Token', token);
  return fetch(path, { ...init, headers });
}

let host: BrowserHost;
let source: FlowSource | undefined;
let report: ConfigureReport | undefined;
/** the last accepted report's phases, to draw an invalid flow's nodes where they were */
let lastPhases = new Map<string, string>();
let overlay: Overlay | undefined;
let drawSerial = 0;

function setStatus(text: string, kind: 'info' | 'error' = 'info'): void {
  const el = $('status');
  el.textContent = text;
  el.className = kind;
}

// ------------------------------------------------------------- editor

function renderGutter(errorLines: Map<number, string>): void {
  const count = $<HTMLTextAreaElement>('editor').value.split('\n').length;
  const gutter = $('gutter');
  gutter.replaceChildren(
    ...Array.from({ length: count }, (_, i) => {
      const line = document.createElement('div');
      line.textContent = String(i + 1);
      const err = errorLines.get(i + 1);
      if (err) {
        line.className = 'error-line';
        line.title = err;
      }
      return line;
    }),
  );
  gutter.scrollTop = $('editor').scrollTop;
}

interface PinnedError extends ConfigureError {
  line?: number;
}

function renderErrors(errors: PinnedError[]): void {
  const list = $('errors');
  list.replaceChildren(
    ...errors.map((e) => {
      const li = document.createElement('li');
      li.dataset.node = e.node?.name ?? '';
      li.textContent = `${e.line ? `line ${e.line}: ` : ''}${e.message}`;
      if (e.line) li.addEventListener('click', () => goToLine(e.line!));
      return li;
    }),
  );
  list.hidden = errors.length === 0;
}

function goToLine(line: number): void {
  const editor = $<HTMLTextAreaElement>('editor');
  const lines = editor.value.split('\n');
  const start = lines.slice(0, line - 1).reduce((n, l) => n + l.length + 1, 0);
  editor.focus();
  editor.setSelectionRange(start, start + (lines[line - 1]?.length ?? 0));
}

/** Parses and validates the editor's flow with the engine, then redraws. */
async function validate(): Promise<void> {
  const text = $<HTMLTextAreaElement>('editor').value;
  source = readFlowSource(text);
  let errors: PinnedError[] = [];
  if (source.parseError) {
    errors = [{ message: `YAML: ${source.parseError.message}`, line: source.parseError.line }];
    report = undefined;
  } else {
    report = host.validate(source.config);
    if (report.ok) lastPhases = new Map((report.nodes ?? []).map((n) => [n.name, n.phase]));
    errors = (report.errors ?? []).map((e) => ({ ...e, line: e.node ? source!.lineOf(e.node.index, e.field) : undefined }));
  }
  renderErrors(errors);
  renderGutter(new Map(errors.filter((e) => e.line).map((e) => [e.line!, e.message])));
  if (report?.ok) offerCallAnswers(report);
  setStatus(errors.length === 0 ? 'valid' : `${errors.length} error${errors.length > 1 ? 's' : ''}`, errors.length === 0 ? 'info' : 'error');
  await draw(errors);
}

/** the canned answers the page last filled in itself (replaced while the user has not edited them) */
let offeredCalls = '{}';

/** A canned answer to edit for each call node of the flow. */
function offerCallAnswers(r: ConfigureReport): void {
  const box = $<HTMLTextAreaElement>('calls');
  if (box.value.trim() !== offeredCalls.trim()) return;
  const calls = Object.fromEntries((r.nodes ?? []).filter((n) => n.type === 'call').map((n) => [n.name, { status: 200, headers: { 'Content-Type': 'application/json' }, body: {} }]));
  offeredCalls = JSON.stringify(calls, null, 2);
  box.value = offeredCalls;
}

// -------------------------------------------------------------- graph

/** The declared nodes as the engine reported them, or as written when the flow is refused. */
function reportedNodes(config: Record<string, unknown>): ReportedNode[] {
  if (report?.ok && report.nodes) return report.nodes;
  const raw = Array.isArray(config.nodes) ? (config.nodes as Array<Record<string, unknown>>) : [];
  return raw.map((n, i) => {
    const name = typeof n.name === 'string' ? n.name : `node_${i + 1}`;
    return { index: i + 1, name, type: typeof n.type === 'string' ? n.type : '?', phase: lastPhases.get(name) ?? 'request' };
  });
}

async function draw(errors: PinnedError[] = []): Promise<void> {
  const serial = ++drawSerial;
  const config = source?.config;
  if (!config) return;
  let svg: string;
  try {
    svg = renderSvg(await layoutGraph(flowGraph(config, reportedNodes(config))));
  } catch (e) {
    setStatus(`cannot draw: ${(e as Error).message}`, 'error');
    return;
  }
  if (serial !== drawSerial) return; // a newer edit is being drawn
  const box = $('graph');
  box.innerHTML = svg;
  for (const g of box.querySelectorAll<SVGGElement>('g.node')) {
    const name = g.dataset.name!;
    const mine = errors.filter((e) => e.node?.name === name);
    if (mine.length > 0) {
      g.classList.add('has-error');
      badge(g, `⚠ ${mine.length > 1 ? `${mine.length} errors` : 'error'}`, 'error-badge', mine.map((e) => e.message).join('\n'));
    }
    const o = overlay?.[name];
    g.dataset.status = o?.status ?? (overlay ? 'pending' : '');
    if (o) badge(g, `${o.status}${o.ms !== undefined ? ` · ${formatMs(o.ms)}` : ''}`, 'status-badge', o.error ?? '');
    g.addEventListener('click', () => showNode(name));
  }
}

function formatMs(ms: number): string {
  return ms < 1 ? `${ms.toFixed(2)} ms` : `${ms.toFixed(1)} ms`;
}

/** A line of text under a node's box (status and time, or its error). */
function badge(g: SVGGElement, text: string, cls: string, title: string): void {
  const rect = g.querySelector('rect')!;
  const x = Number(rect.getAttribute('x'));
  const y = Number(rect.getAttribute('y')) + Number(rect.getAttribute('height'));
  const t = document.createElementNS('http://www.w3.org/2000/svg', 'text');
  t.setAttribute('class', cls);
  t.setAttribute('x', String(x));
  t.setAttribute('y', String(y + (cls === 'error-badge' ? 24 : 12)));
  t.textContent = text;
  if (title) {
    const tip = document.createElementNS('http://www.w3.org/2000/svg', 'title');
    tip.textContent = title;
    t.appendChild(tip);
  }
  g.appendChild(t);
}

function showNode(name: string): void {
  const o = overlay?.[name];
  const err = (report?.errors ?? []).filter((e) => e.node?.name === name).map((e) => e.message);
  const lines = [`${name}`];
  if (err.length) lines.push(`configuration errors:\n  ${err.join('\n  ')}`);
  if (o) {
    lines.push(`status: ${o.status}${o.ms !== undefined ? ` (${formatMs(o.ms)})` : ''}`);
    if (o.error) lines.push(`error: ${o.error}`);
    lines.push(`inputs: ${JSON.stringify(o.inputs ?? null, null, 2)}`);
    lines.push(`outputs: ${JSON.stringify(o.outputs ?? null, null, 2)}`);
  } else if (!err.length) lines.push('no run or trace yet: run the flow or load a trace');
  $('details').textContent = lines.join('\n');
  $('details').dataset.node = name;
}

// ---------------------------------------------------------------- run

function parseJsonField(id: string, what: string): unknown {
  const text = $<HTMLTextAreaElement>(id).value.trim();
  if (!text) return {};
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new Error(`${what}: ${(e as Error).message}`);
  }
}

/**
 * Runs the sample twice: once as asked (the client response and each
 * node's status and time), once traced (debug on, the trace header) with
 * the first run's call answers replayed, for the nodes' values.
 */
async function runSample(): Promise<void> {
  if (!source?.config || !report?.ok) return setStatus('fix the flow first', 'error');
  let sample: SampleRequest;
  let calls: Record<string, CannedAnswer>;
  try {
    sample = parseJsonField('sample', 'sample request') as SampleRequest;
    calls = parseJsonField('calls', 'canned call answers') as Record<string, CannedAnswer>;
  } catch (e) {
    return setStatus((e as Error).message, 'error');
  }
  setStatus('running…');
  const fetchCalls = $<HTMLInputElement>('fetch-calls').checked;
  const first = await host.run(source.config, sample, { calls, fetchCalls });
  if ('errors' in first) return setStatus('the engine refused the flow', 'error');
  const traced = await host.run(
    { ...source.config, debug: true },
    { ...sample, request_id: sample.request_id ?? 'studio', headers: { ...sample.headers, 'X-DataKit-Debug-Trace': 'true' } },
    { calls, replay: first.calls },
  );
  let values: Overlay = {};
  if (!('errors' in traced)) {
    try {
      values = overlayFromTrace(traced.body);
    } catch {
      values = {};
    }
  }
  overlay = runOverlay(first, values);
  showResponse(first);
  await draw();
  setStatus(first.failure ? `failed: ${first.failure.message}` : `ran: ${first.status}`, first.failure ? 'error' : 'info');
}

/** Status and time from the run's own timings; values, errors and implicit nodes from the trace. */
function runOverlay(run: RunResult, traced: Overlay): Overlay {
  const out: Overlay = {};
  for (const n of report?.nodes ?? []) {
    const t = run.timings[n.name];
    out[n.name] = { ...traced[n.name], status: t?.status ?? 'pending', ms: t?.ms };
    if (t?.status === 'error' && run.failure?.node?.name === n.name) out[n.name].error = run.failure.message;
  }
  for (const [name, o] of Object.entries(traced)) if (!out[name]) out[name] = o;
  // the traced run answered with its trace, so its response node never ran; this run's did
  if (out.response && !run.failure) out.response = { ...out.response, status: 'complete' };
  return out;
}

function showResponse(r: RunResult): void {
  const parts = [`HTTP ${r.status}`, ...Object.entries(r.headers).map(([k, v]) => `${k}: ${Array.isArray(v) ? v.join(', ') : String(v)}`), '', r.body];
  if (r.failure) parts.push('', `failure: ${r.failure.message}${r.failure.node ? ` (node ${r.failure.node.name})` : ''}`);
  if (r.service_request) parts.push('', `proxied: ${r.service_request.method} ${r.service_request.path}`, JSON.stringify(r.service_request.headers));
  if (r.properties) parts.push('', `properties set: ${JSON.stringify(r.properties)}`);
  if (r.calls.length) parts.push('', 'calls:', ...r.calls.map((c) => `  ${c.node ?? '?'} ${c.method} ${c.url} -> ${c.error ?? c.status} (${c.source})`));
  $('response').textContent = parts.join('\n');
}

// -------------------------------------------------------------- trace

async function overlayTrace(text: string): Promise<void> {
  try {
    overlay = overlayFromTrace(text);
  } catch (e) {
    return setStatus(`trace: ${(e as Error).message}`, 'error');
  }
  const failed = Object.entries(overlay).filter(([, o]) => o.status === 'error').length;
  await draw(pinnedErrors());
  setStatus(`trace loaded: ${Object.keys(overlay).length} nodes${failed ? `, ${failed} failed` : ''}`, failed ? 'error' : 'info');
}

function pinnedErrors(): PinnedError[] {
  return (report?.errors ?? []).map((e) => ({ ...e }));
}

/** A trace from a route: the server sends the request with X-DataKit-Debug-Trace (the route's plugin needs debug: true). */
async function fetchTrace(): Promise<void> {
  const url = $<HTMLInputElement>('trace-url').value.trim();
  if (!url) return;
  try {
    const res = await studioFetch(`/studio/trace?url=${encodeURIComponent(url)}`, { headers: { 'X-DataKit-Studio': '1' } });
    const answer = (await res.json()) as { status?: number; body?: string; message?: string };
    if (!res.ok || answer.body === undefined) throw new Error(answer.message ?? `HTTP ${res.status}`);
    $<HTMLTextAreaElement>('trace').value = answer.body;
    await overlayTrace(answer.body);
  } catch (e) {
    setStatus(`could not fetch the trace: ${(e as Error).message}`, 'error');
  }
}

// ------------------------------------------------------------ plugins

interface PluginRow {
  id: string;
  name: string;
  config: unknown;
  route?: { id: string } | null;
  service?: { id: string } | null;
}

/** The gateway's datakit plugins (Admin API); absent outside a gateway. */
async function loadPluginList(): Promise<void> {
  let rows: PluginRow[] = [];
  try {
    const res = await studioFetch('/plugins?size=1000');
    if (!res.ok) return;
    rows = ((await res.json()) as { data: PluginRow[] }).data.filter((p) => p.name === 'datakit');
  } catch {
    return;
  }
  const select = $<HTMLSelectElement>('plugins');
  const where = (p: PluginRow) => (p.route ? `route ${p.route.id}` : p.service ? `service ${p.service.id}` : 'global');
  select.replaceChildren(new Option(`gateway plugins (${rows.length})`, ''), ...rows.map((p) => new Option(`${p.id.slice(0, 8)} · ${where(p)}`, p.id)));
  select.hidden = false;
  select.onchange = async () => {
    const row = rows.find((p) => p.id === select.value);
    if (!row) return;
    await setEditor(YAML.stringify(row.config));
  };
}

async function setEditor(text: string): Promise<void> {
  $<HTMLTextAreaElement>('editor').value = text;
  overlay = undefined;
  await validate();
}

/** The flow `datakit studio FLOW.yaml` was started with, if any. */
async function initialFlow(): Promise<string> {
  try {
    const res = await studioFetch('/studio/flow');
    if (res.ok) return await res.text();
  } catch {
    // no flow given
  }
  return STARTER;
}

async function main(): Promise<void> {
  setStatus('loading the engine…');
  try {
    const res = await studioFetch('/studio/datakit.wasm');
    if (!res.ok) throw new Error(`GET /studio/datakit.wasm: ${res.status}`);
    host = await BrowserHost.load(await res.arrayBuffer());
  } catch (e) {
    return setStatus(`cannot load the engine: ${(e as Error).message}`, 'error');
  }
  $<HTMLTextAreaElement>('sample').value = JSON.stringify(SAMPLE, null, 2);
  $<HTMLTextAreaElement>('calls').value = offeredCalls;
  const editor = $<HTMLTextAreaElement>('editor');
  let timer: ReturnType<typeof setTimeout> | undefined;
  editor.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(() => void validate(), 120);
  });
  editor.addEventListener('scroll', () => ($('gutter').scrollTop = editor.scrollTop));
  $('run').addEventListener('click', () => void runSample());
  $('overlay-trace').addEventListener('click', () => void overlayTrace($<HTMLTextAreaElement>('trace').value));
  $('fetch-trace').addEventListener('click', () => void fetchTrace());
  $('clear-overlay').addEventListener('click', () => {
    overlay = undefined;
    void draw(pinnedErrors()).then(() => setStatus('overlay cleared'));
  });
  await loadPluginList();
  await setEditor(await initialFlow());
  // for scripts driving the page (the host conformance kit runs its cases through it)
  (window as unknown as { datakitStudio: unknown }).datakitStudio = { run: (flow: Record<string, unknown>, sample: SampleRequest, options: RunOptions) => host.run(flow, sample, options) };
  document.body.dataset.ready = 'true';
}

void main();
