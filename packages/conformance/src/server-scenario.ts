import type { ServerScenarioContext } from "./server-scenario-context.js";

/**
 * One behavioural check of a server. `run` throws {@link ScenarioFailure}
 * (via `fail`) when the server misbehaves and {@link ScenarioSkip} (via
 * `skip`) when the check cannot run; it may return a note for the result.
 * The context closes every connection the scenario opened afterwards.
 */
export interface ServerScenario {
  /** Stable kebab-case name, printed in results and matched by `only`. */
  readonly name: string;
  /** One sentence: the behaviour checked, with the rule it comes from. */
  readonly description: string;
  /** Runs the check. */
  run(ctx: ServerScenarioContext): Promise<string | undefined | void>;
}
