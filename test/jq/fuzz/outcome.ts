// What one engine did with one case, in a shape both engines share: the
// compact JSON lines it printed (in order), and whether and how it failed.
import { compile, JqCompileError, JqRuntimeError, LimitExceeded } from '../../../host/jq/index.js';
import { parseJsonText } from '../../../host/jq/json.js';
import { dump } from '../../../host/jq/values.js';
import type { ReferenceResult } from './reference.js';

export type Outcome =
  | { status: 'ok'; outputs: string[] }
  | { status: 'error'; outputs: string[]; message: string } // runtime error after `outputs`
  | { status: 'compile-error'; outputs: []; message: string };

/** Cases not compared: ours ran out of its budget, or jq-wasm hung, aborted or printed too much. */
export type Skipped = { status: 'skipped'; reason: 'budget' | 'ref-timeout' | 'ref-crash' | 'ref-output-cap' | 'ours-crash'; detail?: string };

/** Our engine with its default budgets, outputs serialized as `jq -c` prints them. */
export function runOurs(filter: string, inputText: string): Outcome | Skipped | { status: 'crash'; outputs: string[]; message: string } {
  const input = parseJsonText(inputText, undefined, 'all');
  let program;
  try {
    program = compile(filter, { exactNumbers: true });
  } catch (e) {
    if (e instanceof JqCompileError) return { status: 'compile-error', outputs: [], message: e.message };
    return { status: 'crash', outputs: [], message: `compile threw ${String(e)}` };
  }
  try {
    return { status: 'ok', outputs: program.runValues(input).map((v) => dump(v)) };
  } catch (e) {
    if (e instanceof LimitExceeded) return { status: 'skipped', reason: 'budget', detail: e.message };
    if (e instanceof JqRuntimeError) return { status: 'error', outputs: e.outputs.map((v) => dump(v)), message: e.message };
    return { status: 'crash', outputs: [], message: `run threw ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}` };
  }
}

const RUNTIME_ERROR = /^jq: error \(at [^)]*\): ([\s\S]*)$/;
const NOT_A_STRING = /^jq: error \(at [^)]*\) \(not a string\): ([\s\S]*)$/;
const COMPILE_ERROR = /^jq: error: (.*)\n[\s\S]*jq: \d+ compile errors?$/;

/** jq-wasm's stdout and stderr as an Outcome (messages without jq's "jq: error (at <file>): " prefix). */
export function referenceOutcome(r: ReferenceResult): Outcome | Skipped {
  if (r.kind === 'timeout') return { status: 'skipped', reason: 'ref-timeout' };
  if (r.kind === 'crash') return { status: 'skipped', reason: 'ref-crash', detail: r.message };
  if (r.truncated) return { status: 'skipped', reason: 'ref-output-cap' };
  const outputs = r.stdout === '' ? [] : r.stdout.replace(/\n$/, '').split('\n');
  const err = r.stderr.replace(/\n$/, '');
  if (err === '') return { status: 'ok', outputs };
  const compile = COMPILE_ERROR.exec(err);
  if (compile) return { status: 'compile-error', outputs: [], message: compile[1] };
  const notString = NOT_A_STRING.exec(err);
  if (notString) return { status: 'error', outputs, message: `${notString[1]} (not a string)` };
  const runtime = RUNTIME_ERROR.exec(err);
  return { status: 'error', outputs, message: runtime ? runtime[1] : err };
}
