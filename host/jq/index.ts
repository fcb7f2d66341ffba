// Public API of the jq engine: compile once, run many times.
import { inputPaths } from './paths.js';
import { simpleForm, type SimpleForm } from './simple.js';
import { Parser, JqSyntaxError } from './parser.js';
import { Compiler, CompileError, RecursionError, type Scope } from './compile.js';
import { getNatives, PRELUDE, HaltSignal, DepthError, envObject, setBuiltinNames } from './builtins.js';
import { state, BudgetError, BreakSignal, Passthrough, type Fn, type Env } from './runtime.js';
import { JqError, dump, setKey } from './values.js';

export class JqCompileError extends Error {
  position: number;
  constructor(message: string, position: number) {
    super(message);
    this.name = 'JqCompileError';
    this.position = position;
  }
}

export class JqRuntimeError extends Error {
  /** the error value (for error(x) with a non-string x, the value itself) */
  value: unknown;
  /** set by halt_error: the process exit code jq would use */
  exitCode?: number;
  /** outputs produced before the error (jq prints them before failing) */
  outputs: unknown[] = [];
  constructor(message: string, value: unknown, exitCode?: number) {
    super(message);
    this.name = 'JqRuntimeError';
    this.value = value;
    if (exitCode !== undefined) this.exitCode = exitCode;
  }
}

export interface CompileOptions {
  variables?: string[] | Record<string, unknown>;
}

export interface RunOptions {
  variables?: Record<string, unknown>;
  /** evaluation step budget (default 10 million) */
  maxSteps?: number;
  /** user-function recursion depth limit (default 2000) */
  maxDepth?: number;
}

export interface JqProgram {
  readonly filter: string;
  /** the constant input paths the program reads, or null when it may use its whole input (paths.ts) */
  readonly inputPaths: string[][] | null;
  /** the program as a small tree the engine may evaluate itself, or null (simple.ts) */
  readonly simple: SimpleForm | null;
  run(input: unknown, options?: RunOptions): unknown[];
}

// ---- prelude: compiled once per process ----
let preludeScope: Scope | null = null;
function getPreludeScope(): Scope | null {
  if (preludeScope) return preludeScope;
  const natives = getNatives();
  let scope: Scope | null = {
    kind: 'special',
    name: 'ENV',
    getter: envObject,
    next: { kind: 'special', name: '__prog_args', getter: () => [], next: null },
  };
  const ast = Parser.parse(PRELUDE + ' .');
  const compiler = new Compiler(natives, PRELUDE);
  if (ast.kind === 'defs') for (const d of ast.defs) scope = compiler.compileDef(d, scope);
  preludeScope = scope;
  const names = new Set<string>();
  for (const k of natives.keys()) if (!k.startsWith('_') && !k.startsWith('$')) names.add(k);
  for (let s: Scope | null = scope; s; s = s.next) if (s.kind === 'func') names.add(`${s.name}/${s.arity}`);
  setBuiltinNames([...names]);
  return scope;
}

class Program implements JqProgram {
  readonly filter: string;
  readonly inputPaths: string[][] | null;
  readonly simple: SimpleForm | null;
  private fn: Fn;
  private varNames: string[];
  private defaults: Record<string, unknown>;

  constructor(filter: string, fn: Fn, varNames: string[], defaults: Record<string, unknown>, inputPaths: string[][] | null, simple: SimpleForm | null) {
    this.filter = filter;
    this.inputPaths = inputPaths;
    this.simple = simple;
    this.fn = fn;
    this.varNames = varNames;
    this.defaults = defaults;
  }

