-- What a heartbeat needs before it is judged, in one round trip: whether its
-- client is still within its budget of refusals, the token's identity, the
-- encoder's record and this second's count of the token's heartbeats. Counts
-- only for a known token: a made-up token gets its 403 without leaving a key
-- behind.
-- Returns {identity JSON or false, record JSON or false, count (0: unknown
-- token, -1: the client is refused at the door)}.

local tokens_key = KEYS[1]        -- hash: sha256(token) -> identity JSON
local records_key = KEYS[2]       -- hash: member -> record JSON
local rate_key = KEYS[3]          -- counter of this token's heartbeats in this second
local heartbeats_key = KEYS[4]    -- counter of every heartbeat (the metrics)
local refused_key = KEYS[5]       -- the client's refusals in this window (tracker.encoders.client_budget)

local token_hash = ARGV[1]
local member = ARGV[2]            -- '<room>/<encoder>' the heartbeat says it is from
local refusals_allowed = tonumber(ARGV[3])  -- 0: not checked here

if refusals_allowed > 0 and tonumber(redis.call('GET', refused_key) or 0) >= refusals_allowed then
  return {false, false, -1}
end
local identity = redis.call('HGET', tokens_key, token_hash)
if not identity then
  return {false, false, 0}
end
local count = redis.call('INCR', rate_key)
-- The key names its second (the caller's clock); it is of no use once that second is over.
redis.call('EXPIRE', rate_key, 2)
redis.call('INCR', heartbeats_key)
return {identity, redis.call('HGET', records_key, member), count}
