-- Stores a value and, if it changed, publishes the message head with the
-- feed's next version (and the value itself as "data" when asked). Rooms'
-- schedules tell viewers this way (the notice carries no events: pages that
-- show the programme fetch them), and operators' site-wide states (schedule
-- health) reach the dashboard. Without a version key the message goes out
-- unversioned: a figure (the audience), where the newest is the truth and a
-- lost one needs no resync.
-- Returns the feed's version (1 for an unversioned message), or 0 when the
-- value did not change.

local value_key = KEYS[1]         -- string: the stored JSON value
local version_key = KEYS[2]       -- the feed's version counter; absent: no version

local value = ARGV[1]             -- canonical JSON (sorted keys), so an unchanged value compares equal
local channel = ARGV[2]           -- the feed's pub/sub channel
local head = ARGV[3]              -- the message's own fields, a JSON object's members without braces
local send_value = ARGV[4] == '1' -- '1': the message carries the value as "data"; '0': only the head

if redis.call('GET', value_key) == value then
  return 0
end
redis.call('SET', value_key, value)
local data = ''
if send_value then data = ',"data":' .. value end
if version_key == nil then
  redis.call('PUBLISH', channel, '{' .. head .. data .. '}')
  return 1
end
local version = redis.call('INCR', version_key)
redis.call('PUBLISH', channel, '{' .. head .. ',"version":' .. version .. data .. '}')
return version
