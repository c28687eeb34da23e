/**
 * The Lua scripts of the Redis bus. Each runs atomically in Redis, which is
 * what makes the lease protocol race-free without locks: a member's lease
 * check, its directory writes and the reaping of a dead member can never
 * interleave. Times are Redis's own clock (`TIME`), so the members' clocks
 * may disagree. Sent with `EVAL` (Redis caches the compiled script by its
 * hash), so a Redis restarted empty never answers `NOSCRIPT`.
 */
export const REDIS_SCRIPTS = {
  /**
   * Renews a lease and reads all of them.
   * KEYS: members. ARGV: memberId, ttl (ms).
   * Returns `[now, added, [member, expiry, …]]`; `added` is 1 when the
   * member had no lease (first start, reaped, or Redis lost its data).
   */
  lease: `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local added = redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
return {now, added, redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')}
`,
  /**
   * One presence change: updates the member's hash (HSET of the entry, or
   * HDEL when the entry is empty), its sequence number, and publishes the
   * event. KEYS: members, nodes hash. ARGV: memberId, nodeId, entry or "",
   * seq, channel, message. Returns 1, or 0 when the member has no lease
   * (it must re-announce everything).
   */
  presence: `
if ARGV[3] == '' then redis.call('HDEL', KEYS[2], ARGV[2]) else redis.call('HSET', KEYS[2], ARGV[2], ARGV[3]) end
redis.call('HSET', KEYS[2], '', ARGV[4])
redis.call('PUBLISH', ARGV[5], ARGV[6])
if redis.call('ZSCORE', KEYS[1], ARGV[1]) then return 1 end
return 0
`,
  /**
   * Removes a member whose lease expired, or that has none, or any member
   * when forced (a clean leave): drops its lease and hash and publishes the
   * lost message. A live lease (renewed meanwhile) is left alone.
   * KEYS: members, nodes hash. ARGV: memberId, channel, message, force ("1").
   * Returns 1 when removed, 0 when the lease was live.
   */
  reap: `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local s = redis.call('ZSCORE', KEYS[1], ARGV[1])
if ARGV[4] ~= '1' and s and tonumber(s) >= now then return 0 end
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('DEL', KEYS[2])
redis.call('PUBLISH', ARGV[2], ARGV[3])
return 1
`,
} as const;
