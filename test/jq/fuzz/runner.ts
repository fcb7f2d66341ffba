// The fuzzing loop: generate a case, run both engines, compare, shrink and
// record each disagreement, and keep the counts the CLI and the test print.
import { print, type Ast } from './ast.js';
import { compareOutcomes, type DisagreementKind, type OursOutcome } from './compare.js';
import { acceptedDivergence } from './divergences.js';
import { findingHash, writeFinding, type Finding } from './findings.js';
import { Generator } from './generator.js';
import { InputGenerator, toJson, type JValue } from './inputs.js';
import { referenceOutcome, runOurs, type Outcome, type Skipped } from './outcome.js';
import { Random, mulberry32 } from './random.js';
import { ReferenceJq } from './reference.js';
import { shrink } from './shrink.js';

export interface FuzzOptions {
  seed: number;
  /** stop after this many cases */
  count?: number;
  /** or after this many seconds */
  seconds?: number;
  /** where findings are written (none: not written) */
  outDir?: string;
  /** shrink disagreements (default true) */
  shrink?: boolean;
  log?: (line: string) => void;
}

export interface FuzzStats {
  cases: number;
  seconds: number;
  agreeOutputs: number;
  agreeBothFailed: number;
  skipped: Record<string, number>;
  accepted: Record<string, number>;
  disagreements: Partial<Record<DisagreementKind, number>>;
  /** cases where both failed after the same outputs: how many with the same message (runtime / compile) */
  errorText: { runtime: { both: number; same: number }; compile: { both: number; same: number } };
  findings: Finding[];
}

export type Evaluation =
  | { skipped: Skipped }
  | { skipped: null; ours: OursOutcome; ref: Outcome; kind: DisagreementKind | null; accepted: string | null; bothFailed: boolean };

/** Runs one case through both engines and compares. */
export async function evaluate(ref: ReferenceJq, filter: string, inputText: string): Promise<Evaluation> {
  const ours = runOurs(filter, inputText);
  if (ours.status === 'skipped') return { skipped: ours };
  // a program starting with '-' would be read as an option of jq's command line: a space keeps it a program
  const refOut = referenceOutcome(await ref.run(inputText, filter.startsWith('-') ? ' ' + filter : filter));
  if (refOut.status === 'skipped') return { skipped: refOut };
  const v = compareOutcomes(ours, refOut);
  if (v.agree) return { skipped: null, ours, ref: refOut, kind: null, accepted: null, bothFailed: v.bothFailed };
  const d = acceptedDivergence({ filter, input: inputText, kind: v.kind, ours, ref: refOut });
  return { skipped: null, ours, ref: refOut, kind: v.kind, accepted: d?.id ?? null, bothFailed: false };
}

/** Case i of a run: its own seed, so one case can be regenerated alone. */
export function caseSeed(seed: number, i: number): number {
  return Math.floor(mulberry32((seed ^ Math.imul(i + 1, 0x9e3779b1)) >>> 0)() * 2 ** 32);
}

export interface GeneratedCase {
  ast: Ast | null;
  filter: string;
  input: JValue;
}

/** One generated case; about 3% are programs with one character broken (syntax errors), kept as text. */
export function generateCase(seed: number): GeneratedCase {
  const r = new Random(seed);
  const ast = new Generator(r).program();
  const input = new InputGenerator(r).value();
  const filter = print(ast);
  if (r.chance(0.03)) {
    const pos = r.int(0, filter.length);
    const broken = r.chance(0.5) ? filter.slice(0, pos) + r.pick([')', ']', '}', '|', ';', ',', '.', '$', '@', '"', '\\', '(', '[', '{', ':', '?', 'if', 'end', '#']) + filter.slice(pos) : filter.slice(0, pos) + filter.slice(pos + 1);
    return { ast: null, filter: broken, input };
  }
  return { ast, filter, input };
}

/**
 * How a case disagrees, without its values: the kind, both statuses and both messages with strings, value
 * dumps and numbers masked. Shrinking keeps it, so a repro does not drift into another bug of the same kind.
 */
function shape(e: Extract<Evaluation, { skipped: null }>): string {
  const mask = (o: OursOutcome | Outcome) =>
    ('message' in o ? o.message : '')
      .replace(/"(?:[^"\\]|\\.)*"/g, '"')
      .replace(/ \(.*?\)(?= |$)/g, ' ()')
      .replace(/[-+.\deE]*\d[-+.\deE]*/g, '#');
  return `${e.kind} ${e.ours.status} ${e.ref.status}\n${mask(e.ours)}\n${mask(e.ref)}`;
}

function signature(e: Extract<Evaluation, { skipped: null }>): string {
  const msg = (o: OursOutcome | Outcome) => ('message' in o ? o.message : '');
  let i = 0;
  while (i < e.ours.outputs.length && e.ours.outputs[i] === e.ref.outputs[i]) i++;
  return `${e.kind}\n${msg(e.ours)}\n${msg(e.ref)}\n${e.ours.outputs[i] ?? ''}\n${e.ref.outputs[i] ?? ''}`;
}

