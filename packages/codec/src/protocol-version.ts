/**
 * The protocol version this package implements (`Hello.protocol_version`).
 */
export const PROTOCOL_VERSION = 1;
