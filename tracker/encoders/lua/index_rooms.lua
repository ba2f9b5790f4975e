-- Puts every stored record in its room's member set, in one step so that no
-- encoder removed meanwhile is indexed again. Run once when the worker
-- starts: records stored before the index existed are found by room too.
-- Returns how many members were added.

local records_key = KEYS[1]       -- hash: member -> record JSON

local members_prefix = ARGV[1]    -- '<prefix>:members:'; the room's name after it

local added = 0
for _, member in ipairs(redis.call('HKEYS', records_key)) do
  local room = string.match(member, '^([^/]*)/')
  if room then
    added = added + redis.call('SADD', members_prefix .. room, member)
  end
end
return added