  run(input: unknown, options?: RunOptions): unknown[] {
    let env: Env | null = null;
    const vars = options?.variables;
    for (const name of this.varNames) {
      let v: unknown = null;
      if (vars && Object.prototype.hasOwnProperty.call(vars, name)) v = vars[name];
      else if (Object.prototype.hasOwnProperty.call(this.defaults, name)) v = this.defaults[name];
      env = { v: v === undefined ? null : v, next: env };
    }
    const out: unknown[] = [];
    const saved = { steps: state.steps, maxSteps: state.maxSteps, depth: state.depth, maxDepth: state.maxDepth };
    state.steps = 0;
    state.depth = 0;
    state.maxSteps = options?.maxSteps ?? 10_000_000;
    state.maxDepth = options?.maxDepth ?? 2000;
    try {
      this.fn(input, null, env, (x) => {
        out.push(finite(x));
      });
    } catch (e) {
      const re = toRuntimeError(e);
      if (re instanceof JqRuntimeError) re.outputs = out;
      throw re;
    } finally {
      state.steps = saved.steps;
      state.maxSteps = saved.maxSteps;
      state.depth = saved.depth;
      state.maxDepth = saved.maxDepth;
    }
    return out;
  }
}

/** Non-finite numbers leave the engine the way jq prints them (nan -> null, inf -> +-DBL_MAX). */
function finite(x: unknown): unknown {
  if (typeof x === 'number') return x === x ? (x === Infinity ? Number.MAX_VALUE : x === -Infinity ? -Number.MAX_VALUE : x) : null;
  if (x === null || typeof x !== 'object' || !hasNonFinite(x)) return x;
  if (Array.isArray(x)) return x.map(finite);
  const o: Record<string, unknown> = {};
  for (const k of Object.keys(x)) setKey(o, k, finite((x as Record<string, unknown>)[k]));
  return o;
}
function hasNonFinite(x: unknown): boolean {
  if (typeof x === 'number') return !Number.isFinite(x);
  if (x === null || typeof x !== 'object') return false;
  if (Array.isArray(x)) {
    for (let i = 0; i < x.length; i++) if (hasNonFinite(x[i])) return true;
    return false;
  }
  for (const k in x) if (hasNonFinite((x as Record<string, unknown>)[k])) return true;
  return false;
}

function toRuntimeError(e: unknown): Error {
  if (e instanceof Passthrough) e = e.err;
  if (e instanceof JqError) return new JqRuntimeError(e.message, e.value);
  if (e instanceof HaltSignal) {
    const msg = e.hasValue ? (typeof e.value === 'string' ? e.value : dump(e.value) + '\n') : '';
    return new JqRuntimeError(msg, e.value, e.code);
  }
  if (e instanceof BudgetError) return new JqRuntimeError(e.message, e.message);
  if (e instanceof RecursionError || e instanceof DepthError) return new JqRuntimeError(e.message, e.message);
  if (e instanceof BreakSignal) return new JqRuntimeError('break', 'break');
  if (e instanceof RangeError) {
    const msg = `jq evaluation aborted: ${/call stack/i.test(e.message) ? 'recursion too deep (stack overflow)' : e.message}`;
    return new JqRuntimeError(msg, msg);
  }
  if (e instanceof Error) return e;
  return new JqRuntimeError(String(e), e);
}

export function compile(filter: string, options?: CompileOptions): JqProgram {
  if (typeof filter !== 'string') throw new TypeError('jq filter must be a string');
  const base = getPreludeScope();
  const vars = options?.variables;
  const varNames = Array.isArray(vars) ? vars.map((v) => v.replace(/^\$/, '')) : vars ? Object.keys(vars) : [];
  const defaults: Record<string, unknown> = vars && !Array.isArray(vars) ? { ...vars } : {};
  let scope: Scope | null = base;
  for (const name of varNames) scope = { kind: 'var', name, next: scope };
  try {
    const ast = Parser.parse(filter);
    const compiler = new Compiler(getNatives(), filter);
    const fn = compiler.compile(ast, scope);
    return new Program(filter, fn, varNames, defaults, inputPaths(ast), simpleForm(ast));
  } catch (e) {
    if (e instanceof JqSyntaxError || e instanceof CompileError) throw new JqCompileError(e.message, e.position);
    if (e instanceof RangeError) throw new JqCompileError('jq program too deeply nested', 0);
    throw e;
  }
}

export { JqError };
