/**
 * The protocol version this package implements (`Hello.protocol_version`).
 */
export const PROTOCOL_VERSION = 1;

/**
 * Default largest frame accepted, in bytes, not counting the length prefix:
 * 1 MiB. Peers announce their own limit in `Hello.max_frame_size` and
 * `Welcome.max_frame_size`.
 */
export const DEFAULT_MAX_FRAME_SIZE = 1024 * 1024;

/**
 * Hard upper bound for any `maxFrameSize` setting: 64 MiB. Larger messages
 * travel as fragments (see `Fragment` in docs/PROTOCOL.md).
 */
export const MAX_FRAME_SIZE_LIMIT = 64 * 1024 * 1024;

/**
 * Longest valid length prefix in bytes. A frame length is a 32-bit unsigned
 * varint, so it never takes more than 5 bytes.
 */
export const MAX_LENGTH_PREFIX_BYTES = 5;
