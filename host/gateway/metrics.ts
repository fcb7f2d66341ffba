/** Prometheus metrics (text exposition format 0.0.4), mergeable across cluster workers. */
import type { MetricSeries, PluginMetricsHook } from '../plugins/types.js';
import { limitHits } from '../limits.js';

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

interface Histo {
  buckets: number[];
  sum: number;
  count: number;
}

export interface MetricsDump {
  counters: Record<string, Record<string, number>>;
  histograms: Record<string, Record<string, Histo>>;
  /** current values (open connections); merging sums them across workers */
  gauges?: Record<string, Record<string, number>>;
}

const HELP: Record<string, [string, string]> = {
  datakit_gateway_requests_total: ['counter', 'Requests proxied, by route and status'],
  datakit_gateway_request_latency_seconds: ['histogram', 'Total request latency, by route'],
  datakit_gateway_upstream_latency_seconds: ['histogram', 'Upstream latency (time to response headers), by route'],
  datakit_gateway_upstream_errors_total: ['counter', 'Upstream failures, by route and kind (connect, timeout)'],
  datakit_plugin_runs_total: ['counter', 'Datakit flow runs, by plugin id and result'],
  datakit_plugin_run_seconds: ['histogram', 'Datakit request-phase duration, by plugin id'],
  datakit_node_failures_total: ['counter', 'Datakit node failures, by route, plugin, node name and type'],
  datakit_node_runs_total: ['counter', 'Datakit node runs, by route, plugin, node name, type and result'],
  datakit_node_run_seconds: ['histogram', 'Datakit node durations in seconds, by route, plugin, node name and type'],
  datakit_gateway_connections_open: ['gauge', 'Open proxy connections (summed over workers)'],
  datakit_gateway_connections_accepted_total: ['counter', 'Proxy connections accepted (summed over workers)'],
  datakit_gateway_connections_dropped_total: ['counter', 'Proxy connections closed on accept because max_connections were open'],
  datakit_gateway_client_errors_total: ['counter', 'Requests the HTTP server answered itself, by kind (timeout 408, headers_too_large 431, bad_request 400)'],
  datakit_limit_exceeded_total: ['counter', 'Limit hits (jq and template budgets, body and value sizes), by limit name'],
  datakit_config_reloads_total: [
    'counter',
    'PostgreSQL server: configuration reloads from the database, by what found the newer version (notify, poll, start, reconnect, write)',
  ],
  datakit_database_write_refusals_total: ['counter', 'Database mode: Admin API changes answered 503, by reason (unreachable, timeout, unservable_configuration)'],
};

/** What found the database at a newer configuration version than the one served. */
export const RELOAD_SOURCES = [
  /** a NOTIFY from the gateway that committed the change */
  'notify',
  /** the version check every db_update_frequency seconds */
  'poll',
  /** the version check once LISTEN is on at start */
  'start',
  /** catching up once an unreachable server is back */
  'reconnect',
  /** an Admin API change on this gateway, validated against the latest stored configuration first */
  'write',
] as const;
export type ReloadSource = (typeof RELOAD_SOURCES)[number];

/** Why a database-mode change was answered 503 (nothing written). */
export const WRITE_REFUSAL_REASONS = [
  /** the server cannot be reached */
  'unreachable',
  /** the server cancelled it at statement_timeout_ms */
  'timeout',
  /** the stored configuration cannot be built by this gateway, so nothing is validated against it */
  'unservable_configuration',
] as const;
export type WriteRefusalReason = (typeof WRITE_REFUSAL_REASONS)[number];

/** HELP of the gauges the admin API adds at render time (`extra`). */
const EXTRA_HELP: Record<string, string> = {
  datakit_gateway_config_version: 'Configuration version (increments on every change) of the process that answered the scrape',
  datakit_gateway_routes: 'Routes in the current configuration',
  datakit_gateway_plugins: 'Plugins in the current configuration',
  datakit_gateway_admin_process_heap_bytes: 'V8 heap used by the process that serves the admin API, in bytes',
  datakit_database_reachable: 'Database mode: 1 while the database answers, 0 while it is unreachable (writes refused)',
  datakit_database_config_version: 'Database mode: the configuration version (config_version in the database) the served configuration is at',
};

/** Label values repeat (route and node names): escape each once. */
const escaped = new Map<string, string>();
function esc(v: string): string {
  let e = escaped.get(v);
  if (e === undefined) {
    e = v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
    if (escaped.size < 10_000) escaped.set(v, e);
  }
  return e;
}

/** One counter series' value (a cell, so a series handle can keep it). */
class Cell {
  v = 0;
}

function observeInto(h: Histo, seconds: number): void {
  for (let i = 0; i < LATENCY_BUCKETS.length; i++) if (seconds <= LATENCY_BUCKETS[i]) h.buckets[i]++;
  h.sum += seconds;
  h.count++;
}

