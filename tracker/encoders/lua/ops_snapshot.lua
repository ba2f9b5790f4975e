-- Reads what an operator's dashboard starts from in one atomic step, so it
-- and the ops feed's version agree.
-- Returns {version, records, audience, schedule health, room states, log, log, ...}.

local ops_version_key = KEYS[1]   -- the operators' feed's version counter
local records_key = KEYS[2]       -- hash: member -> record JSON
local audience_key = KEYS[3]      -- string: JSON, viewers and playback health per room
local schedules_key = KEYS[4]     -- string: JSON, schedule fetch health per room
local rooms_key = KEYS[5]         -- string: JSON, each room's judged state
-- KEYS[6], KEYS[7], ...: one transition log (stream) per room

local entries_per_log = ARGV[1]   -- the latest this many transitions of each room

local result = {redis.call('GET', ops_version_key) or '0', redis.call('HGETALL', records_key),
                redis.call('GET', audience_key) or '{}', redis.call('GET', schedules_key) or '{}',
                redis.call('GET', rooms_key) or '{}'}
for i = 6, #KEYS do
  result[i] = redis.call('XREVRANGE', KEYS[i], '+', '-', 'COUNT', entries_per_log)
end
return result
