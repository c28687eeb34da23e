import { type Frame, type Permissions, PROTOCOL_VERSION, Role, makeFrame } from "@hb/codec";
import type { ResolvedServerOptions } from "../options/server-options.js";
import type { SessionRecord } from "./session-record.js";

/** What a Welcome says beyond the server's options and the session's record. */
export interface WelcomeTerms {
  /** Whether the Hello resumed a lost session. */
  readonly resumed: boolean;
  /** The token that resumes this session (empty: not resumable). */
  readonly resumeToken: Uint8Array;
  /** Of the client's features, the ones this server uses (PROTOCOL.md §15.1). */
  readonly features: string[];
  /** The connection's permissions on the wire (`undefined`: the server's defaults). */
  readonly permissions: Permissions | undefined;
  /** Ms until the credential expires (0: it does not). */
  readonly tokenExpiresInMs: number;
  /** Whether the credential expires (then Welcome carries `auth.tokenGrace`). */
  readonly expires: boolean;
}

/** The Welcome frame (PROTOCOL.md §5.3) for the session of `record` under options `o`. */
export function welcomeFrame(o: ResolvedServerOptions, record: SessionRecord, terms: WelcomeTerms): Frame {
  return makeFrame("welcome", {
    nodeId: record.nodeId,
    sessionId: record.sessionId,
    heartbeatIntervalMs: record.intervalMs,
    heartbeatTimeoutMs: o.heartbeatTimeout,
    maxFrameSize: o.maxFrameSize,
    serverTimeMs: BigInt(Date.now()),
    resumeToken: terms.resumeToken,
    resumed: terms.resumed,
    protocolVersion: PROTOCOL_VERSION,
    serverId: o.serverId,
    initialWindow: BigInt(o.publishWindow),
    resumeGraceMs: o.resumeGrace,
    maxMessageSize: BigInt(o.maxMessageSize),
    checkIntervalMs: o.heartbeatCheckInterval,
    handshakeTimeoutMs: o.handshakeTimeout,
    features: terms.features,
    // Always explicit (§5.7): 0 would say "this server does not know roles".
    role: record.observer ? Role.OBSERVER : Role.NODE,
    permissions: terms.permissions,
    tokenExpiresInMs: BigInt(terms.tokenExpiresInMs),
    tokenGraceMs: terms.expires ? o.auth.tokenGrace : 0,
  });
}
