/**
 * The Redis side of the shared limit: key names and the Lua scripts every replica runs.
 *
 * Lua rather than a semaphore library: each step (drop expired leases, check the pause, grant in
 * queue order, enqueue the rest) must be one atomic decision, and the Python runtime must take
 * part in the very same protocol. A script runs atomically on the server and both runtimes send
 * the same text; the Node semaphore libraries neither queue fairly across processes nor have a
 * Python twin. The Python runtime (python/llm_shared_limit.py) holds these scripts byte for byte;
 * a test compares them.
 *
 * Time is the server's (TIME), so replicas' clocks never have to agree.
 *   leases   ZSET lease id  -> expiry (ms): slots taken; a holder renews its own
 *   queue    ZSET ticket id -> arrival number: one global FIFO of waiting calls
 *   tickets  ZSET ticket id -> expiry (ms): a waiting replica refreshes its tickets each time it asks
 *   seq      arrival counter
 *   pause    ms timestamp before which nobody is granted a slot (after a 429)
 *   replicas ZSET replica id -> expiry (ms): who is alive, to size the fallback pool
 */

export function redisKeys(prefix: string): { leases: string; queue: string; tickets: string; seq: string; pause: string; replicas: string; channel: string } {
  // One hash tag, so every key of a limit lands on the same Redis Cluster slot.
  const base = `{${prefix}}`;
  return {
    leases: `${base}:leases`,
    queue: `${base}:queue`,
    tickets: `${base}:tickets`,
    seq: `${base}:seq`,
    pause: `${base}:pause`,
    replicas: `${base}:replicas`,
    channel: `${base}:events`,
  };
}

/**
 * KEYS: leases queue tickets seq pause. ARGV: limit, lease ttl ms, ticket ttl ms, then this
 * replica's waiting ticket ids, oldest first. A ticket is granted when fewer calls wait ahead of
 * it in the global queue than there are free slots, so a slot goes to the oldest waiter of any
 * replica. Tickets not granted are queued (kept in place if already queued) and refreshed: a
 * replica pumps several times a second, so a dead replica's tickets leave the queue quickly.
 * A ticket that already holds a lease (granted by RELEASE) is reported again.
 * Returns { pause ms left, granted ids… }.
 */
export const ACQUIRE_LUA = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local limit = tonumber(ARGV[1])
local ttl = tonumber(ARGV[2])
local ticketTtl = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local dead = redis.call('ZRANGEBYSCORE', KEYS[3], '-inf', now)
for _, id in ipairs(dead) do
  redis.call('ZREM', KEYS[3], id)
  redis.call('ZREM', KEYS[2], id)
end
local paused = tonumber(redis.call('GET', KEYS[5]) or '0') - now
if paused < 0 then paused = 0 end
local result = { paused }
local free = limit - redis.call('ZCARD', KEYS[1])
for i = 4, #ARGV do
  local id = ARGV[i]
  local rank = redis.call('ZRANK', KEYS[2], id)
  if rank == false then rank = redis.call('ZCARD', KEYS[2]) end
  if redis.call('ZSCORE', KEYS[1], id) then
    result[#result + 1] = id
  elseif paused == 0 and rank < free then
    redis.call('ZREM', KEYS[2], id)
    redis.call('ZREM', KEYS[3], id)
    redis.call('ZADD', KEYS[1], now + ttl, id)
    free = free - 1
    result[#result + 1] = id
  else
    if redis.call('ZSCORE', KEYS[2], id) == false then
      redis.call('ZADD', KEYS[2], redis.call('INCR', KEYS[4]), id)
    end
    redis.call('ZADD', KEYS[3], now + ticketTtl, id)
  end
end
return result
`;

/**
 * KEYS: leases queue tickets pause. ARGV: channel, limit, lease ttl ms, ids. Drops the ids (leases
 * released, or tickets of calls that gave up), then hands the free slots straight to the oldest
 * waiters of any replica: each gets its lease here and a `grant:<id>` message, so a slot changes
 * hands in one round trip. Slots still free are announced with `free`.
 */
export const RELEASE_LUA = `for i = 4, #ARGV do
  redis.call('ZREM', KEYS[1], ARGV[i])
  redis.call('ZREM', KEYS[2], ARGV[i])
  redis.call('ZREM', KEYS[3], ARGV[i])
end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if tonumber(redis.call('GET', KEYS[4]) or '0') > now then return 0 end
local free = tonumber(ARGV[2]) - redis.call('ZCARD', KEYS[1])
while free > 0 do
  local head = redis.call('ZRANGE', KEYS[2], 0, 0)[1]
  if not head then break end
  redis.call('ZREM', KEYS[2], head)
  local expiry = redis.call('ZSCORE', KEYS[3], head)
  redis.call('ZREM', KEYS[3], head)
  if expiry and tonumber(expiry) > now then
    redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), head)
    redis.call('PUBLISH', ARGV[1], 'grant:' .. head)
    free = free - 1
  end
end
if free > 0 then redis.call('PUBLISH', ARGV[1], 'free') end
return free
`;

/**
 * KEYS: leases replicas. ARGV: ttl ms, replica id, since (server ms, 0 for none), lease ids.
 * Renews this replica's leases (re-adding any a restarted Redis lost: those calls are still
 * running) and its heartbeat. Returns { live replicas, replicas that renewed after `since`, now }.
 */
export const RENEW_LUA = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[1])
for i = 4, #ARGV do redis.call('ZADD', KEYS[1], now + ttl, ARGV[i]) end
redis.call('ZADD', KEYS[2], now + ttl, ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
local since = tonumber(ARGV[3]) + ttl
return { redis.call('ZCARD', KEYS[2]), redis.call('ZCOUNT', KEYS[2], '(' .. since, '+inf'), now }
`;

/** KEYS: pause. ARGV: ms, channel. Extends the shared pause and tells every replica; returns ms left. */
export const PAUSE_LUA = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local untilMs = now + math.ceil(tonumber(ARGV[1]))
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if untilMs <= current then return current - now end
redis.call('SET', KEYS[1], untilMs, 'PX', untilMs - now + 1000)
redis.call('PUBLISH', ARGV[2], 'pause:' .. (untilMs - now))
return untilMs - now
`;
