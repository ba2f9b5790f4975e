-- One room's encoder records and the viewers sent to each of its streams,
-- read through the room's member set: the cost follows the room, not the
-- whole site's records hash (which keeps every down encoder for hours).
-- Returns {members, their record JSON (false where none), assigned hash as a flat list}.

local members_key = KEYS[1]       -- set: the room's members ('<room>/<encoder>')
local records_key = KEYS[2]       -- hash: member -> record JSON
local assigned_key = KEYS[3]      -- hash: stream URL -> viewers sent there since its encoder last reported

local members = redis.call('SMEMBERS', members_key)
local records = {}
-- HMGET in slices: Lua's unpack refuses a few thousand arguments at once.
for first = 1, #members, 500 do
  local slice = redis.call('HMGET', records_key, unpack(members, first, math.min(first + 499, #members)))
  for _, text in ipairs(slice) do
    records[#records + 1] = text
  end
end
return {members, records, redis.call('HGETALL', assigned_key)}
