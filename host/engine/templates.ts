import Handlebars from 'handlebars';
import { DEFAULT_LIMITS, LimitExceeded, type Limits } from '../limits.js';
import { loadSpec, PrecompilePool } from './template-precompile.js';

/** Handlebars templates, compiled once per node. A private environment so
 * helpers registered elsewhere do not leak in. Output is not HTML-escaped:
 * flows render API payloads (JSON, XML, text) far more than HTML.
 *
 * Bounds: the source size and nesting are checked before Handlebars sees the
 * text (its parser slows down sharply with depth: 4000 nested `{{#if}}` take
 * seconds); a render is held to a time budget and an output size, checked
 * as `each` loops and each time a partial is called, the only ways a
 * template repeats work. A configuration change compiles its templates ahead
 * in a worker thread (`prepareTemplates`), so code generation does not stall
 * the event loop. */
const env = Handlebars.create();

export type RenderFn = (context: unknown) => string;

const COMPILE_OPTIONS = { noEscape: true, strict: false, data: true };

/** Handlebars' own two compilation stages (what `compile` runs lazily on first render); untyped in its .d.ts */
const compilers = env as unknown as {
  Compiler: new () => { compile(ast: hbs.AST.Program, options: object): unknown };
  JavaScriptCompiler: new () => { compile(environment: unknown, options: object, context: undefined, asObject: true): unknown };
};

type Template = (context: unknown) => string;

export function compileTemplate(source: string, limits: Limits = DEFAULT_LIMITS): RenderFn {
  checkSource(source, limits);
  const fn = compiled.get(source) ?? compile(source);
  return (context) => render(fn, context, limits);
}

/**
 * Compiled templates by source. Compiling costs about 15 µs per byte of a
 * dense template (Handlebars' code generation), and a config change compiles
 * each flow more than once (validation, then the new snapshot), so a
 * template is compiled once while it stays in use. Bounded by total source
 * size; the oldest entries go first.
 */
const compiled = new Map<string, Template>();
const CACHE_SOURCE_BYTES = 4 * 1024 * 1024;
let cachedBytes = 0;

function compile(source: string): Template {
  // one eager compilation: syntax and compiler errors surface at configure time
  const ast = env.parse(source);
  const environment = new compilers.Compiler().compile(ast, COMPILE_OPTIONS);
  const spec = new compilers.JavaScriptCompiler().compile(environment, COMPILE_OPTIONS, undefined, true);
  return remember(source, env.template(spec as TemplateSpec) as Template);
}

type TemplateSpec = Parameters<typeof env.template>[0];

function remember(source: string, fn: Template): Template {
  if (compiled.delete(source)) cachedBytes -= source.length;
  compiled.set(source, fn);
  cachedBytes += source.length;
  for (const [k] of compiled) {
    if (cachedBytes <= CACHE_SOURCE_BYTES) break;
    compiled.delete(k);
    cachedBytes -= k.length;
  }
  return fn;
}

/** Whether `compileTemplate(source)` would find it compiled. */
export function isTemplateCompiled(source: string): boolean {
  return compiled.has(source);
}

// ---- compiling ahead, off the event loop -----------------------------------

const pool = new PrecompilePool();
/** precompilations under way, by source: callers preparing the same template share one */
const preparing = new Map<string, Promise<void>>();

/**
 * Compiles templates ahead of a configuration change, so that the
 * synchronous `compileTemplate` the engine calls while configuring a flow is
 * a cache hit. Handlebars' code generation runs in a worker thread; the main
 * thread only turns the generated source into a template, in this private
 * environment, so helpers and budgets wrap it as they wrap any other.
 *
 * Templates over `limits`, and templates with syntax errors, are left to
 * `compileTemplate`, which reports them as it always has. Rejects with a
 * PrecompileError when the worker cannot do the work (too slow, gone, too
 * many waiting): the change should fail rather than compile on the event loop.
 */
