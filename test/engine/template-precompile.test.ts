// Templates compiled ahead in a worker thread (prepareTemplates) behave exactly like templates
// compiled on the spot: same output, same helpers, same budgets, same errors.
import { randomUUID } from 'node:crypto';
import Handlebars from 'handlebars';
import { afterAll, describe, expect, it } from 'vitest';
import { compileTemplate, isTemplateCompiled, prepareTemplates } from '../../host/engine/templates.js';
import { PrecompileError, PrecompilePool } from '../../host/engine/template-precompile.js';
import { DEFAULT_LIMITS, LimitExceeded, limitHits, resolveLimits } from '../../host/limits.js';

// a fresh source for each test run: the compiled-template cache is process-wide
const unique = (src: string) => `${src}<!--${randomUUID()}-->`;

const reference = Handlebars.create();
const plain = (src: string, ctx: unknown) => reference.compile(src, { noEscape: true, strict: false })(ctx);

async function prepared(src: string) {
  expect(isTemplateCompiled(src)).toBe(false);
  await prepareTemplates([src]);
  expect(isTemplateCompiled(src)).toBe(true);
  return compileTemplate(src);
}

function timed<T>(f: () => T): { value: T; ms: number } {
  const t = performance.now();
  const value = f();
  return { value, ms: performance.now() - t };
}

describe('prepareTemplates', () => {
  const ctx = {
    who: '<b>&"',
    a: { b: { c: 'deep' } },
    items: ['x', 'y', 'z'],
    people: [{ name: 'ann', tags: ['a', 'b'] }, { name: 'bo', tags: [] }],
    obj: { k1: 1, k2: 'two' },
    map: { k: 'v' },
    key: 'k',
    flag: false,
    other: true,
    raw: '<&>',
    spaced: 's',
    'odd key': 'odd',
  };
  const cases = [
    '{"greeting": "hello {{who}}"}',
    '{{a.b.c}}|{{a/b/c}}|{{missing.deep}}|{{[odd key]}}',
    '{{#each items}}{{@index}}:{{this}}{{#if @first}}^{{/if}}{{#unless @last}},{{/unless}}{{/each}}',
    '{{#each obj}}{{@key}}={{this}};{{/each}}',
    '{{#each people}}{{name}}[{{#each tags}}{{../name}}{{@../index}}{{.}}{{else}}none{{/each}}]{{/each}}',
    '{{#each people as |p i|}}{{i}}{{p.name}}{{/each}}',
    '{{#if flag}}F{{else if other}}O{{else}}N{{/if}}',
    '{{#unless flag}}not{{/unless}}',
    '{{#with a.b}}{{c}}{{else}}nothing{{/with}}{{#with missing}}x{{else}}nothing{{/with}}',
    '{{lookup map key}}|{{lookup obj "k2"}}|{{#with (lookup people 0)}}{{name}}{{/with}}',
    '{{{raw}}} {{raw}} {{~ spaced ~}} !\n  {{~#if other~}}\n  yes\n  {{~/if~}}  end',
    '{{#items}}[{{.}}]{{/items}}{{^flag}}notflag{{/flag}}',
    '{{@root.key}}{{#each items}}{{@root.map.k}}{{/each}}',
    '\\{{literal}} {{!comment}} {{!-- long {{comment}} --}}x',
    '{{#*inline "row"}}<{{.}}>{{/inline}}{{#each items}}{{> row}}{{/each}}',
  ];
  for (const src of cases) {
    it(src, async () => {
      const s = unique(src);
      const fn = await prepared(s);
      expect(fn(ctx)).toBe(plain(s, ctx));
    });
  }

  it('a flat template at the size limit: prepared in the worker, a cache hit afterwards', async () => {
    const tag = '{{a}}';
    const src = unique('').padEnd(DEFAULT_LIMITS.template_source_bytes - tag.length, ' ');
    const big = src + tag.repeat(Math.floor((DEFAULT_LIMITS.template_source_bytes - src.length) / tag.length));
    expect(Buffer.byteLength(big)).toBeLessThanOrEqual(DEFAULT_LIMITS.template_source_bytes);
    const fn = await prepared(big);
    expect(fn({ a: 'x' })).toBe(plain(big, { a: 'x' }));
    expect(timed(() => compileTemplate(big)).ms).toBeLessThan(50);
  });

  it('callers preparing the same template share one compilation', async () => {
    const s = unique('{{#each items}}{{this}}{{/each}}');
    await Promise.all([prepareTemplates([s]), prepareTemplates([s, s])]);
    expect(compileTemplate(s)(ctx)).toBe(plain(s, ctx));
  });

  it('prepared templates keep the render budgets', async () => {
    const big = { a: Array.from({ length: 1000 }, (_, i) => i) };
    const loops = unique('{{#each a}}{{#each ../a}}{{#each ../../a}}x{{/each}}{{/each}}{{/each}}');
    await prepareTemplates([loops]);
    const fn = compileTemplate(loops, resolveLimits({ template_time_ms: 5 }));
    expect(() => fn(big)).toThrow('handlebars: render exceeded its 5 ms budget (limits.template_time_ms)');

    const out = unique('{{#each a}}{{#each ../a}}{{@root.s}}{{/each}}{{/each}}');
    await prepareTemplates([out]);
    const limits = resolveLimits({ template_output_bytes: 10_000, template_time_ms: 10_000 });
    expect(() => compileTemplate(out, limits)({ ...big, s: 'abcdefgh' })).toThrow('render output exceeded 10000 bytes');

    let partials = '{{#*inline "p0"}}x{{/inline}}';
    for (let i = 1; i <= 30; i++) partials += `{{#*inline "p${i}"}}{{> p${i - 1}}}{{> p${i - 1}}}{{/inline}}`;
    partials = unique(partials + '{{> p30}}');
    await prepareTemplates([partials]);
    const e = (() => {
      try {
        compileTemplate(partials)({});
      } catch (err) {
        return err;
      }
    })();
    expect(e).toBeInstanceOf(LimitExceeded);
    expect((e as LimitExceeded).limit).toBe('template_time_ms');
  });

  it('helper errors keep their messages', async () => {
    const each = unique('{{#each}}x{{/each}}');
    const missing = unique('{{nohelper a}}');
    await prepareTemplates([each, missing]);
    expect(() => compileTemplate(each)({})).toThrow('Must pass iterator to #each');
    expect(() => compileTemplate(missing)({})).toThrow('Missing helper: "nohelper"');
  });

  it('templates over the limits or with syntax errors are left to compileTemplate, which reports them once', async () => {
    const deep = unique('{{#if a}}'.repeat(33) + 'x' + '{{/if}}'.repeat(33));
    const large = unique('x'.repeat(DEFAULT_LIMITS.template_source_bytes));
    const broken = unique('Hello {{#if}}');
    const hits = { ...limitHits() };
    await prepareTemplates([deep, large, broken]);
    expect(limitHits().template_nesting ?? 0).toBe(hits.template_nesting ?? 0);
    expect(limitHits().template_source_bytes ?? 0).toBe(hits.template_source_bytes ?? 0);
    for (const s of [deep, large, broken]) expect(isTemplateCompiled(s)).toBe(false);
    expect(() => compileTemplate(deep)).toThrow('template nests blocks 33 deep; the limit is 32 (limits.template_nesting)');
    expect(() => compileTemplate(large)).toThrow(/^template is \d+ bytes; the limit is 16384/);
    expect(() => compileTemplate(broken)).toThrow(/Parse error/);
    expect(limitHits().template_nesting).toBe((hits.template_nesting ?? 0) + 1);

    // a larger limit (a flow's own) lets it through
    await prepareTemplates([deep], resolveLimits({ template_nesting: 40 }));
    expect(isTemplateCompiled(deep)).toBe(true);
  });
});

