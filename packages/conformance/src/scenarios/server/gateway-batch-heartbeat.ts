import { gatewayKeepAliveScenario } from "./gateway-keep-alive-scenario.js";

/** BatchHeartbeat{handles} refreshes the listed attached nodes (PROTOCOL.md §4.12, §9.3). */
export const gatewayBatchHeartbeat = gatewayKeepAliveScenario(
  "gateway-batch-heartbeat",
  { handles: [1] },
  "BatchHeartbeat{handles: [1]}",
);
