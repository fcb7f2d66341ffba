/**
 * A laid-out flow graph as a standalone SVG: a shaded box per phase, one
 * `<g class="node">` per node (its box, name, type and ports), one `<path>`
 * per connection (class `edge field|node|control`, then/else labelled).
 * No scripts, no external resources; styles are inline attributes so the
 * file looks the same anywhere.
 */
import { METRICS, type LaidOutGraph, type LaidOutNode, type Point } from './layout.js';

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

const EDGE_STYLE = {
  field: 'stroke="#555" stroke-width="1.2" fill="none" marker-end="url(#arrow)"',
  node: 'stroke="#222" stroke-width="2.4" fill="none" marker-end="url(#arrow)"',
  control: 'stroke="#b5651d" stroke-width="1.2" stroke-dasharray="5 3" fill="none" marker-end="url(#arrow)"',
};

const PHASE_FILL = { request: '#eef4fc', response: '#fcf3ea' };

function path(points: Point[]): string {
  return points.map((p, i) => `${i === 0 ? 'M' : 'L'}${p.x} ${p.y}`).join(' ');
}

function node(n: LaidOutNode): string {
  const cx = n.x + n.width / 2;
  const parts = [
    `<g class="node${n.implicit ? ' implicit' : ''}" data-name="${esc(n.name)}" data-type="${esc(n.type)}" data-phase="${n.phase}">`,
    `<rect x="${n.x}" y="${n.y}" width="${n.width}" height="${n.height}" rx="6" fill="${n.implicit ? '#f6f6f6' : '#fff'}" stroke="#333"${n.implicit ? ' stroke-dasharray="4 3"' : ''}/>`,
    `<text x="${cx}" y="${n.y + 15}" text-anchor="middle" font-weight="bold">${esc(n.name)}</text>`,
    `<text x="${cx}" y="${n.y + 28}" text-anchor="middle" fill="#666">${esc(n.implicit ? 'implicit' : n.type)}</text>`,
  ];
  const half = METRICS.portSize / 2;
  for (const p of n.ports) {
    const labelX = p.direction === 'in' ? p.x + half + 4 : p.x - half - 4;
    parts.push(
      `<rect class="port ${p.direction}" x="${p.x - half}" y="${p.y - half}" width="${METRICS.portSize}" height="${METRICS.portSize}" fill="#333"/>`,
      `<text x="${labelX}" y="${p.y + 4}" text-anchor="${p.direction === 'in' ? 'start' : 'end'}" font-size="10">${esc(p.name)}</text>`,
    );
  }
  parts.push('</g>');
  return parts.join('');
}

export function renderSvg(graph: LaidOutGraph): string {
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${graph.width}" height="${graph.height}" viewBox="0 0 ${graph.width} ${graph.height}" font-family="Helvetica, Arial, sans-serif" font-size="11">`,
    '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerUnits="userSpaceOnUse" markerWidth="9" markerHeight="9" orient="auto-start-reverse"><path d="M0 0 L10 5 L0 10 z" fill="#444"/></marker></defs>',
  ];
  for (const b of graph.phases) {
    out.push(
      `<rect class="phase" data-phase="${b.phase}" x="${b.x}" y="${b.y}" width="${b.width}" height="${b.height}" rx="10" fill="${PHASE_FILL[b.phase]}" stroke="#ccc"/>`,
      `<text class="phase-label" x="${b.x + 10}" y="${b.y + 15}" fill="#666">${b.phase} phase</text>`,
    );
  }
  for (const n of graph.nodes) out.push(node(n));
  for (const e of graph.edges) {
    if (e.points.length < 2) continue;
    out.push(`<path class="edge ${e.kind}" data-from="${esc(e.from.node)}" data-to="${esc(e.to.node)}" d="${path(e.points)}" ${EDGE_STYLE[e.kind]}/>`);
    if (e.label) {
      const mid = e.points[Math.floor(e.points.length / 2)];
      out.push(`<text class="edge-label" x="${mid.x + 4}" y="${mid.y - 4}" fill="#b5651d">${esc(e.label)}</text>`);
    }
  }
  out.push('</svg>');
  return out.join('\n') + '\n';
}
