import { Feature, type Hello } from "@hb/codec";
import type { NodeScenario } from "../../node-scenario.js";
import { INITIAL_TOKEN, type NodeScenarioContext, type NodeSession } from "../../node-scenario-context.js";
import { fail, skip } from "../../scenario-outcome.js";

const EXPIRES_MS = 1500;
const GRACE_MS = 1000;

/** Skips unless the node took its Hello credential from HB_TOKEN_FILE. */
export function requireTokenFile(hello: Hello, expected: string): void {
  if (hello.token !== expected) {
    skip(
      `the node's Hello.token is ${JSON.stringify(hello.token)}, not the credential in HB_TOKEN_FILE (${JSON.stringify(expected)}): start it with its credential read from that file`,
    );
  }
}

async function expectRenew(ctx: NodeScenarioContext, s: NodeSession, token: string, since: number, round: number): Promise<number> {
  const tolerance = Math.round(100 * ctx.timeoutScale);
  const renew = await s.conn.expectFrame("renew", EXPIRES_MS + tolerance, {
    what: `Renew #${round} with the fresh credential ${JSON.stringify(token)}`,
    after: ` before the credential expires (${EXPIRES_MS} ms)`,
  });
  const after = Math.round(performance.now() - since);
  if (renew.token !== token) {
    fail(`Renew #${round} carries token ${JSON.stringify(renew.token)}; expected the fresh one in HB_TOKEN_FILE, ${JSON.stringify(token)}`);
  }
  return after;
}

/**
 * Credential renewal without reconnect (PROTOCOL.md §5.8): the scripted
 * server grants token-renewal and announces a 1.5 s expiry; the runner puts
 * a fresh credential in HB_TOKEN_FILE; the node renews it with Renew before
 * it expires, twice in a row (after each Renewed), on the same connection,
 * heartbeating throughout.
 */
export const tokenRenewal: NodeScenario = {
  name: "token-renewal",
  description: `Welcome grants token-renewal with token_expires_in_ms ${EXPIRES_MS} → the node sends Renew with the fresh credential of HB_TOKEN_FILE before it expires, again after Renewed, and neither closes nor reconnects; SKIP when the node does not list the feature or take its credential from HB_TOKEN_FILE`,
  async run(ctx) {
    const s = await ctx.session("the node's connection", (hello) =>
      hello.features.includes(Feature.tokenRenewal)
        ? { features: [Feature.tokenRenewal], tokenExpiresInMs: BigInt(EXPIRES_MS), tokenGraceMs: GRACE_MS }
        : {},
    );
    ctx.requireFeature(s.hello, Feature.tokenRenewal);
    requireTokenFile(s.hello, INITIAL_TOKEN);
    ctx.writeToken("conformance-token-2");
    const first = await expectRenew(ctx, s, "conformance-token-2", s.welcomeAt, 1);
    ctx.writeToken("conformance-token-3");
    s.conn.sendBody("renewed", { tokenExpiresInMs: BigInt(EXPIRES_MS) });
    const renewedAt = performance.now();
    const second = await expectRenew(ctx, s, "conformance-token-3", renewedAt, 2);
    s.conn.sendBody("renewed", {}); // never expires now
    const beatsBefore = s.log.beats.length;
    const watch = EXPIRES_MS + GRACE_MS;
    await s.conn.expectNothing(watch, { after: "after the credential was renewed for good", ignore: ["renew"] });
    if (ctx.server.accepted !== 1) fail(`the node opened ${ctx.server.accepted - 1} more connection(s); renewal must not reconnect`);
    const during = s.log.beats.length - beatsBefore;
    if (during < Math.floor(watch / ctx.intervalMs / 2)) {
      fail(`the node sent ${during} Heartbeat(s) in the ${watch} ms after the renewals (interval ${ctx.intervalMs} ms)`);
    }
    return `renewed ${first} ms after Welcome and ${second} ms after Renewed, on one connection`;
  },
};
