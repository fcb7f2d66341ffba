// Public API of the jq engine: compile once, run many times.
import { inputPaths } from './paths.js';
import { simpleForm, type SimpleForm } from './simple.js';
import { Parser, JqSyntaxError, type JqSyntax } from './parser.js';
import { Compiler, CompileError, RecursionError, type Scope } from './compile.js';
import { getNatives, PRELUDE, HaltSignal, DepthError, envObject, setBuiltinNames } from './builtins.js';
import { BreakSignal, Passthrough, type Fn, type Env } from './runtime.js';
import { begin, end, budget, chargeValue, chargeSlots, BudgetError, type Budget, type BudgetLimits } from './budget.js';
import { JqError, dump, setKey, type Obj } from './values.js';
import { DEFAULT_LIMITS, LimitExceeded, type Limits } from '../limits.js';
import { LiteralNumber, literalsMade, withDoubles } from './numbers.js';

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

/** The budgets of every run of a program (host/limits.ts; Infinity: no limit). */
export type JqLimits = Partial<Pick<Limits, 'jq_time_ms' | 'jq_memory_bytes' | 'jq_steps'>>;

export interface CompileOptions {
  variables?: string[] | Record<string, unknown>;
  /** per-run budgets; unset ones take DEFAULT_LIMITS (50 ms, 64 MiB, 10 million steps) */
  limits?: JqLimits;
  /** what `$ENV` and `env` see (default: nothing, `{}`); the CLI passes process.env */
  env?: Record<string, string | undefined>;
  /** `jaq`: also accept the object values jaq 1.x accepts (Kong 3.10 configs; docs/compat.md) */
  syntax?: JqSyntax;
}

export interface RunOptions {
  variables?: Record<string, unknown>;
  /** evaluation step budget of this run (default: the program's jq_steps) */
  maxSteps?: number;
  /** user-function recursion depth limit (default 2000) */
  maxDepth?: number;
  /**
   * Keep number literals as jq 1.7.1 keeps them: outputs may then hold
   * LiteralNumber values (numbers.ts), which dump() prints as written (`1.0`,
   * `1E+1000`). Off: every output number is a plain double.
   */
  exactNumbers?: boolean;
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
    next: null,
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
  private budget: Budget;
  /** the program holds a literal kept as written: its outputs may too */
  private keepsLiterals: boolean;

  constructor(
    filter: string,
    fn: Fn,
    varNames: string[],
    defaults: Record<string, unknown>,
    inputPaths: string[][] | null,
    simple: SimpleForm | null,
    budget: Budget,
    keepsLiterals: boolean,
  ) {
    this.keepsLiterals = keepsLiterals;
    this.filter = filter;
    this.inputPaths = inputPaths;
    this.simple = simple;
    this.fn = fn;
    this.varNames = varNames;
    this.defaults = defaults;
    this.budget = budget;
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
    const b = this.budget;
    // callers get doubles unless they ask: a program's kept literals are unwrapped as they leave,
    // ones made during the run (fromjson) in the outputs once the run is over
    const exact = options?.exactNumbers === true;
    const literalsBefore = literalsMade.count;
    const unwrap = !exact && this.keepsLiterals;
    const outer = begin(
      options?.maxSteps === undefined && options?.maxDepth === undefined
        ? b
        : budget({ ...b, steps: options.maxSteps ?? b.steps, depth: options.maxDepth ?? b.depth }, b.env),
    );
    try {
      this.fn(input, null, env, (x) => {
        // charged first: the budget bounds the unwrapping walk (a value shared 2^40 times stops there)
        out.push(unwrap ? plainOutput(output(x)) : output(x));
      });
      if (literalsMade.count !== literalsBefore && !exact) unwrapAll(out);
    } catch (e) {
      // converted while the budget still holds: an error's message may dump a huge value
      let re: Error;
      try {
        re = toRuntimeError(e);
      } catch (e2) {
        re = toRuntimeError(e2);
      }
      if (re instanceof JqRuntimeError) {
        if (literalsMade.count !== literalsBefore && !exact) unwrapAll(out);
        re.outputs = out;
        if (!exact && (this.keepsLiterals || literalsMade.count !== literalsBefore)) re.value = withDoubles(re.value);
      }
      throw re;
    } finally {
      end(outer);
    }
    return out;
  }
}

