/**
 * Flow graphs for any front end (the CLI's `datakit graph`, a browser
 * page): the model from a configuration and the engine's node report, an
 * elkjs layout, and text or SVG renderings. Nothing here does I/O.
 */
export { flowGraph, IMPLICIT_NODES, type EdgeKind, type FlowGraph, type GraphEdge, type GraphNode, type Phase, type ReportedNode } from './model.js';
export { layoutGraph, METRICS, type LaidOutEdge, type LaidOutGraph, type LaidOutNode, type LaidOutPort, type PhaseBox, type Point } from './layout.js';
export { renderMermaid } from './render-mermaid.js';
export { renderDot } from './render-dot.js';
export { renderSvg } from './render-svg.js';
