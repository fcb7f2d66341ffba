// The fuzzer's own parts in this directory: the printer puts parentheses where
// jq's precedence needs them and nowhere else, the shrinker reaches a minimal
// case, inputs keep their number spellings, respelling neutralises them.
import { describe, expect, it } from 'vitest';
import { print, type Ast } from './ast.js';
import { inputSize, parseJValue, toJson } from './inputs.js';
import { respellFilter, respellInput } from './respell.js';
import { shrink } from './shrink.js';

const dot: Ast = { k: 'identity' };
const lit = (text: string): Ast => ({ k: 'literal', text });
const field = (name: string, target: Ast | null = null): Ast => ({ k: 'field', target, name, quoted: false });
const call = (name: string, ...args: Ast[]): Ast => ({ k: 'call', name, args });

describe('fuzzer printer', () => {
  it('adds parentheses only where precedence and associativity need them', () => {
    const minus = (l: Ast, r: Ast): Ast => ({ k: 'binop', op: '-', left: l, right: r });
    expect(print(minus(minus(lit('1'), lit('2')), lit('3')))).toBe('1 - 2 - 3');
    expect(print(minus(lit('1'), minus(lit('2'), lit('3'))))).toBe('1 - (2 - 3)');
    expect(print({ k: 'binop', op: '//', left: { k: 'binop', op: '//', left: dot, right: lit('1') }, right: lit('2') })).toBe('(. // 1) // 2');
    expect(print({ k: 'comma', left: { k: 'pipe', left: dot, right: lit('1') }, right: lit('2') })).toBe('(. | 1), 2');
    expect(print({ k: 'pipe', left: dot, right: { k: 'comma', left: lit('1'), right: lit('2') } })).toBe('. | 1, 2');
    expect(print({ k: 'neg', body: lit('1') })).toBe('-1');
    expect(print(field('a', lit('1')))).toBe('(1).a');
    expect(print(field('b', field('a')))).toBe('.a.b');
    expect(print({ k: 'optional', body: call('f', dot) })).toBe('f(.)?');
    expect(print({ k: 'assign', op: '|=', lhs: field('a'), rhs: { k: 'binop', op: '//', left: dot, right: lit('1') } })).toBe('.a |= (. // 1)');
    expect(print({ k: 'reduce', source: { k: 'pipe', left: dot, right: { k: 'iterate', target: null } }, pattern: { k: 'pvar', name: 'x' }, init: lit('0'), update: dot })).toBe(
      'reduce (. | .[]) as $x (0; .)',
    );
    expect(print({ k: 'object', entries: [{ key: { k: 'ident', name: 'if' }, value: { k: 'binop', op: '+', left: dot, right: lit('1') } }, { key: { k: 'var', name: 'x' }, value: null }] })).toBe(
      '{if: (. + 1), $x}',
    );
    expect(print({ k: 'string', format: 'base64', parts: ['a"\\', { k: 'comma', left: dot, right: dot }] })).toBe('@base64 "a\\"\\\\\\(., .)"');
  });
});

describe('fuzzer shrinker', () => {
  it('shrinks program and input while the predicate holds', async () => {
    const ast: Ast = {
      k: 'pipe',
      left: { k: 'array', body: { k: 'comma', left: field('a'), right: { k: 'iterate', target: null } } },
      right: { k: 'try', body: call('sort'), handler: lit('"x"') },
    };
    const input = parseJValue('{"a":[3,1,{"b":"z"}],"c":[[4],"3"]}');
    const fails = async (filter: string, inputText: string) => filter.includes('sort') && inputText.includes('3');
    const s = await shrink(ast, print(ast), input, fails);
    expect(s.filter).toBe('sort');
    expect(inputSize(s.input)).toBe(1);
    expect(toJson(s.input)).toContain('3');
  });

  it('shrinks a program kept as text (a broken one) by dropping characters', async () => {
    const s = await shrink(null, '.a | ]] | .b', null, async (filter) => filter.includes(']'));
    expect(s.filter).toBe(']');
  });
});

describe('fuzzer inputs', () => {
  it('keep numbers as written and round-trip through their JSON text', () => {
    const text = '{"a":[1.0,-0,9007199254740993,1e1000,5e-324],"0":{"":"é😀\\u0000"}}';
    expect(toJson(parseJValue(text))).toBe(text);
  });

  it('respelling renames integer-like keys and writes numbers as doubles, outside string literals', () => {
    expect(respellInput('{"a":1.0,"0":[1e1000,-0,9007199254740993,"1.0"]}')).toBe('{"a":1,"k0":[1.7976931348623157e+308,-0,9007199254740992,"1.0"]}');
    expect(respellFilter('.["0"] + 1.0 | "\\(1e2)" | .[0] | f1(2)')).toBe('.["k0"] + 1 | "\\(1e2)" | .[0] | f1(2)');
  });
});

describe('fuzzer divergences', () => {
  const compileError = (message: string) => ({ status: 'compile-error' as const, outputs: [] as [], message });
  it('accepts a name jq 1.7.1 lacks that we define, and nothing else undefined', async () => {
    const { acceptedDivergence } = await import('./divergences.js');
    const ours = { status: 'ok' as const, outputs: ['"a"'] };
    const rtrim = compileError('rtrim/0 is not defined at <top-level>, line 1:');
    expect(acceptedDivergence({ filter: 'rtrim', input: '" a "', kind: 'compile-only-ref', ours, ref: rtrim })?.id).toBe('builtin-from-another-jq-version');
    const th = compileError('th/0 is not defined at <top-level>, line 1:');
    expect(acceptedDivergence({ filter: 'th', input: 'null', kind: 'compile-only-ref', ours, ref: th })).toBeUndefined();
  });
});
