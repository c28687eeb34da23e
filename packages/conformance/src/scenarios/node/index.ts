import type { NodeScenario } from "../../node-scenario.js";
import { goAway } from "./go-away.js";
import { heartbeatInterval } from "./heartbeat-interval.js";
import { helloFirst } from "./hello-first.js";
import { noReconnectAfterDuplicate } from "./no-reconnect-after-duplicate.js";
import { noReconnectAfterUnauthorized } from "./no-reconnect-after-unauthorized.js";
import { reconnectBackoff } from "./reconnect-backoff.js";
import { reconnectResume } from "./reconnect-resume.js";
import { serverSilent } from "./server-silent.js";
import { sigtermGoodbye } from "./sigterm-goodbye.js";
import { tolerantDecoding } from "./tolerant-decoding.js";

/** Every node scenario, in the order they run. */
export const nodeScenarios: readonly NodeScenario[] = [
  helloFirst,
  heartbeatInterval,
  tolerantDecoding,
  reconnectResume,
  reconnectBackoff,
  goAway,
  serverSilent,
  noReconnectAfterDuplicate,
  noReconnectAfterUnauthorized,
  sigtermGoodbye,
];
