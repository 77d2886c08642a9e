#pragma once

// The Lua scripts hearthd runs in Redis (README "Redis schema"): each one atomic step;
// and the name of a session's key, from which the scripts derive the others.

#include <string>
#include <string_view>

namespace hearth::auth {

inline std::string session_key(std::string_view session) {
    return "hearth:session:" + std::string(session);
}

// The secrets held in Redis, and the channel every node hears their changes on.
inline constexpr const char* secrets_key = "hearth:secrets";
inline constexpr const char* secrets_channel = "hearth:secrets:changed";

}  // namespace hearth::auth

namespace hearth::auth::redis_scripts {

// The checks of DESIGN.md flow 3, and for an Allocate the cap, counted over every node's
// unexpired count, in one atomic step. Returns the verdict, and when it is 'allowed' (or
// 'allowed_by_replacement') the session's participants after it (what a node may go on
// trusting while Redis is out).
// KEYS: session hash, participants, nodes, this node's counted sessions.
// ARGV: user, now, node, count ttl, reserve (0: check only, 1: take a slot, 2: take a slot
// or, past the cap, replace: the node hands the new allocation the slot of one of the
// user's idle allocations, so nothing is counted; only a node that counts a slot of the
// session has one to hand over), session id.
inline constexpr const char* judge = R"lua(
local f = redis.call('HMGET', KEYS[1], 'state', 'not_before', 'not_after', 'allocation_cap')
if not f[1] then return 'unknown_session' end
if f[1] ~= 'active' then return 'not_active' end
local now = tonumber(ARGV[2])
local not_before = tonumber(f[2]) or 0
local not_after = tonumber(f[3]) or 0
if (not_before ~= 0 and now < not_before) or (not_after ~= 0 and now > not_after) then
  return 'outside_window'
end
if redis.call('SISMEMBER', KEYS[2], ARGV[1]) == 0 then return 'not_participant' end
local allowed = {'allowed'}
for _, user in ipairs(redis.call('SMEMBERS', KEYS[2])) do table.insert(allowed, user) end
if ARGV[5] == '0' then return allowed end
local cap = tonumber(f[4]) or 4
local total = 0
for _, node in ipairs(redis.call('SMEMBERS', KEYS[3])) do
  local count = redis.call('GET', KEYS[1] .. ':allocations:' .. node)
  if count then total = total + tonumber(count) else redis.call('SREM', KEYS[3], node) end
end
local mine = KEYS[1] .. ':allocations:' .. ARGV[3]
if total >= cap then
  if ARGV[5] == '2' and (tonumber(redis.call('GET', mine)) or 0) > 0 then
    allowed[1] = 'allowed_by_replacement'
    return allowed
  end
  return 'cap_reached'
end
redis.call('INCR', mine)
redis.call('EXPIRE', mine, tonumber(ARGV[4]))
redis.call('SADD', KEYS[3], ARGV[3])
redis.call('SADD', KEYS[4], ARGV[6])
redis.call('EXPIRE', KEYS[4], tonumber(ARGV[4]))
return allowed
)lua";

// What the heartbeat reads of a session this node serves: whether it is still on, and
// who its participants are now. KEYS: session hash, participants. ARGV: now.
// Returns {'active', user...}, or {'ended'} (ended, past its window, or gone).
inline constexpr const char* served = R"lua(
local f = redis.call('HMGET', KEYS[1], 'state', 'not_after')
if not f[1] or f[1] ~= 'active' then return {'ended'} end
local not_after = tonumber(f[2]) or 0
if not_after ~= 0 and tonumber(ARGV[1]) > not_after then return {'ended'} end
local out = {'active'}
for _, user in ipairs(redis.call('SMEMBERS', KEYS[2])) do table.insert(out, user) end
return out
)lua";

// A node that starts again under the same id (a crash, kill -9, a restart) holds no
// allocation yet: what its earlier run counted is given back at once, not when it expires.
// KEYS: the node's set of counted sessions. ARGV: node id.
inline constexpr const char* forget_counts = R"lua(
for _, session in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local key = 'hearth:session:' .. session
  redis.call('DEL', key .. ':allocations:' .. ARGV[1])
  redis.call('SREM', key .. ':nodes', ARGV[1])
end
redis.call('DEL', KEYS[1])
return 1
)lua";

inline constexpr const char* release = R"lua(
local left = redis.call('DECR', KEYS[1])
if left <= 0 then redis.call('DEL', KEYS[1]) end
return left
)lua";

inline constexpr const char* revoke = R"lua(
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if ARGV[1] == '' then
  redis.call('HSET', KEYS[1], 'state', 'ended')
  redis.call('PUBLISH', ARGV[2], ARGV[3])
  return 1
