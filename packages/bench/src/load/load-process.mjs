// The IPC side of one load process (fleet-client.mjs or hb-sampler.mjs):
// fork it with its spec, keep its last counters, fetch its RTT histogram,
// stop it. Both scripts speak the same messages (see their headers).
import { fork } from "node:child_process";
import hdr from "hdr-histogram-js";

/** An empty RTT histogram (µs, 3 significant digits, up to 60 s). */
export const newHistogram = () =>
  hdr.build({ lowestDiscernibleValue: 1, highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: 3 });

export class LoadProcess {
  /** @param {string} script absolute path @param {object} spec sent with "start" */
  constructor(script, spec) {
    this.counters = { count: spec.count };
    this.child = fork(script, [], { stdio: ["ignore", "inherit", "inherit", "ipc"] });
    this.child.on("message", (m) => {
      if (m.type === "progress") this.counters = m.counters;
    });
    this.child.send({ type: "start", spec });
  }

  /** Its RTT histogram since the last call (decoded). */
  histogram() {
    const child = this.child;
    return new Promise((resolve) => {
      if (!child.connected) return resolve(newHistogram());
      const on = (m) => {
        if (m.type !== "histogram") return;
        child.off("message", on);
        resolve(hdr.decodeFromCompressedBase64(m.encoded));
      };
      child.on("message", on);
      child.send({ type: "histogram" });
    });
  }

  /** Asks it to close its connections and exit (SIGKILL after 10 s). */
  stop() {
    const child = this.child;
    return new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once("exit", () => resolve());
      try {
        child.send({ type: "stop" });
      } catch {
        child.kill("SIGKILL");
      }
      setTimeout(() => child.kill("SIGKILL"), 10_000).unref();
    });
  }
}

/** Merges the histograms of `processes` into one. */
export async function mergedHistogram(processes) {
  const merged = newHistogram();
  for (const h of await Promise.all(processes.map((p) => p.histogram()))) merged.add(h);
  return merged;
}
