/**
 * Which scenarios to run: a regular expression (or its source; matched
 * case-insensitively), or a list of them (a name matching any is run).
 * `undefined` runs every scenario.
 */
export type ScenarioFilter = RegExp | string | readonly (RegExp | string)[] | undefined;

/** Anything with a scenario name. */
export interface Named {
  /** The scenario name. */
  readonly name: string;
}

/**
 * Keeps the scenarios whose name matches `filter`.
 *
 * @throws SyntaxError when a pattern is not a valid regular expression
 */
export function filterScenarios<T extends Named>(scenarios: readonly T[], filter: ScenarioFilter): T[] {
  if (filter === undefined) return [...scenarios];
  const list = (Array.isArray(filter) ? filter : [filter]) as (RegExp | string)[];
  const patterns = list.map((p) => (typeof p === "string" ? new RegExp(p, "i") : p));
  return scenarios.filter((s) => patterns.some((p) => p.test(s.name)));
}
