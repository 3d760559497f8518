-- score.lua: one incident-score update for one identity, in one round trip
-- (see RedisScorer). The same arithmetic as Scorer.Add in score.go, on the
-- Redis server's clock.
--
-- KEYS[1]  the identity's hash:
--            s        score (as %.17g)
--            t        time of the score (µs since the Unix epoch)
--            c:<kind> violations of that kind since the score was last
--                     below forget-below
--            q:<name> until when (µs) threshold <name> stays quiet
-- ARGV[1]  half-life (µs)
-- ARGV[2]  forget-below: under it the counts are reset
-- ARGV[3]  points to add (> 0)
-- ARGV[4]  n, the number of kinds that follow (severity > 0, repeats count)
-- ARGV[5 .. 4+n]            kinds
-- then triples per threshold of the identity's scope: name, score, cooldown (µs)
--
-- Returns { score (string), { kind, count, ... }, { fired threshold names } }.
-- TIME before writes needs effects replication (the default since Redis 5).
if redis.replicate_commands then redis.replicate_commands() end
local tm = redis.call('TIME')
local now = tonumber(tm[1]) * 1000000 + tonumber(tm[2])
local halflife = tonumber(ARGV[1])
local forget = tonumber(ARGV[2])
local points = tonumber(ARGV[3])
local n = tonumber(ARGV[4])

local score, at = 0, now
local counts, quiet = {}, {}
local h = redis.call('HGETALL', KEYS[1])
for i = 1, #h, 2 do
  local f, v = h[i], h[i + 1]
  if f == 's' then
    score = tonumber(v)
  elseif f == 't' then
    at = tonumber(v)
  else
    local p, name = string.sub(f, 1, 2), string.sub(f, 3)
    if p == 'c:' then
      counts[name] = tonumber(v)
    elseif p == 'q:' then
      quiet[name] = tonumber(v)
    end
  end
end

local cur = score
if now > at then
  cur = score * math.exp(-math.log(2) * (now - at) / halflife)
  at = now
end
local del = {}
if cur < forget then
  for k in pairs(counts) do
    del[#del + 1] = 'c:' .. k
  end
  counts = {}
end
score = cur + points

local set = { 's', string.format('%.17g', score), 't', string.format('%.0f', at) }
for i = 5, 4 + n do
  local k = ARGV[i]
  counts[k] = (counts[k] or 0) + 1
end
for k, c in pairs(counts) do
  set[#set + 1] = 'c:' .. k
  set[#set + 1] = c
end

local fired = {}
for i = 5 + n, #ARGV, 3 do
  local name, ts, cooldown = ARGV[i], tonumber(ARGV[i + 1]), tonumber(ARGV[i + 2])
  if score >= ts then
    local until_ = quiet[name]
    if not (until_ and now < until_) then
      quiet[name] = now + cooldown
      set[#set + 1] = 'q:' .. name
      set[#set + 1] = string.format('%.0f', now + cooldown)
      fired[#fired + 1] = name
    end
  end
end

-- Quiet periods that are over are dropped (bounded hash); the key lives
-- until the score has decayed below forget-below and every quiet period
-- has ended, then Redis forgets the identity.
local longest = 0
for name, u in pairs(quiet) do
  if u <= now then
    del[#del + 1] = 'q:' .. name
  elseif u - now > longest then
    longest = u - now
  end
end
local decay = 0
if score > forget then
  decay = halflife * math.log(score / forget) / math.log(2)
end
if decay > longest then
  longest = decay
end

if #del > 0 then
  redis.call('HDEL', KEYS[1], unpack(del))
end
redis.call('HSET', KEYS[1], unpack(set))
redis.call('PEXPIRE', KEYS[1], math.ceil(longest / 1000) + 1000)

local flat = {}
for k, c in pairs(counts) do
  flat[#flat + 1] = k
  flat[#flat + 1] = c
end
return { string.format('%.17g', score), flat, fired }