/**
 * An output leaves the engine: it is charged to the memory budget as the
 * JSON text the engine is about to serialize (so a value that shares one
 * sub-value 2^40 times fails here instead of in JSON.stringify), and
 * non-finite numbers become what jq prints (nan -> null, inf -> +-DBL_MAX).
 */
function output(x: unknown): unknown {
  // one slot in the outputs array, then the value
  chargeSlots(1);
  if (typeof x === 'number') return x === x && x !== Infinity && x !== -Infinity ? x : finite(x);
  return chargeValue(x) ? finite(x) : x;
}

/** An output with its kept literals as doubles, non-finite ones as jq prints them. */
function plainOutput(x: unknown): unknown {
  const y = withDoubles(x);
  return y === x ? x : finite(y);
}

function unwrapAll(out: unknown[]): void {
  for (let i = 0; i < out.length; i++) out[i] = plainOutput(out[i]);
}

function finite(x: unknown): unknown {
  if (typeof x === 'number') return x === x ? (x === Infinity ? Number.MAX_VALUE : x === -Infinity ? -Number.MAX_VALUE : x) : null;
  if (x === null || typeof x !== 'object' || x instanceof LiteralNumber) return x;
  if (Array.isArray(x)) return x.map(finite);
  const o: Record<string, unknown> = {};
  for (const k of Object.keys(x)) setKey(o, k, finite((x as Record<string, unknown>)[k]));
  return o;
}

function toRuntimeError(e: unknown): Error {
  if (e instanceof BudgetError) return new LimitExceeded(e.limit, e.message);
  if (e instanceof Passthrough) e = e.err;
  if (e instanceof JqError) return new JqRuntimeError(e.message, e.value);
  if (e instanceof HaltSignal) {
    const msg = e.hasValue ? (typeof e.value === 'string' ? e.value : dump(e.value) + '\n') : '';
    return new JqRuntimeError(msg, e.value, e.code);
  }
  if (e instanceof RecursionError || e instanceof DepthError) return new JqRuntimeError(e.message, e.message);
  if (e instanceof BreakSignal) return new JqRuntimeError('break', 'break');
  if (e instanceof RangeError) {
    const msg = `jq evaluation aborted: ${/call stack/i.test(e.message) ? 'recursion too deep (stack overflow)' : e.message}`;
    return new JqRuntimeError(msg, msg);
  }
  if (e instanceof Error) return e;
  return new JqRuntimeError(String(e), e);
}

/** A program's budgets: unset limits take the defaults, Infinity turns one off. */
function budgetLimits(l: JqLimits | undefined): BudgetLimits {
  return {
    timeMs: l?.jq_time_ms ?? DEFAULT_LIMITS.jq_time_ms,
    memoryBytes: l?.jq_memory_bytes ?? DEFAULT_LIMITS.jq_memory_bytes,
    steps: l?.jq_steps ?? DEFAULT_LIMITS.jq_steps,
    depth: 2000,
  };
}

function envRecord(env: Record<string, string | undefined> | undefined): Obj {
  const o: Obj = {};
  if (env) for (const [k, v] of Object.entries(env)) if (typeof v === 'string') setKey(o, k, v);
  return o;
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
    const literalsBefore = literalsMade.count;
    const ast = Parser.parse(filter, options?.syntax);
    const compiler = new Compiler(getNatives(), filter);
    const fn = compiler.compile(ast, scope);
    return new Program(filter, fn, varNames, defaults, inputPaths(ast), simpleForm(ast), budget(budgetLimits(options?.limits), envRecord(options?.env)), literalsMade.count !== literalsBefore);
  } catch (e) {
    if (e instanceof JqSyntaxError || e instanceof CompileError) throw new JqCompileError(e.message, e.position);
    if (e instanceof RangeError) throw new JqCompileError('jq program too deeply nested', 0);
    throw e;
  }
}

export { JqError, LimitExceeded };
