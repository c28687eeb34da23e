import { ErrorCode } from "@hb/codec";
import { noReconnectScenario } from "./no-reconnect-scenario.js";

/**
 * After DUPLICATE_NODE another connection owns the node id; reconnecting
 * would take it back and two clients would evict each other forever
 * (PROTOCOL.md §6.6, §8.1).
 */
export const noReconnectAfterDuplicate = noReconnectScenario("no-reconnect-after-duplicate", ErrorCode.DUPLICATE_NODE, "session");
