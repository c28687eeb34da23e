/**
 * Names of the optional protocol features of docs/PROTOCOL.md §15.1, as
 * they travel in `Hello.features` and `Welcome.features`. A peer uses a
 * feature's frame bodies and fields only when the other side listed it.
 *
 * - `heartbeatRtt` (`"heartbeat-rtt"`): the client reports its last measured
 *   heartbeat round trip in `Heartbeat.last_rtt_us`.
 * - `tokenRenewal` (`"token-renewal"`): the `Renew` / `Renewed` bodies and
 *   `ERROR_CODE_TOKEN_EXPIRED`: a credential is renewed without a reconnect.
 */
export const Feature = {
  /** `Heartbeat.last_rtt_us`: the client reports heartbeat round trips. */
  heartbeatRtt: "heartbeat-rtt",
  /** `Renew` / `Renewed` and `ERROR_CODE_TOKEN_EXPIRED`: credential renewal on a live connection. */
  tokenRenewal: "token-renewal",
} as const;

/** One of the feature names of {@link Feature}. */
export type FeatureName = (typeof Feature)[keyof typeof Feature];
