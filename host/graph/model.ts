/**
 * A flow as a graph: nodes with their ports, connections and branch
 * control edges, each node in its phase. Built from a configuration the
 * engine has accepted (its configure report gives every declared node's
 * phase), so this only reads how the configuration writes connections
 * (docs/flows.md, "Connections"); which connections are valid is the
 * engine's call. Plain data, no I/O: the CLI and a browser page share it.
 */

export type Phase = 'request' | 'response';

/** A node as drawn: declared or implicit, with the ports the flow connects. */
export interface GraphNode {
  /** unique id (the node's name) */
  id: string;
  name: string;
  type: string;
  /** request, service_request, service_response, response, vault */
  implicit: boolean;
  phase: Phase;
  /** 1-based position in the configuration; 0 for implicit nodes */
  index: number;
  /** named input ports that something connects to, in order of appearance */
  inputs: string[];
  /** named output ports that connect somewhere, in order of appearance */
  outputs: string[];
}

/** `field`: port to port; `node`: a node-wise end (the node as a whole); `control`: a branch's then/else. */
export type EdgeKind = 'field' | 'node' | 'control';

export interface GraphEdge {
  id: string;
  kind: EdgeKind;
  from: { node: string; port?: string };
  to: { node: string; port?: string };
  /** `then` / `else` for control edges */
  label?: string;
}

export interface FlowGraph {
  nodes: GraphNode[];
  edges: GraphEdge[];
}

/** The engine's report on a node (Flow.nodes in host/flow.ts). */
export interface ReportedNode {
  index: number;
  name: string;
  type: string;
  phase: string;
}

/** The implicit nodes and the phase they belong to. */
export const IMPLICIT_NODES: Record<string, Phase> = {
  request: 'request',
  vault: 'request',
  service_request: 'request',
  service_response: 'response',
  response: 'response',
};

interface RawNode {
  name?: unknown;
  type?: unknown;
  input?: unknown;
  inputs?: unknown;
  output?: unknown;
  outputs?: unknown;
  then?: unknown;
  else?: unknown;
}

/** `NODE`, `NODE.$self` (the node as a whole) or `NODE.FIELD`: the first dot splits. */
function splitLabel(label: string): { node: string; port?: string } {
  const t = label.trim();
  const dot = t.indexOf('.');
  if (dot < 0) return { node: t };
  const port = t.slice(dot + 1).trim();
  return port === '$self' ? { node: t.slice(0, dot).trim() } : { node: t.slice(0, dot).trim(), port };
}

/**
 * `inputs` / `outputs` as [port, label] pairs: a map (3.11+), or a list of
 * one-entry maps or bare labels (3.10; a bare label names its port after itself).
 */
function portLinks(value: unknown): Array<[string, string]> {
  if (Array.isArray(value)) {
    return value.flatMap((item): Array<[string, string]> => {
      if (typeof item === 'string') return [[item, item]];
      if (item !== null && typeof item === 'object') return Object.entries(item).filter((e): e is [string, string] => typeof e[1] === 'string');
      return [];
    });
  }
  if (value !== null && typeof value === 'object') return Object.entries(value).filter((e): e is [string, string] => typeof e[1] === 'string');
  return [];
}

function addPort(list: string[], port: string | undefined): void {
  if (port !== undefined && !list.includes(port)) list.push(port);
}

/**
 * The graph of a plugin config the engine accepted; `reported` is the
 * engine's node list (names, types and phases of the declared nodes).
 */
export function flowGraph(config: { nodes?: unknown }, reported: ReportedNode[]): FlowGraph {
  const raw = (Array.isArray(config.nodes) ? config.nodes : []) as RawNode[];
  const nodes = new Map<string, GraphNode>();
  for (const r of reported) {
    nodes.set(r.name, { id: r.name, name: r.name, type: r.type, implicit: false, phase: r.phase === 'response' ? 'response' : 'request', index: r.index, inputs: [], outputs: [] });
  }
  const edges: GraphEdge[] = [];
  const node = (name: string): GraphNode => {
    let n = nodes.get(name);
    if (!n) {
      // only implicit nodes can be missing from the report of an accepted flow
      n = { id: name, name, type: name, implicit: true, phase: IMPLICIT_NODES[name] ?? 'request', index: 0, inputs: [], outputs: [] };
      nodes.set(name, n);
    }
    return n;
  };
  const connect = (from: { node: string; port?: string }, to: { node: string; port?: string }): void => {
    addPort(node(from.node).outputs, from.port);
    addPort(node(to.node).inputs, to.port);
    const kind: EdgeKind = from.port !== undefined && to.port !== undefined ? 'field' : 'node';
    edges.push({ id: `e${edges.length + 1}`, kind, from, to });
  };
  raw.forEach((r, i) => {
    const self = reported[i]?.name ?? (typeof r.name === 'string' ? r.name : `node_${i + 1}`);
    for (const [port, label] of portLinks(r.inputs)) connect(splitLabel(label), { node: self, port });
    if (typeof r.input === 'string') connect(splitLabel(r.input), { node: self });
    for (const [port, label] of portLinks(r.outputs)) connect({ node: self, port }, splitLabel(label));
    if (typeof r.output === 'string') connect({ node: self }, splitLabel(r.output));
    for (const label of ['then', 'else'] as const) {
      const targets = r[label];
      if (!Array.isArray(targets)) continue;
      for (const t of targets) if (typeof t === 'string') edges.push({ id: `e${edges.length + 1}`, kind: 'control', from: { node: self }, to: { node: t }, label });
    }
  });
  // declared nodes in configuration order, then the implicit ones in a fixed order
  const implicitOrder = Object.keys(IMPLICIT_NODES);
  const ordered = [...nodes.values()].sort((a, b) => {
    if (a.implicit !== b.implicit) return a.implicit ? 1 : -1;
    return a.implicit ? implicitOrder.indexOf(a.name) - implicitOrder.indexOf(b.name) : a.index - b.index;
  });
  return { nodes: ordered, edges };
}
