// Which parts of its input a jq program can observe.
//
// A flow's jq node often reads a few fields of a large value (a call's whole
// response body). When every use of the input goes through constant field
// paths (`.a.b`, `."x"`, `.["y"]`), the engine can hand jq only those paths
// instead of the whole value, so the host parses a few bytes instead of the
// whole body. The analysis is conservative: anything it does not understand
// marks the whole value at that point as used.
//
// Why projection cannot change a result: every value that reaches an
// operation other than a constant `.key` lookup is a recorded path's value,
// which the projection keeps whole; objects on the way to a recorded path
// keep only the keys the program looks up, and only constant lookups ever see
// them. A missing key reads null either way, and a non-object on the way is
// kept whole, so lookups into it fail (or give null) exactly as before.
import type { Node } from './ast.js';

/**
 * The constant input paths a program reads, or null when it may observe its
 * whole input (then nothing can be left out). Paths are lists of object keys
 * from the input root; the value at each path is used whole.
 */
export function inputPaths(ast: Node): string[][] | null {
  try {
    if (!projectable(ast)) return null;
    const paths: string[][] = [];
    let whole = false;
    walk(ast, [], (p) => {
      if (p.length === 0) whole = true;
      else paths.push(p);
    });
    return whole ? null : dedupe(paths);
  } catch (e) {
    // a tree too deep to walk here (a 100,000-term sum): the whole input
    if (e instanceof RangeError) return null;
    throw e;
  }
}

/** Constructs the analysis does not follow: variables (named inputs are
 * bound as $variables too), definitions, reductions, assignments, labels. */
function projectable(n: Node): boolean {
  switch (n.kind) {
    case 'var':
    case 'bind':
    case 'reduce':
    case 'foreach':
    case 'defs':
    case 'assign':
    case 'label':
    case 'break':
    case 'loc':
      return false;
    default:
      return children(n).every(projectable);
  }
}

function children(n: Node): Node[] {
  switch (n.kind) {
    case 'index':
      return [n.target, n.key];
    case 'slice':
      return [n.target, ...(n.from ? [n.from] : []), ...(n.to ? [n.to] : [])];
    case 'iterate':
    case 'neg':
      return [n.kind === 'iterate' ? n.target : n.operand];
    case 'pipe':
    case 'comma':
    case 'binop':
    case 'and':
    case 'or':
    case 'alt':
      return [n.left, n.right];
    case 'if':
      return [n.cond, n.then, ...(n.else ? [n.else] : [])];
    case 'try':
      return [n.body, ...(n.handler ? [n.handler] : [])];
    case 'call':
      return n.args;
    case 'object':
      return n.entries.flatMap((e) => [e.key, e.value]);
    case 'array':
      return n.body ? [n.body] : [];
    case 'string':
      return n.parts.filter((p): p is Node => typeof p !== 'string');
    default:
      return [];
  }
}

/** `.`, `.a`, `.a.b`, `."x"`, `.["y"]`: the keys from the current input, or null. */
function chainOf(n: Node): string[] | null {
  if (n.kind === 'identity') return [];
  if (n.kind === 'index' && n.key.kind === 'literal' && typeof n.key.value === 'string') {
    const base = chainOf(n.target);
    return base === null ? null : [...base, n.key.value];
  }
  return null;
}

/** Records, for `n` evaluated with the input's value at `prefix` as `.`, every path whose value it may use whole. */
function walk(n: Node, prefix: string[], record: (path: string[]) => void): void {
  const chain = chainOf(n);
  if (chain !== null) {
    record([...prefix, ...chain]);
    return;
  }
  switch (n.kind) {
    case 'literal':
      return;
    case 'call':
      // `empty` produces nothing and reads nothing
      if (n.name === 'empty' && n.args.length === 0) return;
      record(prefix);
      return;
    case 'pipe': {
      const left = chainOf(n.left);
      if (left !== null) walk(n.right, [...prefix, ...left], record);
      // otherwise the right side sees the left side's outputs: fresh values
      // or recorded (whole) ones, never the input itself
      else walk(n.left, prefix, record);
      return;
    }
    case 'try':
      // the handler's input is the error message
      walk(n.body, prefix, record);
      return;
    case 'index':
    case 'slice':
    case 'iterate':
    case 'neg':
    case 'comma':
    case 'binop':
    case 'and':
    case 'or':
    case 'alt':
    case 'if':
    case 'object':
    case 'array':
    case 'string':
      // a dynamic key, a slice or `.[]` uses its target whole (the target's
      // own walk records it), and so does every operand
      for (const c of children(n)) walk(c, prefix, record);
      return;
    default:
      // calls (builtins see `.` and evaluate their arguments on values
      // derived from it), formats, `..`: the current value, whole
      record(prefix);
  }
}

/** Drops paths below another recorded path (its value is kept whole anyway) and repeats. */
function dedupe(paths: string[][]): string[][] {
  const sorted = [...paths].sort((a, b) => a.length - b.length);
  const out: string[][] = [];
  for (const p of sorted) {
    if (out.some((q) => q.length <= p.length && q.every((k, i) => k === p[i]))) continue;
    out.push(p);
  }
  return out;
}

