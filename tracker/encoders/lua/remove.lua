-- Forgets an encoder (revoked, or down for longer than history is kept).
-- With a record's text, only if the record is still that text, keeping a
-- copy for a while: an unreadable record, moved aside so it stops nobody.
-- Its history stays as long as history is kept, then expires; its alert
-- memory goes now. Returns the ops feed's version, or 0 when there was
-- nothing to remove.

local records_key = KEYS[1]       -- hash: member -> record JSON
local deadlines_key = KEYS[2]     -- zset: member -> when the sweeper must look again
local room_key = KEYS[3]          -- hash: encoder -> public report
local live_version_key = KEYS[4]  -- the public feed's version counter
local ops_version_key = KEYS[5]   -- the operators' feed's version counter
local attrs_key = KEYS[6]         -- hash: the room's attributes (published with the room)
local quarantine_key = KEYS[7]    -- string: where an unreadable record is kept for a person to look at
local history_key = KEYS[8]       -- stream: the encoder's clients and bitrate over time
local alert_memory_key = KEYS[9]  -- hash: member -> what its alerts last said
local members_key = KEYS[10]      -- set: the room's members

local member = ARGV[1]            -- '<room>/<encoder>'
local encoder = ARGV[2]
local room = ARGV[3]
local live_channel = ARGV[4]
local ops_channel = ARGV[5]
local unreadable = ARGV[6]        -- the unreadable record's text to move aside; '' to remove whatever is stored
local quarantine_seconds = ARGV[7]
local history_seconds = ARGV[8]   -- how long history is kept (the config's history-hours)

if unreadable ~= '' then
  if redis.call('HGET', records_key, member) ~= unreadable then
    return 0
  end
  redis.call('SET', quarantine_key, unreadable, 'EX', quarantine_seconds)
end
if redis.call('HDEL', records_key, member) == 0 then
  return 0
end
redis.call('SREM', members_key, member)
redis.call('ZREM', deadlines_key, member)
redis.call('EXPIRE', history_key, history_seconds)
redis.call('HDEL', alert_memory_key, member)
if redis.call('HDEL', room_key, encoder) == 1 then
  publish_room(room_key, attrs_key, room, live_version_key, live_channel)
end
local version = redis.call('INCR', ops_version_key)
redis.call('PUBLISH', ops_channel, '{"type":"removed","version":' .. version .. ',"room":' .. cjson.encode(room) ..
  ',"name":' .. cjson.encode(encoder) .. '}')
return version
