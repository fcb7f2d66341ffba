// Random jq programs as ASTs, from a weighted grammar of jq 1.7.1. Every
// program is bounded: the reference (jq-wasm) has no budget, so loops
// (repeat, while, recurse) only appear under limit/first with a small literal
// count, until and recursive functions count down a literal counter, and
// range takes small literal bounds. Builtins are those jq-wasm's `builtins`
// lists, minus the ones that read the environment, the clock or stdin.
import type { Ast, AssignOp, BinOp, ObjectEntry, ObjectKey, Pattern } from './ast.js';
import { Random } from './random.js';

const FIELD_NAMES = ['a', 'b', 'c', 'x', 'foo', '0', '', '__proto__', 'constructor', 'a b', 'é', '😀', 'if', 'end', 'length'];
const OBJECT_KEY_IDENTS = ['a', 'b', 'x', 'if', 'then', 'reduce', 'and', 'or', 'not', 'def', 'try', 'label', '__proto__', 'true', 'null'];
const STRINGS = ['', 'a', 'abc', 'a,b', ' ', 'é', 'e\u0301', '😀', '0', '1.5', '-2', 'null', '[1]', '{"a":1}', 'AbC', 'a\nb', '\\', '"', 'x y z', 'YWJj', 'MFRGG===', '1e1000', 'nan', '\u0000', '\u007f', 'ß'];
// non-negative literals as written in a program (negative ones are neg nodes)
const NUMBERS = ['0', '1', '2', '3', '0.5', '1.5', '10', '100', '255', '1e3', '0.1', '2.5', '3.0', '1e-5', '9007199254740993', '9223372036854775807', '1e308', '5e-324', '1e1000', '100000000000000000000', '1.000000000000000000001'];
const REGEXES = ['a', 'b', '[a-z]+', '(?<x>a)(b)?', '^', '$', '', '.', '\\d+', '(a|b)*', 'é', '[[:alpha:]]+', '\\s', '(?i)A', 'a{2}', 'x*', '(?<n>[0-9])', '\\b', '😀', ',', '(?<l>\\w)(?<r>\\w)?', '[', '(a)|(b)'];
const FLAGS = ['g', 'i', 'x', 'n', 'gi', '', 's', 'l', 'p', 'gx', 'q'];
const FORMATS = ['text', 'json', 'html', 'uri', 'csv', 'tsv', 'sh', 'base64', 'base64d', 'base32', 'base32d'];
const VAR_NAMES = ['x', 'y', 'z', 'v', 'k'];
const TIME_FORMATS = ['%Y-%m-%dT%H:%M:%SZ', '%A %B %d %Y', '%j %e %H', '%s', '%%'];

/** Builtins of jq 1.7.1 taking no arguments (the environment-, clock- and input-free ones). */
const NULLARY = [
  'length', 'utf8bytelength', 'not', 'keys', 'keys_unsorted', 'values', 'nulls', 'booleans', 'numbers', 'strings',
  'arrays', 'objects', 'iterables', 'scalars', 'add', 'any', 'all', 'flatten', 'floor', 'sqrt', 'type', 'tostring',
  'tonumber', 'tojson', 'fromjson', 'ascii_downcase', 'ascii_upcase', 'explode', 'implode', 'reverse', 'sort', 'unique',
  'min', 'max', 'to_entries', 'from_entries', 'paths', 'tostream', 'isnan', 'isinfinite', 'isnormal', 'infinite', 'nan',
  'first', 'last', 'transpose', 'combinations', 'abs', 'finites', 'normals', 'empty', 'error', 'todate', 'fromdate',
  'todateiso8601', 'fromdateiso8601', 'gmtime', 'mktime', 'significand', 'gamma', 'lgamma', 'tgamma', 'lgamma_r', 'frexp',
  'modf', 'logb', 'nearbyint', 'trunc', 'round', 'ceil', 'fabs', 'rint', 'cbrt', 'exp', 'exp10', 'exp2', 'expm1', 'log',
  'log10', 'log1p', 'log2', 'sin', 'cos', 'tan', 'asin', 'acos', 'atan', 'sinh', 'cosh', 'tanh', 'asinh', 'acosh',
  'atanh', 'j0', 'j1', 'y0', 'y1', 'pow10', 'recurse',
];
const MATH2 = ['pow', 'atan2', 'fmin', 'fmax', 'fmod', 'ldexp', 'scalb', 'scalbln', 'drem', 'copysign', 'fdim', 'hypot', 'nextafter', 'nexttoward', 'remainder'];
// jn(n; x), yn(n; x): musl's take O(n) steps, so n stays small for jq-wasm's sake
const BESSEL_N = ['jn', 'yn'];

