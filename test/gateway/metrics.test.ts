/**
 * /metrics: node series labelled by route and plugin, stable plugin ids across
 * reloads of the same document, and an exposition that Prometheus accepts
 * (a built-in format check always; `promtool check metrics` when on PATH).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningGateway } from '../../host/gateway/index.js';
import { buildState, parseDocument } from '../../host/gateway/declarative.js';
import { Metrics } from '../../host/gateway/metrics.js';
import { call, gateway, startUpstream, type Upstream } from './helpers.js';
import { buildHost, exited, freePort, serve, waitReady } from '../helpers/cli.js';

/** Problems of a text exposition (format 0.0.4); empty when valid. */
export function checkExposition(text: string): string[] {
  const errors: string[] = [];
  const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
  const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped']);
  const help = new Map<string, number>();
  const type = new Map<string, string>();
  const sampled = new Set<string>();
  const seen = new Set<string>();
  let current: string | undefined; // the family whose samples are being read
  const done = new Set<string>(); // families whose samples ended (must not reappear)
  // histogram series: family|labels-without-le -> buckets, sum, count
  const histos = new Map<string, { buckets: Array<[number, number]>; sum?: number; count?: number; line: number }>();
  if (!text.endsWith('\n')) errors.push('the exposition must end with a newline');
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  const familyOf = (name: string): string => {
    for (const suffix of ['_bucket', '_sum', '_count']) {
      const base = name.slice(0, -suffix.length);
      if (name.endsWith(suffix) && (type.get(base) === 'histogram' || type.get(base) === 'summary')) return base;
    }
    return name;
  };
  lines.forEach((line, i) => {
    const at = `line ${i + 1}: ${line}`;
    if (line.startsWith('#')) {
      const m = /^# (HELP|TYPE) (\S+)(?: (.*))?$/.exec(line);
      if (!m) return; // a plain comment
      const [, kw, name, rest = ''] = m;
      if (!NAME.test(name)) errors.push(`${at}: bad metric name`);
      if (sampled.has(name)) errors.push(`${at}: ${kw} after the family's samples`);
      if (kw === 'HELP') {
        if (help.has(name)) errors.push(`${at}: second HELP for ${name}`);
        if (/\\(?![\\n])/.test(rest)) errors.push(`${at}: bad escape in HELP`);
        help.set(name, i);
      } else {
        if (type.has(name)) errors.push(`${at}: second TYPE for ${name}`);
        if (!TYPES.has(rest)) errors.push(`${at}: unknown type "${rest}"`);
        type.set(name, rest);
      }
      return;
    }
    if (line.trim() === '') return void errors.push(`${at}: empty line`);
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)( -?\d+)?$/.exec(line);
    if (!m) return void errors.push(`${at}: not a sample line`);
    const [, name, , body, value] = m;
    const labels: Array<[string, string]> = [];
    if (body !== undefined && body !== '') {
      const re = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"(,|$)/y;
      let pos = 0;
      while (pos < body.length) {
        re.lastIndex = pos;
        const l = re.exec(body);
        if (!l) {
          errors.push(`${at}: bad label syntax at "${body.slice(pos)}"`);
          break;
        }
        if (l[1].startsWith('__')) errors.push(`${at}: reserved label name ${l[1]}`);
        labels.push([l[1], l[2]]);
        pos = re.lastIndex;
        if (l[3] === '' && pos < body.length) errors.push(`${at}: missing comma`);
      }
      if (new Set(labels.map((l) => l[0])).size !== labels.length) errors.push(`${at}: duplicate label name`);
    }
    if (!/^(NaN|[+-]Inf|[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?)$/.test(value)) errors.push(`${at}: bad value "${value}"`);
    const fam = familyOf(name);
    if (!type.has(fam)) errors.push(`${at}: sample before (or without) TYPE of ${fam}`);
    if (!help.has(fam)) errors.push(`${at}: sample before (or without) HELP of ${fam}`);
    if (fam !== current) {
      if (current !== undefined) done.add(current);
      if (done.has(fam)) errors.push(`${at}: samples of ${fam} are not contiguous`);
      current = fam;
    }
    sampled.add(fam);
    const key = `${name}{${labels.map(([k, v]) => `${k}=${v}`).join(',')}}`;
    if (seen.has(key)) errors.push(`${at}: duplicate series`);
    seen.add(key);
    const t = type.get(fam);
    if (t === 'counter' && (Number(value) < 0 || value === 'NaN')) errors.push(`${at}: negative counter`);
    if (t === 'histogram') {
      const suffix = name.slice(fam.length);
      if (!['_bucket', '_sum', '_count'].includes(suffix)) return void errors.push(`${at}: histogram sample ${name}`);
      const rest = labels.filter(([k]) => k !== 'le');
      const hk = `${fam}|${rest.map(([k, v]) => `${k}=${v}`).join(',')}`;
      let h = histos.get(hk);
      if (!h) histos.set(hk, (h = { buckets: [], line: i + 1 }));
      if (suffix === '_bucket') {
        const le = labels.find(([k]) => k === 'le');
        if (!le) return void errors.push(`${at}: bucket without le`);
        const bound = le[1] === '+Inf' ? Infinity : Number(le[1]);
        if (Number.isNaN(bound)) errors.push(`${at}: bad le`);
        h.buckets.push([bound, Number(value)]);
      } else if (labels.some(([k]) => k === 'le')) errors.push(`${at}: le on ${suffix}`);
      else if (suffix === '_sum') h.sum = Number(value);
      else h.count = Number(value);
    }
  });
  for (const [name] of type) if (!help.has(name)) errors.push(`family ${name} has TYPE but no HELP`);
  for (const [name] of help) if (!type.has(name)) errors.push(`family ${name} has HELP but no TYPE`);
  for (const [k, h] of histos) {
    const at = `histogram ${k} (line ${h.line})`;
    const inf = h.buckets.find(([b]) => b === Infinity);
    if (!inf) errors.push(`${at}: no le="+Inf" bucket`);
    for (let j = 1; j < h.buckets.length; j++) {
      if (!(h.buckets[j][0] > h.buckets[j - 1][0])) errors.push(`${at}: le not increasing`);
      if (h.buckets[j][1] < h.buckets[j - 1][1]) errors.push(`${at}: buckets not cumulative`);
    }
    if (h.sum === undefined) errors.push(`${at}: no _sum`);
    if (h.count === undefined) errors.push(`${at}: no _count`);
    else if (inf && inf[1] !== h.count) errors.push(`${at}: +Inf bucket ${inf[1]} != _count ${h.count}`);
  }
  return errors;
}

