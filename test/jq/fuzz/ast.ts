// The fuzzer's jq AST and its printer. Generated programs are trees (so the
// shrinker can replace and drop parts); the printer turns a tree into jq text,
// adding parentheses only where jq 1.7.1's precedence table needs them, so
// the parsers of both engines are exercised on ordinary, unparenthesised text.

export type BinOp = '+' | '-' | '*' | '/' | '%' | '==' | '!=' | '<' | '<=' | '>' | '>=' | 'and' | 'or' | '//';
export type AssignOp = '=' | '|=' | '+=' | '-=' | '*=' | '/=' | '%=' | '//=';

export type Ast =
  | { k: 'identity' }
  | { k: 'recurse' } // ..
  | { k: 'literal'; text: string } // JSON text of a scalar or constant; numbers are never negative (see neg)
  | { k: 'var'; name: string }
  | { k: 'field'; target: Ast | null; name: string; quoted: boolean } // .name, ."name", t.name
  | { k: 'index'; target: Ast | null; index: Ast } // .[i]
  | { k: 'slice'; target: Ast | null; from: Ast | null; to: Ast | null }
  | { k: 'iterate'; target: Ast | null } // .[]
  | { k: 'optional'; body: Ast } // e?
  | { k: 'pipe'; left: Ast; right: Ast }
  | { k: 'comma'; left: Ast; right: Ast }
  | { k: 'binop'; op: BinOp; left: Ast; right: Ast }
  | { k: 'neg'; body: Ast }
  | { k: 'if'; branches: [Ast, Ast][]; otherwise: Ast | null }
  | { k: 'try'; body: Ast; handler: Ast | null }
  | { k: 'reduce'; source: Ast; pattern: Pattern; init: Ast; update: Ast }
  | { k: 'foreach'; source: Ast; pattern: Pattern; init: Ast; update: Ast; extract: Ast | null }
  | { k: 'label'; name: string; body: Ast }
  | { k: 'break'; name: string }
  | { k: 'bind'; source: Ast; patterns: Pattern[]; body: Ast } // source as p1 ?// p2 | body
  | { k: 'def'; name: string; params: string[]; body: Ast; rest: Ast } // params: "g" (filter) or "$x"
  | { k: 'call'; name: string; args: Ast[] }
  | { k: 'assign'; op: AssignOp; lhs: Ast; rhs: Ast }
  | { k: 'string'; format: string | null; parts: (string | Ast)[] } // "a\(e)b", @fmt "..."
  | { k: 'format'; name: string } // @base64 as a filter
  | { k: 'array'; body: Ast | null }
  | { k: 'object'; entries: ObjectEntry[] };

export type Pattern =
  | { k: 'pvar'; name: string }
  | { k: 'parray'; items: Pattern[] }
  | { k: 'pobject'; entries: { key: ObjectKey; value: Pattern | null }[] };

/** value null: the shorthand forms {a}, {$x}, {"a"} */
export interface ObjectEntry {
  key: ObjectKey;
  value: Ast | null;
}

export type ObjectKey =
  | { k: 'ident'; name: string } // also keywords: {if: 1}
  | { k: 'var'; name: string } // {$x}
  | { k: 'string'; str: Ast & { k: 'string' } } // {"a\(1)": v}
  | { k: 'expr'; expr: Ast }; // {(e): v}

// Precedence levels of jq.y (low to high); a child printed below its slot's level gets parentheses.
const P_DEF = 0;
const P_PIPE = 1;
const P_COMMA = 2;
const P_ALT = 3;
const P_ASSIGN = 4;
const P_OR = 5;
const P_AND = 6;
const P_CMP = 7;
const P_ADD = 8;
const P_MUL = 9;
const P_KEYWORD = 10; // try, if, reduce, foreach: operands, but never postfix targets unparenthesised
const P_TERM = 11;

const BIN_LEVEL: Record<BinOp, number> = {
  '//': P_ALT,
  or: P_OR,
  and: P_AND,
  '==': P_CMP,
  '!=': P_CMP,
  '<': P_CMP,
  '<=': P_CMP,
  '>': P_CMP,
  '>=': P_CMP,
  '+': P_ADD,
  '-': P_ADD,
  '*': P_MUL,
  '/': P_MUL,
  '%': P_MUL,
};

function level(a: Ast): number {
  switch (a.k) {
    case 'def':
      return P_DEF;
    case 'pipe':
    case 'bind':
    case 'label':
      return P_PIPE;
    case 'comma':
      return P_COMMA;
    case 'assign':
      return P_ASSIGN;
    case 'binop':
      return BIN_LEVEL[a.op];
    case 'neg':
      return P_ADD;
    case 'try':
    case 'if':
    case 'reduce':
    case 'foreach':
    case 'recurse':
    case 'break':
      return P_KEYWORD;
    default:
      return P_TERM;
  }
}

const IDENT = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

