-- Reads the public feed's version and every room's hashes in one atomic
-- step, so the snapshot and its version agree: a browser that loads it
-- applies exactly the messages after that version.
-- Returns {version, room hash, attrs hash, room hash, attrs hash, ...}.

local live_version_key = KEYS[1]  -- the public feed's version counter
-- KEYS[2], KEYS[3], ...: for each room its hash (encoder -> public report), then its attrs hash

local result = {redis.call('GET', live_version_key) or '0'}
for i = 2, #KEYS do
  result[i] = redis.call('HGETALL', KEYS[i])
end
return result