export async function prepareTemplates(sources: Iterable<string>, limits: Limits = DEFAULT_LIMITS): Promise<void> {
  // one at a time: a single worker does them in turn anyway, and each caller then holds one place in its queue
  for (const source of sources) {
    if (compiled.has(source) || !withinLimits(source, limits)) continue;
    let job = preparing.get(source);
    if (!job) {
      job = prepare(source).finally(() => preparing.delete(source));
      preparing.set(source, job);
    }
    await job;
  }
}

async function prepare(source: string): Promise<void> {
  const r = await pool.precompile(source, COMPILE_OPTIONS);
  if ('error' in r || compiled.has(source)) return;
  // the spec is Handlebars' own output for this source, evaluated in this realm as `compile` itself evaluates it
  remember(source, env.template(loadSpec(r.spec, r.cache) as TemplateSpec) as Template);
}

// ---- configure-time bounds -------------------------------------------------

/** checkSource without the error (which would count as a limit hit) */
function withinLimits(source: string, limits: Limits): boolean {
  return Buffer.byteLength(source) <= limits.template_source_bytes && nestingDepth(source) <= limits.template_nesting;
}

function checkSource(source: string, limits: Limits): void {
  const bytes = Buffer.byteLength(source);
  if (bytes > limits.template_source_bytes) {
    throw new LimitExceeded('template_source_bytes', `template is ${bytes} bytes; the limit is ${limits.template_source_bytes} (limits.template_source_bytes)`);
  }
  const depth = nestingDepth(source);
  if (depth > limits.template_nesting) {
    throw new LimitExceeded(
      'template_nesting',
      `template nests blocks ${depth} deep; the limit is ${limits.template_nesting} (limits.template_nesting)`,
    );
  }
}

/**
 * Deepest nesting in a template, in one pass over the text without parsing:
 * blocks (`{{#x}}`, `{{^x}}`, partial and decorator blocks, raw blocks), each
 * `{{else x}}` of a chain (Handlebars nests those too) and subexpressions
 * inside a tag. Overestimates rather than underestimates.
 */
export function nestingDepth(src: string): number {
  let depth = 0;
  let max = 0;
  // for each open block, the levels its `{{else x}}` chain added
  const chains: number[] = [];
  let i = 0;
  for (;;) {
    i = src.indexOf('{{', i);
    if (i < 0) break;
    // `\{{` is literal text (`\\{{` is a backslash and a real tag)
    if (src.charCodeAt(i - 1) === 92 && src.charCodeAt(i - 2) !== 92) {
      i += 2;
      continue;
    }
    if (src.startsWith('{{{{', i)) {
      // raw block: its content is text, up to the matching {{{{/...}}}}
      max = Math.max(max, depth + 1);
      const open = src.indexOf('}}}}', i + 4);
      if (open < 0) break;
      i = skipRaw(src, open + 4);
      continue;
    }
    let j = i + 2;
    if (src[j] === '{') j++;
    if (src[j] === '~') j++;
    const c = src[j];
    if (c === '!') {
      const long = src.startsWith('--', j + 1);
      const end = long ? src.indexOf('--', j + 3) : src.indexOf('}}', j);
      if (end < 0) break;
      i = long ? commentEnd(src, end) : end + 2;
      continue;
    }
    const { end, parens } = tagEnd(src, j);
    const body = src.slice(j, end).replace(/~$/, '').trim();
    if (c === '#' || (c === '^' && body.length > 1)) {
      depth++;
      chains.push(0);
    } else if (c === '/') {
      depth -= 1 + (chains.pop() ?? 0);
      if (depth < 0) depth = 0;
    } else if (/^else\s+\S/.test(body) && chains.length > 0) {
      chains[chains.length - 1]++;
      depth++;
    }
    max = Math.max(max, depth + parens);
    if (end >= src.length) break;
    i = end + 2;
  }
  return max;
}

/** End of a tag's content (the index of its `}}`) and how deep its subexpressions go. */
function tagEnd(src: string, k: number): { end: number; parens: number } {
  let parens = 0;
  let open = 0;
  for (; k < src.length; k++) {
    const ch = src[k];
    if (ch === '}' && src[k + 1] === '}') break;
    if (ch === '"' || ch === "'" || ch === '[') {
      const close = ch === '[' ? ']' : ch;
      k++;
      while (k < src.length && src[k] !== close) k += src[k] === '\\' ? 2 : 1;
    } else if (ch === '(') {
      open++;
      if (open > parens) parens = open;
    } else if (ch === ')') open--;
  }
  return { end: k, parens };
}