type ArgKind = 'f' | 'num' | 'nat' | 'str' | 're' | 'flags' | 'path' | 'patharr' | 'cond' | 'fmt';

/** Builtins with arguments: name and what each argument is. */
const WITH_ARGS: [string, ArgKind[]][] = [
  ['map', ['f']], ['select', ['cond']], ['map_values', ['f']], ['with_entries', ['f']], ['walk', ['f']],
  ['has', ['str']], ['has', ['nat']], ['in', ['f']], ['inside', ['f']], ['contains', ['f']], ['contains', ['str']],
  ['indices', ['f']], ['indices', ['str']], ['index', ['str']], ['rindex', ['str']], ['index', ['f']],
  ['startswith', ['str']], ['endswith', ['str']], ['ltrimstr', ['str']], ['rtrimstr', ['str']], ['ltrimstr', ['f']],
  ['split', ['str']], ['split', ['re', 'flags']], ['join', ['str']], ['join', ['f']], ['splits', ['re']], ['splits', ['re', 'flags']],
  ['test', ['re']], ['test', ['re', 'flags']], ['match', ['re']], ['match', ['re', 'flags']], ['capture', ['re']],
  ['capture', ['re', 'flags']], ['scan', ['re']], ['scan', ['re', 'flags']], ['sub', ['re', 'str']], ['sub', ['re', 'f', 'flags']],
  ['gsub', ['re', 'str']], ['gsub', ['re', 'f', 'flags']], ['ascii_downcase', []],
  ['min_by', ['f']], ['max_by', ['f']], ['group_by', ['f']], ['unique_by', ['f']], ['sort_by', ['f']],
  ['getpath', ['patharr']], ['setpath', ['patharr', 'f']], ['delpaths', ['f']], ['del', ['path']], ['paths', ['cond']],
  ['pick', ['path']], ['path', ['path']], ['to_entries', []], ['from_entries', []],
  ['flatten', ['nat']], ['flatten', ['num']], ['any', ['cond']], ['all', ['cond']], ['any', ['f', 'cond']], ['all', ['f', 'cond']],
  ['isempty', ['f']], ['error', ['f']], ['tostream', []], ['fromstream', ['f']], ['truncate_stream', ['f']],
  ['combinations', ['nat']], ['IN', ['f']], ['IN', ['f', 'f']], ['INDEX', ['f']], ['bsearch', ['f']], ['splits', ['str']],
  ['add', []], ['tojson', []], ['format', ['fmt']], ['strftime', ['str']], ['strptime', ['str']], ['ltrimstr', ['num']],
  ['getpath', ['f']], ['min_by', ['path']], ['first', ['f']], ['last', ['f']], ['nth', ['nat', 'f']], ['nth', ['nat']],
  ['limit', ['nat', 'f']], ['fma', ['num', 'num', 'num']],
];

interface FuncInfo {
  name: string;
  params: string[]; // "g" or "$x"
}

interface Scope {
  vars: string[];
  funcs: FuncInfo[];
  labels: string[];
}

const EMPTY_SCOPE: Scope = { vars: [], funcs: [], labels: [] };

export class Generator {
  private r: Random;
  private nextName = 0;
  /** nodes still allowed in the program being built */
  private budget = 0;

  constructor(r: Random) {
    this.r = r;
  }

  /** A random program of roughly up to maxNodes nodes. */
  program(maxNodes = 24): Ast {
    this.budget = this.r.int(2, maxNodes);
    this.nextName = 0;
    return this.expr(EMPTY_SCOPE, this.r.int(1, 5));
  }

  private fresh(prefix: string): string {
    return `${prefix}${this.nextName++}`;
  }

  private lit(text: string): Ast {
    return { k: 'literal', text };
  }

  private str(s: string): Ast {
    return { k: 'literal', text: JSON.stringify(s) };
  }

