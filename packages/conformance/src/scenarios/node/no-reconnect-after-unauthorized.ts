import { ErrorCode } from "@hb/codec";
import { noReconnectScenario } from "./no-reconnect-scenario.js";

/** A reconnect refused with UNAUTHORIZED is not retried (PROTOCOL.md §6.6). */
export const noReconnectAfterUnauthorized = noReconnectScenario(
  "no-reconnect-after-unauthorized",
  ErrorCode.UNAUTHORIZED,
  "reconnect",
);
