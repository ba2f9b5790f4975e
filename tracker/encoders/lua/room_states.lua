-- Stores every room's judged state for operators and, for each room whose
-- state changed, appends the change to its log (where the alerts' consumer
-- group reads it), in one step with the push to every operator, so the
-- dashboards, the log and the alerts never disagree.
-- Returns the ops feed's version, or 0 when nothing changed.

local value_key = KEYS[1]         -- string: JSON, room -> judged state
local ops_version_key = KEYS[2]   -- the operators' feed's version counter
-- KEYS[3], KEYS[4]...: the log (stream) of each room whose state changed

local value = ARGV[1]             -- canonical JSON, so an unchanged value compares equal
local ops_channel = ARGV[2]
local oldest_log_id = ARGV[3]     -- milliseconds: log entries before this may be trimmed
-- ARGV[4], ARGV[5]...: the log entry (JSON) of each room in KEYS[3]...

if redis.call('GET', value_key) == value then
  return 0
end
redis.call('SET', value_key, value)
local entries = {}
for i = 3, #KEYS do
  redis.call('XADD', KEYS[i], 'MINID', '~', oldest_log_id, '*', 'room_state', ARGV[i + 1])
  entries[#entries + 1] = ARGV[i + 1]
end
local version = redis.call('INCR', ops_version_key)
redis.call('PUBLISH', ops_channel, '{"type":"rooms","version":' .. version .. ',"data":' .. value ..
  ',"entries":[' .. table.concat(entries, ',') .. ']}')
return version