  private num(): Ast {
    const text = this.r.chance(0.7) ? String(this.r.int(0, 4)) : this.r.pick(NUMBERS);
    return this.r.chance(0.2) ? { k: 'neg', body: this.lit(text) } : this.lit(text);
  }

  private nat(max = 4): Ast {
    return this.lit(String(this.r.int(0, max)));
  }

  private smallInt(): Ast {
    const n = this.r.int(-3, 5);
    return n < 0 ? { k: 'neg', body: this.lit(String(-n)) } : this.lit(String(n));
  }

  private field(target: Ast | null = null): Ast {
    const name = this.r.pick(FIELD_NAMES);
    return { k: 'field', target, name, quoted: this.r.chance(0.2) };
  }

  private call(name: string, ...args: Ast[]): Ast {
    return { k: 'call', name, args };
  }

  private leaf(scope: Scope): Ast {
    const r = this.r;
    const choices: [number, () => Ast][] = [
      [5, () => ({ k: 'identity' })],
      [5, () => this.field()],
      [2, () => ({ k: 'index', target: null, index: this.smallInt() })],
      [1.5, () => ({ k: 'iterate', target: null })],
      [3, () => this.num()],
      [2, () => this.str(r.pick(STRINGS))],
      [1.5, () => this.lit(r.pick(['null', 'true', 'false', '[]', '{}', '[1,[2]]', '{"a":1,"b":[]}', '[3,1,2]', '["a","b"]']))],
      [5, () => this.call(r.pick(NULLARY))],
      [0.8, () => ({ k: 'format', name: r.pick(FORMATS) })],
      [0.3, () => ({ k: 'var', name: '__loc__' })],
      [0.5, () => ({ k: 'recurse' })],
    ];
    if (scope.vars.length) choices.push([5, () => ({ k: 'var', name: r.pick(scope.vars) })]);
    if (scope.labels.length) choices.push([1, () => ({ k: 'break', name: r.pick(scope.labels) })]);
    if (scope.funcs.length) choices.push([3, () => this.userCall(scope, r.pick(scope.funcs), 0)]);
    return r.weighted(choices)();
  }

  private userCall(scope: Scope, f: FuncInfo, depth: number): Ast {
    return this.call(f.name, ...f.params.map(() => (depth > 0 ? this.expr(scope, depth - 1) : this.leaf(scope))));
  }

  expr(scope: Scope, depth: number): Ast {
    this.budget--;
    if (depth <= 0 || this.budget <= 0) return this.leaf(scope);
    const r = this.r;
    const sub = (s: Scope = scope) => this.expr(s, depth - 1);
    const choices: [number, () => Ast][] = [
      [3, () => this.leaf(scope)],
      [8, () => ({ k: 'pipe', left: sub(), right: sub() })],
      [4, () => ({ k: 'comma', left: sub(), right: sub() })],
      [5, () => ({ k: 'binop', op: r.pick<BinOp>(['+', '-', '*', '/', '%']), left: sub(), right: sub() })],
      [3, () => ({ k: 'binop', op: r.pick<BinOp>(['==', '!=', '<', '<=', '>', '>=']), left: sub(), right: sub() })],
      [2, () => ({ k: 'binop', op: r.pick<BinOp>(['and', 'or']), left: sub(), right: sub() })],
      [3, () => ({ k: 'binop', op: '//', left: sub(), right: sub() })],
      [1, () => ({ k: 'neg', body: sub() })],
      [2, () => this.field(sub())],
      [2, () => ({ k: 'index', target: r.chance(0.5) ? null : sub(), index: r.chance(0.6) ? this.smallInt() : sub() })],
      [2, () => this.slice(scope, depth)],
      [1, () => ({ k: 'iterate', target: sub() })],
      [3, () => ({ k: 'optional', body: sub() })],
      [3, () => this.ifExpr(scope, depth)],
      [3, () => ({ k: 'try', body: sub(), handler: r.chance(0.6) ? sub() : null })],
      [2, () => this.reduce(scope, depth)],
      [2, () => this.foreach(scope, depth)],
      [1.5, () => this.label(scope, depth)],
      [3, () => this.bind(scope, depth)],
      [2, () => this.def(scope, depth)],
      [1, () => this.recursiveDef(scope, depth)],
      [4, () => this.assign(scope, depth)],
      [2, () => this.interpolation(scope, depth, null)],
      [1.5, () => this.interpolation(scope, depth, r.pick(FORMATS))],
      [3, () => ({ k: 'array', body: r.chance(0.9) ? sub() : null })],
      [3, () => this.object(scope, depth)],
      [10, () => this.builtin(scope, depth)],
      [2, () => this.call('path', this.pathExpr(scope, depth - 1))],
      [3, () => this.bounded(scope, depth)],
      [2, () => this.math(scope, depth)],
    ];
    if (scope.funcs.length) choices.push([3, () => this.userCall(scope, r.pick(scope.funcs), depth - 1)]);
    return r.weighted(choices)();
  }

