-- Leases one due delivery of the alerts' outbox to the worker about to send
-- it: its due time moves to the lease's end, so a worker killed mid-send
-- leaves it due again then (and it is sent once more, with the same id), and
-- no other worker sends it meanwhile. Returns 1 when leased here, 0 when it
-- is gone or not due (another worker holds it).

local outbox_key = KEYS[1]     -- zset: delivery JSON -> when it is due

local delivery = ARGV[1]       -- the delivery's JSON, as stored
local now = tonumber(ARGV[2])
local lease_end = ARGV[3]      -- when it is due again unless delivered or rescheduled

local due = redis.call('ZSCORE', outbox_key, delivery)
if not due or tonumber(due) > now then
  return 0
end
redis.call('ZADD', outbox_key, lease_end, delivery)
return 1
