// Side-by-side bar-chart panels, one bar per contender (bench:peers: memory
// per connection and ping RTT for hb, Mosquitto, NATS, Socket.IO).
import { COLORS, esc, panelFrame, svgDocument } from "./svg-frame.mjs";

/**
 * @param {{
 *   title: string, note?: string, names: string[],
 *   panels: { label: string, values: (number | undefined)[], format?: (v: number) => string }[],
 * }} chart  `values[i]` belongs to `names[i]`; undefined: no bar ("n/a")
 * @returns {string} an SVG document
 */
export function barChartSvg(chart) {
  const panelW = 440;
  const h = 220;
  const x0s = chart.panels.map((_, p) => 80 + p * (panelW + 90));
  const width = x0s[x0s.length - 1] + panelW + 30;
  const height = 60 + h + 60;
  const y0 = 60;
  let body = "";
  chart.panels.forEach((panel, p) => {
    const x0 = x0s[p];
    const max = Math.max(0, ...panel.values.filter((v) => v !== undefined));
    const frame = panelFrame({ x0, y0, w: panelW, h, max, label: panel.label });
    body += frame.svg;
    const slot = panelW / chart.names.length;
    chart.names.forEach((name, i) => {
      const v = panel.values[i];
      const cx = x0 + slot * i + slot / 2;
      const bw = slot * 0.6;
      if (v !== undefined) {
        const top = frame.y(v);
        body += `<rect x="${(cx - bw / 2).toFixed(1)}" y="${top.toFixed(1)}" width="${bw.toFixed(1)}" height="${(y0 + h - top).toFixed(1)}" fill="${COLORS[i % COLORS.length]}"/>`;
        body += `<text x="${cx.toFixed(1)}" y="${(top - 4).toFixed(1)}" font-size="10" text-anchor="middle">${esc(panel.format ? panel.format(v) : v.toFixed(2))}</text>`;
      } else {
        body += `<text x="${cx.toFixed(1)}" y="${y0 + h - 4}" font-size="10" text-anchor="middle">n/a</text>`;
      }
      body += `<text x="${cx.toFixed(1)}" y="${y0 + h + 16}" font-size="10" text-anchor="middle">${esc(name)}</text>`;
    });
  });
  return svgDocument({ width, height, title: chart.title, note: chart.note, body });
}
