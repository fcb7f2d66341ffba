// Markdown table and a hand-written SVG bar chart for bench/run.js results.

const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const fmt = (n) => (n === undefined || n === null ? '-' : typeof n === 'number' ? String(n) : n);

export function markdownTable(rows) {
  const lines = ['| # | target | req/s (median) | p50 ms | p99 ms | errors |', '|---|---|---:|---:|---:|---:|'];
  for (const r of rows) {
    if (r.skipped) lines.push(`| ${r.id} | ${r.name} | skipped: ${r.skipped} | | | |`);
    else lines.push(`| ${r.id} | ${r.name} | ${r.summary.rps} | ${fmt(r.summary.p50)} | ${fmt(r.summary.p99)} | ${r.summary.errors} |`);
  }
  return lines.join('\n');
}

export function ratioTable(pairs, title = 'pair') {
  const lines = [`| ${title} | ratio (median of per-run ratios) | per run | target | met |`, '|---|---:|---|---:|---|'];
  for (const p of pairs) {
    const per = p.per_run.map((x) => x.toFixed(2)).join(', ');
    const target = p.target === undefined ? '-' : `>= ${p.target}`;
    const met = p.target === undefined ? '-' : p.met ? 'yes' : '**no**';
    lines.push(`| ${p.label} | ${p.ratio.toFixed(2)} | ${per} | ${target} | ${met} |`);
  }
  return lines.join('\n');
}

/** One horizontal bar per row (req/s), labels on the left, values on the bars. */
export function barChartSvg(rows, { title, subtitle } = {}) {
  const shown = rows.filter((r) => !r.skipped);
  const max = Math.max(1, ...shown.map((r) => r.summary.rps));
  const labelW = 380;
  const barW = 460;
  const rowH = 30;
  const top = 64;
  const width = labelW + barW + 90;
  const height = top + rows.length * rowH + 40;
  const colors = { baseline: '#8c8c8c', peer: '#4e79a7', ours: '#f28e2b', twin: '#59a14f' };
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="13">`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<text x="12" y="24" font-size="16" font-weight="bold">${esc(title ?? 'requests per second (median)')}</text>`,
    `<text x="12" y="44" fill="#555">${esc(subtitle ?? '')}</text>`,
  ];
  rows.forEach((r, i) => {
    const y = top + i * rowH;
    parts.push(`<text x="${labelW - 8}" y="${y + 18}" text-anchor="end">${esc(`${r.id}. ${r.name}`)}</text>`);
    if (r.skipped) {
      parts.push(`<text x="${labelW + 4}" y="${y + 18}" fill="#999">skipped (${esc(r.skipped)})</text>`);
      return;
    }
    const w = Math.max(1, Math.round((r.summary.rps / max) * barW));
    parts.push(`<rect x="${labelW}" y="${y + 4}" width="${w}" height="${rowH - 8}" fill="${colors[r.kind] ?? '#4e79a7'}"/>`);
    parts.push(`<text x="${labelW + w + 6}" y="${y + 18}">${r.summary.rps}</text>`);
  });
  const ly = top + rows.length * rowH + 20;
  let lx = 12;
  for (const [k, c] of Object.entries({ baseline: 'upstream (limit)', peer: 'other proxies', ours: 'datakit gateway', twin: 'hand-written twin' })) {
    parts.push(`<rect x="${lx}" y="${ly - 11}" width="12" height="12" fill="${colors[k]}"/><text x="${lx + 16}" y="${ly}">${esc(c)}</text>`);
    lx += 40 + c.length * 7;
  }
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}
