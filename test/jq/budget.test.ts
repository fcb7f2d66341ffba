// Per-evaluation budgets of the jq engine (memory, time, steps), the math
// builtins on subnormal numbers, $ENV isolation and long flat programs.
import { describe, it, expect, beforeAll } from 'vitest';
import { compile, JqCompileError, JqRuntimeError, LimitExceeded, type CompileOptions } from '../../host/jq/index.js';
import { nativeJq } from '../../host/engine/jq-engine.js';
import { DEFAULT_LIMITS, limitHits } from '../../host/limits.js';
import { ReferenceJq } from './jqwasm.js';
import { buildHost, runCli } from '../helpers/cli.js';

/** Runs a filter that must exceed a budget; returns the error and how long the run took. */
function exceeding(filter: string, options: CompileOptions = {}, input: unknown = null): { e: LimitExceeded; ms: number } {
  const program = compile(filter, options);
  const t0 = performance.now();
  try {
    program.run(input);
  } catch (e) {
    const ms = performance.now() - t0;
    expect(e, String(e)).toBeInstanceOf(LimitExceeded);
    return { e: e as LimitExceeded, ms };
  }
  throw new Error(`expected ${filter} to exceed a budget`);
}

const run = (filter: string, input: unknown = null, options: CompileOptions = {}) => compile(filter, options).run(input);

// only the memory budget can stop these: time and steps are out of the way
const memoryOnly: CompileOptions = { limits: { jq_time_ms: 60_000, jq_steps: Infinity } };
// only the time budget can stop these
const timeOnly = (ms: number): CompileOptions => ({ limits: { jq_time_ms: ms, jq_steps: Infinity, jq_memory_bytes: Infinity } });

describe('memory budget', () => {
  it('the exponential array doubling of one request fails fast with the memory error', () => {
    // the default memory budget; time is out of the way so a loaded machine cannot hit it first
    const { e, ms } = exceeding('[range(40) | reduce range(23) as $j ([0]; . + .)]', { limits: { jq_time_ms: 60_000 } });
    expect(e.limit).toBe('jq_memory_bytes');
    expect(e.message).toBe('jq: evaluation exceeded its 64 MiB memory budget');
    expect(e.name).toBe('LimitExceeded');
    expect(ms).toBeLessThan(2000);
  });

  it.each([
    ['string repetition', '"x" * 1e8'],
    ['string doubling', 'reduce range(40) as $i ("x"; . + .)'],
    ['string doubling by interpolation', 'reduce range(40) as $i ("x"; "\\(.)\\(.)")'],
    ['tostring of an array that shares itself', 'reduce range(40) as $i ([0]; [., .]) | tostring'],
    ['tojson of a growing array', '[limit(1e9; repeat([range(100)]))] | tojson'],
    ['an output that shares itself 2^40 times', 'reduce range(40) as $i ([0]; [., .])'],
    ['collecting a huge range', '[range(1e9)]'],
    ['object merge doubling', 'reduce range(40) as $i ({a: 1}; {b: ., c: .} * {b: ., c: .})'],
    ['object addition doubling', 'reduce range(30) as $i ({}; . + {("k\\($i)"): .}) | [.. | objects | keys] | flatten'],
    ['flatten of a shared tree', 'reduce range(40) as $i ([0]; [., .]) | flatten'],
    ['join of repeated huge strings', '("x" * 1e6) as $s | [range(100) | $s] | join(",")'],
    ['add of repeated huge strings', '("x" * 1e6) as $s | [range(100) | $s] | add'],
    ['implode of a huge array', '[limit(5e7; repeat(65))] | implode'],
    ['@base64 of doubling text', 'reduce range(40) as $i ("xyz"; @base64 + @base64)'],
    ['splitting huge text', '("a," * 1e7) | split(",")'],
    ['setpath far beyond the end', 'setpath([9e7]; 1)'],
    ['paths of a shared tree', 'reduce range(40) as $i ([0]; [., .]) | [paths]'],
    ['explode of huge text', '"x" * 2e7 | explode'],
    ['limit of an endless generator', '[limit(1e9; repeat("abcdefgh"))]'],
  ])('%s: %s', (_name, filter) => {
    const { e, ms } = exceeding(filter, memoryOnly);
    expect(e.limit).toBe('jq_memory_bytes');
    expect(ms).toBeLessThan(5000);
  });

  it('names the configured budget', () => {
    expect(exceeding('"x" * 1e6', { limits: { jq_memory_bytes: 1 << 20 } }).e.message).toBe('jq: evaluation exceeded its 1 MiB memory budget');
    expect(exceeding('"x" * 1e6', { limits: { jq_memory_bytes: 512 * 1024 } }).e.message).toBe('jq: evaluation exceeded its 512 KiB memory budget');
    expect(exceeding('"x" * 1e6', { limits: { jq_memory_bytes: 100_000 } }).e.message).toBe('jq: evaluation exceeded its 100000 bytes memory budget');
  });

  it('the budget is per run: a program near its budget runs again and again', () => {
    const p = compile('[range(100000)] | length', { limits: { jq_memory_bytes: 4 << 20, jq_time_ms: 60_000 } });
    for (let i = 0; i < 20; i++) expect(p.run(null)).toEqual([100000]);
  });
});

