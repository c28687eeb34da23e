/**
 * The protocol's size limits, in one place (the yamux `const.go` idea):
 * the codec, the server and the client all take them from here, so they
 * cannot drift apart. docs/PROTOCOL.md states each of them.
 */

/**
 * Default largest frame accepted, in bytes, not counting the length prefix:
 * 1 MiB. Peers announce their own limit in `Hello.max_frame_size` and
 * `Welcome.max_frame_size`.
 */
export const DEFAULT_MAX_FRAME_SIZE = 1024 * 1024;

/** Smallest max frame size a peer may announce (`Hello.max_frame_size`, 0 aside), in bytes: 1 KiB. */
export const MIN_MAX_FRAME_SIZE = 1024;

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

/**
 * Size of the fragments hb's own peers cut large frames into, in bytes:
 * 64 KiB, the most a heartbeat (or its ack) can wait behind data on one
 * connection. Also the frame size above which a message is fragmented.
 */
export const FRAGMENT_SIZE = 64 * 1024;

/**
 * Most fragmented messages a peer may have part-sent at once, and so the
 * most a receiver must reassemble at once (PROTOCOL.md §11 rule 5): 16.
 */
export const MAX_OPEN_FRAGMENTED = 16;

/**
 * Default largest message reassembled from fragments, in bytes: 64 MiB
 * (the server's `maxMessageSize` default).
 */
export const DEFAULT_MAX_MESSAGE_SIZE = 64 * 1024 * 1024;