function promtool(): string | undefined {
  const r = spawnSync('promtool', ['--version'], { encoding: 'utf8' });
  return r.error || r.status !== 0 ? undefined : 'promtool';
}

const flow = (url: string) => ({ nodes: [{ name: 'CALL', type: 'call', url }] });

/** Two routes with a same-named node each, and one service plugin shared by two routes; no ids anywhere. */
function doc(up: Upstream) {
  return {
    _format_version: '3.0',
    services: [
      {
        name: 's1',
        url: up.url,
        routes: [
          { name: 'r1', paths: ['/r1'], plugins: [{ name: 'datakit', config: flow(`${up.url}/one`) }] },
          { name: 'r2', paths: ['/r2'], plugins: [{ name: 'datakit', instance_name: 'r2-flow', config: flow(`${up.url}/two`) }] },
        ],
      },
      {
        name: 's2',
        url: up.url,
        routes: [
          { name: 'r3', paths: ['/r3'] },
          { paths: ['/r4'] },
        ],
        plugins: [{ name: 'datakit', instance_name: 'shared', config: flow(`${up.url}/three`) }],
      },
      {
        name: 's3',
        url: up.url,
        routes: [{ name: 'r5', paths: ['/r5'] }],
        // fails in the response phase
        plugins: [
          {
            name: 'datakit',
            instance_name: 'resp',
            config: { nodes: [{ name: 'SHAPE', type: 'jq', input: 'service_response.body', output: 'response.body', jq: 'error("boom")' }] },
          },
        ],
      },
    ],
  };
}

let up: Upstream;
let gw: RunningGateway;

beforeAll(async () => {
  up = await startUpstream();
  gw = await gateway(doc(up));
});

afterAll(async () => {
  await gw?.close();
  await up?.close();
});