describe('time budget', () => {
  it.each([
    ['repeat(.)'],
    ['last(range(1e12))'],
    ['until(false; .)'],
    ['[range(1e12)] | length'],
    ['first(range(1e12) | select(. < 0))'],
    ['[range(1e5)] as $a | [range(1e5) | $a == ($a | map(.))] | length'],
    ['reduce range(1e12) as $i (0; . + $i)'],
    ['[range(1e7) | -.] | sort | length'],
  ])('%s fails with the time budget error within roughly the budget', (filter) => {
    const { e, ms } = exceeding(filter, timeOnly(50));
    expect(e.limit).toBe('jq_time_ms');
    expect(e.message).toBe('jq: evaluation exceeded its 50 ms budget');
    expect(ms).toBeGreaterThanOrEqual(45);
    expect(ms).toBeLessThan(1000);
  });

  it('a larger budget is used, not cut short', () => {
    const { e, ms } = exceeding('last(range(1e12))', timeOnly(300));
    expect(e.message).toBe('jq: evaluation exceeded its 300 ms budget');
    expect(ms).toBeGreaterThanOrEqual(290);
    expect(ms).toBeLessThan(2000);
  });

  it('the default budgets come from DEFAULT_LIMITS', () => {
    const { e, ms } = exceeding('last(range(1e12))');
    expect(['jq_time_ms', 'jq_steps']).toContain(e.limit);
    expect(ms).toBeLessThan(1000);
    expect(DEFAULT_LIMITS.jq_time_ms).toBe(50);
  });

  it('endless recursion that is not a loop stops at the depth limit at once', () => {
    const t0 = performance.now();
    // (`def f: f; f` is a tail call, a loop as in jq: it ends at the time budget)
    expect(() => run('def f: [f]; f')).toThrow('jq recursion depth limit exceeded');
    expect(() => run('try (def f: [f]; f) catch "caught"')).toThrow(JqRuntimeError);
    expect(performance.now() - t0).toBeLessThan(1000);
  });
});

describe('step budget', () => {
  it('uses jq_steps and names it', () => {
    const { e } = exceeding('[range(1e6)] | length', { limits: { jq_steps: 1000, jq_time_ms: 60_000 } });
    expect(e.limit).toBe('jq_steps');
    expect(e.message).toBe('jq: evaluation exceeded its 1000 step budget');
    expect(run('[range(999)] | length', null, { limits: { jq_steps: 1000 } })).toEqual([999]);
  });

  it('counts comparisons of sorting, which runs no jq steps of its own', () => {
    const { e } = exceeding('[range(5000) | . * 7919 % 5000] | sort | length', { limits: { jq_steps: 20_000, jq_time_ms: 60_000 } });
    expect(e.limit).toBe('jq_steps');
  });

  it('run({ maxSteps }) still overrides the step budget', () => {
    expect(() => compile('[range(1e6)]').run(null, { maxSteps: 500 })).toThrow('jq: evaluation exceeded its 500 step budget');
  });
});

