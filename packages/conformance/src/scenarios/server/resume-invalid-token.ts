import { randomBytes } from "node:crypto";
import { fail } from "../../scenario-outcome.js";
import type { ServerScenario } from "../../server-scenario.js";

/** An unknown or over-long resume token gives a fresh session, not an error (PROTOCOL.md §4.2, §8.2, §14). */
export const resumeInvalidToken: ServerScenario = {
  name: "resume-invalid-token",
  description: "Hello with an unknown 16-byte resume token, or a 100-byte one (over the 64-byte limit) → a fresh Welcome (resumed = false), not an error",
  async run(ctx) {
    for (const size of [16, 100]) {
      const { welcome } = await ctx.open(`connection with an unknown ${size}-byte resume token`, {
        resumeToken: new Uint8Array(randomBytes(size)),
      });
      if (welcome.resumed) fail(`Welcome.resumed is true for a ${size}-byte resume token the server never issued`);
    }
  },
};
