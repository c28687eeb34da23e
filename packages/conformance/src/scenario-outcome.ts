/**
 * Thrown by a scenario when the implementation under test does not behave as
 * the protocol requires. The message says what was expected and what was
 * seen; it becomes the text after `FAIL <name>:`.
 */
export class ScenarioFailure extends Error {
  /** @param message - what was expected and what was seen */
  constructor(message: string) {
    super(message);
    this.name = "ScenarioFailure";
  }
}

/**
 * Thrown by a scenario that cannot run against this implementation or with
 * these options (e.g. it would wait longer than `maxWaitMs`). The message
 * says why; it becomes the text after `SKIP <name>:`.
 */
export class ScenarioSkip extends Error {
  /** @param message - why the scenario did not run */
  constructor(message: string) {
    super(message);
    this.name = "ScenarioSkip";
  }
}

/** Throws a {@link ScenarioFailure}. */
export function fail(message: string): never {
  throw new ScenarioFailure(message);
}

/** Throws a {@link ScenarioSkip}. */
export function skip(message: string): never {
  throw new ScenarioSkip(message);
}