  private slice(scope: Scope, depth: number): Ast {
    const r = this.r;
    const bound = () => (r.chance(0.25) ? null : r.chance(0.7) ? this.smallInt() : r.chance(0.5) ? this.lit(r.pick(['0.5', '1.5', '1e308', 'null'])) : this.expr(scope, depth - 1));
    let from = bound();
    const to = bound();
    if (from === null && to === null) from = this.smallInt();
    return { k: 'slice', target: r.chance(0.6) ? null : this.expr(scope, depth - 1), from, to };
  }

  private ifExpr(scope: Scope, depth: number): Ast {
    const sub = () => this.expr(scope, depth - 1);
    const branches: [Ast, Ast][] = [[sub(), sub()]];
    while (this.r.chance(0.25)) branches.push([sub(), sub()]);
    return { k: 'if', branches, otherwise: this.r.chance(0.8) ? sub() : null };
  }

  private pattern(names: string[]): Pattern {
    const r = this.r;
    const v = (): Pattern => {
      const name = r.pick(VAR_NAMES);
      names.push(name);
      return { k: 'pvar', name };
    };
    const choice = r.int(0, 9);
    if (choice < 6) return v();
    if (choice < 8) {
      const items: Pattern[] = [];
      const n = r.int(1, 3);
      for (let i = 0; i < n; i++) items.push(r.chance(0.8) ? v() : this.pattern(names));
      return { k: 'parray', items };
    }
    const entries: { key: ObjectKey; value: Pattern | null }[] = [];
    const n = r.int(1, 2);
    for (let i = 0; i < n; i++) {
      const kind = r.int(0, 3);
      if (kind === 0) {
        const name = r.pick(['a', 'b', 'x']);
        names.push(name);
        entries.push({ key: { k: 'var', name }, value: null });
      } else if (kind === 1) entries.push({ key: { k: 'ident', name: r.pick(['a', 'b', 'c', 'if']) }, value: v() });
      else if (kind === 2) entries.push({ key: { k: 'string', str: { k: 'string', format: null, parts: [r.pick(FIELD_NAMES)] } }, value: v() });
      else entries.push({ key: { k: 'expr', expr: this.str(r.pick(['a', 'b', '0'])) }, value: r.chance(0.7) ? v() : this.pattern(names) });
    }
    return { k: 'pobject', entries };
  }

  private withVars(scope: Scope, names: string[]): Scope {
    return { ...scope, vars: [...new Set([...scope.vars, ...names])] };
  }

  private reduce(scope: Scope, depth: number): Ast {
    const names: string[] = [];
    const pattern = this.pattern(names);
    const inner = this.withVars(scope, names);
    return {
      k: 'reduce',
      source: this.expr(scope, depth - 1),
      pattern,
      init: this.r.chance(0.5) ? this.num() : this.expr(scope, depth - 1),
      update: this.expr(inner, depth - 1),
    };
  }

  private foreach(scope: Scope, depth: number): Ast {
    const names: string[] = [];
    const pattern = this.pattern(names);
    const inner = this.withVars(scope, names);
    return {
      k: 'foreach',
      source: this.expr(scope, depth - 1),
      pattern,
      init: this.r.chance(0.5) ? this.num() : this.expr(scope, depth - 1),
      update: this.expr(inner, depth - 1),
      extract: this.r.chance(0.5) ? this.expr(inner, depth - 1) : null,
    };
  }

