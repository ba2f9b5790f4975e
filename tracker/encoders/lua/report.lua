-- Keeps a viewer's problem report in the room's short stream and pushes it
-- to every operator with the ops feed's next version. Returns that version.

local reports_key = KEYS[1]       -- stream: the room's latest viewer reports
local ops_version_key = KEYS[2]   -- the operators' feed's version counter

local report = ARGV[1]            -- JSON
local kept = ARGV[2]              -- about this many reports are kept (trimmed approximately)
local ops_channel = ARGV[3]

local id = redis.call('XADD', reports_key, 'MAXLEN', '~', kept, '*', 'report', report)
local version = redis.call('INCR', ops_version_key)
redis.call('PUBLISH', ops_channel, '{"type":"report","version":' .. version .. ',"id":' .. cjson.encode(id) ..
  ',"report":' .. report .. '}')
return version
