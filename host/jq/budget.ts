// Per-evaluation budgets: evaluation steps, bytes allocated and wall-clock time.
//
// Runs are synchronous, so one module-level record holds the budget of the
// run in progress. The hot paths only bump a counter and compare it with the
// next checkpoint (`stepsAt`, `bytesAt`); the slow path behind a checkpoint
// checks the limit, looks at the clock and sets the next checkpoint. Budget
// errors are not `JqError`s, so jq's `try`, `?`, `//`, `catch` and `label`
// never see them: they end the whole evaluation.
import type { LimitName } from '../limits.js';
import type { Obj } from './values.js';
import { LiteralNumber } from './numbers.js';

/** Steps between two looks at the clock: a step costs a few ns, reading the clock about 40. */
const CLOCK_EVERY_STEPS = 1024;
/** Bytes charged between two looks at the clock (copying a MiB takes well under a millisecond). */
const CLOCK_EVERY_BYTES = 1 << 20;

/** Approximate costs charged to the memory budget. */
export const SLOT_BYTES = 8; // one array element
export const CHAR_BYTES = 2; // one UTF-16 code unit
export const KEY_BYTES = 32; // one object property, beside its key's text
// the same, for this module's hot paths: reading an exported binding costs a check each time
const SLOT = 8;
const CHAR = 2;
const KEY = 32;

export interface BudgetLimits {
  /** wall-clock milliseconds per run (Infinity: none) */
  timeMs: number;
  /** bytes one run may allocate (Infinity: none) */
  memoryBytes: number;
  /** evaluation steps per run (Infinity: none) */
  steps: number;
  /** user-function recursion depth */
  depth: number;
}

/** What a program's runs are held to, prepared once at compile time. */
export interface Budget extends BudgetLimits {
  /** what `$ENV` and `env` read */
  env: Obj;
  firstStepsAt: number;
  firstBytesAt: number;
}

export function budget(limits: BudgetLimits, env: Obj): Budget {
  return {
    ...limits,
    env,
    firstStepsAt: Math.min(limits.steps, CLOCK_EVERY_STEPS),
    firstBytesAt: Math.min(limits.memoryBytes, CLOCK_EVERY_BYTES),
  };
}

/** Outside runs: no limits, no environment (envObject copies it; nothing writes it). */
const IDLE: Budget = budget({ timeMs: Infinity, memoryBytes: Infinity, steps: Infinity, depth: Infinity }, {});

export const state = {
  steps: 0,
  /** next step count at which `stepCheck` runs */
  stepsAt: Infinity,
  bytes: 0,
  /** next byte count at which `bytesCheck` runs */
  bytesAt: Infinity,
  /** performance.now() deadline; 0 until the first checkpoint starts the clock */
  deadline: 0,
  depth: 0,
  /** labels entered so far (jq numbers them per run: `{"__jq": n}`) */
  labels: 0,
  /** the run in progress */
  budget: IDLE,
};

/** A budget ran out: ends the evaluation (the public API turns it into a `LimitExceeded`). */
export class BudgetError {
  constructor(
    readonly limit: LimitName,
    readonly message: string,
  ) {}
}

export type Saved = typeof state;

/** Starts a run; returns the enclosing run's state when runs nest, else null. */
export function begin(b: Budget): Saved | null {
  const outer = state.budget !== IDLE ? { ...state } : null;
  state.budget = b;
  state.steps = 0;
  state.stepsAt = b.firstStepsAt;
  state.bytes = 0;
  state.bytesAt = b.firstBytesAt;
  state.deadline = 0;
  state.depth = 0;
  state.labels = 0;
  return outer;
}

/** Ends a run. Its counters may run on (dump outside a run); their next checkpoint sees no run and stops checking. */
export function end(outer: Saved | null): void {
  if (outer) Object.assign(state, outer);
  else state.budget = IDLE;
}

/** One evaluation step. */
export function tick(): void {
  if (++state.steps > state.stepsAt) stepCheck();
}

/** `n` units of internal work (elements compared, KiB scanned) counted as steps. */
export function work(n: number): void {
  if ((state.steps += n) > state.stepsAt) stepCheck();
}

