/** One memory sample of one process: seconds since the start, bytes. */
export interface MemoryPoint {
  t: number;
  rss: number;
  heapUsed: number;
}

/** Least-squares slope of `y` over `t`, in units of y per second (0 with fewer than 2 points). */
export function slope(points: readonly { t: number; y: number }[]): number {
  const n = points.length;
  if (n < 2) return 0;
  let st = 0;
  let sy = 0;
  for (const p of points) {
    st += p.t;
    sy += p.y;
  }
  const mt = st / n;
  const my = sy / n;
  let num = 0;
  let den = 0;
  for (const p of points) {
    num += (p.t - mt) * (p.y - my);
    den += (p.t - mt) ** 2;
  }
  return den === 0 ? 0 : num / den;
}

/**
 * RSS and heap slopes of a process's samples, MiB per hour. The heap is a
 * sawtooth (garbage piles up between collections): the slope is fitted to
 * its floor, the lowest sample of each `binSeconds` bin (all samples when
 * there are fewer than 3 bins), so a leak shows and the sawtooth does not.
 */
export function memorySlopes(points: readonly MemoryPoint[], binSeconds = 60): { rss: number; heap: number } {
  const mib = 3600 / 2 ** 20;
  const floor = (pick: (p: MemoryPoint) => number) => {
    const bins = new Map<number, { t: number; y: number }>();
    for (const p of points) {
      const b = Math.floor(p.t / binSeconds);
      const y = pick(p);
      const cur = bins.get(b);
      if (cur === undefined || y < cur.y) bins.set(b, { t: p.t, y });
    }
    return bins.size >= 3 ? [...bins.values()] : points.map((p) => ({ t: p.t, y: pick(p) }));
  };
  return { rss: slope(floor((p) => p.rss)) * mib, heap: slope(floor((p) => p.heapUsed)) * mib };
}