describe('budget errors cannot be caught by the filter', () => {
  it.each([
    ['try', 'try ("x" * 1e8) catch "caught"'],
    ['?', '("x" * 1e8)?'],
    ['//', '("x" * 1e8) // "default"'],
    ['try without catch', '[.[]?, try ("x" * 1e8)]'],
    ['label/break', 'label $out | ("x" * 1e8), break $out'],
    ['destructuring alternatives', '[[1]] | .[] as [$a] ?// $a | ("x" * 1e8)'],
    ['error caught then retried', '[limit(10; repeat(try ("x" * 1e8) catch "again"))]'],
    ['first/limit', 'first(("x" * 1e8), 1)'],
    ['while', '[1] | [while(true; try ("x" * 1e8) catch .)]'],
    ['isempty', 'isempty("x" * 1e8)'],
    ['|= with empty', '[1,2] | .[] |= ("x" * 1e8)'],
  ])('%s: %s', (_name, filter) => {
    expect(exceeding(filter, memoryOnly).e.limit).toBe('jq_memory_bytes');
  });

  it('repeat(try ... catch .) keeps no loop alive after the time budget', () => {
    const { e, ms } = exceeding('repeat(try error("x") catch .)', timeOnly(50));
    expect(e.limit).toBe('jq_time_ms');
    expect(ms).toBeLessThan(1000);
  });

  it('each hit is counted under its limit name', () => {
    const before = limitHits().jq_memory_bytes ?? 0;
    exceeding('"x" * 1e8');
    expect(limitHits().jq_memory_bytes).toBe(before + 1);
  });

  it('ordinary errors stay catchable and a failed run leaves nothing behind', () => {
    expect(run('try error("x") catch .')).toEqual(['x']);
    const p = compile('.a');
    exceeding('"x" * 1e8');
    expect(p.run({ a: 1 })).toEqual([1]);
    expect(run('[.[] | tostring]', [1, 'a', [2]])).toEqual([['1', 'a', '[2]']]);
  });

  it('the flow engine hands the flow limits to every run', () => {
    const limits = { ...DEFAULT_LIMITS, jq_memory_bytes: 1 << 20 };
    const program = nativeJq.compile('"x" * 1e6', [], limits);
    expect(() => program.run(null, {})).toThrow('jq: evaluation exceeded its 1 MiB memory budget');
    expect(nativeJq.compile('"x" * 1e3 | length', [], limits).run(null, {})).toEqual([1000]);
    const steps = nativeJq.compile('[range(1e6)]', [], { ...DEFAULT_LIMITS, jq_steps: 100 });
    expect(() => steps.run(null, {})).toThrow('jq: evaluation exceeded its 100 step budget');
  });
});

