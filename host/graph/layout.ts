/**
 * Positions for a flow graph, computed by ELK's layered algorithm (elkjs):
 * left to right, inputs on a node's left side and outputs on its right, the
 * request phase's nodes in a partition before the response phase's. The
 * bundled build runs in Node and in a browser alike, without a worker.
 */
import ElkBundled from 'elkjs/lib/elk.bundled.js';
import type { ElkExtendedEdge, ElkNode } from 'elkjs/lib/elk-api.js';
import type { FlowGraph, GraphEdge, GraphNode, Phase } from './model.js';

export interface Point {
  x: number;
  y: number;
}

export interface LaidOutPort {
  name: string;
  direction: 'in' | 'out';
  /** the port's centre, absolute */
  x: number;
  y: number;
}

export interface LaidOutNode extends GraphNode {
  x: number;
  y: number;
  width: number;
  height: number;
  ports: LaidOutPort[];
}

export interface LaidOutEdge extends GraphEdge {
  /** start, bends, end */
  points: Point[];
}

/** The box around one phase's nodes. */
export interface PhaseBox {
  phase: Phase;
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface LaidOutGraph {
  width: number;
  height: number;
  nodes: LaidOutNode[];
  edges: LaidOutEdge[];
  phases: PhaseBox[];
}

/** Sizes the renderers draw with (text is measured as a fixed advance per character). */
export const METRICS = {
  charWidth: 7,
  titleHeight: 34,
  portPitch: 16,
  portSize: 8,
  padding: 10,
  phasePadding: 16,
  phaseLabelHeight: 20,
};

/** The bundle is CommonJS: its constructor is also its own `default` (what the typings describe). */
const ELK = (ElkBundled as unknown as { default: typeof ElkBundled.default }).default;

const textWidth = (s: string): number => s.length * METRICS.charWidth;

function nodeSize(n: GraphNode): { width: number; height: number } {
  const longestIn = Math.max(0, ...n.inputs.map(textWidth));
  const longestOut = Math.max(0, ...n.outputs.map(textWidth));
  const width = Math.max(textWidth(n.name), textWidth(n.type) + 2 * METRICS.charWidth, longestIn + longestOut + 3 * METRICS.padding) + 2 * METRICS.padding;
  const rows = Math.max(n.inputs.length, n.outputs.length);
  return { width, height: METRICS.titleHeight + rows * METRICS.portPitch + (rows > 0 ? METRICS.padding : 0) };
}

const portId = (node: string, direction: 'in' | 'out', port: string): string => `${node}\u0000${direction}\u0000${port}`;
const round = (v: number): number => Math.round(v * 10) / 10;

/**
 * ELK's input: each node's ports at fixed places (inputs down the left
 * border, outputs down the right, below the title, centred on the border),
 * one partition per phase.
 */
function elkGraph(graph: FlowGraph): ElkNode {
  const half = METRICS.portSize / 2;
  const rowY = (i: number) => METRICS.titleHeight + i * METRICS.portPitch + (METRICS.portPitch - METRICS.portSize) / 2;
  const children: ElkNode[] = graph.nodes.map((n) => {
    const size = nodeSize(n);
    return {
      id: n.id,
      ...size,
      layoutOptions: { 'elk.portConstraints': 'FIXED_POS', 'elk.partitioning.partition': n.phase === 'request' ? '0' : '1' },
      ports: [
        ...n.inputs.map((p, i) => ({ id: portId(n.id, 'in', p), x: -half, y: rowY(i), width: METRICS.portSize, height: METRICS.portSize, layoutOptions: { 'elk.port.side': 'WEST' } })),
        ...n.outputs.map((p, i) => ({ id: portId(n.id, 'out', p), x: size.width - half, y: rowY(i), width: METRICS.portSize, height: METRICS.portSize, layoutOptions: { 'elk.port.side': 'EAST' } })),
      ],
    };
  });
  const edges: ElkExtendedEdge[] = graph.edges.map((e) => ({
    id: e.id,
    sources: [e.from.port !== undefined ? portId(e.from.node, 'out', e.from.port) : e.from.node],
    targets: [e.to.port !== undefined ? portId(e.to.node, 'in', e.to.port) : e.to.node],
  }));
  return {
    id: 'flow',
    layoutOptions: {
      'elk.algorithm': 'layered',
      'elk.direction': 'RIGHT',
      'elk.partitioning.activate': 'true',
      // laid out as one graph: separate components would ignore the partitions
      'elk.separateConnectedComponents': 'false',
      'elk.edgeRouting': 'ORTHOGONAL',
      'elk.spacing.nodeNode': '30',
      'elk.layered.spacing.nodeNodeBetweenLayers': '60',
      'elk.padding': `[top=${METRICS.phasePadding + METRICS.phaseLabelHeight},left=${METRICS.phasePadding},bottom=${METRICS.phasePadding},right=${METRICS.phasePadding}]`,
    },
    children,
    edges,
  };
}

/** Where ELK put the port: ports sit on the border, so the centre is half a port in. */
function portCentre(child: ElkNode, id: string): Point {
  const p = child.ports!.find((q) => q.id === id)!;
  return { x: round(child.x! + p.x! + METRICS.portSize / 2), y: round(child.y! + p.y! + METRICS.portSize / 2) };
}

function phaseBoxes(nodes: LaidOutNode[]): PhaseBox[] {
  const boxes: PhaseBox[] = [];
  for (const phase of ['request', 'response'] as const) {
    const mine = nodes.filter((n) => n.phase === phase);
    if (mine.length === 0) continue;
    const pad = METRICS.phasePadding;
    const x = Math.min(...mine.map((n) => n.x)) - pad;
    const y = Math.min(...mine.map((n) => n.y)) - pad - METRICS.phaseLabelHeight;
    const right = Math.max(...mine.map((n) => n.x + n.width)) + pad;
    const bottom = Math.max(...mine.map((n) => n.y + n.height)) + pad;
    boxes.push({ phase, x: round(x), y: round(y), width: round(right - x), height: round(bottom - y) });
  }
  return boxes;
}

/** Lays a flow graph out; the result carries the model's fields plus geometry. */
export async function layoutGraph(graph: FlowGraph): Promise<LaidOutGraph> {
  const elk = new ELK();
  const out = await elk.layout(elkGraph(graph));
  const byId = new Map((out.children ?? []).map((c) => [c.id, c]));
  const nodes: LaidOutNode[] = graph.nodes.map((n) => {
    const c = byId.get(n.id)!;
    return {
      ...n,
      x: round(c.x!),
      y: round(c.y!),
      width: round(c.width!),
      height: round(c.height!),
      ports: [
        ...n.inputs.map((p) => ({ name: p, direction: 'in' as const, ...portCentre(c, portId(n.id, 'in', p)) })),
        ...n.outputs.map((p) => ({ name: p, direction: 'out' as const, ...portCentre(c, portId(n.id, 'out', p)) })),
      ],
    };
  });
  const laid = new Map((out.edges ?? []).map((e) => [e.id, e as ElkExtendedEdge]));
  const edges: LaidOutEdge[] = graph.edges.map((e) => {
    const s = laid.get(e.id)?.sections?.[0];
    const points = s ? [s.startPoint, ...(s.bendPoints ?? []), s.endPoint].map((p) => ({ x: round(p.x), y: round(p.y) })) : [];
    return { ...e, points };
  });
  return { width: round(out.width ?? 0), height: round(out.height ?? 0), nodes, edges, phases: phaseBoxes(nodes) };
}
