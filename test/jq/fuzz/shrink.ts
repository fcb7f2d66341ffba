// Shrinks a disagreeing case while it keeps disagreeing the same way: the
// program (replace a sub-tree by one of its children, by `.` or a literal;
// drop object entries, elif/else branches, catch handlers, string parts)
// and the input (drop elements and keys, replace values by scalars). Greedy,
// smallest-first acceptance, bounded by a number of attempts.
import { children, print, size, withChildren, type Ast } from './ast.js';
import { inputSize, isNum, isObj, toJson, type JValue } from './inputs.js';

export type StillFails = (filter: string, inputText: string) => Promise<boolean>;

const SMALL: Ast[] = [{ k: 'identity' }, { k: 'literal', text: 'null' }, { k: 'literal', text: '1' }, { k: 'literal', text: '"a"' }];

/** Simpler forms of one node (not counting its sub-trees' own simplifications). */
function simplerNodes(a: Ast): Ast[] {
  const out: Ast[] = [...children(a)];
  switch (a.k) {
    case 'object':
      a.entries.forEach((_, i) => out.push({ ...a, entries: a.entries.filter((_e, j) => j !== i) }));
      break;
    case 'if':
      if (a.otherwise) out.push({ ...a, otherwise: null });
      if (a.branches.length > 1) a.branches.forEach((_, i) => out.push({ ...a, branches: a.branches.filter((_b, j) => j !== i) }));
      break;
    case 'try':
      if (a.handler) out.push({ ...a, handler: null });
      break;
    case 'foreach':
      if (a.extract) out.push({ ...a, extract: null });
      break;
    case 'string':
      if (a.format) out.push({ ...a, format: null });
      a.parts.forEach((_, i) => out.push({ ...a, parts: a.parts.filter((_p, j) => j !== i) }));
      break;
    case 'bind':
      if (a.patterns.length > 1) a.patterns.forEach((_, i) => out.push({ ...a, patterns: a.patterns.filter((_p, j) => j !== i) }));
      break;
    case 'slice':
      if (a.from && a.to) out.push({ ...a, from: null }, { ...a, to: null });
      break;
    case 'call':
      if (a.args.length) out.push(...a.args.map((_, i) => ({ ...a, args: a.args.map((x, j) => (j === i ? ({ k: 'identity' } as Ast) : x)) })));
      break;
  }
  if (a.k !== 'identity' && a.k !== 'literal') out.push(...SMALL);
  return out;
}

/** Every tree that differs from root by one simplification at one node, big sub-trees first. */
function* astCandidates(root: Ast): Generator<Ast> {
  const at = (node: Ast, replace: (n: Ast) => Ast): Generator<Ast> =>
    (function* () {
      for (const s of simplerNodes(node)) yield replace(s);
      const kids = children(node);
      for (let i = 0; i < kids.length; i++)
        yield* at(kids[i], (n) => replace(withChildren(node, kids.map((k, j) => (j === i ? n : k)))));
    })();
  yield* at(root, (n) => n);
}

function simplerValues(v: JValue): JValue[] {
  const out: JValue[] = [];
  if (Array.isArray(v)) {
    out.push(...v);
    v.forEach((_, i) => out.push(v.filter((_x, j) => j !== i)));
    if (v.length > 2) out.push(v.slice(0, Math.floor(v.length / 2)));
  } else if (isObj(v)) {
    out.push(...v.entries.map(([, x]) => x));
    v.entries.forEach((_, i) => out.push({ entries: v.entries.filter((_e, j) => j !== i) }));
  } else if (typeof v === 'string' && v.length > 1) out.push(v.slice(0, Math.ceil(v.length / 2)), v.slice(1));
  if (v !== null) out.push(null);
  if (!(isNum(v) && (v.num === '0' || v.num === '1'))) out.push({ num: '1' }, { num: '0' });
  if (v !== '') out.push('');
  return out;
}

function* inputCandidates(root: JValue): Generator<JValue> {
  const at = (v: JValue, replace: (n: JValue) => JValue): Generator<JValue> =>
    (function* () {
      for (const s of simplerValues(v)) yield replace(s);
      if (Array.isArray(v)) for (let i = 0; i < v.length; i++) yield* at(v[i], (n) => replace(v.map((x, j) => (j === i ? n : x))));
      else if (isObj(v))
        for (let i = 0; i < v.entries.length; i++)
          yield* at(v.entries[i][1], (n) => replace({ entries: v.entries.map((e, j) => (j === i ? ([e[0], n] as [string, JValue]) : e)) }));
    })();
  yield* at(root, (n) => n);
}

export interface Shrunk {
  ast: Ast | null;
  filter: string;
  input: JValue;
  attempts: number;
}

/** Shrinks filter (as AST, or as text when ast is null) and input while stillFails holds. */
export async function shrink(ast: Ast | null, filterText: string, input: JValue, stillFails: StillFails, maxAttempts = 400): Promise<Shrunk> {
  let attempts = 0;
  let cur = { ast, filter: ast ? print(ast) : filterText, input };
  let progress = true;
  while (progress && attempts < maxAttempts) {
    progress = false;
    // the program
    if (cur.ast) {
      const curSize = size(cur.ast);
      for (const cand of astCandidates(cur.ast)) {
        const text = print(cand);
        if (size(cand) > curSize || (size(cand) === curSize && text.length >= cur.filter.length)) continue;
        if (++attempts > maxAttempts) break;
        if (await stillFails(text, toJson(cur.input))) {
          cur = { ...cur, ast: cand, filter: text };
          progress = true;
          break;
        }
      }
    } else {
      for (const text of textCandidates(cur.filter)) {
        if (++attempts > maxAttempts) break;
        if (await stillFails(text, toJson(cur.input))) {
          cur = { ...cur, filter: text };
          progress = true;
          break;
        }
      }
    }
    // the input
    const curInput = inputSize(cur.input);
    const curText = toJson(cur.input);
    for (const cand of inputCandidates(cur.input)) {
      const text = toJson(cand);
      if (inputSize(cand) > curInput || (inputSize(cand) === curInput && text.length >= curText.length)) continue;
      if (++attempts > maxAttempts) break;
      if (await stillFails(cur.filter, text)) {
        cur = { ...cur, input: cand };
        progress = true;
        break;
      }
    }
  }
  return { ...cur, attempts };
}

/** Shorter versions of a program that exists only as text (a mutated one): drop chunks, halves first. */
function* textCandidates(s: string): Generator<string> {
  for (let len = Math.max(1, Math.floor(s.length / 2)); len >= 1; len = Math.floor(len / 2)) {
    for (let i = 0; i + len <= s.length; i += len) yield s.slice(0, i) + s.slice(i + len);
    if (len === 1) break;
  }
}