  private label(scope: Scope, depth: number): Ast {
    const name = this.r.chance(0.7) ? 'out' : this.fresh('l');
    const inner = { ...scope, labels: [...scope.labels, name] };
    let body = this.expr(inner, depth - 1);
    // make sure the label is used now and then
    if (this.r.chance(0.6)) body = { k: 'comma', left: body, right: { k: 'pipe', left: this.expr(inner, depth - 2), right: { k: 'break', name } } };
    return { k: 'label', name, body };
  }

  private bind(scope: Scope, depth: number): Ast {
    const names: string[] = [];
    const patterns = [this.pattern(names)];
    // ?// alternatives: each binds every name of the others (missing ones are null in jq)
    while (this.r.chance(0.2) && patterns.length < 3) patterns.push(this.pattern(names));
    return { k: 'bind', source: this.expr(scope, depth - 1), patterns, body: this.expr(this.withVars(scope, names), depth - 1) };
  }

  private def(scope: Scope, depth: number): Ast {
    const r = this.r;
    const name = this.fresh('f');
    const params: string[] = [];
    const n = r.int(0, 2);
    for (let i = 0; i < n; i++) params.push(r.chance(0.5) ? `$p${i}` : `g${i}`);
    const bodyScope: Scope = {
      vars: [...scope.vars, ...params.filter((p) => p.startsWith('$')).map((p) => p.slice(1))],
      funcs: [...scope.funcs, ...params.filter((p) => !p.startsWith('$')).map((p) => ({ name: p, params: [] }))],
      labels: [], // break cannot cross a function definition
    };
    const body = this.expr(bodyScope, depth - 1);
    const rest = this.expr({ ...scope, funcs: [...scope.funcs, { name, params }] }, depth - 1);
    return { k: 'def', name, params, body, rest };
  }

  /** def f($n): if $n <= 0 then B else S | f($n - 1) end; ... f(k) ... : recursion with a literal bound. */
  private recursiveDef(scope: Scope, depth: number): Ast {
    const r = this.r;
    const name = this.fresh('rec');
    const withFilter = r.chance(0.4);
    const params = withFilter ? ['g', '$n'] : ['$n'];
    const bodyScope: Scope = {
      vars: [...scope.vars, 'n'],
      funcs: withFilter ? [...scope.funcs, { name: 'g', params: [] }] : scope.funcs,
      labels: [],
    };
    const n: Ast = { k: 'var', name: 'n' };
    const recurse: Ast = this.call(name, ...(withFilter ? [this.call('g')] : []), { k: 'binop', op: '-', left: n, right: this.lit('1') });
    const step = this.expr(bodyScope, depth - 2);
    const body: Ast = {
      k: 'if',
      branches: [[{ k: 'binop', op: '<=', left: n, right: this.lit('0') }, this.expr(bodyScope, depth - 2)]],
      otherwise: r.chance(0.5) ? { k: 'pipe', left: step, right: recurse } : { k: 'comma', left: step, right: recurse },
    };
    const callIt = this.call(name, ...(withFilter ? [this.expr(scope, depth - 2)] : []), this.nat(3));
    const rest: Ast = r.chance(0.6) ? callIt : { k: 'array', body: callIt };
    return { k: 'def', name, params, body, rest };
  }

  private assign(scope: Scope, depth: number): Ast {
    const op = this.r.pick<AssignOp>(['=', '|=', '+=', '-=', '*=', '/=', '%=', '//=', '|=', '=']);
    const rhs = this.r.chance(0.4) ? this.leaf(scope) : this.expr(scope, depth - 1);
    return { k: 'assign', op, lhs: this.pathExpr(scope, depth - 1), rhs };
  }

