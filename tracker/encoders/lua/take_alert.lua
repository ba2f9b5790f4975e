-- Handles one entry of a room's log for the alerts' consumer group in one
-- step: acknowledges it, stores the encoder's new alert memory and queues its
-- webhooks. A worker killed before this ran left the entry pending, and the
-- next one claims it back (XAUTOCLAIM); one killed after left all of it done.
-- Returns 1 when handled here, 0 when another worker had acknowledged the
-- entry already (nothing written), -1 when the encoder's memory changed since
-- it was read (nothing written: decide again).

local log_key = KEYS[1]      -- stream: the room's log
local memory_key = KEYS[2]   -- hash: <member> -> what was last sent (JSON)
local outbox_key = KEYS[3]   -- zset: delivery JSON -> when it is due

local group = ARGV[1]        -- the alerts' consumer group
local entry_id = ARGV[2]     -- the log entry handled
local member = ARGV[3]       -- '<room>/<encoder>', or '' when no memory changes
local read_memory = ARGV[4]  -- the memory the decision was made on ('' for none)
local new_memory = ARGV[5]   -- the memory to store
local due = ARGV[6]          -- when the deliveries are due
-- ARGV[7], ARGV[8]...: one delivery JSON per webhook

if member ~= '' and (redis.call('HGET', memory_key, member) or '') ~= read_memory then
  return -1
end
if redis.call('XACK', log_key, group, entry_id) == 0 then
  return 0
end
if member ~= '' then
  redis.call('HSET', memory_key, member, new_memory)
end
for i = 7, #ARGV do
  redis.call('ZADD', outbox_key, due, ARGV[i])
end
return 1
