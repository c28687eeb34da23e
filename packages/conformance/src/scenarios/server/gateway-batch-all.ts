import { gatewayKeepAliveScenario } from "./gateway-keep-alive-scenario.js";

/** BatchHeartbeat{all: true} refreshes every attached node (PROTOCOL.md §4.12, §9.3). */
export const gatewayBatchAll = gatewayKeepAliveScenario("gateway-batch-all", { all: true }, "BatchHeartbeat{all: true}");