/** Index after a `{{!-- ... --}}` comment whose closing `--` search starts at `from`. */
function commentEnd(src: string, from: number): number {
  for (let k = from; k >= 0; k = src.indexOf('--', k + 1)) {
    if (src.startsWith('}}', k + 2)) return k + 4;
    if (src.startsWith('~}}', k + 2)) return k + 5;
  }
  return src.length;
}

/** Index after the `{{{{/name}}}}` closing a raw block whose content starts at `k`. */
function skipRaw(src: string, k: number): number {
  let open = 1;
  for (;;) {
    const t = src.indexOf('{{{{', k);
    if (t < 0) return src.length;
    const close = src.indexOf('}}}}', t + 4);
    if (close < 0) return src.length;
    open += src[t + 4] === '/' ? -1 : 1;
    k = close + 4;
    if (open === 0) return k;
  }
}

// ---- render budget ---------------------------------------------------------

/** The render in progress: renders are synchronous, so one at a time. */
interface Budget {
  deadline: number;
  limits: Limits;
  /** loop bodies run so far */
  bodies: number;
}
let current: Budget | null = null;

function render(fn: (context: unknown) => string, context: unknown, limits: Limits): string {
  const outer = current;
  current = { deadline: performance.now() + limits.template_time_ms, limits, bodies: 0 };
  try {
    const out = fn(context);
    // a UTF-16 unit is at most 3 UTF-8 bytes: count bytes only near the limit
    if (out.length * 3 > limits.template_output_bytes && Buffer.byteLength(out) > limits.template_output_bytes) throw outputExceeded(limits);
    return out;
  } catch (e) {
    // string concatenation past V8's maximum length
    if (e instanceof RangeError && /string length/i.test(e.message)) throw outputExceeded(limits);
    throw e;
  } finally {
    current = outer;
  }
}

function step(b: Budget): void {
  if (performance.now() > b.deadline) {
    throw new LimitExceeded('template_time_ms', `handlebars: render exceeded its ${b.limits.template_time_ms} ms budget (limits.template_time_ms)`);
  }
}

function outputExceeded(limits: Limits): LimitExceeded {
  return new LimitExceeded(
    'template_output_bytes',
    `handlebars: render output exceeded ${limits.template_output_bytes} bytes (limits.template_output_bytes)`,
  );
}

type Body = (this: unknown, context: unknown, options?: unknown) => string;
type Helper = (this: unknown, ...args: unknown[]) => unknown;

/**
 * `each` with a body that checks the budget as the loop runs (`{{#list}}`
 * sections loop through it too; the other helpers run their body once).
 * The time is read every 16 bodies; the output check counts what this loop
 * has produced so far, so every level of nested loops is held to the limit
 * as it grows.
 */
function guardedEach(each: Helper): Helper {
  return function (this: unknown, ...args: unknown[]) {
    const options = args[args.length - 1] as { fn?: Body } | undefined;
    const b = current;
    if (!b || !options || typeof options.fn !== 'function') return each.apply(this, args);
    const body = options.fn;
    let produced = 0;
    // Handlebars builds a fresh options object for every helper call
    options.fn = function (this: unknown, ctx: unknown, opts?: unknown): string {
      if ((++b.bodies & 15) === 0) step(b);
      const s = body.call(this, ctx, opts);
      produced += s.length;
      if (produced > b.limits.template_output_bytes) throw outputExceeded(b.limits);
      return s;
    };
    return each.apply(this, args);
  };
}

env.registerHelper('each', guardedEach(env.helpers.each as Helper));

// partials can call each other (inline partials fan out exponentially): check there too
const vm = env.VM as unknown as { invokePartial: Helper };
const invokePartial = vm.invokePartial;
(env as unknown as { VM: unknown }).VM = {
  ...vm,
  invokePartial(this: unknown, ...args: unknown[]) {
    if (current) step(current);
    return invokePartial.apply(this, args);
  },
};
