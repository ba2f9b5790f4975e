-- Shared by set_attr.lua, commit.lua and remove.lua (the loader puts it in
-- front of them): the versioned room message viewers get.

-- A hash as HGETALL returns it (name, value, name, ...) as a JSON object.
-- The values are stored as JSON already, so they are pasted, not re-encoded.
local function json_object(flat)
  local parts = {}
  for i = 1, #flat, 2 do
    parts[#parts + 1] = cjson.encode(flat[i]) .. ':' .. flat[i + 1]
  end
  return '{' .. table.concat(parts, ',') .. '}'
end

-- Publishes {"type": "room", "version": N, "room": name, "encoders": {...},
-- "attrs": {...}} with the feed's next version; returns that version. The
-- version is taken in the same step as the publish, so subscribers see
-- versions in order and a gap means a lost message.
local function publish_room(room_key, attrs_key, room, version_key, channel)
  local version = redis.call('INCR', version_key)
  redis.call('PUBLISH', channel, '{"type":"room","version":' .. version ..
    ',"room":' .. cjson.encode(room) .. ',"encoders":' .. json_object(redis.call('HGETALL', room_key)) ..
    ',"attrs":' .. json_object(redis.call('HGETALL', attrs_key)) .. '}')
  return version
end
