-- Writes an operator's acknowledgement, silence or note, logs it in the
-- room's transition log and pushes it to every operator, in one step, so
-- the dashboards and the log never disagree.
-- Returns the ops feed's version.

local controls_key = KEYS[1]      -- hash: 'ack:…', 'silence:…', 'note:…' -> JSON
local log_key = KEYS[2]           -- stream: the room's transitions and operators' actions
local ops_version_key = KEYS[3]   -- the operators' feed's version counter

local field = ARGV[1]
local value = ARGV[2]             -- JSON, or '' to delete the field
local entry = ARGV[3]             -- the log entry, JSON
local oldest_log_id = ARGV[4]     -- milliseconds: log entries before this may be trimmed
local ops_channel = ARGV[5]

if value == '' then
  redis.call('HDEL', controls_key, field)
else
  redis.call('HSET', controls_key, field, value)
end
redis.call('XADD', log_key, 'MINID', '~', oldest_log_id, '*', 'action', entry)
local version = redis.call('INCR', ops_version_key)
local value_json = value
if value_json == '' then value_json = 'null' end
redis.call('PUBLISH', ops_channel, '{"type":"control","version":' .. version .. ',"field":' ..
  cjson.encode(field) .. ',"value":' .. value_json .. ',"entry":' .. entry .. '}')
return version