  /** Expressions jq accepts as paths (plus, rarely, one that is not, for jq's error). */
  pathExpr(scope: Scope, depth: number): Ast {
    const r = this.r;
    const leafPath = (): Ast =>
      r.weighted<() => Ast>([
        [2, () => ({ k: 'identity' })],
        [6, () => this.field()],
        [3, () => ({ k: 'index', target: null, index: this.smallInt() })],
        [3, () => ({ k: 'iterate', target: null })],
        [1.5, () => ({ k: 'slice', target: null, from: r.chance(0.7) ? this.smallInt() : null, to: r.chance(0.5) ? this.smallInt() : null })],
        [1, () => ({ k: 'recurse' })],
        [0.5, () => this.call('empty')],
        [1, () => this.call('getpath', this.pathArray())],
        [0.3, () => this.r.chance(0.5) ? this.num() : this.call(r.pick(['tostring', 'keys', 'length']))],
      ])();
    if (depth <= 0) return leafPath();
    const sub = () => this.pathExpr(scope, depth - 1);
    return r.weighted<() => Ast>([
      [4, leafPath],
      [4, () => ({ k: 'pipe', left: sub(), right: sub() })],
      [1.5, () => ({ k: 'comma', left: sub(), right: sub() })],
      [2, () => ({ k: 'optional', body: sub() })],
      [2, () => this.field(sub())],
      [1, () => ({ k: 'index', target: sub(), index: this.smallInt() })],
      [2, () => ({ k: 'pipe', left: sub(), right: this.call('select', this.expr(scope, depth - 1)) })],
      [1, () => ({ k: 'if', branches: [[this.expr(scope, depth - 1), sub()]], otherwise: sub() })],
      [1, () => ({ k: 'binop', op: '//', left: sub(), right: sub() })],
      [1, () => this.call(r.pick(['first', 'last']), sub())],
      [0.5, () => this.call('limit', this.nat(3), sub())],
      [0.5, () => this.call('recurse')],
      [0.5, () => this.call('paths')],
    ])();
  }

  private pathArray(): Ast {
    const r = this.r;
    const items: string[] = [];
    const n = r.int(0, 3);
    for (let i = 0; i < n; i++)
      items.push(r.weighted([[4, JSON.stringify(r.pick(FIELD_NAMES))], [3, String(r.int(-2, 3))], [0.5, 'null'], [0.5, '{"start":1,"end":null}'], [0.3, '1.5']]));
    return this.lit(`[${items.join(',')}]`);
  }

  private interpolation(scope: Scope, depth: number, format: string | null): Ast {
    const parts: (string | Ast)[] = [];
    const n = this.r.int(1, 3);
    for (let i = 0; i < n; i++) {
      if (this.r.chance(0.6)) parts.push(this.r.pick(STRINGS));
      parts.push(this.expr(scope, depth - 1));
    }
    if (this.r.chance(0.5)) parts.push(this.r.pick(STRINGS));
    return { k: 'string', format, parts };
  }

  private object(scope: Scope, depth: number): Ast {
    const r = this.r;
    const entries: ObjectEntry[] = [];
    const n = r.int(0, 3);
    for (let i = 0; i < n; i++) {
      const kind = r.int(0, 9);
      const value = () => this.expr(scope, depth - 1);
      if (kind < 4) entries.push({ key: { k: 'ident', name: r.pick(OBJECT_KEY_IDENTS) }, value: r.chance(0.85) ? value() : null });
      else if (kind < 5 && scope.vars.length) entries.push({ key: { k: 'var', name: r.pick(scope.vars) }, value: null });
      else if (kind < 6) entries.push({ key: { k: 'var', name: '__loc__' }, value: null });
      else if (kind < 8) {
        const parts: (string | Ast)[] = r.chance(0.5) ? [r.pick(FIELD_NAMES)] : [r.pick(STRINGS), this.expr(scope, depth - 1)];
        entries.push({ key: { k: 'string', str: { k: 'string', format: null, parts } }, value: r.chance(0.85) ? value() : null });
      } else entries.push({ key: { k: 'expr', expr: this.expr(scope, depth - 1) }, value: value() });
    }
    return { k: 'object', entries };
  }

  private arg(kind: ArgKind, scope: Scope, depth: number): Ast {
    const r = this.r;
    switch (kind) {
      case 'f':
        return this.expr(scope, depth - 1);
      case 'cond':
        return r.chance(0.5)
          ? { k: 'binop', op: r.pick<BinOp>(['==', '!=', '<', '>', '>=']), left: this.leaf(scope), right: this.leaf(scope) }
          : this.expr(scope, depth - 1);
      case 'num':
        return r.chance(0.7) ? this.num() : this.expr(scope, depth - 1);
      case 'nat':
        return this.nat();
      case 'str':
        return r.chance(0.85) ? this.str(r.pick(STRINGS)) : this.expr(scope, depth - 1);
      case 're':
        return r.chance(0.9) ? this.str(r.pick(REGEXES)) : this.expr(scope, depth - 1);
      case 'flags':
        return r.chance(0.9) ? this.str(r.pick(FLAGS)) : this.lit('null');
      case 'path':
        return this.pathExpr(scope, depth - 1);
      case 'patharr':
        return r.chance(0.8) ? this.pathArray() : this.expr(scope, depth - 1);
      case 'fmt':
        return this.str(r.chance(0.9) ? r.pick(FORMATS) : 'nope');
    }
  }

