-- rampart limits: apply later adjustments without denying.
-- KEYS[i] is check i's key; ARGV holds 3 fields per check:
--   r (rate):        interval_us, delta (units; negative refunds)
--   c (concurrency): member to release, unused
--   n (counter):     delta, expires_ms (unix)
if redis.replicate_commands then redis.replicate_commands() end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
for i = 1, #KEYS do
  local j = (i - 1) * 3
  local kind, k = ARGV[j + 1], KEYS[i]
  if kind == 'r' then
    local a, d = tonumber(ARGV[j + 2]), tonumber(ARGV[j + 3])
    local v = redis.call('GET', k)
    local tat = nil
    if v then tat = tonumber(v) end
    if d > 0 then
      if not tat or tat < now then tat = now end
      tat = tat + d * a
    elseif tat then
      tat = tat + d * a
    end
    if tat and tat > now then
      redis.call('SET', k, string.format('%.3f', tat), 'PX', math.floor((tat - now) / 1000) + 1)
    elseif tat then
      redis.call('DEL', k)
    end
  elseif kind == 'c' then
    redis.call('ZREM', k, ARGV[j + 2])
  elseif kind == 'n' then
    local d = tonumber(ARGV[j + 2])
    if d > 0 then
      redis.call('INCRBY', k, d)
      redis.call('PEXPIREAT', k, tonumber(ARGV[j + 3]) + 60000)
    elseif d < 0 and redis.call('EXISTS', k) == 1 then
      if redis.call('INCRBY', k, d) < 0 then redis.call('SET', k, 0, 'KEEPTTL') end
    end
  else
    return redis.error_reply('rampart limits: unknown check kind')
  end
end
return 1
