// Public API of the jq engine: compile once, run many times.
import { inputPaths } from './paths.js';
import { simpleForm, type SimpleForm } from './simple.js';
import { Parser, JqSyntaxError, type JqSyntax } from './parser.js';
import { Compiler, CompileError, RecursionError, BUILTIN_DEFS, type Scope } from './compile.js';
import { getNatives, PRELUDE, HaltSignal, DepthError, envObject, setBuiltinNames } from './builtins.js';
import { BreakSignal, Passthrough, type Fn, type Env } from './runtime.js';
import { begin, end, budget, chargeValue, chargeSlots, BudgetError, type Budget, type BudgetLimits } from './budget.js';
import { JqError, dump, jsonText, keyState, plainValue, setKey, type Obj } from './values.js';
import { jsonParseKeepsMeaning, parseJsonText } from './json.js';
import { DEFAULT_LIMITS, LimitExceeded, type Limits } from '../limits.js';
import { LiteralNumber, literalsMade, numberMode, withDoubles } from './numbers.js';

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
  /**
   * Numbers as jq 1.7.1 keeps them: every number token (the program's, and
   * the input's read by runText, fromjson or tonumber) is a literal, which
   * prints as written (`1.0`, `1E+1000`) and compares with another literal
   * as a decimal, and what the program computes is a double (numbers.ts).
   * Outputs may then hold LiteralNumber values. Off: outputs are doubles.
   */
  exactNumbers?: boolean;
}

export interface RunOptions {
  variables?: Record<string, unknown>;
  /** evaluation step budget of this run (default: the program's jq_steps) */
  maxSteps?: number;
  /** user-function recursion depth limit (default 2000) */
  maxDepth?: number;
}

export interface TextRunOptions extends RunOptions {
  /** the run's variables, from its parsed input (instead of `variables`) */
  variablesOf?: (input: unknown) => Record<string, unknown>;
}

export interface JqProgram {
  readonly filter: string;
  /** the constant input paths the program reads, or null when it may use its whole input (paths.ts) */
  readonly inputPaths: string[][] | null;
  /** the program as a small tree the engine may evaluate itself, or null (simple.ts) */
  readonly simple: SimpleForm | null;
  /** the outputs as plain JS values (an object's index-like keys come first in JS, whatever jq's order) */
  run(input: unknown, options?: RunOptions): unknown[];
  /**
   * The exact text path for hosts: the input as JSON text (jq's parser, keys
   * in order, no nesting limit), each output as the JSON text JSON.stringify
   * would write with its keys in jq's order.
   */
  runText(inputJson: string, options?: TextRunOptions): string[];
  /**
   * The outputs in the engine's own representation (values.ts: some keys
   * stored encoded), for printing with dump/dumpPretty (the CLI, tests);
   * JqRuntimeError's value and outputs stay in it too.
   */
  runValues(input: unknown, options?: RunOptions): unknown[];
}

