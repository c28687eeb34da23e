/**
 * @hb/server/auth: the types of authentication, authorization and the
 * per-node message limits, for a server that sets the `auth`,
 * `permissions`, `messageRate` or `authenticate` / `authorize*` options
 * of {@link index!HeartbeatServerOptions}. Types only: nothing here is loaded at
 * run time.
 *
 * - {@link AuthOptions}: the built-in credential check, with static tokens
 *   ({@link StaticToken}, hashed) or JWTs ({@link JwtAuthOptions}: keys,
 *   JWKS, bindings of claims to the node id and labels).
 * - {@link PermissionRule}: what a node may publish, subscribe, send,
 *   broadcast, attach and see in presence, matched on its id and labels.
 * - {@link MessageRateOptions}: message and byte rates per node.
 * - {@link AuthenticateHook} and the `Authorize*` hooks: your own checks.
 *
 * ```ts
 * import { HeartbeatServer } from "@hb/server";
 * import type { AuthOptions, PermissionRule } from "@hb/server/auth";
 *
 * const auth: AuthOptions = { mode: "tokens", tokens: [{ nodeId: "sensor-1", hash: process.env.SENSOR_1_HASH ?? "" }] };
 * const permissions: PermissionRule[] = [{ match: { labels: { role: "sensor" } }, publish: { allow: ["sensors.>"] } }];
 * const server = new HeartbeatServer({ port: 9501, auth, permissions });
 * ```
 *
 * docs/SECURITY-AUTH.md explains the modes and the rules.
 *
 * @packageDocumentation
 */
export type {
  AllowDeny,
  AuthOptions,
  JwksDocument,
  JwtAuthOptions,
  JwtKey,
  MessageRateOptions,
  PermissionGrant,
  PermissionMatch,
  PermissionRule,
  PresenceGrant,
  StaticToken,
} from "./options/auth-options.js";
export type { ResolvedAuthOptions, ResolvedMessageRate } from "./options/auth-option-checks.js";
export type {
  AuthenticateContext,
  AuthenticateDecision,
  AuthenticateHook,
  AuthorizeBroadcastHook,
  AuthorizePublishHook,
  AuthorizeSendHook,
  AuthorizeSubscribeHook,
} from "./options/server-options.js";
