// The soak's `workerModule`: no hooks, only a way to measure a worker's
// live heap. When the primary (soak-server.ts) sends `{ soakGc: true }` the
// worker runs a full garbage collection, so that the memory it reports next
// (every second, `stats().workers[].process`) is what it really holds, not
// a point on the garbage sawtooth. Plain JavaScript: workers import it
// without a TypeScript loader.
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc");
process.on("message", (m) => {
  if (m !== null && typeof m === "object" && m.soakGc === true) gc();
});

export default {};
