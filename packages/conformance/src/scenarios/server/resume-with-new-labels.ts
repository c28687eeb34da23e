import { expectStories, openAlive, openWatch, type PresenceWatch } from "../../presence-watch.js";
import { fail, skip } from "../../scenario-outcome.js";
import type { ServerScenario } from "../../server-scenario.js";

/**
 * §7.5: a resume with other labels is one transition, told to each presence
 * subscription as what is true for its filter.
 */
export const resumeWithNewLabels: ServerScenario = {
  name: "resume-with-new-labels",
  description:
    "watchers filtering on the old labels, the new ones, and both; a node lost (SUSPECT) resumes with other labels → LEFT labels_changed / JOINED labels_changed / RECOVERED resumed; a resume of the live session back to the first labels → JOINED / LEFT / UPDATED labels_changed; skipped without resume grace",
  async run(ctx) {
    const tag = ctx.nodeId("tag");
    const filters = { old: { role: "old", t: tag }, new: { role: "new", t: tag }, both: { t: tag } };
    const watches: Record<keyof typeof filters, PresenceWatch[]> = { old: [], new: [], both: [] };
    for (const name of ["old", "new", "both"] as const) {
      for (let i = 0; i < 2; i++) watches[name].push(await openWatch(ctx, `watcher ${name} ${i + 1}`, filters[name]));
    }
    const nodeId = ctx.nodeId("relabel");
    const first = await openAlive(ctx, "node", { nodeId, labels: { role: "old", t: tag } });
    if (first.welcome.resumeGraceMs === 0) skip("the server has no resume grace (Welcome.resume_grace_ms 0)");
    const expected: Record<keyof typeof filters, string[]> = { old: [], new: [], both: [] };
    // What each filter's watchers are told of the next step.
    const told = (step: Partial<Record<keyof typeof filters, string>>) => {
      for (const name of ["old", "new", "both"] as const) if (step[name] !== undefined) expected[name].push(step[name]);
    };
    told({ old: "JOINED hello", both: "JOINED hello" });
    await expectStories(ctx, watches.both, nodeId, expected.both, "a Hello");
    first.conn.destroy();
    told({ old: "SUSPECT connection_closed", both: "SUSPECT connection_closed" });
    await expectStories(ctx, watches.both, nodeId, expected.both, "a lost connection in its grace");
    const second = await openAlive(ctx, "resuming node", { nodeId, resumeToken: first.welcome.resumeToken, labels: { role: "new", t: tag } });
    if (!second.welcome.resumed) fail("the resume with a valid token was not resumed");
    told({ old: "LEFT labels_changed", new: "JOINED labels_changed", both: "RECOVERED resumed" });
    await expectStories(ctx, watches.both, nodeId, expected.both, "a resume with other labels");
    const third = await openAlive(ctx, "resuming again", { nodeId, resumeToken: second.welcome.resumeToken, labels: { role: "old", t: tag } });
    if (!third.welcome.resumed) fail("the resume of the live session was not resumed");
    told({ old: "JOINED labels_changed", new: "LEFT labels_changed", both: "UPDATED labels_changed" });
    third.conn.sendBody("goodbye", { reason: "done" });
    told({ old: "LEFT goodbye", both: "LEFT goodbye" });
    for (const name of ["both", "old", "new"] as const) {
      await expectStories(ctx, watches[name], nodeId, expected[name], `the filter ${JSON.stringify(filters[name])}`);
    }
  },
};
