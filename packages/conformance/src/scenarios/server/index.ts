import type { ServerScenario } from "../../server-scenario.js";
import { takeoverAcrossProcesses } from "./takeover-across-processes.js";
import { gatewayTakeoverAcrossProcesses } from "./gateway-takeover-across-processes.js";
import { graceTakeoverAcrossProcesses } from "./grace-takeover-across-processes.js";
import { sendRightAfterWelcome } from "./send-right-after-welcome.js";
import { sendUnknownNodeNamesTarget } from "./send-unknown-node-names-target.js";
import { unsubscribeChannel0 } from "./unsubscribe-channel-0.js";
import { decodeTruncatedHalfClose } from "./decode-truncated-half-close.js";
import { resumeWithNewLabels } from "./resume-with-new-labels.js";
import { decodeBadVarint } from "./decode-bad-varint.js";
import { decodeEmptyFrame } from "./decode-empty-frame.js";
import { decodeFrameTooLarge } from "./decode-frame-too-large.js";
import { decodeInvalidUtf8 } from "./decode-invalid-utf8.js";
import { decodeMalformedFrame } from "./decode-malformed-frame.js";
import { decodeUnknownBody } from "./decode-unknown-body.js";
import { decodeWrongWireType } from "./decode-wrong-wire-type.js";
import { duplicateNodeId } from "./duplicate-node-id.js";
import { frameBeforeHello } from "./frame-before-hello.js";
import { gatewayAttachRejects } from "./gateway-attach-rejects.js";
import { gatewayAttach } from "./gateway-attach.js";
import { gatewayAttachedTimeout } from "./gateway-attached-timeout.js";
import { gatewayBatchAll } from "./gateway-batch-all.js";
import { gatewayBatchHeartbeat } from "./gateway-batch-heartbeat.js";
import { gatewayDuplicateTakeover } from "./gateway-duplicate-takeover.js";
import { goAwaySpread } from "./go-away-spread.js";
import { goodbye } from "./goodbye.js";
import { handshakeAssignsNodeId } from "./handshake-assigns-node-id.js";
import { handshakeIntervalNegotiation } from "./handshake-interval-negotiation.js";
import { handshakeTimeout } from "./handshake-timeout.js";
import { handshake } from "./handshake.js";
import { heartbeatAck } from "./heartbeat-ack.js";
import { invalidLabels } from "./invalid-labels.js";
import { invalidMaxFrameSize } from "./invalid-max-frame-size.js";
import { invalidNodeId } from "./invalid-node-id.js";
import { invalidWill } from "./invalid-will.js";
import { labelsRoundTrip } from "./labels-round-trip.js";
import { noncanonicalFrames } from "./noncanonical-frames.js";
import { proofOfLifeAnyFrame } from "./proof-of-life-any-frame.js";
import { neverTimedOutOnInterval } from "./never-timed-out-on-interval.js";
import { flapDamping } from "./flap-damping.js";
import { resumeInvalidToken } from "./resume-invalid-token.js";
import { resumeLiveSession } from "./resume-live-session.js";
import { resumeTokenSingleUse } from "./resume-token-single-use.js";
import { secondHello } from "./second-hello.js";
import { serverFullRetryAfter } from "./server-full-retry-after.js";
import { serverOnlyFrame } from "./server-only-frame.js";
import { silentClientTimeout } from "./silent-client-timeout.js";
import { splitWrites } from "./split-writes.js";
import { unsupportedVersion } from "./unsupported-version.js";
import { featuresNegotiation } from "./features-negotiation.js";
import { heartbeatRttAccepted } from "./heartbeat-rtt-accepted.js";
import { permissionsConsistent } from "./permissions-consistent.js";
import { renewWithoutFeature } from "./renew-without-feature.js";
import { observerNotInPresence } from "./observer-not-in-presence.js";
import { observerRoutable } from "./observer-routable.js";
import { observerSilentTimeout } from "./observer-silent-timeout.js";
import { observerTakeover } from "./observer-takeover.js";
import { observerWillRefused } from "./observer-will-refused.js";
import { renewalAccepted } from "./renewal-accepted.js";
import { renewalExpiryCloses } from "./renewal-expiry-closes.js";
import { renewalRefused } from "./renewal-refused.js";

/** Every server scenario, in the order they run: quick checks first, waits for timeouts last. */
export const serverScenarios: readonly ServerScenario[] = [
  handshake,
  handshakeAssignsNodeId,
  handshakeIntervalNegotiation,
  featuresNegotiation,
  heartbeatRttAccepted,
  labelsRoundTrip,
  heartbeatAck,
  splitWrites,
  noncanonicalFrames,
  frameBeforeHello,
  secondHello,
  serverOnlyFrame,
  unsupportedVersion,
  invalidNodeId,
  invalidLabels,
  invalidMaxFrameSize,
  invalidWill,
  decodeBadVarint,
  decodeFrameTooLarge,
  decodeMalformedFrame,
  decodeInvalidUtf8,
  decodeEmptyFrame,
  decodeUnknownBody,
  decodeWrongWireType,
  decodeTruncatedHalfClose,
  unsubscribeChannel0,
  sendUnknownNodeNamesTarget,
  goodbye,
  duplicateNodeId,
  resumeLiveSession,
  resumeInvalidToken,
  resumeTokenSingleUse,
  gatewayAttach,
  gatewayAttachRejects,
  gatewayDuplicateTakeover,
  takeoverAcrossProcesses,
  gatewayTakeoverAcrossProcesses,
  graceTakeoverAcrossProcesses,
  resumeWithNewLabels,
  sendRightAfterWelcome,
  observerNotInPresence,
  observerRoutable,
  observerWillRefused,
  observerTakeover,
  permissionsConsistent,
  renewWithoutFeature,
  renewalRefused,
  handshakeTimeout,
  silentClientTimeout,
  observerSilentTimeout,
  proofOfLifeAnyFrame,
  neverTimedOutOnInterval,
  flapDamping,
  gatewayBatchHeartbeat,
  gatewayBatchAll,
  gatewayAttachedTimeout,
  renewalAccepted,
  renewalExpiryCloses,
];

/**
 * Scenarios that need a server set up for them, run on their own (pass them
 * as `scenarios` with `only`): `server-full-retry-after` needs a server
 * with a small `maxConnections`, `go-away-spread` a `drain` hook that makes
 * the server drain (it closes it).
 */
export const serverSetupScenarios: readonly ServerScenario[] = [serverFullRetryAfter, goAwaySpread];
