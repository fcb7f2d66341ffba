// Differential fuzzing against jq 1.7.1 (jq-wasm), bounded: a fixed seed and
// a fixed number of generated programs and inputs (test/jq/fuzz/). Every
// disagreement must be a documented reference divergence (fuzz/divergences.ts)
// or a still-open engine bug in KNOWN_OPEN below, whose repro must still
// disagree, so the list shrinks as fixes land. `npm run fuzz:jq` runs the
// same fuzzer for longer and writes minimal repros.
import { afterAll, describe, expect, it } from 'vitest';
import type { Ast } from './fuzz/ast.js';
import type { DisagreementKind, OursOutcome } from './fuzz/compare.js';
import { toJson, type JValue } from './fuzz/inputs.js';
import type { Outcome } from './fuzz/outcome.js';
import { ReferenceJq } from './fuzz/reference.js';
import { caseSeed, evaluate, generateCase } from './fuzz/runner.js';
import { shrink } from './fuzz/shrink.js';

const SEED = 20261129;
const COUNT = 2000;

interface Disagreement {
  filter: string;
  input: string;
  kind: DisagreementKind;
  ours: OursOutcome;
  ref: Outcome;
}

interface KnownOpen {
  id: string;
  reason: string;
  /** a minimal repro that must still disagree this way */
  repro: { filter: string; input: string; kind: DisagreementKind };
  /** whether this bug explains a disagreement */
  covers(d: Disagreement): boolean | Promise<boolean>;
}

const ref = new ReferenceJq();

const KNOWN_OPEN: KnownOpen[] = [];

describe('jq differential fuzzer against jq-wasm (fixed seed, bounded)', () => {
  const covered = new Map<string, number>();
  const stats = { compared: 0, skipped: 0, accepted: 0, generated: 0, refCompiled: 0 };
  afterAll(async () => {
    console.log(
      `jq fuzz (seed ${SEED}, ${COUNT} cases): ${stats.compared} compared, ${stats.skipped} skipped, ${stats.accepted} accepted divergences; ` +
        `known open: ${[...covered].map(([id, n]) => `${id} ${n}`).join(', ') || 'none'}`,
    );
    await ref.close();
  });

  it(`${COUNT} generated cases: every disagreement is a documented divergence or KNOWN_OPEN`, async () => {
    const unknown: { d: Disagreement; ast: Ast | null; value: JValue }[] = [];
    for (let i = 0; i < COUNT; i++) {
      const c = generateCase(caseSeed(SEED, i));
      const input = toJson(c.input);
      const e = await evaluate(ref, c.filter, input);
      if (c.ast) stats.generated++;
      if (e.skipped) {
        stats.skipped++;
        continue;
      }
      stats.compared++;
      if (c.ast && e.ref.status !== 'compile-error') stats.refCompiled++;
      if (e.kind === null) continue;
      if (e.accepted) {
        stats.accepted++;
        continue;
      }
      const d: Disagreement = { filter: c.filter, input, kind: e.kind, ours: e.ours, ref: e.ref };
      const known = await findKnown(d);
      if (known) covered.set(known.id, (covered.get(known.id) ?? 0) + 1);
      else unknown.push({ d, ast: c.ast, value: c.input });
    }
    // the generator must give mostly valid programs, and most cases must be compared
    expect(stats.skipped).toBeLessThan(COUNT * 0.05);
    expect(stats.refCompiled).toBeGreaterThan(stats.generated * 0.85);

    const reports: string[] = [];
    for (const { d, ast, value } of unknown.slice(0, 15)) {
      // a minimal repro of each (at most five), shrunk while it stays unexplained
      const s = await shrink(ast, d.filter, value, async (filter, input) => {
        const x = await evaluate(ref, filter, input);
        if (x.skipped || x.kind !== d.kind || x.accepted) return false;
        return !(await findKnown({ filter, input, kind: x.kind, ours: x.ours, ref: x.ref }));
      });
      const e = await evaluate(ref, s.filter, toJson(s.input));
      const o = e.skipped ? d : e;
      reports.push(
        `${d.kind}: jq ${JSON.stringify(s.filter)} on ${toJson(s.input)}\n   (generated: jq ${JSON.stringify(d.filter)} on ${d.input})\n` +
          `   ours: ${JSON.stringify(o.ours)}\n   jq:   ${JSON.stringify(o.ref)}`,
      );
    }
    expect(reports, `${unknown.length} disagreements not explained:\n${reports.join('\n')}`).toEqual([]);
  }, 120_000);

  it.each(KNOWN_OPEN.map((k) => [k.id, k] as const))('KNOWN_OPEN %s still disagrees (remove it once fixed)', async (_id, k) => {
    const e = await evaluate(ref, k.repro.filter, k.repro.input);
    expect(e.skipped).toBeNull();
    if (e.skipped) return;
    expect(e.kind).toBe(k.repro.kind);
    expect(e.accepted).toBeNull();
    expect(await k.covers({ filter: k.repro.filter, input: k.repro.input, kind: e.kind!, ours: e.ours, ref: e.ref })).toBe(true);
  });
});

async function findKnown(d: Disagreement): Promise<KnownOpen | undefined> {
  for (const k of KNOWN_OPEN) if (await k.covers(d)) return k;
  return undefined;
}
