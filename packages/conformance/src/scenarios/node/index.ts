import type { NodeScenario } from "../../node-scenario.js";
import { goAway } from "./go-away.js";
import { goAwayReconnectDelay } from "./go-away-reconnect-delay.js";
import { heartbeatInterval } from "./heartbeat-interval.js";
import { heartbeatRtt } from "./heartbeat-rtt.js";
import { helloFirst } from "./hello-first.js";
import { noReconnectAfterDuplicate } from "./no-reconnect-after-duplicate.js";
import { noReconnectAfterUnauthorized } from "./no-reconnect-after-unauthorized.js";
import { reconnectBackoff } from "./reconnect-backoff.js";
import { reconnectResume } from "./reconnect-resume.js";
import { refusedRetryAfter } from "./refused-retry-after.js";
import { serverSilent } from "./server-silent.js";
import { sigtermGoodbye } from "./sigterm-goodbye.js";
import { tokenExpiredReconnect } from "./token-expired-reconnect.js";
import { tokenRenewal } from "./token-renewal.js";
import { tolerantDecoding } from "./tolerant-decoding.js";

/** Every node scenario, in the order they run. */
export const nodeScenarios: readonly NodeScenario[] = [
  helloFirst,
  heartbeatInterval,
  heartbeatRtt,
  tolerantDecoding,
  reconnectResume,
  reconnectBackoff,
  refusedRetryAfter,
  goAway,
  goAwayReconnectDelay,
  tokenRenewal,
  tokenExpiredReconnect,
  serverSilent,
  noReconnectAfterDuplicate,
  noReconnectAfterUnauthorized,
  sigtermGoodbye,
];
