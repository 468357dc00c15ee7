/**
 * The directory's atomic steps, as Lua run inside Redis. A member is a hash field of its room
 * (`<prefix>room:<id>`: peer id → "<node>\n<name>"); a node is alive while `<prefix>node:<id>` exists
 * (renewed each heartbeat, expiring after 3 beats); each node reads its own channel `<prefix>bus:<id>`.
 * Node keys and channels are derived inside the scripts, so this needs one Redis (or a primary
 * with replicas), not Redis Cluster.
 */

/** Shared by the scripts: the node that serves a member, from its hash value. */
const OWNER = `
local function owner(value)
  local at = string.find(value, '\\n', 1, true)
  if at then return string.sub(value, 1, at - 1) end
  return value
end
`;

/**
 * KEYS[1] room; ARGV peerId, node, name, maxPeers, ttlMs, prefix, announce.
 * Members of dead nodes are dropped and not counted; the joiner's own earlier entry (a call
 * resuming) is not counted either. Announces the join to every other live node in the room.
 * Returns {'full'} or {'ok', replacedNode or '', {peerId, value, ...}}.
 */
export const JOIN_LUA = `${OWNER}
local room, peer, node, name = KEYS[1], ARGV[1], ARGV[2], ARGV[3]
local max, ttl, prefix, announce = tonumber(ARGV[4]), ARGV[5], ARGV[6], ARGV[7]
local entries = redis.call('HGETALL', room)
local alive, others, count, replaced = {}, {}, 0, ''
for i = 1, #entries, 2 do
  local id, value = entries[i], entries[i + 1]
  local by = owner(value)
  local live = alive[by]
  if live == nil then
    live = by == node or redis.call('EXISTS', prefix .. 'node:' .. by) == 1
    alive[by] = live
  end
  if not live then
    redis.call('HDEL', room, id)
  elseif id == peer then
    replaced = by
  else
    count = count + 1
    others[#others + 1] = id
    others[#others + 1] = value
  end
end
if count >= max then return {'full'} end
redis.call('HSET', room, peer, node .. '\\n' .. name)
redis.call('PEXPIRE', room, ttl)
for by, live in pairs(alive) do
  if live and by ~= node then redis.call('PUBLISH', prefix .. 'bus:' .. by, announce) end
end
return {'ok', replaced, others}
`;

/**
 * KEYS[1] room; ARGV peerId, node, prefix, announce (empty: tell nobody).
 * Removes the member only while `node` serves it: a socket replaced by the same call on another
 * node must not remove its successor. Returns 1 when removed.
 */
export const LEAVE_LUA = `${OWNER}
local room, peer, node, prefix, announce = KEYS[1], ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local value = redis.call('HGET', room, peer)
if not value or owner(value) ~= node then return 0 end
redis.call('HDEL', room, peer)
if announce == '' then return 1 end
local told = {}
for _, v in ipairs(redis.call('HVALS', room)) do
  local by = owner(v)
  if by ~= node and not told[by] then
    told[by] = true
    redis.call('PUBLISH', prefix .. 'bus:' .. by, announce)
  end
end
return 1
`;

/**
 * ARGV node, ttlMs, prefix, number of rooms, rooms..., remote nodes...
 * Renews the node's presence and its rooms' lifetimes. Returns {node key existed (0/1), rooms
 * missing, remote nodes whose presence has expired}.
 */
export const HEARTBEAT_LUA = `
local node, ttl, prefix, n = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])
local existed = redis.call('EXISTS', prefix .. 'node:' .. node)
redis.call('SET', prefix .. 'node:' .. node, '1', 'PX', ttl)
local missing, dead = {}, {}
for i = 5, 4 + n do
  if redis.call('PEXPIRE', prefix .. 'room:' .. ARGV[i], ttl) == 0 then missing[#missing + 1] = ARGV[i] end
end
for i = 5 + n, #ARGV do
  if redis.call('EXISTS', prefix .. 'node:' .. ARGV[i]) == 0 then dead[#dead + 1] = ARGV[i] end
end
return {existed, missing, dead}
`;
