// Writes one file per distinct minimal disagreement, fuzz-findings/<hash>.json,
// and a one-line summary per finding; distinct = (kind, shrunk program).
import { createHash } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { DisagreementKind, OursOutcome } from './compare.js';
import type { Outcome } from './outcome.js';

export interface Finding {
  hash: string;
  kind: DisagreementKind;
  filter: string;
  input: string;
  ours: OursOutcome;
  reference: Outcome;
  /** the generated case before shrinking */
  original: { filter: string; input: string; caseSeed: number };
}

export function findingHash(kind: DisagreementKind, filter: string): string {
  return createHash('sha1').update(`${kind}\n${filter}`).digest('hex').slice(0, 12);
}

function describeOutcome(o: OursOutcome | Outcome): string {
  const outs = o.outputs.join(' ');
  if (o.status === 'ok') return outs === '' ? '(no output)' : outs;
  return `${outs}${outs ? ' ' : ''}${o.status === 'compile-error' ? 'compile error' : o.status === 'crash' ? 'CRASH' : 'error'}: ${o.message}`;
}

export function summaryLine(f: Finding): string {
  const cut = (s: string) => (s.length > 160 ? s.slice(0, 157) + '...' : s).replace(/\n/g, '\\n');
  return `${f.hash} ${f.kind}: jq ${JSON.stringify(f.filter)} on ${cut(f.input)} | ours: ${cut(describeOutcome(f.ours))} | jq 1.7.1: ${cut(describeOutcome(f.reference))}`;
}

export function writeFinding(dir: string, f: Finding): void {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `${f.hash}.json`);
  if (existsSync(file)) return;
  writeFileSync(file, JSON.stringify(f, null, 2) + '\n');
  appendFileSync(join(dir, 'SUMMARY.txt'), summaryLine(f) + '\n');
}
