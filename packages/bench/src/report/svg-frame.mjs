// Shared pieces of the benches' SVG charts (hand-written: two small chart
// kinds do not need a plotting library, and the benches run offline).

/** Escapes text for SVG. */
export const esc = (s) => String(s).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

/** A "nice" upper bound and tick step for values up to `max` (1, 2 or 5 × 10^k steps, about 5 ticks). */
export function niceScale(max) {
  if (!(max > 0)) return { top: 1, step: 0.2 };
  const raw = max / 5;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw);
  return { top: Math.ceil(max / step) * step, step };
}

/** Formats a tick value compactly (1,000 → 1k). */
export function tick(v) {
  if (v >= 1_000_000) return `${+(v / 1_000_000).toFixed(1)}M`;
  if (v >= 1_000) return `${+(v / 1_000).toFixed(1)}k`;
  return `${+v.toFixed(2)}`;
}

export const COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b"];

/**
 * A panel's frame: horizontal grid lines with y ticks, the y label, and a
 * `y(v)` mapping. Returns { svg, y } for a panel at (x0, y0) of size w × h.
 */
export function panelFrame({ x0, y0, w, h, max, label }) {
  const { top, step } = niceScale(max);
  const y = (v) => y0 + h - (v / top) * h;
  let svg = `<text x="${x0 - 48}" y="${y0 - 10}" font-size="12" font-weight="bold">${esc(label)}</text>`;
  for (let v = 0; v <= top + step / 2; v += step) {
    const yy = y(v).toFixed(1);
    svg += `<line x1="${x0}" x2="${x0 + w}" y1="${yy}" y2="${yy}" stroke="#ddd"/>`;
    svg += `<text x="${x0 - 6}" y="${yy}" font-size="11" text-anchor="end" dominant-baseline="middle">${tick(v)}</text>`;
  }
  svg += `<line x1="${x0}" x2="${x0}" y1="${y0}" y2="${y0 + h}" stroke="#333"/><line x1="${x0}" x2="${x0 + w}" y1="${y0 + h}" y2="${y0 + h}" stroke="#333"/>`;
  return { svg, y };
}

/** Wraps chart content in an <svg> with a white background, a title and footnote lines (`note`: one string or several). */
export function svgDocument({ width, height, title, note, body }) {
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif">\n` +
    `<rect width="100%" height="100%" fill="#fff"/>\n` +
    `<text x="${width / 2}" y="24" font-size="15" font-weight="bold" text-anchor="middle">${esc(title)}</text>\n` +
    body +
    [note ?? []]
      .flat()
      .reverse()
      .map((line, i) => `\n<text x="10" y="${height - 8 - i * 14}" font-size="10" fill="#555">${esc(line)}</text>`)
      .join("") +
    "\n</svg>\n"
  );
}
