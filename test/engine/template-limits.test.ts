// Handlebars templates are bounded: size and nesting are checked before Handlebars parses
// anything (a 100 KB nested template used to freeze the gateway for 11-13 s), and every
// render is held to a time budget and an output size.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileTemplate, nestingDepth } from '../../host/engine/templates.js';
import { DEFAULT_LIMITS, limitHits, resolveLimits } from '../../host/limits.js';
import { engine } from '../helpers/engine.js';
import { call, gateway, startUpstream, type Upstream } from '../gateway/helpers.js';
import type { RunningGateway } from '../../host/gateway/index.js';
import { limitError } from '../helpers/limits.js';

const nest = (depth: number, open = '{{#if a}}', close = '{{/if}}') => open.repeat(depth) + 'x' + close.repeat(depth);


function timed<T>(f: () => T): { value: T; ms: number } {
  const t = performance.now();
  const value = f();
  return { value, ms: performance.now() - t };
}

describe('configure-time bounds', () => {
  it('a template over template_source_bytes is rejected before it is parsed', () => {
    const src = nest(6300).padEnd(102_400, ' ');
    const before = limitHits().template_source_bytes ?? 0;
    const { value: e, ms } = timed(() => limitError(() => compileTemplate(src, DEFAULT_LIMITS)));
    expect(e.limit).toBe('template_source_bytes');
    expect(e.message).toBe('template is 102400 bytes; the limit is 16384 (limits.template_source_bytes)');
    expect(limitHits().template_source_bytes).toBe(before + 1);
    expect(ms).toBeLessThan(50);
  });

  it('sizes are counted in UTF-8 bytes', () => {
    const e = limitError(() => compileTemplate('é'.repeat(40), resolveLimits({ template_source_bytes: 64 })));
    expect(e.message).toBe('template is 80 bytes; the limit is 64 (limits.template_source_bytes)');
  });

  it('nesting deeper than template_nesting is rejected without parsing', () => {
    expect(compileTemplate(nest(32))({ a: 1 })).toBe('x');
    const e = limitError(() => compileTemplate(nest(33)));
    expect(e.limit).toBe('template_nesting');
    expect(e.message).toBe('template nests blocks 33 deep; the limit is 32 (limits.template_nesting)');
    // 60 KB of nesting: Handlebars alone takes seconds on this
    const { ms } = timed(() => limitError(() => compileTemplate(nest(3800))));
    expect(ms).toBeLessThan(50);
  });

  it('else-if chains and subexpressions count as nesting', () => {
    const chain = (n: number) => '{{#if a}}' + 'x{{else if a}}'.repeat(n) + 'y{{/if}}';
    expect(nestingDepth(chain(5))).toBe(6);
    expect(limitError(() => compileTemplate(chain(40))).message).toBe('template nests blocks 41 deep; the limit is 32 (limits.template_nesting)');
    const sub = (n: number) => '{{a ' + '(a '.repeat(n) + 'a' + ')'.repeat(n) + '}}';
    expect(nestingDepth(sub(3))).toBe(3);
    expect(limitError(() => compileTemplate(sub(100))).limit).toBe('template_nesting');
    expect(limitError(() => compileTemplate(nest(5), resolveLimits({ template_nesting: 4 }))).message).toBe(
      'template nests blocks 5 deep; the limit is 4 (limits.template_nesting)',
    );
  });

  it('the nesting scan reads tags as Handlebars does', () => {
    const cases: Array<[string, number]> = [
      ['plain text {{a}} {{{b}}}', 0],
      ['{{#each a}}{{#with b}}x{{/with}}{{/each}}{{#if c}}y{{/if}}', 2],
      ['{{~#if a~}} x {{~/if~}}', 1],
      ['{{#if a}}x{{else}}y{{^}}z{{/if}}', 1],
      ['{{^a}}x{{/a}}', 1],
      ['{{#> layout}}x{{/layout}}{{#*inline "p"}}{{#if a}}y{{/if}}{{/inline}}', 2],
      ['{{!-- {{#if a}}{{#if b}} --}}{{! {{#if c}} }}', 0],
      ['\\{{#if a}} literal \\\\{{#if b}}x{{/if}}', 1],
      ['{{{{raw}}}} {{#if a}}{{#if b}} {{{{/raw}}}}', 1],
      ['{{a "(((" \'}}\' [x}}]}}', 0],
      ['{{#if (eq (a b) c)}}x{{/if}}', 3],
      ['{{#if a}}x{{ else if b }}y{{~else if c~}}z{{/if}}{{#if d}}w{{/if}}', 3],
    ];
    for (const [src, depth] of cases) expect(nestingDepth(src), src).toBe(depth);
  });

  it('the slowest templates within the limits compile in linear time', () => {
    const fill = (unit: string) => unit.repeat(Math.floor(DEFAULT_LIMITS.template_source_bytes / unit.length));
    // measured about 0.9 s each on this machine: Handlebars' code generation is linear but slow
    for (const src of [fill('{{a}}'), fill('{{a ' + '(a '.repeat(31) + 'a' + ')'.repeat(31) + '}}'), fill(nest(32))]) {
      expect(Buffer.byteLength(src)).toBeLessThanOrEqual(DEFAULT_LIMITS.template_source_bytes);
      const { value: fn, ms } = timed(() => compileTemplate(src));
      expect(typeof fn).toBe('function');
      expect(ms).toBeLessThan(5000);
      // a config change compiles a flow more than once: the second time is a cache hit
      expect(timed(() => compileTemplate(src)).ms).toBeLessThan(50);
    }
  });

  it('a cached template is still checked against the limits it is compiled under', () => {
    const src = nest(10);
    expect(compileTemplate(src)({ a: 1 })).toBe('x');
    expect(limitError(() => compileTemplate(src, resolveLimits({ template_nesting: 8 }))).limit).toBe('template_nesting');
    expect(limitError(() => compileTemplate(src, resolveLimits({ template_source_bytes: 100 }))).limit).toBe('template_source_bytes');
  });

  it('syntax errors still surface at configure time', () => {
    expect(() => compileTemplate('Hello {{#if}}')).toThrow(/Parse error/);
    expect(() => compileTemplate('{{#if a}}x{{/each}}')).toThrow(/doesn't match/);
  });
});

describe('renders keep their semantics', () => {
  const cases: Array<[string, unknown, string]> = [
    ['{"greeting": "hello {{who}}"}', { who: '<b>&"' }, '{"greeting": "hello <b>&""}'],
    ['{{missing.deep}}|{{a.b}}', { a: { b: 1 } }, '|1'],
    ['{{#each items}}{{@index}}:{{this}}{{#unless @last}},{{/unless}}{{/each}}', { items: ['a', 'b', 'c'] }, '0:a,1:b,2:c'],
    ['{{#each obj}}{{@key}}={{this}};{{/each}}', { obj: { x: 1, y: 2 } }, 'x=1;y=2;'],
    ['{{#each none}}x{{else}}empty{{/each}}', { none: [] }, 'empty'],
    ['{{#each items as |it i|}}{{i}}{{it.n}}{{/each}}', { items: [{ n: 'a' }, { n: 'b' }] }, '0a1b'],
    ['{{#with user}}{{name}}{{else}}nobody{{/with}}', { user: { name: 'ann' } }, 'ann'],
    ['{{#with user}}{{name}}{{else}}nobody{{/with}}', {}, 'nobody'],
    ['{{#if a}}A{{else if b}}B{{else}}C{{/if}}', { b: true }, 'B'],
    ['{{#items}}[{{.}}]{{/items}}{{^none}}none{{/none}}', { items: [1, 2] }, '[1][2]none'],
    ['{{#obj}}{{v}}{{/obj}}', { obj: { v: 'inside' } }, 'inside'],
    ['{{lookup map key}}', { map: { k: 'v' }, key: 'k' }, 'v'],
    ['{{#*inline "row"}}<{{.}}>{{/inline}}{{#each items}}{{> row}}{{/each}}', { items: [1, 2] }, '<1><2>'],
    ['{{#each outer}}{{#each this}}{{this}}{{/each}}|{{/each}}', { outer: [[1, 2], [3]] }, '12|3|'],
    ['{{{raw}}} {{~ spaced ~}} !', { raw: '&', spaced: 's' }, '&s!'],
  ];
  for (const [src, ctx, want] of cases) {
    it(src, () => expect(compileTemplate(src)(ctx)).toBe(want));
  }
  it('helper errors keep their messages', () => {
    expect(() => compileTemplate('{{#each}}x{{/each}}')({})).toThrow('Must pass iterator to #each');
    expect(() => compileTemplate('{{nohelper a}}')({})).toThrow('Missing helper: "nohelper"');
  });
});

describe('render budget', () => {
  const big = { a: Array.from({ length: 1000 }, (_, i) => i) };

  it('nested loops over big arrays stop at template_time_ms', () => {
    const fn = compileTemplate('{{#each a}}{{#each ../a}}{{#each ../../a}}{{this}}{{/each}}{{/each}}{{/each}}');
    const before = limitHits().template_time_ms ?? 0;
    const { value: e, ms } = timed(() => limitError(() => fn(big)));
    expect(e.limit).toBe('template_time_ms');
    expect(e.message).toBe('handlebars: render exceeded its 50 ms budget (limits.template_time_ms)');
    expect(limitHits().template_time_ms).toBe(before + 1);
    expect(ms).toBeLessThan(500);
  });

  it('the budget is the flow\'s', () => {
    const fn = compileTemplate('{{#each a}}{{#each ../a}}{{#each ../../a}}x{{/each}}{{/each}}{{/each}}', resolveLimits({ template_time_ms: 5 }));
    const { value: e, ms } = timed(() => limitError(() => fn(big)));
    expect(e.message).toBe('handlebars: render exceeded its 5 ms budget (limits.template_time_ms)');
    expect(ms).toBeLessThan(200);
  });

  it('partials that fan out stop at template_time_ms', () => {
    let src = '{{#*inline "p0"}}x{{/inline}}';
    for (let i = 1; i <= 30; i++) src += `{{#*inline "p${i}"}}{{> p${i - 1}}}{{> p${i - 1}}}{{/inline}}`;
    const e = limitError(() => compileTemplate(src + '{{> p30}}')({}));
    expect(e.limit).toBe('template_time_ms');
  });

  it('output over template_output_bytes fails while the loop runs', () => {
    const limits = resolveLimits({ template_output_bytes: 10_000, template_time_ms: 10_000 });
    const fn = compileTemplate('{{#each a}}{{#each ../a}}{{@root.s}}{{/each}}{{/each}}', limits);
    const before = limitHits().template_output_bytes ?? 0;
    const { value: e, ms } = timed(() => limitError(() => fn({ ...big, s: 'abcdefgh' })));
    expect(e.limit).toBe('template_output_bytes');
    expect(e.message).toBe('handlebars: render output exceeded 10000 bytes (limits.template_output_bytes)');
    expect(limitHits().template_output_bytes).toBe(before + 1);
    expect(ms).toBeLessThan(500);
  });

  it('output without loops is checked in UTF-8 bytes at the end', () => {
    const fn = compileTemplate('{{s}}{{s}}', resolveLimits({ template_output_bytes: 100 }));
    expect(fn({ s: 'x'.repeat(50) })).toHaveLength(100);
    expect(limitError(() => fn({ s: 'é'.repeat(30) })).limit).toBe('template_output_bytes');
  });

  it('through the engine: the node fails with the budget message', async () => {
    const dk = await engine({ limits: { template_time_ms: 10 } });
    try {
      const flow = dk.load({
        nodes: [
          { name: 'S', type: 'static', values: { a: big.a } },
          { name: 'T', type: 'handlebars', template: '{{#each a}}{{#each ../a}}{{#each ../../a}}x{{/each}}{{/each}}{{/each}}', inputs: { a: 'S.a' } },
          { name: 'EXIT', type: 'exit', inputs: { body: 'T' } },
        ],
      });
      const r = await flow.run({ method: 'GET', path: '/' });
      expect(JSON.stringify(r)).toContain('handlebars: render exceeded its 10 ms budget (limits.template_time_ms)');
      expect(() => dk.load({ nodes: [{ name: 'T', type: 'handlebars', template: nest(40) }] })).toThrow(
        'template nests blocks 40 deep; the limit is 32 (limits.template_nesting)',
      );
    } finally {
      await dk.close();
    }
  });
});

describe('through the gateway', () => {
  let up: Upstream;
  let gw: RunningGateway;
  beforeAll(async () => {
    up = await startUpstream('up');
    gw = await gateway({ _format_version: '3.0', services: [{ name: 's', url: up.url, routes: [{ name: 'r', paths: ['/'] }] }] });
  });
  afterAll(async () => {
    await gw?.close();
    await up?.close();
  });

  it('POST /plugins with a 100 KB nested template answers 400 without stalling proxied traffic', async () => {
    const template = nest(6300).padEnd(102_400, ' ');
    let posting = true;
    const latencies: number[] = [];
    const traffic = (async () => {
      while (posting) {
        const t = performance.now();
        const r = await call(gw.proxyUrl, '/ping');
        expect(r.status).toBe(200);
        latencies.push(performance.now() - t);
      }
    })();
    const post = call(gw.adminUrl, '/plugins', {
      method: 'POST',
      json: { name: 'datakit', config: { nodes: [{ name: 'T', type: 'handlebars', template }, { name: 'EXIT', type: 'exit', inputs: { body: 'T' } }] } },
    });
    // let a few proxied requests through before and while the config is validated
    await new Promise((r) => setTimeout(r, 20));
    const r = await post;
    await new Promise((r) => setTimeout(r, 20));
    posting = false;
    await traffic;
    expect(r.status).toBe(400);
    expect(r.text).toContain('template is 102400 bytes; the limit is 16384 (limits.template_source_bytes)');
    expect(latencies.length).toBeGreaterThan(2);
    // it used to freeze the event loop for 11-13 s
    expect(Math.max(...latencies)).toBeLessThan(250);
  });
});