export function print(a: Ast, min = 0): string {
  const s = printBare(a);
  return level(a) < min ? `(${s})` : s;
}

function isNumber(a: Ast): a is Ast & { k: 'literal' } {
  return a.k === 'literal' && /^[0-9]/.test(a.text);
}

/** the target of .x, [i], [], ?: a term; a number in parentheses (1.a would lex as a number) */
function postfixTarget(t: Ast | null): string {
  if (t === null) return '';
  return isNumber(t) ? `(${t.text})` : print(t, P_TERM);
}

function printBare(a: Ast): string {
  switch (a.k) {
    case 'identity':
      return '.';
    case 'recurse':
      return '..';
    case 'literal':
      return a.text;
    case 'var':
      return '$' + a.name;
    case 'field': {
      const key = a.quoted || !IDENT.test(a.name) ? JSON.stringify(a.name) : a.name;
      return `${postfixTarget(a.target)}.${key}`;
    }
    case 'index':
      return a.target === null ? `.[${print(a.index, P_PIPE)}]` : `${postfixTarget(a.target)}[${print(a.index, P_PIPE)}]`;
    case 'slice': {
      const inner = `${a.from ? print(a.from, P_PIPE) : ''}:${a.to ? print(a.to, P_PIPE) : ''}`;
      return a.target === null ? `.[${inner}]` : `${postfixTarget(a.target)}[${inner}]`;
    }
    case 'iterate':
      return a.target === null ? '.[]' : `${postfixTarget(a.target)}[]`;
    case 'optional':
      return `${postfixTarget(a.body)}?`;
    case 'pipe':
      return `${print(a.left, P_COMMA)} | ${print(a.right, P_PIPE)}`;
    case 'comma':
      return `${print(a.left, P_COMMA)}, ${print(a.right, P_COMMA + 1)}`;
    case 'binop': {
      const l = BIN_LEVEL[a.op];
      if (a.op === '//') return `${print(a.left, l + 1)} // ${print(a.right, l)}`;
      if (l === P_CMP) return `${print(a.left, l + 1)} ${a.op} ${print(a.right, l + 1)}`;
      return `${print(a.left, l)} ${a.op} ${print(a.right, l + 1)}`;
    }
    case 'neg':
      return `-${isNumber(a.body) ? printBare(a.body) : print(a.body, P_TERM)}`;
    case 'if': {
      let s = '';
      a.branches.forEach(([c, t], i) => {
        s += `${i === 0 ? 'if' : ' elif'} ${print(c, P_PIPE)} then ${print(t, P_PIPE)}`;
      });
      if (a.otherwise) s += ` else ${print(a.otherwise, P_PIPE)}`;
      return s + ' end';
    }
    case 'try':
      return `try ${print(a.body, P_TERM)}${a.handler ? ` catch ${print(a.handler, P_TERM)}` : ''}`;
    case 'reduce':
      return `reduce ${print(a.source, P_TERM)} as ${printPattern(a.pattern)} (${print(a.init, P_PIPE)}; ${print(a.update, P_PIPE)})`;
    case 'foreach':
      return (
        `foreach ${print(a.source, P_TERM)} as ${printPattern(a.pattern)} (${print(a.init, P_PIPE)}; ${print(a.update, P_PIPE)}` +
        `${a.extract ? `; ${print(a.extract, P_PIPE)}` : ''})`
      );
    case 'label':
      return `label $${a.name} | ${print(a.body, P_PIPE)}`;
    case 'break':
      return `break $${a.name}`;
    case 'bind':
      return `${print(a.source, P_TERM)} as ${a.patterns.map(printPattern).join(' ?// ')} | ${print(a.body, P_PIPE)}`;
    case 'def': {
      const params = a.params.length ? `(${a.params.join('; ')})` : '';
      return `def ${a.name}${params}: ${print(a.body, P_PIPE)}; ${print(a.rest, P_PIPE)}`;
    }
    case 'call':
      return a.args.length ? `${a.name}(${a.args.map((x) => print(x, P_PIPE)).join('; ')})` : a.name;
    case 'assign':
      return `${print(a.lhs, P_ASSIGN + 1)} ${a.op} ${print(a.rhs, P_ASSIGN + 1)}`;
    case 'string':
      return (a.format ? `@${a.format} ` : '') + printString(a.parts);
    case 'format':
      return '@' + a.name;
    case 'array':
      return a.body ? `[${print(a.body, P_PIPE)}]` : '[]';
    case 'object':
      return `{${a.entries.map(printEntry).join(', ')}}`;
  }
}

function printString(parts: (string | Ast)[]): string {
  let s = '"';
  for (const p of parts) s += typeof p === 'string' ? JSON.stringify(p).slice(1, -1) : `\\(${print(p, P_PIPE)})`;
  return s + '"';
}

