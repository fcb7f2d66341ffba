// Which definitions of a `def ...; body` block are used. jq 1.7.1 binds each
// def to what follows it (the later defs, then the body) and throws it away
// when nothing there calls it (parser.y `FuncDef Exp`, block_bind_referenced),
// before names are resolved: a def nothing calls is never checked, so
// `def f: nosuch; .` runs. A call inside a def that is itself unused does not
// count, and neither does a def's call of itself.
import type { FuncDef, Node, Pattern } from './ast.js';

type Defs = Extract<Node, { kind: 'defs' }>;

const kept = new WeakMap<Defs, FuncDef[]>();

/** The defs of the block jq keeps, in their order. */
export function usedDefs(n: Defs): FuncDef[] {
  let used = kept.get(n);
  if (used === undefined) {
    used = [];
    // from the last def back: each sees the kept defs after it, then the body
    for (let i = n.defs.length - 1; i >= 0; i--) {
      const d = n.defs[i];
      if (callsIn(d.name, d.params.length, used, n.body)) used.unshift(d);
    }
    kept.set(n, used);
  }
  return used;
}

/** whether name/arity is called, unbound, in the defs (in order) and then the body */
function callsIn(name: string, arity: number, defs: FuncDef[], body: Node): boolean {
  for (const d of defs) {
    // a def of the same name and arity binds the calls in itself and after it
    if (d.name === name && d.params.length === arity) return false;
    if (!(arity === 0 && d.params.some((p) => p.name === name)) && calls(d.body, name, arity)) return true;
  }
  return calls(body, name, arity);
}

function calls(n: Node, name: string, arity: number): boolean {
  switch (n.kind) {
    case 'identity':
    case 'recurseAll':
    case 'literal':
    case 'var':
    case 'break':
    case 'format':
    case 'loc':
      return false;
    case 'call':
      if (n.name === name && n.args.length === arity) return true;
      return n.args.some((a) => calls(a, name, arity));
    case 'defs':
      return callsIn(name, arity, usedDefs(n), n.body);
    case 'index':
      return calls(n.target, name, arity) || calls(n.key, name, arity);
    case 'slice':
      return calls(n.target, name, arity) || (n.from !== null && calls(n.from, name, arity)) || (n.to !== null && calls(n.to, name, arity));
    case 'iterate':
      return calls(n.target, name, arity);
    case 'neg':
      return calls(n.operand, name, arity);
    case 'pipe':
    case 'comma':
    case 'binop':
    case 'and':
    case 'or':
    case 'alt':
    case 'assign':
      return calls(n.left, name, arity) || calls(n.right, name, arity);
    case 'if':
      return calls(n.cond, name, arity) || calls(n.then, name, arity) || (n.else !== null && calls(n.else, name, arity));
    case 'try':
      return calls(n.body, name, arity) || (n.handler !== null && calls(n.handler, name, arity));
    case 'reduce':
      return (
        calls(n.source, name, arity) ||
        [n.pattern, ...n.alternatives].some((p) => inPattern(p, name, arity)) ||
        calls(n.init, name, arity) ||
        calls(n.update, name, arity)
      );
    case 'foreach':
      return (
        calls(n.source, name, arity) ||
        [n.pattern, ...n.alternatives].some((p) => inPattern(p, name, arity)) ||
        calls(n.init, name, arity) ||
        calls(n.update, name, arity) ||
        (n.extract !== null && calls(n.extract, name, arity))
      );
    case 'bind':
      return calls(n.source, name, arity) || n.patterns.some((p) => inPattern(p, name, arity)) || calls(n.body, name, arity);
    case 'label':
      return calls(n.body, name, arity);
    case 'object':
      return n.entries.some((e) => calls(e.key, name, arity) || calls(e.value, name, arity));
    case 'array':
      return n.body !== null && calls(n.body, name, arity);
    case 'string':
      return n.parts.some((p) => typeof p !== 'string' && calls(p, name, arity));
  }
}

function inPattern(p: Pattern, name: string, arity: number): boolean {
  switch (p.kind) {
    case 'pvar':
      return false;
    case 'parray':
      return p.elems.some((e) => inPattern(e, name, arity));
    case 'pobject':
      return p.entries.some((e) => (e.key !== undefined && calls(e.key, name, arity)) || (e.value !== undefined && inPattern(e.value, name, arity)));
  }
}
