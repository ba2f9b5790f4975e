-- Sets a room attribute, what else viewers see of a room (the talk on now
-- and next), and publishes the room only when the value changed: an
-- unchanged value is not a room version every viewer must get.
-- Returns the live feed's version, or 0 when nothing changed.

local room_key = KEYS[1]          -- hash: encoder -> public report
local attrs_key = KEYS[2]         -- hash: attribute -> JSON value
local live_version_key = KEYS[3]  -- the public feed's version counter

local attribute = ARGV[1]         -- e.g. 'nownext'
local value = ARGV[2]             -- canonical JSON (sorted keys), so equal values compare equal here
local room = ARGV[3]
local live_channel = ARGV[4]
local default = ARGV[5]           -- canonical JSON that viewers assume while the attribute was never set

if (redis.call('HGET', attrs_key, attribute) or default) == value then
  return 0
end
redis.call('HSET', attrs_key, attribute, value)
return publish_room(room_key, attrs_key, room, live_version_key, live_channel)