function printKey(k: ObjectKey): string {
  switch (k.k) {
    case 'ident':
      return k.name;
    case 'var':
      return '$' + k.name;
    case 'string':
      return printBare(k.str);
    case 'expr':
      return `(${print(k.expr, P_PIPE)})`;
  }
}

function printEntry(e: ObjectEntry): string {
  // object values are jq's ExpD: a term (or a pipe of terms); anything else in parentheses
  return e.value === null ? printKey(e.key) : `${printKey(e.key)}: ${print(e.value, P_TERM)}`;
}

export function printPattern(p: Pattern): string {
  switch (p.k) {
    case 'pvar':
      return '$' + p.name;
    case 'parray':
      return `[${p.items.map(printPattern).join(', ')}]`;
    case 'pobject':
      return `{${p.entries.map((e) => (e.value === null ? printKey(e.key) : `${printKey(e.key)}: ${printPattern(e.value)}`)).join(', ')}}`;
  }
}

/** Number of nodes: the shrinker's measure of size. */
export function size(a: Ast): number {
  let n = 0;
  forEachChild(a, (c) => {
    n += size(c);
  });
  return n + 1;
}

/** Calls f on each direct sub-expression (patterns' key expressions included). */
export function forEachChild(a: Ast, f: (c: Ast) => void): void {
  for (const c of children(a)) f(c);
}

export function children(a: Ast): Ast[] {
  switch (a.k) {
    case 'field':
    case 'iterate':
      return a.target ? [a.target] : [];
    case 'index':
      return a.target ? [a.target, a.index] : [a.index];
    case 'slice':
      return [a.target, a.from, a.to].filter((x): x is Ast => x !== null);
    case 'optional':
    case 'neg':
      return [a.body];
    case 'pipe':
    case 'comma':
    case 'binop':
      return [a.left, a.right];
    case 'if':
      return [...a.branches.flat(), ...(a.otherwise ? [a.otherwise] : [])];
    case 'try':
      return a.handler ? [a.body, a.handler] : [a.body];
    case 'reduce':
      return [a.source, a.init, a.update];
    case 'foreach':
      return [a.source, a.init, a.update, ...(a.extract ? [a.extract] : [])];
    case 'label':
      return [a.body];
    case 'bind':
      return [a.source, a.body];
    case 'def':
      return [a.body, a.rest];
    case 'call':
      return a.args;
    case 'assign':
      return [a.lhs, a.rhs];
    case 'string':
      return a.parts.filter((p): p is Ast => typeof p !== 'string');
    case 'array':
      return a.body ? [a.body] : [];
    case 'object':
      return a.entries.flatMap((e) => [
        ...(e.key.k === 'expr' ? [e.key.expr] : e.key.k === 'string' ? [e.key.str] : []),
        ...(e.value ? [e.value] : []),
      ]);
    default:
      return [];
  }
}

/** A copy of a with its direct sub-expressions replaced, in the order children(a) lists them. */
export function withChildren(a: Ast, kids: Ast[]): Ast {
  let i = 0;
  const next = () => kids[i++];
  switch (a.k) {
    case 'field':
      return a.target ? { ...a, target: next() } : a;
    case 'iterate':
      return a.target ? { ...a, target: next() } : a;
    case 'index':
      return a.target ? { ...a, target: next(), index: next() } : { ...a, index: next() };
    case 'slice':
      return { ...a, target: a.target ? next() : null, from: a.from ? next() : null, to: a.to ? next() : null };
    case 'optional':
    case 'neg':
      return { ...a, body: next() };
    case 'pipe':
    case 'comma':
    case 'binop':
      return { ...a, left: next(), right: next() };
    case 'if':
      return { ...a, branches: a.branches.map(() => [next(), next()] as [Ast, Ast]), otherwise: a.otherwise ? next() : null };
    case 'try':
      return { ...a, body: next(), handler: a.handler ? next() : null };
    case 'reduce':
      return { ...a, source: next(), init: next(), update: next() };
    case 'foreach':
      return { ...a, source: next(), init: next(), update: next(), extract: a.extract ? next() : null };
    case 'label':
      return { ...a, body: next() };
    case 'bind':
      return { ...a, source: next(), body: next() };
    case 'def':
      return { ...a, body: next(), rest: next() };
    case 'call':
      return { ...a, args: a.args.map(() => next()) };
    case 'assign':
      return { ...a, lhs: next(), rhs: next() };
    case 'string':
      return { ...a, parts: a.parts.map((p) => (typeof p === 'string' ? p : next())) };
    case 'array':
      return a.body ? { ...a, body: next() } : a;
    case 'object':
      return {
        ...a,
        entries: a.entries.map((e) => {
          const key: ObjectKey =
            e.key.k === 'expr' ? { k: 'expr', expr: next() } : e.key.k === 'string' ? { k: 'string', str: next() as Ast & { k: 'string' } } : e.key;
          return { key, value: e.value ? next() : null };
        }),
      };
    default:
      return a;
  }
}
