-- Replaces Redis's copy of the encoders' tokens in one step, leaving out
-- tokens revoked meanwhile: a copy read from the database before a
-- revocation must not write the revoked token back.

local tokens_key = KEYS[1]        -- hash: sha256(token) -> identity JSON

local revoked_prefix = ARGV[1]    -- '<prefix>:revoked:'; a token hash after it marks a recent revocation
-- ARGV[2], ARGV[3], ...: token hash, identity JSON, token hash, identity JSON, ...

redis.call('DEL', tokens_key)
for i = 2, #ARGV, 2 do
  if redis.call('EXISTS', revoked_prefix .. ARGV[i]) == 0 then
    redis.call('HSET', tokens_key, ARGV[i], ARGV[i + 1])
  end
end
