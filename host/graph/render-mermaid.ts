/**
 * A flow graph as a Mermaid flowchart: one subgraph per phase, nodes with
 * their type and connected ports, `-->` for field-level connections
 * (labelled `output → input`), `==>` for node-wise ones, `-.->` for a
 * branch's then/else. Implicit nodes are drawn as subroutine boxes.
 */
import type { FlowGraph, GraphEdge, GraphNode, Phase } from './model.js';

/** Text inside a quoted Mermaid label: quotes and angle brackets as entities. */
function text(s: string): string {
  return s.replace(/"/g, '#quot;').replace(/</g, '#lt;').replace(/>/g, '#gt;');
}

function nodeLabel(n: GraphNode): string {
  const lines = [`<b>${text(n.name)}</b>`, n.implicit ? '<i>implicit</i>' : text(n.type)];
  if (n.inputs.length > 0) lines.push(`in: ${n.inputs.map(text).join(', ')}`);
  if (n.outputs.length > 0) lines.push(`out: ${n.outputs.map(text).join(', ')}`);
  return lines.join('<br/>');
}

function edgeLine(e: GraphEdge, id: (name: string) => string): string {
  const from = id(e.from.node);
  const to = id(e.to.node);
  if (e.kind === 'control') return `  ${from} -.->|${e.label}| ${to}`;
  const ports = `${e.from.port ?? '*'} → ${e.to.port ?? '*'}`;
  return `  ${from} ${e.kind === 'field' ? '-->' : '==>'}|"${text(ports)}"| ${to}`;
}

export function renderMermaid(graph: FlowGraph): string {
  // Mermaid ids are positional: node names may hold characters Mermaid reads as syntax
  const ids = new Map(graph.nodes.map((n, i) => [n.name, `n${i + 1}`]));
  const id = (name: string) => ids.get(name) ?? name;
  const out = ['flowchart LR'];
  for (const phase of ['request', 'response'] as Phase[]) {
    const mine = graph.nodes.filter((n) => n.phase === phase);
    if (mine.length === 0) continue;
    out.push(`  subgraph ${phase}_phase["${phase} phase"]`, '    direction LR');
    for (const n of mine) out.push(n.implicit ? `    ${id(n.name)}[["${nodeLabel(n)}"]]` : `    ${id(n.name)}["${nodeLabel(n)}"]`);
    out.push('  end');
  }
  for (const e of graph.edges) out.push(edgeLine(e, id));
  return out.join('\n') + '\n';
}
