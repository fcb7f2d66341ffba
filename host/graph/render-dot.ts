/**
 * A flow graph in Graphviz DOT: one cluster per phase, record nodes with
 * input ports on the left and output ports on the right, solid edges for
 * field-level connections, bold for node-wise ones, dashed and labelled for
 * a branch's then/else. Implicit nodes are dashed.
 */
import type { FlowGraph, GraphEdge, GraphNode, Phase } from './model.js';

/** A DOT double-quoted string (backslashes pass through: record labels use them as escapes). */
function quote(s: string): string {
  return `"${s.replace(/"/g, '\\"')}"`;
}

/** Text inside a record label field: its syntax characters escaped. */
function field(s: string): string {
  return s.replace(/[\\{}|<> ]/g, (c) => `\\${c}`);
}

/** Port ids inside a record: in_N / out_N by position (names may hold any character). */
function portRef(n: GraphNode | undefined, direction: 'in' | 'out', port: string | undefined): string {
  if (n === undefined || port === undefined) return '';
  const list = direction === 'in' ? n.inputs : n.outputs;
  return `:${direction}_${list.indexOf(port)}`;
}

function record(n: GraphNode): string {
  const title = `${field(n.name)}\\n${n.implicit ? 'implicit' : field(n.type)}`;
  const ins = n.inputs.map((p, i) => `<in_${i}> ${field(p)}`).join('|');
  const outs = n.outputs.map((p, i) => `<out_${i}> ${field(p)}`).join('|');
  // rankdir=LR turns a record sideways: the outer braces lay the three parts left to right
  const parts = [ins ? `{${ins}}` : '', title, outs ? `{${outs}}` : ''].filter(Boolean);
  return `{${parts.join('|')}}`;
}

function edgeLine(e: GraphEdge, nodes: Map<string, GraphNode>): string {
  const from = quote(e.from.node) + portRef(nodes.get(e.from.node), 'out', e.from.port);
  const to = quote(e.to.node) + portRef(nodes.get(e.to.node), 'in', e.to.port);
  const attrs = e.kind === 'control' ? ` [style=dashed, label=${quote(e.label ?? '')}]` : e.kind === 'node' ? ' [style=bold]' : '';
  return `  ${from} -> ${to}${attrs};`;
}

export function renderDot(graph: FlowGraph): string {
  const nodes = new Map(graph.nodes.map((n) => [n.name, n]));
  const out = ['digraph flow {', '  rankdir=LR;', '  node [shape=record, fontname="Helvetica", fontsize=10];', '  edge [fontname="Helvetica", fontsize=9];'];
  for (const phase of ['request', 'response'] as Phase[]) {
    const mine = graph.nodes.filter((n) => n.phase === phase);
    if (mine.length === 0) continue;
    out.push(`  subgraph cluster_${phase} {`, `    label=${quote(`${phase} phase`)};`, '    style=rounded;');
    for (const n of mine) out.push(`    ${quote(n.name)} [label=${quote(record(n))}${n.implicit ? ', style=dashed' : ''}];`);
    out.push('  }');
  }
  for (const e of graph.edges) out.push(edgeLine(e, nodes));
  out.push('}');
  return out.join('\n') + '\n';
}
