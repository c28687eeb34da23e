import { Feature } from "@hb/codec";
import { fail } from "../../scenario-outcome.js";
import type { ServerScenario } from "../../server-scenario.js";

const KNOWN: readonly string[] = Object.values(Feature);

/** Welcome.features is a subset of Hello.features, never an unknown name (PROTOCOL.md §15.1). */
export const featuresNegotiation: ServerScenario = {
  name: "features-negotiation",
  description: "Hello lists x-unknown and every v1 feature → Welcome.features lists only known features the Hello listed, never x-unknown",
  async run(ctx) {
    const { welcome } = await ctx.open("connection", { features: ["x-unknown", ...KNOWN] });
    const bad = welcome.features.filter((f) => !KNOWN.includes(f));
    if (bad.length > 0) fail(`Welcome.features lists ${JSON.stringify(bad)}, which the Hello did not list or are unknown`);
    return `features: ${welcome.features.join(", ") || "(none)"}`;
  },
};