end
if redis.call('SREM', KEYS[2], ARGV[1]) == 0 then return 0 end
redis.call('PUBLISH', ARGV[2], ARGV[3] .. ' ' .. ARGV[1])
return 1
)lua";

inline constexpr const char* nodes = R"lua(
local out = {}
for _, id in ipairs(redis.call('SMEMBERS', 'hearth:nodes')) do
  local fields = redis.call('HMGET', 'hearth:node:' .. id, 'turn', 'admin', 'draining',
                            'allocations', 'seen', 'secrets')
  if fields[1] then
    table.insert(out, {id, fields[1], fields[2] or '', fields[3] or '0', fields[4] or '0',
                       fields[5] or '0', fields[6] or ''})
  else
    redis.call('SREM', 'hearth:nodes', id)
  end
end
return out
)lua";

// Adds a secret and announces it, in one step. KEYS: hearth:secrets. ARGV: name, value,
// channel. Returns 1 (added, or already there with this value) or 0 (the name holds
// another value: replacing it in place would make every credential minted with the old
// value fail at once, on every node).
inline constexpr const char* put_secret = R"lua(
local held = redis.call('HGET', KEYS[1], ARGV[1])
if held then
  if held == ARGV[2] then return 1 end
  return 0
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('PUBLISH', ARGV[3], 'added ' .. ARGV[1])
return 1
)lua";

// Retires a secret and announces it. KEYS: hearth:secrets. ARGV: name, channel. Returns 1,
// or 0 when there was no such secret.
inline constexpr const char* remove_secret = R"lua(
if redis.call('HDEL', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('PUBLISH', ARGV[2], 'retired ' .. ARGV[1])
return 1
)lua";

inline constexpr const char* list = R"lua(
local out = {}
for _, id in ipairs(redis.call('SMEMBERS', 'hearth:sessions')) do
  local key = 'hearth:session:' .. id
  local f = redis.call('HMGET', key, 'state', 'not_before', 'not_after', 'allocation_cap')
  table.insert(out, {id, f[1] or 'unknown', f[2] or '0', f[3] or '0', f[4] or '4',
                     redis.call('SMEMBERS', key .. ':participants')})
end
return out
)lua";

// A session record's fields changed by their merge rules (session_record.h), atomically,
// so nodes ending allocations of one session at once lose nothing; then the session is
// listed in (or, live again, taken off) hearth:sessions:ended, scored by when it ended.
// KEYS: the record, hearth:sessions:ended. ARGV: ttl, session id, oldest ended kept (ms),
// then (rule, field, value, at) for each update.
inline constexpr const char* record_update = R"lua(
for i = 4, #ARGV, 4 do
  local rule, field, value, at = ARGV[i], ARGV[i + 1], tonumber(ARGV[i + 2]), ARGV[i + 3]
  if rule == 'add' then
    redis.call('HINCRBY', KEYS[1], field, value)
  else
    local current = tonumber(redis.call('HGET', KEYS[1], field))
    if current == nil or (rule == 'highest' and value > current) or
       (rule == 'lowest' and value < current) then
      redis.call('HSET', KEYS[1], field, value)
      if rule == 'lowest' and at ~= '0' then
        redis.call('HSET', KEYS[1], field .. '_at_unix_ms', at)
      end
    end
  end
end
redis.call('EXPIRE', KEYS[1], ARGV[1])
local f = redis.call('HMGET', KEYS[1], 'session.live', 'revoked_unix_ms', 'session.ended_unix_ms')
local live, revoked, ended = tonumber(f[1]) or 0, tonumber(f[2]) or 0, tonumber(f[3]) or 0
if revoked == 0 and live > 0 then
  redis.call('ZREM', KEYS[2], ARGV[2])
else
  redis.call('ZADD', KEYS[2], math.max(revoked, ended), ARGV[2])
end
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', '(' .. ARGV[3])
return 1
)lua";

// The sessions ended since ARGV[1] (ms), the latest first, at most ARGV[2], each with its
// record's fields. KEYS: hearth:sessions:ended.
inline constexpr const char* ended_records = R"lua(
local out = {}
for _, id in ipairs(redis.call('ZREVRANGEBYSCORE', KEYS[1], '+inf', ARGV[1], 'LIMIT', 0,
                               tonumber(ARGV[2]))) do
  table.insert(out, {id, redis.call('HGETALL', 'hearth:session:' .. id .. ':record')})
end
return out
)lua";

}  // namespace hearth::auth::redis_scripts
