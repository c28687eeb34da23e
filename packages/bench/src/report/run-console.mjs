// What the bench orchestrators print while they run and at the end:
// timestamped progress lines on stderr, number formats, error summaries,
// and the hard deadline that stops a run whatever happens.

/** Bytes → MiB. */
export const mib = (b) => b / 2 ** 20;

/** 12345.6 → "12,346". */
export const fmt = (n) => Math.round(n).toLocaleString("en-US");

/** Sum of a counter map's values ({ "handshake:ECONNRESET": 3, … } → 3 + …). */
export const countOf = (m) => Object.values(m ?? {}).reduce((x, y) => x + y, 0);

/** "phase:code n, …, refused CODE n" from counters with `errors` and `refused` maps, or "no errors". */
export function errorsText(t) {
  const e = Object.entries(t.errors ?? {}).map(([k, v]) => `${k} ${fmt(v)}`);
  const r = Object.entries(t.refused ?? {}).map(([k, v]) => `refused ${k} ${fmt(v)}`);
  return [...e, ...r].join(", ") || "no errors";
}

/** A logger writing `[  12s] line` to stderr, seconds since its creation. */
export function progressLog() {
  const t0 = performance.now();
  return (line) => process.stderr.write(`[${((performance.now() - t0) / 1000).toFixed(0).padStart(4)}s] ${line}\n`);
}

/** Exits the process (code 3) at `at` (ms since the epoch) plus a grace of 60 s: children exit with their IPC channel. */
export function hardDeadline(name, at) {
  setTimeout(() => {
    console.error(`${name}: deadline reached, exiting`);
    process.exit(3);
  }, at - Date.now() + 60_000).unref();
}
