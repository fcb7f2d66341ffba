// Compares what our engine and jq-wasm did with one case: outputs (text and
// order), error vs no error, compile error vs not, and the error text.
import type { Outcome } from './outcome.js';

export type DisagreementKind =
  | 'outputs' // different output lines (values or order), both ending the same way
  | 'error-only-ours' // we fail at runtime, jq does not
  | 'error-only-ref' // jq fails at runtime, we do not
  | 'compile-only-ours' // we reject the program, jq compiles it
  | 'compile-only-ref' // jq rejects the program, we compile it
  | 'error-text' // both fail the same way after the same outputs, with different messages
  | 'crash'; // our engine threw something that is not a jq error

export type Verdict =
  | { agree: true; bothFailed: boolean }
  | { agree: false; kind: DisagreementKind };

export type OursOutcome = Outcome | { status: 'crash'; outputs: string[]; message: string };

export function compareOutcomes(ours: OursOutcome, ref: Outcome): Verdict {
  if (ours.status === 'crash') return { agree: false, kind: 'crash' };
  const oursCompile = ours.status === 'compile-error';
  const refCompile = ref.status === 'compile-error';
  if (oursCompile !== refCompile) return { agree: false, kind: oursCompile ? 'compile-only-ours' : 'compile-only-ref' };
  if (!sameLines(ours.outputs, ref.outputs)) return { agree: false, kind: 'outputs' };
  if (ours.status === 'ok' && ref.status === 'ok') return { agree: true, bothFailed: false };
  if (ours.status === 'ok') return { agree: false, kind: 'error-only-ref' };
  if (ref.status === 'ok') return { agree: false, kind: 'error-only-ours' };
  if (ours.message.trim() !== ref.message.trim()) return { agree: false, kind: 'error-text' };
  return { agree: true, bothFailed: true };
}

function sameLines(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