/** Charges `n` bytes about to be allocated. Call it before allocating, so a huge request fails first. */
export function charge(n: number): void {
  if ((state.bytes += n) > state.bytesAt) bytesCheck();
}

/** Charges n array elements. */
export function chargeSlots(n: number): void {
  if ((state.bytes += SLOT * n) > state.bytesAt) bytesCheck();
}

/** Charges n string characters. */
export function chargeChars(n: number): void {
  if ((state.bytes += CHAR * n) > state.bytesAt) bytesCheck();
}

/** Charges n object properties. */
export function chargeKeys(n: number): void {
  if ((state.bytes += KEY * n) > state.bytesAt) bytesCheck();
}

export function stepCheck(): void {
  const max = state.budget.steps;
  if (state.steps > max) throw new BudgetError('jq_steps', `jq: evaluation exceeded its ${max} step budget`);
  clock();
  state.stepsAt = Math.min(max, state.steps + CLOCK_EVERY_STEPS);
}

export function bytesCheck(): void {
  const max = state.budget.memoryBytes;
  if (state.bytes > max) throw new BudgetError('jq_memory_bytes', `jq: evaluation exceeded its ${formatBytes(max)} memory budget`);
  clock();
  state.bytesAt = Math.min(max, state.bytes + CLOCK_EVERY_BYTES);
}

/**
 * The clock starts at a run's first checkpoint, not at its start: a short
 * run (most flow filters) never reads it, and what comes before the first
 * checkpoint is at most CLOCK_EVERY_STEPS steps and CLOCK_EVERY_BYTES bytes.
 */
function clock(): void {
  const ms = state.budget.timeMs;
  if (ms === Infinity) return;
  const now = performance.now();
  if (state.deadline === 0) state.deadline = now + ms;
  else if (now > state.deadline) throw new BudgetError('jq_time_ms', `jq: evaluation exceeded its ${ms} ms budget`);
}

/**
 * Charges a value about to leave the evaluation (an output the engine will
 * serialize, a builtin's result): every appearance of a shared sub-value
 * counts again, the way its JSON text repeats it. Charging as it walks, it
 * stops at the budget even for a value shared 2^40 times. Returns whether
 * the value holds a non-finite number.
 */
export function chargeValue(x: unknown): boolean {
  if (typeof x === 'number') return !Number.isFinite(x);
  // charges written out: this walks every output of every run
  if (typeof x === 'string') {
    if ((state.bytes += CHAR * x.length) > state.bytesAt) bytesCheck();
    return false;
  }
  if (x === null || typeof x !== 'object') return false;
  // a kept literal leaves as its text (an infinite one prints as written too)
  if (x instanceof LiteralNumber) {
    if ((state.bytes += CHAR * x.literal.length) > state.bytesAt) bytesCheck();
    return false;
  }
  let nonFinite = false;
  if (Array.isArray(x)) {
    if ((state.bytes += SLOT * x.length) > state.bytesAt) bytesCheck();
    for (let i = 0; i < x.length; i++) if (chargeValue(x[i])) nonFinite = true;
    return nonFinite;
  }
  // an object's keys are charged once its values are (one charge per object)
  let n = 0;
  for (const k in x) {
    n += KEY + CHAR * k.length;
    if (chargeValue((x as Obj)[k])) nonFinite = true;
  }
  if ((state.bytes += n) > state.bytesAt) bytesCheck();
  return nonFinite;
}

/**
 * Milliseconds left of the run's time budget, for work that is bounded by a
 * timer rather than by checkpoints (backtracking regexes). Starts the clock
 * if no checkpoint has; fails when nothing is left.
 */
export function timeLeft(): number {
  if (state.budget.timeMs === Infinity) return Infinity;
  clock();
  return state.deadline - performance.now();
}

export function formatBytes(n: number): string {
  if (n >= 1 << 20 && n % (1 << 20) === 0) return `${n / (1 << 20)} MiB`;
  if (n >= 1024 && n % 1024 === 0) return `${n / 1024} KiB`;
  return `${n} bytes`;
}
