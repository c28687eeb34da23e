/**
 * @hb/client/internal: what tools and tests need beyond the public API
 * (the nats.js `internal_mod.ts` idea): backoff, retry policy, limits,
 * the heartbeat unit, option resolution. Internal and unstable: names and
 * signatures change without a major version. Applications use `@hb/client`.
 *
 * @packageDocumentation
 */
export * from "./index.js";
export { errorCodeName } from "@hb/codec";
export { Backoff, backoffDelay } from "./backoff.js";
export { resolveClientOptions } from "./client-options.js";
export { type HeartbeatPort, type HeartbeatTimers, Heartbeats, NODE_TIMERS } from "./heartbeats.js";
export { MAX_LABELS, MAX_LABEL_KEY_BYTES, MAX_LABEL_VALUE_BYTES, MAX_NODE_ID_BYTES } from "./node-limits.js";
export { PERMANENT_ERROR_CODES, isPermanentErrorCode } from "./retry-policy.js";
export { MAX_SUBJECT_BYTES, MAX_SUBJECT_TOKENS, PRESENCE_SUBJECT, RESERVED_SUBJECT_PREFIX, subjectProblem } from "./subject.js";
export { DEFAULT_SUBSCRIPTION_BUFFER } from "./subscription.js";
