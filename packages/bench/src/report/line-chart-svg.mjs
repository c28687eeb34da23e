// Stacked line-chart panels sharing one x axis (bench:scale: server RSS and
// heartbeat RTT against fleet size).
import { COLORS, esc, niceScale, panelFrame, svgDocument, tick } from "./svg-frame.mjs";

/**
 * @param {{
 *   title: string, note?: string | string[], xLabel: string, x: number[],
 *   panels: { label: string, series: { name: string, values: (number | undefined)[], x?: number[] }[] }[],
 * }} chart  `values[i]` belongs to `x[i]` (the series' own `x` if it has one); undefined leaves a gap
 * @returns {string} an SVG document
 */
export function lineChartSvg(chart) {
  const width = 960;
  const panelH = 200;
  const gap = 70;
  const x0 = 80;
  const w = width - x0 - 240;
  const notes = chart.note === undefined ? 0 : [chart.note].flat().length;
  const height = 50 + chart.panels.length * (panelH + gap) + 14 * notes + 10;
  const allX = [...chart.x, ...chart.panels.flatMap((p) => p.series.flatMap((s) => s.x ?? []))];
  const { top: xTop, step: xStep } = niceScale(Math.max(...allX));
  const xOf = (v) => x0 + (v / xTop) * w;
  let body = "";
  chart.panels.forEach((panel, p) => {
    const y0 = 60 + p * (panelH + gap);
    const max = Math.max(0, ...panel.series.flatMap((s) => s.values.filter((v) => v !== undefined)));
    const frame = panelFrame({ x0, y0, w, h: panelH, max, label: panel.label });
    body += frame.svg;
    for (let v = 0; v <= xTop + xStep / 2; v += xStep) {
      body += `<text x="${xOf(v).toFixed(1)}" y="${y0 + panelH + 16}" font-size="11" text-anchor="middle">${tick(v)}</text>`;
    }
    body += `<text x="${x0 + w / 2}" y="${y0 + panelH + 34}" font-size="11" text-anchor="middle">${esc(chart.xLabel)}</text>`;
    panel.series.forEach((s, k) => {
      const color = COLORS[k % COLORS.length];
      const xs = s.x ?? chart.x;
      const pts = s.values.map((v, i) => (v === undefined ? undefined : [xOf(xs[i]), frame.y(v)])).filter(Boolean);
      if (pts.length > 1) body += `<polyline fill="none" stroke="${color}" stroke-width="2" points="${pts.map(([a, b]) => `${a.toFixed(1)},${b.toFixed(1)}`).join(" ")}"/>`;
      for (const [a, b] of pts) body += `<circle cx="${a.toFixed(1)}" cy="${b.toFixed(1)}" r="3" fill="${color}"/>`;
      body += `<rect x="${x0 + w + 14}" y="${y0 + 8 + k * 18}" width="12" height="3" fill="${color}"/>`;
      body += `<text x="${x0 + w + 32}" y="${y0 + 12 + k * 18}" font-size="10">${esc(s.name)}</text>`;
    });
  });
  return svgDocument({ width, height, title: chart.title, note: chart.note, body });
}
