// The "simple form" of a jq program: most filters in flows are field paths,
// object construction, `//`, `+`, `*` and comparisons with a literal. For
// those, the engine can evaluate the filter on its own values instead of
// sending its input here as JSON and parsing the answer back (host ABI
// `jq_simple`). The form is a small JSON tree:
//
//   ["."]                  identity
//   ["v", literal]         a string, finite number, boolean or null
//   ["i", target, key]     target[key]: `.a`, `."a"`, `.["a"]`, `.[expr]`
//   ["|", left, right]     pipe
//   ["//", left, right]    alternative
//   ["{", k1, e1, ...]     object construction with constant string keys
//   ["+" | "*" | "==" | "!=", left, right]
//
// Every construct here yields exactly one output or an error, so the engine
// can evaluate it without generators. The engine hands anything else it
// meets at run time (an error, a type combination it does not handle, a
// value whose JSON text could differ from this host's) back to `jq_run`;
// this host stays the authority for what a filter means.
import type { Node } from './ast.js';

export type SimpleForm = unknown[];

const BINOPS = new Set(['+', '*', '==', '!=']);
/** bounds the engine's recursion; real flow filters are far smaller */
const MAX_NODES = 256;

/** The program's simple form, or null when it uses anything else. */
export function simpleForm(ast: Node): SimpleForm | null {
  const budget = { nodes: 0 };
  try {
    return convert(ast, budget);
  } catch (e) {
    if (e === NOT_SIMPLE) return null;
    throw e;
  }
}

const NOT_SIMPLE = new Error('not simple');

function convert(n: Node, budget: { nodes: number }): SimpleForm {
  if (++budget.nodes > MAX_NODES) throw NOT_SIMPLE;
  switch (n.kind) {
    case 'identity':
      return ['.'];
    case 'literal':
      if (!isScalar(n.value)) throw NOT_SIMPLE;
      return ['v', n.value];
    case 'index':
      // `.a?` may yield nothing
      if (n.opt) throw NOT_SIMPLE;
      return ['i', convert(n.target, budget), convert(n.key, budget)];
    case 'pipe':
      return ['|', convert(n.left, budget), convert(n.right, budget)];
    case 'alt':
      return ['//', convert(n.left, budget), convert(n.right, budget)];
    case 'binop':
      if (!BINOPS.has(n.op)) throw NOT_SIMPLE;
      return [n.op, convert(n.left, budget), convert(n.right, budget)];
    case 'object': {
      const out: SimpleForm = ['{'];
      const seen = new Set<string>();
      for (const e of n.entries) {
        // constant string keys only, each once: a repeated key's value and place depend on evaluation order
        if (e.key.kind !== 'literal' || typeof e.key.value !== 'string' || seen.has(e.key.value)) throw NOT_SIMPLE;
        seen.add(e.key.value);
        out.push(e.key.value, convert(e.value, budget));
      }
      return out;
    }
    default:
      throw NOT_SIMPLE;
  }
}

function isScalar(v: unknown): boolean {
  return v === null || typeof v === 'string' || typeof v === 'boolean' || (typeof v === 'number' && Number.isFinite(v));
}