export async function runFuzz(opts: FuzzOptions): Promise<FuzzStats> {
  const ref = new ReferenceJq();
  const log = opts.log ?? (() => {});
  const started = performance.now();
  const stats: FuzzStats = {
    cases: 0,
    seconds: 0,
    agreeOutputs: 0,
    agreeBothFailed: 0,
    skipped: {},
    accepted: {},
    disagreements: {},
    errorText: { runtime: { both: 0, same: 0 }, compile: { both: 0, same: 0 } },
    findings: [],
  };
  const seen = new Set<string>();
  const shrunkPerSignature = new Map<string, number>();
  const deadline = opts.seconds !== undefined ? started + opts.seconds * 1000 : Infinity;
  try {
    for (let i = 0; (opts.count === undefined || i < opts.count) && performance.now() < deadline; i++) {
      const cs = caseSeed(opts.seed, i);
      const c = generateCase(cs);
      const inputText = toJson(c.input);
      const e = await evaluate(ref, c.filter, inputText);
      stats.cases++;
      if (e.skipped) {
        stats.skipped[e.skipped.reason] = (stats.skipped[e.skipped.reason] ?? 0) + 1;
        // jq-wasm aborting or hanging is worth a look (a jq bug, or a program the generator should not make)
        if (e.skipped.reason === 'ref-crash' || e.skipped.reason === 'ref-timeout')
          log(`skipped (${e.skipped.reason}${e.skipped.detail ? `: ${e.skipped.detail.slice(0, 120)}` : ''}): ${c.filter}  on ${inputText}`);
        continue;
      }
      const failedAlike = e.bothFailed || e.kind === 'error-text';
      if (failedAlike) {
        const bucket = e.ref.status === 'compile-error' ? stats.errorText.compile : stats.errorText.runtime;
        bucket.both++;
        if (e.kind === null) bucket.same++;
      }
      if (e.kind === null) {
        if (e.bothFailed) stats.agreeBothFailed++;
        else stats.agreeOutputs++;
        continue;
      }
      if (e.accepted) {
        stats.accepted[e.accepted] = (stats.accepted[e.accepted] ?? 0) + 1;
        continue;
      }
      const kind = e.kind;
      stats.disagreements[kind] = (stats.disagreements[kind] ?? 0) + 1;
      // shrinking costs hundreds of runs: at most a few per distinct way of disagreeing
      const sig = signature(e);
      const shrunkBefore = shrunkPerSignature.get(sig) ?? 0;
      if (shrunkBefore >= 3) continue;
      shrunkPerSignature.set(sig, shrunkBefore + 1);
      let filter = c.filter;
      let input = c.input;
      let final = e;
      if (opts.shrink !== false) {
        const wanted = shape(e);
        const stillFails = async (f: string, inp: string) => {
          const x = await evaluate(ref, f, inp);
          return !x.skipped && x.kind === kind && !x.accepted && shape(x) === wanted;
        };
        const s = await shrink(c.ast, c.filter, c.input, stillFails);
        filter = s.filter;
        input = s.input;
        const again = await evaluate(ref, filter, toJson(input));
        if (!again.skipped && again.kind === kind) final = again;
        else {
          // flaky (a time budget on a loaded machine): keep the original case
          filter = c.filter;
          input = c.input;
        }
      }
      const hash = findingHash(kind, filter);
      if (seen.has(hash)) continue;
      seen.add(hash);
      const f: Finding = {
        hash,
        kind,
        filter,
        input: toJson(input),
        ours: final.ours,
        reference: final.ref,
        original: { filter: c.filter, input: inputText, caseSeed: cs },
      };
      stats.findings.push(f);
      if (opts.outDir) writeFinding(opts.outDir, f);
      log(`finding ${hash} ${kind}: ${filter}  on ${f.input}`);
    }
  } finally {
    await ref.close();
    stats.seconds = (performance.now() - started) / 1000;
  }
  return stats;
}

export function formatStats(s: FuzzStats): string {
  const rate = (x: { both: number; same: number }) => (x.both ? `${((100 * x.same) / x.both).toFixed(1)}% (${x.same}/${x.both})` : 'n/a');
  const both = { both: s.errorText.runtime.both + s.errorText.compile.both, same: s.errorText.runtime.same + s.errorText.compile.same };
  const kinds = Object.entries(s.disagreements).map(([k, n]) => `${k} ${n}`).join(', ') || 'none';
  return [
    `cases: ${s.cases} in ${s.seconds.toFixed(1)} s (${(s.cases / s.seconds).toFixed(1)} cases/s)`,
    `agree: ${s.agreeOutputs} same outputs, ${s.agreeBothFailed} same failure`,
    `skipped: ${Object.entries(s.skipped).map(([k, n]) => `${k} ${n}`).join(', ') || 'none'}`,
    `accepted divergences: ${Object.entries(s.accepted).map(([k, n]) => `${k} ${n}`).join(', ') || 'none'}`,
    `disagreements by kind: ${kinds}`,
    `distinct minimal disagreements: ${s.findings.length}`,
    `error-text agreement when both fail: ${rate(both)} (runtime ${rate(s.errorText.runtime)}, compile ${rate(s.errorText.compile)})`,
  ].join('\n');
}
