import { Feature, type Welcome } from "@hb/codec";
import type { OpenConnection, ServerScenarioContext } from "../../server-scenario-context.js";
import { skip } from "../../scenario-outcome.js";

/**
 * Opens a connection with the runner's renewable credential and feature
 * `token-renewal`; skips unless the server welcomes it with an expiry and
 * the feature (PROTOCOL.md §5.8: it needs a server started with an
 * expiring authentication), or when waiting for the expiry would take
 * longer than `--max-wait`.
 */
export async function openRenewable(ctx: ServerScenarioContext, label: string): Promise<OpenConnection & { expiresMs: number; graceMs: number }> {
  const conn = await ctx.connect(label);
  conn.sendBody("hello", { protocolVersion: 1, nodeId: ctx.nodeId("renew"), token: ctx.renewableToken, features: [Feature.tokenRenewal] });
  const frame = await conn.expectFrame("welcome", ctx.replyTimeoutMs, {
    after: `after Hello with the renewable credential (--renewable-token ${JSON.stringify(ctx.renewableToken)})`,
  }).catch((err: unknown) => skip(`the server did not welcome the renewable credential: ${(err as Error).message}`));
  const welcome = frame as Welcome;
  if (!welcome.features.includes(Feature.tokenRenewal)) skip("the server does not support token-renewal (not in Welcome.features)");
  const expiresMs = Number(welcome.tokenExpiresInMs);
  if (expiresMs === 0) skip("Welcome announces no credential expiry (start the server with an expiring authentication for --renewable-token)");
  ctx.requireWait(expiresMs + welcome.tokenGraceMs + ctx.slackMs(0), "the credential's expiry and grace");
  // Keep the session alive by heartbeats meanwhile.
  ctx.repeat(ctx.keepAlivePeriod(welcome), () => conn.sendBody("heartbeat", { seq: 1n, sendTimeUs: 1n }));
  return { conn, welcome, expiresMs, graceMs: welcome.tokenGraceMs };
}
