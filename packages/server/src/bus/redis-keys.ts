/**
 * The Redis keys and pub/sub channels of one bus, all under `prefix` (so
 * several buses share a Redis by using different prefixes):
 *
 * | name | type | content |
 * |---|---|---|
 * | `{prefix}:members` | ZSET | member id → lease expiry (Redis time, ms) |
 * | `{prefix}:nodes:{memberId}` | HASH | node id → directory entry; field `""` → the member's presence sequence number; field {@link SYNC_FIELD} → its last `sync` message |
 * | `{prefix}:presence` | channel | presence events, member syncs, lost members |
 * | `{prefix}:all` | channel | messages for every member (publish, broadcast) |
 * | `{prefix}:m:{memberId}` | channel | messages for one member (direct, reply) |
 *
 * The empty field can hold the sequence number because node ids are at
 * least one byte long, and {@link SYNC_FIELD} the sync message because they
 * contain no control characters.
 */
export interface RedisKeys {
  /** ZSET of member leases. */
  readonly members: string;
  /** Channel of presence messages. */
  readonly presence: string;
  /** Channel of messages for every member. */
  readonly all: string;
  /** HASH of the nodes `memberId` holds. */
  nodes(memberId: string): string;
  /** Channel of messages for `memberId`. */
  inbox(memberId: string): string;
}

/**
 * The hash field holding the member's last `sync` message (written with the
 * hash, in the same MULTI, when the member rewrites it after an outage). A
 * member that reads the hash before the published sync reaches it still
 * gets the changes kept through the outage (with their real reasons), as
 * long as the hash's sequence number is the sync's.
 */
export const SYNC_FIELD = "\u0001sync";

/** The keys and channels of the bus under `prefix`. */
export function redisKeys(prefix: string): RedisKeys {
  return {
    members: `${prefix}:members`,
    presence: `${prefix}:presence`,
    all: `${prefix}:all`,
    nodes: (memberId) => `${prefix}:nodes:${memberId}`,
    inbox: (memberId) => `${prefix}:m:${memberId}`,
  };
}
