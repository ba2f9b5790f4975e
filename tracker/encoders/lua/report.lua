-- Takes a viewer's problem report within its budgets, merges it with the
-- same client's earlier report in that room (counting them), keeps the
-- room's latest distinct reporters, and pushes the merged report to every
-- operator with the ops feed's next version.
-- Returns that version, 0 when the client's budget is spent, -1 when the room's is.

local reporters_key = KEYS[1]     -- sorted set: reporter -> when they last reported
local reports_key = KEYS[2]       -- hash: reporter -> their merged report, JSON
local client_budget_key = KEYS[3] -- counter: this client's reports in the current window (every room)
local room_budget_key = KEYS[4]   -- counter: the room's reports in the current window
local ops_version_key = KEYS[5]   -- the operators' feed's version counter

local reporter = ARGV[1]
local report = cjson.decode(ARGV[2])
local now = tonumber(ARGV[3])
local kept = tonumber(ARGV[4])              -- distinct reporters kept per room
local client_limit = tonumber(ARGV[5])
local client_window_ms = tonumber(ARGV[6])
local room_limit = tonumber(ARGV[7])
local room_window_ms = tonumber(ARGV[8])
local ops_channel = ARGV[9]

local function spend(key, limit, window_ms)
  local used = redis.call('INCR', key)
  if used == 1 then redis.call('PEXPIRE', key, window_ms) end
  return used <= limit
end

-- Reconnecting does not reset a client's budget: it is keyed by address.
if not spend(client_budget_key, client_limit, client_window_ms) then return 0 end
if not spend(room_budget_key, room_limit, room_window_ms) then return -1 end

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
local version = redis.call('INCR', ops_version_key)
redis.call('PUBLISH', ops_channel, '{"type":"report","version":' .. version .. ',"id":' .. cjson.encode(reporter) ..
  ',"report":' .. text .. '}')
return version
