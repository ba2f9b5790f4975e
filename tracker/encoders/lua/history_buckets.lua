-- A clients/bandwidth series summed up into buckets of time, for a chart:
-- reading a day's 8640 points into Python costs most of a second in
-- redis-py's parser; here it costs milliseconds, and the page gets a few
-- hundred numbers. Read-only. Called for a slice of the series at a time
-- (two hours: about 7 ms here), so Redis serves others in between.
-- Returns, per bucket that has points: its first point's time (ms), the
-- peak clients, peak encoding bitrate and peak outgoing bandwidth, the sum
-- of outgoing bandwidth over its points, and how many points it has;
-- flattened, oldest first.

local series_key = KEYS[1]            -- stream: one point per step, id = the step's start in ms
local since = tonumber(ARGV[1])       -- ms, the slice's start (on a bucket boundary)
local bucket = tonumber(ARGV[2])      -- ms per bucket
local last = ARGV[3]                  -- ms, the slice's last moment

local answer = {}
local current, first, clients, bitrate, peak, total, count = nil, 0, 0, 0, 0, 0, 0
local function flush()
  if current ~= nil then
    for _, value in ipairs({first, clients, bitrate, peak, total, count}) do
      answer[#answer + 1] = tostring(value)
    end
  end
end
for _, entry in ipairs(redis.call('XRANGE', series_key, since .. '-0', last)) do
  local at = tonumber(string.match(entry[1], '^(%d+)'))
  local fields = {}
  for i = 1, #entry[2], 2 do
    fields[entry[2][i]] = tonumber(entry[2][i + 1]) or 0
  end
  local index = math.floor((at - since) / bucket)
  if index ~= current then
    flush()
    current, first, clients, bitrate, peak, total, count = index, at, 0, 0, 0, 0, 0
  end
  clients = math.max(clients, fields['c'] or 0)
  bitrate = math.max(bitrate, fields['b'] or 0)
  peak = math.max(peak, fields['o'] or 0)
  total = total + (fields['o'] or 0)
  count = count + 1
end
flush()
return answer
