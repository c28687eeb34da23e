/**
 * @hb/conformance: a behavioural conformance runner for hb v1
 * implementations in any language.
 *
 * - {@link runServerConformance}: scripted scenarios against a server over
 *   raw TCP (frames built with `@hb/codec` only, never `@hb/client`).
 * - {@link runNodeConformance}: a scripted fake server; the node under test
 *   is a command started with `HB_ADDR` pointing at it.
 * - {@link RawConnection}: the framed connection the scenarios use, for
 *   writing more.
 *
 * The command line (`pnpm conformance --server host:port` /
 * `pnpm conformance --node "<command>"`) is `src/cli.ts`; see the README.
 *
 * @packageDocumentation
 */
export { Bystander } from "./bystander.js";
export { describeFrame, describeProtocolError, frameTypeName, hexBytes } from "./describe-frame.js";
export { HeartbeatLog, type ReceivedHeartbeat } from "./heartbeat-log.js";
export { type NodeExit, NodeProcess } from "./node-process.js";
export type { NodeScenario } from "./node-scenario.js";
export { NodeScenarioContext, type NodeSession, type NodeTarget } from "./node-scenario-context.js";
export {
  type CloseResult,
  type ConnectionEnd,
  type ConnectionEvent,
  type EndEvent,
  type FrameEvent,
  type ExpectOptions,
  type FrameHook,
  type FrameValue,
  RawConnection,
  type RawConnectionOptions,
} from "./raw-connection.js";
export { type NodeConformanceOptions, runNodeConformance } from "./run-node-conformance.js";
export { type ServerConformanceOptions, runServerConformance } from "./run-server-conformance.js";
export { type Named, type ScenarioFilter, filterScenarios } from "./scenario-filter.js";
export { ScenarioFailure, ScenarioSkip, fail, skip } from "./scenario-outcome.js";
export {
  type ResultSummary,
  type ScenarioResult,
  type ScenarioStatus,
  formatResult,
  formatSummary,
  summarizeResults,
} from "./scenario-result.js";
export { nodeScenarios } from "./scenarios/node/index.js";
export { serverScenarios, serverSetupScenarios } from "./scenarios/server/index.js";
export { ScriptedServer } from "./scripted-server.js";
export type { ServerScenario } from "./server-scenario.js";
export { type HelloInit, type OpenConnection, ServerScenarioContext, type ServerTarget } from "./server-scenario-context.js";
