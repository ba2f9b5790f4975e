-- Takes a viewer's problem report within its budgets, merges it with the
-- same client's earlier report in that room (counting them), keeps the
-- room's latest distinct reporters, and pushes the merged report to every
-- operator with the ops feed's next version.
-- Returns that version, 0 when the client's budget is spent, -1 when the room's is.

local reporters_key = KEYS[1]     -- sorted set: reporter -> when they last reported
local reports_key = KEYS[2]       -- hash: reporter -> their merged report, JSON
local client_budget_key = KEYS[3] -- counter: this client's reports in the current window (every room)
local room_budget_key = KEYS[4]   -- hash: the room's token bucket (tokens, at)
local ops_version_key = KEYS[5]   -- the operators' feed's version counter

local reporter = ARGV[1]
local report_json = ARGV[2]        -- the checked report, JSON
local now = tonumber(ARGV[3])
local kept = tonumber(ARGV[4])              -- distinct reporters kept per room
local client_limit = tonumber(ARGV[5])
local client_window_ms = tonumber(ARGV[6])
local room_burst = tonumber(ARGV[7])       -- the room's bucket: this many at once,
local room_per_second = tonumber(ARGV[8])  -- refilled at this rate
local ops_channel = ARGV[9]
local keep_seconds = tonumber(ARGV[10])    -- a room's reports go this long after its last one

local function spend(key, limit, window_ms)
  local used = redis.call('INCR', key)
  if used == 1 then redis.call('PEXPIRE', key, window_ms) end
  return used <= limit
end

-- Reconnecting does not reset a client's budget: it is keyed by address.
if not spend(client_budget_key, client_limit, client_window_ms) then return 0 end
-- A bucket, not a window: once a flood from many clients stops, the room
-- takes reports again within seconds.
local bucket = redis.call('HMGET', room_budget_key, 'tokens', 'at')
local tokens = tonumber(bucket[1]) or room_burst
local at = tonumber(bucket[2]) or now
tokens = math.min(room_burst, tokens + math.max(0, now - at) * room_per_second)
if tokens < 1 then
  redis.call('HSET', room_budget_key, 'tokens', tokens, 'at', now)
  return -1
end
redis.call('HSET', room_budget_key, 'tokens', tokens - 1, 'at', now)
redis.call('EXPIRE', room_budget_key, math.ceil(room_burst / room_per_second) + 1)

local report = cjson.decode(report_json)
local earlier = redis.call('HGET', reports_key, reporter)
report['count'] = 1
report['first'] = now
if earlier then
  local before = cjson.decode(earlier)
  report['count'] = (tonumber(before['count']) or 1) + 1
  report['first'] = tonumber(before['first']) or now
end
report['at'] = now
local text = cjson.encode(report)
redis.call('HSET', reports_key, reporter, text)
redis.call('ZADD', reporters_key, now, reporter)
local extra = redis.call('ZCARD', reporters_key) - kept
if extra > 0 then
  local popped = redis.call('ZPOPMIN', reporters_key, extra)  -- member, score, member, score...
  for i = 1, #popped, 2 do redis.call('HDEL', reports_key, popped[i]) end
end
redis.call('EXPIRE', reporters_key, keep_seconds)
redis.call('EXPIRE', reports_key, keep_seconds)
local version = redis.call('INCR', ops_version_key)
redis.call('PUBLISH', ops_channel, '{"type":"report","version":' .. version .. ',"id":' .. cjson.encode(reporter) ..
  ',"report":' .. text .. '}')
return version
