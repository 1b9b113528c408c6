#include "chat/redis_log_scripts.h"

#include "store/redis/connection.h"

namespace parley::chat::redis_log {
namespace {

// KEYS: seq, log, st, rq, sx[, dedup]. ARGV: maxlen (0: all), retain ms (0:
// forever), dedup ttl s, channel, node, body (JSON), kind (m e d r u),
// target (a change's; a reply's quoted message; else 0), user, text (an
// edit's text, a reaction's emoji), quote chars, max emoji, max reactions.
const redis::Script kAppend(R"lua(
local seq, log, st, rq, sx, dedup = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
local kind, target, user, text = ARGV[7], ARGV[8], ARGV[9], ARGV[10]
if dedup then
  local seen = redis.call('GET', dedup)
  if seen then
    local sp = string.find(seen, ' ', 1, true)
    return {0, tonumber(string.sub(seen, 1, sp - 1)), tonumber(string.sub(seen, sp + 1))}
  end
end
-- Message `id` (decimal): its stored body, time and state; nil if the room
-- holds no message with that id (none, a change, or removed by retention).
local function message_at(id)
  local e = redis.call('XRANGE', log, id .. '-0', id .. '-0')
  if #e == 0 then return nil end
  local f = e[1][2]
  if string.sub(f[4], 1, 5) == '{"k":' then return nil end
  local raw = redis.call('HGET', st, id)
  return cjson.decode(f[4]), tonumber(f[2]), raw and cjson.decode(raw) or {}
end
local function first_code_points(s, max)
  local i, n = 1, 0
  while i <= #s do
    if n == max then return string.sub(s, 1, i - 1) end
    i = i + 1
    while i <= #s do
      local b = string.byte(s, i)
      if b < 128 or b >= 192 then break end
      i = i + 1
    end
    n = n + 1
  end
  return s
end
-- The checks of chat/message_log.h; refusals: 1 NotFound, 2 NotAuthor,
-- 3 Deleted, 4 LimitReached.
local body, tts, state, quote, reaction = nil, 0, nil, '', nil
if kind ~= 'm' or target ~= '0' then
  body, tts, state = message_at(target)
  if not body then return {-1, 1} end
end
if kind == 'm' and body then
  local deleted = state.d ~= nil
  local qt = deleted and '' or first_code_points(state.t or body.t, tonumber(ARGV[11]))
  quote = '{"i":' .. target .. ',"u":' .. cjson.encode(body.u) .. ',"f":' .. cjson.encode(body.f) ..
          ',"t":' .. cjson.encode(qt) .. ',"d":' .. (deleted and '1' or '0') .. '}'
elseif kind == 'e' or kind == 'd' then
  if body.u ~= user then return {-1, 2} end
  if state.d then return {-1, 3} end
elseif kind == 'r' or kind == 'u' then
  if state.d then return {-1, 3} end
  local total, present = 0, false
  for _, pair in ipairs(state.x or {}) do
    total = total + #pair[2]
    if pair[1] == text then
      reaction = pair
      for _, u in ipairs(pair[2]) do
        if u == user then present = true end
      end
    end
  end
  if kind == 'r' and present then return {0, tonumber(target), tts} end
  if kind == 'u' and not present then return {0, tonumber(target), tts} end
  if kind == 'r' and not reaction and #(state.x or {}) >= tonumber(ARGV[12]) then return {-1, 4} end
  if kind == 'r' and total >= tonumber(ARGV[13]) then return {-1, 4} end
end
local id = redis.call('INCR', seq)
local now = redis.call('TIME')
local ts = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
local ids = string.format('%d', id)
local tss = string.format('%d', ts)
local count = 0
if kind == 'e' then
  state.t = text
  state.e = ts
elseif kind == 'd' then
  state = {d = 1}
  local replies = redis.call('HGET', rq, target)
  if replies then
    for r in string.gmatch(replies, '%d+') do
      local raw = redis.call('HGET', st, r)
      local s = raw and cjson.decode(raw) or {}
      s.q = 1
      redis.call('HSET', st, r, cjson.encode(s))
      redis.call('ZADD', sx, r, r)
    end
    redis.call('HDEL', rq, target)
  end
elseif kind == 'r' then
  if not reaction then
    reaction = {text, {}}
    state.x = state.x or {}
    table.insert(state.x, reaction)
  end
  table.insert(reaction[2], user)
  count = #reaction[2]
elseif kind == 'u' then
  for i, u in ipairs(reaction[2]) do
    if u == user then
      table.remove(reaction[2], i)
      break
    end
  end
  count = #reaction[2]
  if count == 0 then
    for i, pair in ipairs(state.x) do
      if pair == reaction then
        table.remove(state.x, i)
        break
      end
    end
    if #state.x == 0 then state.x = nil end
  end
end
local stored = ARGV[6]
if kind ~= 'm' then
  state.v = id
  redis.call('HSET', st, target, cjson.encode(state))
  redis.call('ZADD', sx, target, target)
  if kind == 'r' or kind == 'u' then
    stored = string.sub(stored, 1, -2) .. ',"nr":' .. count .. '}'
  end
elseif quote ~= '' then
  stored = string.sub(stored, 1, -2) .. ',"q":' .. quote .. '}'
  local list = redis.call('HGET', rq, target)
  redis.call('HSET', rq, target, list and (list .. ' ' .. ids) or ids)
  redis.call('ZADD', sx, target, target)
end
if ARGV[1] ~= '0' then
  redis.call('XADD', log, 'MAXLEN', ARGV[1], ids .. '-0', 'ts', tss, 'm', stored)
else
  redis.call('XADD', log, ids .. '-0', 'ts', tss, 'm', stored)
end
if ARGV[2] ~= '0' then
  local cutoff = ts - tonumber(ARGV[2])
  local oldest = redis.call('XRANGE', log, '-', '+', 'COUNT', 8)
  for _, e in ipairs(oldest) do
    if tonumber(e[2][2]) >= cutoff then break end
    redis.call('XDEL', log, e[1])
  end
end
if ARGV[1] ~= '0' or ARGV[2] ~= '0' then
  -- Retention removed the oldest entries: their states and reply lists go.
  local first = redis.call('XRANGE', log, '-', '+', 'COUNT', 1)
  local oldest = string.match(first[1][1], '^(%d+)')
  local gone = redis.call('ZRANGEBYSCORE', sx, '-inf', '(' .. oldest, 'LIMIT', 0, 64)
  if #gone > 0 then
    redis.call('HDEL', st, unpack(gone))
    redis.call('HDEL', rq, unpack(gone))
    redis.call('ZREM', sx, unpack(gone))
  end
end
if dedup then redis.call('SET', dedup, ids .. ' ' .. tss, 'EX', ARGV[3]) end
redis.call('PUBLISH', ARGV[4], '{"id":' .. ids .. ',"ts":' .. tss .. ',"n":' .. ARGV[5] .. ',' .. string.sub(stored, 2))
return {1, id, ts, count, quote}
)lua");

// KEYS: log, st. ARGV: mode, bound, limit (see the header).
const redis::Script kRead(R"lua(
local log, st = KEYS[1], KEYS[2]
local mode, bound, limit = ARGV[1], ARGV[2], tonumber(ARGV[3])
local back = mode == 'm<' or mode == 'e<'
local function is_change(e) return string.sub(e[2][4], 1, 5) == '{"k":' end
local function range(from, count)
  if back then return redis.call('XREVRANGE', log, from, '-', 'COUNT', count) end
  return redis.call('XRANGE', log, from, '+', 'COUNT', count)
end
local out, flag = {}, 0
if mode == 'e>' or mode == 'e<' then
  out = range(bound, limit + 1)
  if #out > limit then
    flag = 1
    table.remove(out)
  end
else
  -- Messages only: scan past the changes, at most 10,000 entries a read.
  local cursor, scanned = bound, 0
  while #out < limit and scanned < 10000 do
    local want = limit - #out + 8
    local chunk = range(cursor, want)
    for _, e in ipairs(chunk) do
      scanned = scanned + 1
      cursor = '(' .. e[1]
      if not is_change(e) then
        out[#out + 1] = e
        if #out == limit then break end
      end
    end
    if #chunk < want then break end
  end
  if scanned >= 10000 and #out < limit then
    flag = 1
  elseif #out > 0 then
    flag = #range('(' .. out[#out][1], 1) > 0 and 1 or 0
  elseif mode == 'm>' then
    flag = #range(bound, 1) > 0 and 1 or 0
  end
end
local states = {}
for i, e in ipairs(out) do
  states[i] = is_change(e) and '' or (redis.call('HGET', st, string.match(e[1], '^(%d+)')) or '')
end
return {flag, out, states}
)lua");

}  // namespace

const redis::Script& append_script() {
  return kAppend;
}

const redis::Script& read_script() {
  return kRead;
}

Call append_call(const redis_codec::RoomKeys& keys, const Message& entry,
                 const AppendSettings& settings) {
  Call call;
  call.keys = {keys.seq, keys.log, keys.state, keys.replies, keys.changed};
  if (!entry.client_id.empty()) {
    call.keys.push_back(redis_codec::dedup_key(keys, entry.user, entry.client_id));
  }
  const uint64_t target = entry.is_message() ? entry.reply.id : entry.target;
  call.args = {std::to_string(settings.retain_per_room),
               std::to_string(settings.retain_ms),
               std::to_string(std::max<int64_t>(1, settings.dedup_ttl_s)),
               keys.channel,
               settings.node_json,
               redis_codec::encode_body(entry),
               std::string(1, redis_codec::kind_code(entry.kind)),
               std::to_string(target),
               entry.user,
               entry.text,
               std::to_string(settings.rules.quote_chars),
               std::to_string(settings.rules.max_reaction_emoji),
               std::to_string(settings.rules.max_reactions)};
  return call;
}

Call read_call(const redis_codec::RoomKeys& keys, std::string_view mode, std::string bound,
               std::size_t limit) {
  return Call{{keys.log, keys.state}, {std::string(mode), std::move(bound), std::to_string(limit)}};
}

}  // namespace parley::chat::redis_log
