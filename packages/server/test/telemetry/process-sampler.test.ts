import { afterEach, expect, it, vi } from "vitest";
import { ProcessSampler } from "../../src/internal.js";

afterEach(() => vi.restoreAllMocks());

// At the process's open-file limit (a connection flood) /proc cannot be opened and process.memoryUsage()
// throws EMFILE: a worker's stats timer crashed on it (found by bench:scale at 100,000 nodes).
it("a sample at the open-file limit repeats the last RSS and takes the heap from V8 instead of throwing", () => {
  const sampler = new ProcessSampler();
  try {
    const first = sampler.sample();
    expect(first.rss).toBeGreaterThan(0);
    vi.spyOn(process, "memoryUsage").mockImplementation(() => {
      throw Object.assign(new Error("EMFILE: too many open files, uv_resident_set_memory"), { code: "EMFILE" });
    });
    const second = sampler.sample();
    expect(second.rss).toBe(first.rss);
    expect(second.heapUsed).toBeGreaterThan(0);
    expect(sampler.memoryReadFailures).toBe(1);
  } finally {
    sampler.stop();
  }
});