describe('ordinary filters are unaffected', () => {
  // the default memory and step budgets (a loaded test machine says nothing about time: bench/ measures that)
  it('large but linear work stays within the default memory and step budgets', () => {
    const noClock: CompileOptions = { limits: { jq_time_ms: 60_000 } };
    const big = Array.from({ length: 5000 }, (_, i) => ({ id: `k${i}`, n: i }));
    expect(run('map_values(.n + 1) | add', big.map((x) => ({ n: x.n })))).toEqual([(4999 * 5000) / 2 + 5000]);
    expect(run('.[].n |= . * 2 | map(.n) | add', big, noClock)).toEqual([4999 * 5000]);
    expect(run('[.[] | .id] | join(",") | length', big, noClock)).toEqual([big.map((x) => x.id).join(',').length]);
    expect(run('[.[] | .id] | add | length', big, noClock)).toEqual([big.map((x) => x.id).join('').length]);
    expect(run('map([.n]) | add | length', big, noClock)).toEqual([5000]);
    expect(run('from_entries | length', big.map((x) => ({ key: x.id, value: x.n })))).toEqual([5000]);
    expect(run('group_by(.n % 7) | map(length)', big, noClock)).toEqual([[715, 715, 714, 714, 714, 714, 714]]);
    expect(run('tojson | fromjson | length', big, noClock)).toEqual([5000]);
  });

  it('assignments over many paths give jq results (each container copied once)', () => {
    expect(run('[range(10)] | .[] |= . * 2')).toEqual([[0, 2, 4, 6, 8, 10, 12, 14, 16, 18]]);
    expect(run('{a: {b: 1}, c: 2} | (.a.b, .c) += 10')).toEqual([{ a: { b: 11 }, c: 12 }]);
    expect(run('[[1, 2], [3]] | .[][] = 0')).toEqual([[[0, 0], [0]]]);
    expect(run('[1, [2]] | (.[1], .[1][0]) |= [.]')).toEqual([[1, [[[2]]]]]);
  });

  it('outputs with non-finite numbers still print as jq does', () => {
    expect(run('[infinite, -infinite, nan]')).toEqual([[Number.MAX_VALUE, -Number.MAX_VALUE, null]]);
    expect(run('infinite, nan')).toEqual([Number.MAX_VALUE, null]);
  });

  it('error messages show the head of a huge value without dumping all of it', () => {
    const t0 = performance.now();
    expect(() => run('reduce range(40) as $i ([0]; [., .]) | . + 1')).toThrow('array ([[[[[[[[[[[...) and number (1) cannot be added');
    expect(() => run('"\\("x" * 1000)" | {a: .} | .[0]')).toThrow('Cannot index object with number');
    expect(() => run('[("ab" * 50)] | . - 1')).toThrow('array (["ababababa...) and number (1) cannot be subtracted');
    expect(performance.now() - t0).toBeLessThan(1000);
  });
});

describe('long flat programs', () => {
  it('a flat 400,000-element literal parses and runs', () => {
    const filter = `[${Array(400_000).fill('0').join(',')}] | length`;
    expect(compile(filter).run(null)).toEqual([400_000]);
  });

  it('long comma, pipe and operator chains use no nesting depth', () => {
    expect(run(`[${Array(100_000).fill('.a').join(', ')}] | length`, { a: 1 })).toEqual([100_000]);
    expect(run(Array(100_000).fill('.').join(' | '), 7)).toEqual([7]);
    expect(run(Array(100_000).fill('1').join(' + '))).toEqual([100_000]);
    expect(run(Array(100_000).fill('2').join(' * ') + ' | isinfinite')).toEqual([true]);
    expect(run(`${Array(100_000).fill('true').join(' and ')}, ${Array(100_000).fill('false').join(' or ')}`)).toEqual([true, false]);
    expect(run(`"" + ${Array(2_000).fill('"ab"').join(' + ')} | length`)).toEqual([4_000]);
    // a generator among the operands
    expect(run(`[(1,2) + ${Array(10_000).fill('1').join(' + ')}]`)).toEqual([[10_001, 10_002]]);
  });

  it('operator chains keep jq evaluation order and precedence', () => {
    expect(run('1 - 2 - 3, 2 * 3 + 4 * 5 - 6 / 3, 10 % 4 % 3')).toEqual([-4, 24, 2]);
    expect(run('[(1,2) - (10,20)]')).toEqual([[-9, -8, -19, -18]]);
    expect(run('[1, 2, 3 | . * 10]')).toEqual([[10, 20, 30]]);
    expect(run('[1, (2, 3 | . * 10), 4]')).toEqual([[1, 20, 30, 4]]);
    expect(() => run('{} - 1 - error("right first")')).toThrow('right first');
  });

  it('real deep nesting is still a clean compile error', () => {
    expect(() => compile('['.repeat(100_000) + ']'.repeat(100_000))).toThrow(new JqCompileError('jq program too deeply nested', 0));
    expect(() => compile('('.repeat(100_000) + '1' + ')'.repeat(100_000))).toThrow('jq program too deeply nested');
  });
});

