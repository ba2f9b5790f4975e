-- The one write path for encoder state, a compare-and-set on the record's
-- `seq`: the caller read the record, computed its successor in Python
-- (tracker/encoders/state_machine.py) and commits it here only if nobody changed it
-- meanwhile. That is what keeps two sweepers, or a sweeper and a heartbeat,
-- from reporting one change twice.
-- Returns the ops feed's version; -1 when another writer got there first
-- (re-read and retry); -2 when the stored record is not JSON Lua can read.

local records_key = KEYS[1]       -- hash: member -> record JSON
local deadlines_key = KEYS[2]     -- zset: member -> when the sweeper must look again
local room_key = KEYS[3]          -- hash: encoder -> public report, live encoders only
local live_version_key = KEYS[4]  -- the public feed's version counter
local ops_version_key = KEYS[5]   -- the operators' feed's version counter
local log_key = KEYS[6]           -- stream: the room's transitions
local attrs_key = KEYS[7]         -- hash: the room's attributes (published with the room)
local assigned_key = KEYS[8]      -- hash: stream URL -> viewers sent there since its encoder last reported
local history_key = KEYS[9]       -- stream: the encoder's clients and bitrate over time
local members_key = KEYS[10]      -- set: the room's members, so one room's records are read without the whole site's

local member = ARGV[1]            -- '<room>/<encoder>'
local expected_seq = tonumber(ARGV[2])  -- the `seq` of the record the caller read (0: none)
local record = ARGV[3]            -- the successor, JSON
local deadline = ARGV[4]          -- epoch seconds when the sweeper must look again; '' when never
local public_change = ARGV[5]     -- what viewers see of the encoder: 'keep', 'set' (to public_report) or 'remove'
local public_report = ARGV[6]     -- JSON when public_change is 'set', else ''
local encoder = ARGV[7]
local room = ARGV[8]
local live_channel = ARGV[9]
local ops_channel = ARGV[10]
local transition = ARGV[11]       -- JSON, or '' when the state did not change
local oldest_log_id = ARGV[12]    -- milliseconds: log entries before this may be trimmed

-- Everything is read and checked before the first write: Redis does not undo
-- the writes of a script that fails half way.
local new = cjson.decode(record)
local current = redis.call('HGET', records_key, member)
local seq = 0
if current then
  local ok, stored = pcall(cjson.decode, current)
  if not ok or type(stored) ~= 'table' or type(stored['seq']) ~= 'number' then
    return -2
  end
  seq = stored['seq']
end
if seq ~= expected_seq then
  return -1
end
if not current then
  -- A removed encoder's history was left to expire; it is back, so keep it.
  redis.call('PERSIST', history_key)
end
redis.call('HSET', records_key, member, record)
redis.call('SADD', members_key, member)
-- Its new report counts the viewers sent to it so far: start counting afresh.
for _, stream in ipairs(new['streams']) do
  redis.call('HDEL', assigned_key, stream['url'])
end
if deadline == '' then
  redis.call('ZREM', deadlines_key, member)
else
  redis.call('ZADD', deadlines_key, deadline, member)
end
if public_change ~= 'keep' then
  if public_change == 'remove' then
    redis.call('HDEL', room_key, encoder)
  else
    redis.call('HSET', room_key, encoder, public_report)
  end
  publish_room(room_key, attrs_key, room, live_version_key, live_channel)
end
local transition_json = 'null'
if transition ~= '' then
  transition_json = transition
  redis.call('XADD', log_key, 'MINID', '~', oldest_log_id, '*', 'transition', transition)
end
local version = redis.call('INCR', ops_version_key)
redis.call('PUBLISH', ops_channel, '{"type":"encoder","version":' .. version ..
  ',"encoder":' .. record .. ',"transition":' .. transition_json .. '}')
return version