const scrape = async () => {
  const r = await call(gw.adminUrl, '/metrics');
  expect(r.status).toBe(200);
  return r.text;
};
const value = (text: string, re: RegExp): number | undefined => {
  const m = new RegExp(`^${re.source} (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : undefined;
};

describe('node series by route and plugin', () => {
  it('same-named nodes of two routes (and one plugin on two routes) are separate series', async () => {
    for (const p of ['/r1', '/r1', '/r2', '/r3', '/r4', '/r4', '/r4']) expect((await call(gw.proxyUrl, p)).status).toBe(200);
    const text = await scrape();
    const plugins = (await call(gw.adminUrl, '/plugins')).json.data as Array<{ id: string; route: { id: string } | null }>;
    const routes = (await call(gw.adminUrl, '/routes')).json.data as Array<{ id: string; name: string | null }>;
    const r1 = routes.find((r) => r.name === 'r1')!;
    const r4 = routes.find((r) => r.name === null)!;
    const p1 = plugins.find((p) => p.route?.id === r1.id)!;
    const runs = (route: string, plugin: string) =>
      value(text, new RegExp(`datakit_node_runs_total\\{route="${route}",plugin="${plugin}",node="CALL",type="call",result="ok"\\}`));
    // an unnamed plugin is labelled by its id, a named one by its instance name
    expect(runs('r1', p1.id)).toBe(2);
    expect(runs('r2', 'r2-flow')).toBe(1);
    // one service plugin: a series per route (an unnamed route by its id)
    expect(runs('r3', 'shared')).toBe(1);
    expect(runs(r4.id, 'shared')).toBe(3);
    expect(value(text, new RegExp(`datakit_node_run_seconds_count\\{route="${r4.id}",plugin="shared",node="CALL",type="call"\\}`))).toBe(3);
    // no series without route and plugin
    expect(text).not.toMatch(/^datakit_node_\w+\{node=/m);
  });

  it('a response-phase node failure is counted on the route and plugin', async () => {
    expect((await call(gw.proxyUrl, '/r5')).status).toBe(500);
    const text = await scrape();
    expect(value(text, /datakit_node_failures_total\{route="r5",plugin="resp",node="SHAPE",type="jq"\}/)).toBe(1);
    expect(value(text, /datakit_node_runs_total\{route="r5",plugin="resp",node="SHAPE",type="jq",result="failure"\}/)).toBe(1);
    expect(text).toMatch(/^datakit_plugin_runs_total\{plugin_id="[^"]+",route="r5",result="failure"\} 1$/m);
    expect(text).not.toMatch(/route=""/);
  });

  it('a node series handle records without building label strings; scopes keep series apart', () => {
    const m = new Metrics();
    const a = m.nodeSeries('CALL', 'call', { route: 'r1', plugin: 'p' });
    const b = m.nodeSeries('CALL', 'call', { route: 'r2', plugin: 'p' });
    for (let i = 0; i < 3; i++) a.record(0.002, true);
    b.record(0.002, false);
    b.fail();
    const d = m.dump();
    expect(d.counters.datakit_node_runs_total).toEqual({
      'route="r1",plugin="p",node="CALL",type="call",result="ok"': 3,
      'route="r2",plugin="p",node="CALL",type="call",result="failure"': 1,
    });
    expect(d.counters.datakit_node_failures_total).toEqual({ 'route="r2",plugin="p",node="CALL",type="call"': 1 });
    expect(d.histograms.datakit_node_run_seconds['route="r1",plugin="p",node="CALL",type="call"'].count).toBe(3);
    // labels are escaped
    m.nodeSeries('a"b\\c\nd', 'jq', { route: 'r', plugin: 'p' }).record(0, true);
    const text = Metrics.render(m.dump());
    expect(text).toContain('node="a\\"b\\\\c\\nd"');
    expect(checkExposition(text)).toEqual([]);
  });
});

describe('stable ids', () => {
  it('entities without ids get the same ids every time the same document is loaded', () => {
    const validate = () => ({});
    const d = doc(up);
    const a = buildState(parseDocument(structuredClone(d)), validate);
    const b = buildState(parseDocument(structuredClone(d)), validate);
    for (const coll of ['services', 'routes', 'plugins'] as const) {
      const ids = (s: typeof a) => s.list(coll).map((e) => e.id).sort();
      expect(ids(a)).toHaveLength(coll === 'services' ? 3 : coll === 'routes' ? 5 : 4);
      expect(ids(b)).toEqual(ids(a));
      for (const id of ids(a)) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    }
    // an id given in the document is kept
    const given = structuredClone(d) as any;
    given.services[0].id = '00000000-0000-4000-8000-000000000001';
    expect(buildState(given, validate).get('services', 's1')!.id).toBe('00000000-0000-4000-8000-000000000001');
    // a named entity keeps its id when others are added before it
    const moved = structuredClone(d) as any;
    moved.services.unshift({ name: 's0', url: up.url });
    expect(buildState(moved, validate).get('services', 's2')!.id).toBe(a.get('services', 's2')!.id);
    // duplicate names are still reported as duplicates
    const dup = structuredClone(d) as any;
    dup.services.push({ name: 's1', url: up.url });
    expect(() => buildState(dup, validate)).toThrow(/duplicate/);
  });

  it('POST /config of the same document keeps plugin ids and the plugin_id series', async () => {
    const before = ((await call(gw.adminUrl, '/plugins')).json.data as Array<{ id: string }>).map((p) => p.id).sort();
    expect((await call(gw.proxyUrl, '/r1')).status).toBe(200);
    const scrape1 = await scrape();
    const series = (t: string) => t.split('\n').filter((l) => l.startsWith('datakit_plugin_runs_total{')).map((l) => l.replace(/ \S+$/, '')).sort();
    const r = await call(gw.adminUrl, '/config', { method: 'POST', json: doc(up) });
    expect(r.status, r.text).toBeLessThan(300);
    const after = ((await call(gw.adminUrl, '/plugins')).json.data as Array<{ id: string }>).map((p) => p.id).sort();
    expect(after).toEqual(before);
    expect((await call(gw.proxyUrl, '/r1')).status).toBe(200);
    const scrape2 = await scrape();
    // the same series, one more run on r1's
    expect(series(scrape2)).toEqual(series(scrape1));
    const p1 = /datakit_plugin_runs_total\{plugin_id="([^"]+)",route="r1",result="ok"\} (\d+)/;
    expect(p1.exec(scrape2)![1]).toBe(p1.exec(scrape1)![1]);
    expect(Number(p1.exec(scrape2)![2])).toBe(Number(p1.exec(scrape1)![2]) + 1);
  });
});

describe('exposition', () => {
  it('every family has HELP and TYPE, and a real scrape passes the format check (and promtool when installed)', async () => {
    await call(gw.proxyUrl, '/r2');
    await call(gw.proxyUrl, '/nowhere');
    const text = await scrape();
    expect(checkExposition(text)).toEqual([]);
    const families = [...text.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]);
    for (const f of families) expect(text).toMatch(new RegExp(`^# HELP ${f} \\S`, 'm'));
    for (const g of ['datakit_gateway_config_version', 'datakit_gateway_routes', 'datakit_gateway_plugins', 'datakit_gateway_admin_process_heap_bytes']) {
      expect(text).toMatch(new RegExp(`^# HELP ${g} \\S.*\\n# TYPE ${g} gauge\\n${g} \\d+$`, 'm'));
    }
    const tool = promtool();
    if (tool) {
      const r = spawnSync(tool, ['check', 'metrics'], { input: text, encoding: 'utf8', timeout: 20_000 });
      expect(r.status, `${r.stdout}${r.stderr}`).toBe(0);
      expect(`${r.stdout}${r.stderr}`.trim()).toBe('');
    }
  });

  it('a family recorded without a HELP entry is still shown with HELP and TYPE', () => {
    const m = new Metrics();
    m.inc('datakit_test_things_total', 'kind="a"');
    m.gauge('datakit_test_level').v = 3;
    m.observe('datakit_test_seconds', 'route="r"', 0.2);
    const text = Metrics.render(m.dump());
    expect(checkExposition(text)).toEqual([]);
    expect(text).toMatch(/^# HELP datakit_test_things_total \S.*\n# TYPE datakit_test_things_total counter\ndatakit_test_things_total\{kind="a"\} 1$/m);
    expect(text).toMatch(/^# TYPE datakit_test_level gauge\ndatakit_test_level 3$/m);
    expect(text).toMatch(/^# TYPE datakit_test_seconds histogram$/m);
    expect(text).toMatch(/^# HELP datakit_gateway_connections_accepted_total \S/m);
  });

  it('the format check catches what it should', () => {
    const ok = '# HELP a_total A.\n# TYPE a_total counter\na_total{x="1"} 2\n';
    expect(checkExposition(ok)).toEqual([]);
    expect(checkExposition('# TYPE a_total counter\na_total 1\n').join()).toMatch(/no HELP|without\) HELP/);
    expect(checkExposition('a_total 1\n# HELP a_total A.\n# TYPE a_total counter\n').join()).toMatch(/before/);
    expect(checkExposition(ok + '# TYPE a_total counter\n').join()).toMatch(/second TYPE/);
    expect(checkExposition('# HELP a A.\n# TYPE a gauge\na{="1"} 1\n').join()).toMatch(/label/);
    expect(checkExposition('# HELP a A.\n# TYPE a gauge\na{x=1} 1\n').join()).toMatch(/label/);
    expect(checkExposition('# HELP a A.\n# TYPE a gauge\na{x="1"y="2"} 1\n').join()).toMatch(/label|comma/);
    const h = (lines: string) => `# HELP h H.\n# TYPE h histogram\n${lines}`;
    expect(checkExposition(h('h_bucket{le="1"} 1\nh_bucket{le="+Inf"} 2\nh_sum 3\nh_count 2\n'))).toEqual([]);
    expect(checkExposition(h('h_bucket{le="1"} 1\nh_sum 3\nh_count 1\n')).join()).toMatch(/\+Inf/);
    expect(checkExposition(h('h_bucket{le="1"} 1\nh_bucket{le="+Inf"} 2\nh_sum 3\n')).join()).toMatch(/_count/);
    expect(checkExposition(h('h_bucket{le="1"} 3\nh_bucket{le="+Inf"} 2\nh_sum 3\nh_count 2\n')).join()).toMatch(/cumulative/);
  });
});

describe('--workers 2', () => {
  it('workers give the plugins of a document the same ids: the merged scrape has one series per route, plugin and node, and passes the format check', async () => {
    buildHost();
    const dir = mkdtempSync(join(tmpdir(), 'dk-metrics-'));
    // JSON is YAML
    writeFileSync(join(dir, 'gw.yaml'), JSON.stringify(doc(up)));
    const proxy = await freePort();
    const adminPort = await freePort();
    const admin = `http://127.0.0.1:${adminPort}`;
    const { child, output } = serve([
      '--config', join(dir, 'gw.yaml'),
      '--proxy-listen', `127.0.0.1:${proxy}`,
      '--admin-listen', `127.0.0.1:${adminPort}`,
      '--workers', '2',
      '--log-level', 'warn',
    ]);
    try {
      await waitReady(admin, child);
      const N = 24;
      // new connections each time, so that both workers serve some
      for (let i = 0; i < N; i++) expect((await call(`http://127.0.0.1:${proxy}`, '/r1', { headers: { connection: 'close' } })).status).toBe(200);
      const text = (await call(admin, '/metrics')).text;
      expect(checkExposition(text)).toEqual([]);
      if (promtool()) {
        const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8', timeout: 20_000 });
        expect(r.status, `${r.stdout}${r.stderr}`).toBe(0);
      }
      const runs = text.split('\n').filter((l) => l.startsWith('datakit_plugin_runs_total{') && l.includes('route="r1"'));
      expect(runs).toHaveLength(1);
      expect(runs[0]).toMatch(new RegExp(`,result="ok"\\} ${N}$`));
      const nodes = text.split('\n').filter((l) => l.startsWith('datakit_node_runs_total{route="r1",'));
      expect(nodes).toHaveLength(1);
      expect(nodes[0]).toMatch(new RegExp(`node="CALL",type="call",result="ok"\\} ${N}$`));
    } finally {
      child.kill('SIGTERM');
      expect(await exited(child)).toBe(0);
    }
    expect(output()).not.toMatch(/"level":50/);
  }, 90_000);
});