export class Metrics implements PluginMetricsHook {
  private counters = new Map<string, Map<string, Cell>>();
  private gauges = new Map<string, Map<string, Cell>>();
  private histos = new Map<string, Map<string, Histo>>();
  /** label strings are built once per series: the same string objects keep map lookups cheap */
  private readonly labels = new LabelCache();

  private cell(name: string, labels: string): Cell {
    let m = this.counters.get(name);
    if (!m) this.counters.set(name, (m = new Map()));
    let c = m.get(labels);
    if (!c) m.set(labels, (c = new Cell()));
    return c;
  }

  /** a gauge's cell, to move up and down */
  gauge(name: string, labels = ''): { v: number } {
    let m = this.gauges.get(name);
    if (!m) this.gauges.set(name, (m = new Map()));
    let c = m.get(labels);
    if (!c) m.set(labels, (c = new Cell()));
    return c;
  }

  private histo(name: string, labels: string): Histo {
    let m = this.histos.get(name);
    if (!m) this.histos.set(name, (m = new Map()));
    let h = m.get(labels);
    if (!h) m.set(labels, (h = { buckets: new Array(LATENCY_BUCKETS.length).fill(0), sum: 0, count: 0 }));
    return h;
  }

  inc(name: string, labels: string, by = 1): void {
    this.cell(name, labels).v += by;
  }

  observe(name: string, labels: string, seconds: number): void {
    observeInto(this.histo(name, labels), seconds);
  }

  request(route: string, status: number, totalMs: number, upstreamMs: number | undefined): void {
    const r = this.labels.route(route);
    this.inc('datakit_gateway_requests_total', this.labels.routeStatus(route, status));
    this.observe('datakit_gateway_request_latency_seconds', r, totalMs / 1000);
    if (upstreamMs !== undefined) this.observe('datakit_gateway_upstream_latency_seconds', r, upstreamMs / 1000);
  }

  upstreamError(route: string, kind: string): void {
    this.inc('datakit_gateway_upstream_errors_total', `route="${esc(route)}",kind="${kind}"`);
  }

  datakitRun(pluginId: string, route: string, ok: boolean, seconds: number, failedNode?: { name: string; type: string }): void {
    const l = this.labels.pluginRun(pluginId, route);
    this.inc('datakit_plugin_runs_total', ok ? l.ok : l.failure);
    if (seconds > 0) this.observe('datakit_plugin_run_seconds', l.plugin, seconds);
    // callers with node series count failures with series.fail(); this path is for those without
    if (failedNode) this.inc('datakit_node_failures_total', this.labels.node(route, pluginId, failedNode.name, failedNode.type).node);
  }

  /**
   * A datakit node's runs, durations and failures (from the engine's per-node
   * timings), labelled by route, plugin, node and type so that same-named
   * nodes of two routes or two plugins never add up. Resolved once (a flow
   * keeps one per route and node): recording builds no strings; series
   * appear on first use.
   */
  nodeSeries(name: string, type: string, scope: { route?: string; plugin?: string } = {}): MetricSeries {
    const l = this.labels.node(scope.route ?? '', scope.plugin ?? '', name, type);
    let ok: Cell | undefined;
    let failure: Cell | undefined;
    let failed: Cell | undefined;
    let durations: Histo | undefined;
    return {
      record: (seconds: number, completed: boolean) => {
        const c = completed ? (ok ??= this.cell('datakit_node_runs_total', l.ok)) : (failure ??= this.cell('datakit_node_runs_total', l.failure));
        c.v++;
        observeInto((durations ??= this.histo('datakit_node_run_seconds', l.node)), seconds);
      },
      fail: () => {
        (failed ??= this.cell('datakit_node_failures_total', l.node)).v++;
      },
    };
  }

  dump(): MetricsDump {
    const counters: MetricsDump['counters'] = {};
    for (const [n, m] of this.counters) counters[n] = Object.fromEntries([...m].map(([l, c]) => [l, c.v]));
    const histograms: MetricsDump['histograms'] = {};
    for (const [n, m] of this.histos) histograms[n] = Object.fromEntries(m);
    const gauges: NonNullable<MetricsDump['gauges']> = {};
    for (const [n, m] of this.gauges) gauges[n] = Object.fromEntries([...m].map(([l, c]) => [l, c.v]));
    return { counters, histograms, gauges };
  }

  merge(d: MetricsDump): void {
    for (const [n, m] of Object.entries(d.counters)) for (const [l, v] of Object.entries(m)) this.inc(n, l, v);
    for (const [n, m] of Object.entries(d.gauges ?? {})) for (const [l, v] of Object.entries(m)) this.gauge(n, l).v += v;
    for (const [n, m] of Object.entries(d.histograms)) {
      for (const [l, h] of Object.entries(m)) {
        let mm = this.histos.get(n);
        if (!mm) this.histos.set(n, (mm = new Map()));
        const cur = mm.get(l);
        if (!cur) mm.set(l, structuredClone(h));
        else {
          for (let i = 0; i < cur.buckets.length; i++) cur.buckets[i] += h.buckets[i];
          cur.sum += h.sum;
          cur.count += h.count;
        }
      }
    }
  }