// ---- prelude: compiled once per process and number mode (its literals are the program's kind) ----
const preludeScopes: { exact?: Scope | null; doubles?: Scope | null } = {};
function getPreludeScope(exact: boolean): Scope | null {
  const cached = exact ? preludeScopes.exact : preludeScopes.doubles;
  if (cached !== undefined) return cached;
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
  for (let s: Scope | null = scope; s; s = s.next) if (s.kind === 'func') BUILTIN_DEFS.add(s.info);
  if (exact) preludeScopes.exact = scope;
  else preludeScopes.doubles = scope;
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
  /** whether compiling encoded a key (a constant, $ENV): then every run may output one */
  private constKeys: boolean;
  /** the program holds a literal kept as written: its outputs may too */
  private keepsLiterals: boolean;
  /** compiled with exactNumbers: runs keep every number token as a literal, outputs keep them */
  private exact: boolean;

  constructor(
    filter: string,
    fn: Fn,
    varNames: string[],
    defaults: Record<string, unknown>,
    inputPaths: string[][] | null,
    simple: SimpleForm | null,
    budget: Budget,
    constKeys: boolean,
    keepsLiterals: boolean,
    exact: boolean,
  ) {
    this.exact = exact;
    this.constKeys = constKeys;
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
    const seen = this.marks();
    try {
      return this.forCaller(this.runValues(input, options), seen);
    } catch (e) {
      throw this.errorForCaller(e, seen);
    }
  }

  /**
   * The outputs as JSON texts, keys in jq's order. Numbers are doubles unless
   * the program was compiled with `exactNumbers` (then the input's number
   * tokens are literals and every literal prints as written).
   */
  runText(inputJson: string, options?: TextRunOptions): string[] {
    const seen = this.marks();
    let input: unknown;
    if (!this.exact && jsonParseKeepsMeaning(inputJson)) {
      try {
        input = JSON.parse(inputJson);
      } catch {
        input = this.parseInput(inputJson);
      }
    } else input = this.parseInput(inputJson);
    const variables = options?.variablesOf ? options.variablesOf(input) : options?.variables;
    let out: unknown[];
    try {
      out = this.runValues(input, variables === options?.variables ? options : { ...options, variables });
    } catch (e) {
      throw this.errorForCaller(e, seen);
    }
    if (seen.literals !== null && literalsMade.count !== seen.literals) unwrapAll(out);
    // JSON.stringify when no encoded key and no literal can be in the outputs
    return out.map(!this.exact && keyState.encoded === seen.keys ? (x) => JSON.stringify(x) ?? 'null' : jsonText);
  }

  /** what a run may add that callers outside the engine must not see: encoded keys, kept literals (null: kept on purpose) */
  private marks(): { keys: number; literals: number | null } {
    return {
      keys: this.constKeys ? -1 : keyState.encoded,
      literals: this.exact ? null : this.keepsLiterals ? -1 : literalsMade.count,
    };
  }

  /** outputs as plain JS: kept literals as doubles (unless asked), keys decoded, each only when the run made one */
  private forCaller(out: unknown[], seen: { keys: number; literals: number | null }): unknown[] {
    if (seen.literals !== null && literalsMade.count !== seen.literals) unwrapAll(out);
    return keyState.encoded === seen.keys ? out : out.map(plainValue);
  }

  private errorForCaller(e: unknown, seen: { keys: number; literals: number | null }): unknown {
    if (e instanceof JqRuntimeError) {
      if (seen.literals !== null && literalsMade.count !== seen.literals) e.value = withDoubles(e.value);
      e.outputs = this.forCaller(e.outputs, seen);
      if (keyState.encoded !== seen.keys) e.value = plainValue(e.value);
    }
    return e;
  }

  private parseInput(text: string): unknown {
    try {
      return parseJsonText(text, Infinity, this.exact ? 'all' : false);
    } catch (e) {
      const msg = `Cannot parse input: ${(e as JqError).message}`;
      throw new JqRuntimeError(msg, msg);
    }
  }

  runValues(input: unknown, options?: RunOptions): unknown[] {
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
    const modeBefore = numberMode.exact;
    numberMode.exact = this.exact;
    const outer = begin(
      options?.maxSteps === undefined && options?.maxDepth === undefined
        ? b
        : budget({ ...b, steps: options.maxSteps ?? b.steps, depth: options.maxDepth ?? b.depth }, b.env),
    );
    try {
      this.fn(input, null, env, (x) => {
        // charged here: the budget bounds any later walk over it (a value shared 2^40 times stops here)
        out.push(output(x));
      });
    } catch (e) {
      // converted while the budget still holds: an error's message may dump a huge value
      let re: Error;
      try {
        re = toRuntimeError(e);
      } catch (e2) {
        re = toRuntimeError(e2);
      }
      if (re instanceof JqRuntimeError) re.outputs = out;
      throw re;
    } finally {
      end(outer);
      numberMode.exact = modeBefore;
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
  // stored names copied as they are
  const o: Record<string, unknown> = {};
  for (const name of Object.keys(x)) Object.defineProperty(o, name, { value: finite((x as Record<string, unknown>)[name]), writable: true, enumerable: true, configurable: true });
  return o;
}

function toRuntimeError(e: unknown): Error {
  if (e instanceof BudgetError) return new LimitExceeded(e.limit, e.message);
  if (e instanceof Passthrough) e = e.err;
  // jq prints the message with C's %s: it ends at a NUL (the error's value keeps it)
  if (e instanceof JqError) return new JqRuntimeError(upToNul(e.message), e.value);
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

function upToNul(s: string): string {
  const nul = s.indexOf('\u0000');
  return nul < 0 ? s : s.slice(0, nul);
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
  const exact = options?.exactNumbers === true;
  const modeBefore = numberMode.exact;
  // the program's number tokens are read in its mode (and so is the prelude, compiled once per mode)
  numberMode.exact = exact;
  try {
    return compileProgram(filter, exact, options);
  } finally {
    numberMode.exact = modeBefore;
  }
}

function compileProgram(filter: string, exact: boolean, options: CompileOptions | undefined): JqProgram {
  const base = getPreludeScope(exact);
  const vars = options?.variables;
  const varNames = Array.isArray(vars) ? vars.map((v) => v.replace(/^\$/, '')) : vars ? Object.keys(vars) : [];
  const defaults: Record<string, unknown> = vars && !Array.isArray(vars) ? { ...vars } : {};
  let scope: Scope | null = base;
  for (const name of varNames) scope = { kind: 'var', name, next: scope };
  try {
    const literalsBefore = literalsMade.count;
    const ast = Parser.parse(filter, options?.syntax);
    const before = keyState.encoded;
    const compiler = new Compiler(getNatives(), filter);
    const fn = compiler.compile(ast, scope);
    const b = budget(budgetLimits(options?.limits), envRecord(options?.env));
    return new Program(filter, fn, varNames, defaults, inputPaths(ast), simpleForm(ast), b, keyState.encoded !== before, literalsMade.count !== literalsBefore, exact);
  } catch (e) {
    if (e instanceof JqSyntaxError || e instanceof CompileError) throw new JqCompileError(e.message, e.position);
    if (e instanceof RangeError) throw new JqCompileError('jq program too deeply nested', 0);
    throw e;
  }
}

export { JqError, LimitExceeded };
