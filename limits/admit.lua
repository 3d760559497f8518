-- rampart limits: admit all of one request's checks, or none.
-- KEYS[i] is check i's key; ARGV holds 4 fields per check:
--   r (rate):        interval_us, capacity, cost
--   c (concurrency): limit, lease_ms, member
--   n (counter):     limit, cost, expires_ms (unix)
-- Time comes from the server (TIME), so all replicas share one clock.
-- Returns {all_ok, ok_1, wait_us_1, reset_us_1, remaining_1, ok_2, ...}.
if redis.replicate_commands then redis.replicate_commands() end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local nowms = math.floor(now / 1000)
local out = {1}
local nv = {}
local all = 1
for i = 1, #KEYS do
  local j = (i - 1) * 4
  local kind, a, b = ARGV[j + 1], tonumber(ARGV[j + 2]), tonumber(ARGV[j + 3])
  local k = KEYS[i]
  local ok, wait, reset, rem = 0, 0, 0, 0
  if kind == 'r' then
    local cost = tonumber(ARGV[j + 4])
    local tat = now
    local v = redis.call('GET', k)
    if v then tat = math.max(tonumber(v) or now, now) end
    local ntat = tat + cost * a
    local horizon = now + b * a
    if ntat > horizon then
      reset = tat - now
      if cost <= b then wait = ntat - horizon end
    else
      ok, reset, rem = 1, ntat - now, math.floor((horizon - ntat) / a)
      nv[i] = ntat
    end
  elseif kind == 'c' then
    redis.call('ZREMRANGEBYSCORE', k, '-inf', nowms)
    local held = redis.call('ZCARD', k)
    if held < a then ok, rem = 1, a - held - 1 else wait = 1000000 end
  elseif kind == 'n' then
    local exp = tonumber(ARGV[j + 4])
    local used = tonumber(redis.call('GET', k) or '0') or 0
    reset = math.max(exp - nowms, 0) * 1000
    if used >= a or b > a - used then
      wait, rem = reset, math.max(a - used, 0)
    else
      ok, rem = 1, a - used - b
    end
  else
    return redis.error_reply('rampart limits: unknown check kind')
  end
  if ok == 0 then all = 0 end
  out[#out + 1] = ok
  out[#out + 1] = wait
  out[#out + 1] = reset
  out[#out + 1] = rem
end
out[1] = all
if all == 0 then return out end
for i = 1, #KEYS do
  local j = (i - 1) * 4
  local kind, k = ARGV[j + 1], KEYS[i]
  if kind == 'r' then
    redis.call('SET', k, string.format('%.3f', nv[i]), 'PX', math.floor((nv[i] - now) / 1000) + 1)
  elseif kind == 'c' then
    local lease = tonumber(ARGV[j + 3])
    redis.call('ZADD', k, nowms + lease, ARGV[j + 4])
    redis.call('PEXPIRE', k, lease)
  else
    redis.call('INCRBY', k, ARGV[j + 3])
    redis.call('PEXPIREAT', k, tonumber(ARGV[j + 4]) + 60000)
  end
end
return out
