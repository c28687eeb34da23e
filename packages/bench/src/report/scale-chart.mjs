// The chart of bench:scale: server RSS and live heartbeat RTT against fleet
// size, for one run or several (e.g. before and after a change), from the
// JSON results scale.mjs writes.
import { lineChartSvg } from "./line-chart-svg.mjs";

const mib = (b) => b / 2 ** 20;

/**
 * @param {object[]} results  parsed JSON results of scale.mjs
 * @param {string[]} [names]  one short name per result (default: its label, or "N workers")
 * @returns {string} an SVG document
 */
export function scaleChart(results, names) {
  const name = (r, i) => names?.[i] ?? (r.label || `${r.workers} workers`);
  const fleetOf = (r) => r.steps.map((s) => s.target - r.samplers);
  const one = results.length === 1;
  const rss = results.flatMap((r, i) => [
    { name: one ? "total" : `${name(r, i)}: total`, x: fleetOf(r), values: r.steps.map((s) => mib(s.rssTotal)) },
    ...(r.workers > 1 ? [{ name: one ? "primary" : `${name(r, i)}: primary`, x: fleetOf(r), values: r.steps.map((s) => mib(s.rssPerProcess[0]?.rss ?? 0)) }] : []),
  ]);
  const rtt = results.flatMap((r, i) => [
    { name: one ? "p50" : `${name(r, i)}: p50`, x: fleetOf(r), values: r.steps.map((s) => s.samplerRtt.p50) },
    { name: one ? "p99" : `${name(r, i)}: p99`, x: fleetOf(r), values: r.steps.map((s) => s.samplerRtt.p99) },
  ]);
  const first = results[0];
  return lineChartSvg({
    title: one
      ? `hb at scale: server memory and live heartbeat RTT (${first.workers > 1 ? `${first.workers} workers` : "one process"})`
      : "hb at scale: server memory and live heartbeat RTT",
    note: [...results.map((r, i) => (one ? `${r.label ? `${r.label} — ` : ""}${r.command}` : `${name(r, i)}: ${r.command}`)), first.machine],
    xLabel: `nodes connected (+${first.samplers} samplers), heartbeat every ${first.interval / 1000} s`,
    x: [],
    panels: [
      { label: "server RSS (MiB)", series: rss },
      { label: "heartbeat RTT (ms, HeartbeatClient samplers)", series: rtt },
    ],
  });
}