describe('$ENV and env', () => {
  it('are empty for a compiled program unless an environment is given', () => {
    expect(process.env.PATH).toBeTruthy();
    expect(run('$ENV, env')).toEqual([{}, {}]);
    expect(run('$ENV.PATH')).toEqual([null]);
    expect(run('$ENV.A, env.A', null, { env: { A: 'b' } })).toEqual(['b', 'b']);
    expect(nativeJq.compile('$ENV, env', [], DEFAULT_LIMITS).run(null, {})).toEqual([{}, {}]);
  });

  it('a program cannot change what a later run sees', () => {
    const p = compile('$ENV | .A = "changed" | $ENV.A', { env: { A: 'a' } });
    expect(p.run(null)).toEqual(['a']);
    expect(p.run(null)).toEqual(['a']);
  });

  describe('the datakit jq command line', () => {
    beforeAll(() => buildHost(), 150_000);
    it('keeps the real environment', async () => {
      const r = await runCli(['jq', '-n', '$ENV.HOME, env.DATAKIT_JQ_TEST'], undefined, { ...process.env, HOME: '/home/jq-test', DATAKIT_JQ_TEST: 'yes' });
      expect(r.stderr).toBe('');
      expect(r.stdout).toBe('"/home/jq-test"\n"yes"\n');
      expect(r.code).toBe(0);
    }, 30_000);
  });
});

describe('math builtins on subnormal numbers (jq 1.7.1 results)', () => {
  const ref = new ReferenceJq();
  const values = '[5e-324, -5e-324, 1e-310, -2.5e-320, 2.2250738585072014e-308, 2.225073858507201e-308, 0.1, -3, 1e308, 1]';
  it.each([
    [`${values} | map(frexp)`],
    [`${values} | map(significand)`],
    [`${values} | map(logb)`],
    ['[5e-324, 1e-310, 2.5e-320, -5e-324] | map(lgamma, lgamma_r, tgamma)'],
    ['[ldexp(5e-324; 1074), ldexp(1; -1074), ldexp(1; -1075), ldexp(3; -1075), ldexp(1e308; -2000), ldexp(5e-324; 2000), ldexp(1.5; 2.7), ldexp(1; 1024)]'],
    ['[scalb(5e-324; 1074), scalb(1; -1074), scalb(1.5; 2.7), scalbln(5e-324; 1074), scalbln(1; -1075), scalbln(1.5; 2.7)]'],
    [`${values} | map(frexp as [$m, $e] | ldexp($m; $e)) == ${values}`],
  ])('%s', async (filter) => {
    const t0 = performance.now();
    const ours = compile(filter).run(null);
    expect(performance.now() - t0).toBeLessThan(1000);
    const theirs = (await ref.run('null', filter)).map((l) => JSON.parse(l));
    expect(ours).toEqual(theirs);
  }, 30_000);
});

describe('assignments that reuse a value agree with jq', () => {
  const ref = new ReferenceJq();
  it.each([
    ['{"a":{"b":{"c":1}}}', '(.a.b.c, .a, .a.x.c) |= (if type == "object" then {x: .b, y: .b} else . + 6 end)'],
    ['{"a":[1,2]}', '(.a, .a[0]) |= (if type == "array" then [., .] else 9 end)'],
    ['[[1],[2]]', '(.[0], .[0][0], .[1][0]) |= (if type == "array" then [., .] else . * 10 end)'],
    ['{"a":{"b":{"q":1}}}', '(.a.b, .a) += {"z": 1}'],
    ['[[0]]', '(.[0][0], .[0], .[0][1]) |= (if type == "array" then . + . else 5 end)'],
  ])('%s | %s', async (input, filter) => {
    const theirs = (await ref.run(input, filter)).map((l) => JSON.parse(l));
    let ours: unknown;
    try {
      ours = compile(filter).run(JSON.parse(input));
    } catch (e) {
      ours = (e as Error).message;
    }
    expect(ours).toEqual(theirs);
  }, 30_000);
});