  private builtin(scope: Scope, depth: number): Ast {
    const r = this.r;
    if (r.chance(0.1)) return this.call('strftime', this.str(r.pick(TIME_FORMATS)));
    if (r.chance(0.05)) return { k: 'pipe', left: this.expr(scope, depth - 1), right: this.call('fromstream', this.call('tostream')) };
    if (r.chance(0.05))
      // 1|truncate_stream(stream): the depth is the input, the stream runs on it too
      return { k: 'array', body: { k: 'pipe', left: this.nat(2), right: this.call('truncate_stream', { k: 'pipe', left: this.expr(scope, depth - 1), right: this.call('tostream') }) } };
    const [name, kinds] = r.pick(WITH_ARGS);
    const call = this.call(name, ...kinds.map((k) => this.arg(k, scope, depth)));
    // most builtins read their input: give them a computed one half of the time
    return r.chance(0.5) ? { k: 'pipe', left: this.expr(scope, depth - 1), right: call } : call;
  }

  private math(scope: Scope, depth: number): Ast {
    const r = this.r;
    if (r.chance(0.1)) return this.call(r.pick(BESSEL_N), this.smallInt(), this.arg('num', scope, depth));
    return this.call(r.pick(MATH2), this.arg('num', scope, depth), this.arg('num', scope, depth));
  }

  /** Generators that could run forever, always bounded. */
  private bounded(scope: Scope, depth: number): Ast {
    const r = this.r;
    const sub = () => this.expr(scope, depth - 1);
    const counterUntil = (): Ast => {
      // [., 0] | until(.[1] >= k; [(.[0] | U), .[1] + 1]) | .[0]
      const counter: Ast = { k: 'index', target: null, index: this.lit('1') };
      const value: Ast = { k: 'index', target: null, index: this.lit('0') };
      const update: Ast = {
        k: 'array',
        body: { k: 'comma', left: { k: 'pipe', left: value, right: sub() }, right: { k: 'binop', op: '+', left: counter, right: this.lit('1') } },
      };
      return {
        k: 'pipe',
        left: { k: 'array', body: { k: 'comma', left: { k: 'identity' }, right: this.lit('0') } },
        right: { k: 'pipe', left: this.call('until', { k: 'binop', op: '>=', left: counter, right: this.nat(3) }, update), right: value },
      };
    };
    const range = (): Ast => {
      const n = r.int(1, 3);
      const args: Ast[] = [];
      for (let i = 0; i < n; i++) args.push(r.chance(0.85) ? this.smallInt() : this.lit(r.pick(['0.5', '1.5', '2.5'])));
      if (n === 3 && r.chance(0.2)) args[2] = this.lit('0');
      return this.call('range', ...args);
    };
    const infinite = (): Ast =>
      r.weighted<() => Ast>([
        [3, () => this.call('repeat', sub())],
        [2, () => this.call('recurse', sub())],
        [1, () => this.call('recurse', sub(), this.arg('cond', scope, depth))],
        [2, () => this.call('while', this.arg('cond', scope, depth), sub())],
        [2, range],
        [1, () => ({ k: 'recurse' })],
        [1, sub],
      ])();
    return r.weighted<() => Ast>([
      [4, () => ({ k: 'array', body: this.call('limit', this.nat(), infinite()) })],
      [2, () => this.call('first', infinite())],
      [1, () => this.call('nth', this.nat(3), infinite())],
      [1, () => ({ k: 'array', body: this.call('limit', this.nat(), infinite()) })],
      [2, () => ({ k: 'array', body: range() })],
      [1, range],
      [2, counterUntil],
      [1, () => this.call('last', r.chance(0.5) ? range() : sub())],
      [1, () => this.call('isempty', infinite())],
    ])();
  }
}