describe('PrecompilePool', () => {
  const pools: PrecompilePool[] = [];
  afterAll(() => Promise.all(pools.map((p) => p.close())));
  const pool = (opts: ConstructorParameters<typeof PrecompilePool>[0]) => {
    const p = new PrecompilePool(opts);
    pools.push(p);
    return p;
  };
  const options = { noEscape: true, strict: false, data: true };

  it('returns the spec source, or the template error', async () => {
    const p = pool({});
    const ok = await p.precompile('{{a}}', options);
    expect('spec' in ok && ok.spec).toContain('"main":function');
    expect(await p.precompile('{{#if a}}x{{/each}}', options)).toEqual({ error: expect.stringContaining("doesn't match") });
  });

  it('a compilation over its time fails clearly and the next one gets a new worker', async () => {
    const p = pool({ timeoutMs: 1000 });
    // about 5 s of code generation (~100 µs per tag)
    const slow = '{{a}}'.repeat(50_000);
    const t = performance.now();
    const e = await p.precompile(slow, options).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(PrecompileError);
    expect((e as PrecompileError).reason).toBe('timeout');
    expect((e as Error).message).toBe('handlebars: compiling the template took longer than 1000 ms');
    expect(performance.now() - t).toBeLessThan(3000);
    expect(await p.precompile('{{b}}', options)).toHaveProperty('spec');
  });

  it('the queue is bounded', async () => {
    const p = pool({ maxQueue: 2 });
    const jobs = [0, 1, 2, 3].map((i) => p.precompile(`{{a${i}}}`, options).then(() => 'ok', (e: Error) => e.message));
    // the first is running, two wait, the fourth is refused
    expect(await Promise.all(jobs)).toEqual(['ok', 'ok', 'ok', 'handlebars: 2 templates are already waiting to compile; retry later']);
  });
});
