// The metric names a PromQL expression reads (for checking dashboards and alert rules
// against what the server exports). Not a PromQL parser: it removes what cannot be a
// metric name (strings, label matchers, ranges, grouping clauses, functions, keywords,
// Grafana variables) and keeps the identifiers that are left.
const KEYWORDS = new Set(["by", "without", "on", "ignoring", "group_left", "group_right", "offset", "bool", "and", "or", "unless", "inf", "nan"]);

export function metricNames(expr: string): string[] {
  let e = expr.replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, '""');
  e = e.replace(/\$\{?\w+\}?/g, "");
  e = e.replace(/\{[^}]*\}/g, "");
  e = e.replace(/\[[^\]]*\]/g, "");
  e = e.replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, "");
  e = e.replace(/\boffset\s+\w+/g, "");
  const names = new Set<string>();
  for (const m of e.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(\()?/g)) {
    const [, name, call] = m as unknown as [string, string, string | undefined];
    if (call !== undefined || KEYWORDS.has(name.toLowerCase())) continue;
    names.add(name);
  }
  return [...names];
}