  static render(d: MetricsDump, extra: Record<string, number> = {}): string {
    const lines: string[] = [];
    // families without a HELP entry (recorded elsewhere) are shown too, with HELP from their name
    const names = new Set([...Object.keys(HELP), ...Object.keys(d.counters), ...Object.keys(d.gauges ?? {}), ...Object.keys(d.histograms)]);
    for (const name of names) {
      const [type, help] = HELP[name] ?? [name in d.histograms ? 'histogram' : name in d.counters ? 'counter' : 'gauge', name.replace(/_/g, ' ')];
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
      if (type === 'counter' || type === 'gauge') {
        const series = (type === 'counter' ? d.counters : d.gauges ?? {})[name] ?? {};
        for (const [l, v] of Object.entries(series)) lines.push(l ? `${name}{${l}} ${v}` : `${name} ${v}`);
      } else {
        for (const [l, h] of Object.entries(d.histograms[name] ?? {})) {
          const p = l ? `${l},` : '';
          LATENCY_BUCKETS.forEach((b, i) => lines.push(`${name}_bucket{${p}le="${b}"} ${h.buckets[i]}`));
          lines.push(`${name}_bucket{${p}le="+Inf"} ${h.count}`);
          lines.push(l ? `${name}_sum{${l}} ${h.sum}` : `${name}_sum ${h.sum}`, l ? `${name}_count{${l}} ${h.count}` : `${name}_count ${h.count}`);
        }
      }
    }
    for (const [k, v] of Object.entries(extra)) {
      if (HELP[k]) continue;
      lines.push(`# HELP ${k} ${EXTRA_HELP[k] ?? k.replace(/_/g, ' ')}`, `# TYPE ${k} gauge`, `${k} ${v}`);
    }
    return lines.join('\n') + '\n';
  }
}

/**
 * This process's series for /metrics: the gateway's own plus the
 * process-wide limit hits (host/limits.ts), added here rather than in
 * dump() so a merged Metrics never counts them twice.
 */
export function processDump(m: Metrics): MetricsDump {
  const d = m.dump();
  const hits = limitHits();
  const limits: Record<string, number> = {};
  for (const [name, n] of Object.entries(hits)) limits[`limit="${esc(name)}"`] = n;
  d.counters.datakit_limit_exceeded_total = limits;
  return d;
}

/** Label strings per series, built on first use (bounded like esc()). */
class LabelCache {
  private readonly routes = new Map<string, { route: string; byStatus: Map<number, string> }>();
  private readonly runs = new Map<string, Map<string, { ok: string; failure: string; plugin: string }>>();
  private readonly nodes = new Map<string, Map<string, { node: string; ok: string; failure: string }>>();
  private size = 0;

  private routeEntry(route: string) {
    let e = this.routes.get(route);
    if (e === undefined) {
      e = { route: `route="${esc(route)}"`, byStatus: new Map() };
      if (this.size++ < 10_000) this.routes.set(route, e);
    }
    return e;
  }

  route(route: string): string {
    return this.routeEntry(route).route;
  }

  routeStatus(route: string, status: number): string {
    const e = this.routeEntry(route);
    let l = e.byStatus.get(status);
    if (l === undefined) e.byStatus.set(status, (l = `${e.route},status="${status}"`));
    return l;
  }

  pluginRun(pluginId: string, route: string): { ok: string; failure: string; plugin: string } {
    return this.memo2(this.runs, pluginId, route, pluginRunLabels);
  }

  /** a node's labels in one route and plugin (looked up when a series is resolved or a legacy failure counted) */
  node(route: string, plugin: string, name: string, type: string): { node: string; ok: string; failure: string } {
    return this.memo2(this.nodes, `${route}\u0000${plugin}`, `${name}\u0000${type}`, () => nodeLabels(route, plugin, name, type));
  }

  /** the entry for (a, b), made once; at most 10,000 entries are kept */
  private memo2<T>(outer: Map<string, Map<string, T>>, a: string, b: string, make: (a: string, b: string) => T): T {
    let inner = outer.get(a);
    if (inner === undefined) {
      inner = new Map();
      if (this.size++ < 10_000) outer.set(a, inner);
    }
    let v = inner.get(b);
    if (v === undefined) {
      v = make(a, b);
      if (this.size++ < 10_000) inner.set(b, v);
    }
    return v;
  }
}

function pluginRunLabels(pluginId: string, route: string) {
  const base = `plugin_id="${esc(pluginId)}",route="${esc(route)}"`;
  return { ok: `${base},result="ok"`, failure: `${base},result="failure"`, plugin: `plugin_id="${esc(pluginId)}"` };
}

function nodeLabels(route: string, plugin: string, name: string, type: string) {
  const node = `route="${esc(route)}",plugin="${esc(plugin)}",node="${esc(name)}",type="${esc(type)}"`;
  return { node, ok: `${node},result="ok"`, failure: `${node},result="failure"` };
}
