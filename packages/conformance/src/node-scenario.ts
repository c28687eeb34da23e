import type { NodeScenarioContext } from "./node-scenario-context.js";

/**
 * One behavioural check of a node. The runner starts a fresh
 * {@link ScriptedServer} and a fresh node process for each scenario; `run`
 * scripts the server side and throws {@link ScenarioFailure} (via `fail`)
 * or {@link ScenarioSkip} (via `skip`); it may return a note.
 */
export interface NodeScenario {
  /** Stable kebab-case name, printed in results and matched by `only`. */
  readonly name: string;
  /** One sentence: the behaviour checked, with the rule it comes from. */
  readonly description: string;
  /** Runs the check. */
  run(ctx: NodeScenarioContext): Promise<string | undefined | void>;
}
