#include "chat/room_directory.h"

#include <algorithm>
#include <charconv>

#include "text/unicode.h"

namespace parley::chat {
namespace {

std::string fold(std::string_view text) {
  Result<std::string> folded = unicode::casefold(text);
  return folded ? *std::move(folded) : std::string(text);
}

bool starts_with(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

}  // namespace

RoomDirectory::RoomDirectory(std::size_t loops) : shards_(std::max<std::size_t>(1, loops)) {}

RoomDirectory::UsersKey RoomDirectory::users_key(const std::string& room, const Entry& e) {
  return {~e.users, e.folded, room};
}

void RoomDirectory::update(uint32_t loop, const std::string& room, uint64_t users,
                           uint64_t online) {
  Shard& shard = shards_[loop % shards_.size()];
  std::lock_guard lock(shard.mutex);
  auto it = shard.rooms.find(room);
  if (it != shard.rooms.end()) {
    if (it->second.users == users && it->second.online == online) return;
    shard.by_users.erase(users_key(room, it->second));
    if (users == 0) {
      shard.by_name.erase({it->second.folded, room});
      shard.rooms.erase(it);
      return;
    }
    it->second.users = users;
    it->second.online = online;
    shard.by_users.insert(users_key(room, it->second));
    return;
  }
  if (users == 0) return;
  Entry& e = shard.rooms.emplace(room, Entry{fold(room), users, online}).first->second;
  shard.by_name.insert({e.folded, room});
  shard.by_users.insert(users_key(room, e));
}

void RoomDirectory::collect(const Shard& shard, const RoomsRequest& request,
                            const std::string& prefix, const UsersKey& after, const Filter& visible,
                            std::vector<Candidate>& out) const {
  const std::size_t want = std::size_t{request.limit} + 1;
  std::size_t taken = 0;
  auto take = [&](const std::string& room) {
    if (visible && !visible(room)) return;
    const Entry& e = shard.rooms.at(room);
    UsersKey key = users_key(room, e);
    if (request.order == RoomsRequest::Order::Name) std::get<0>(key) = 0;
    out.push_back(Candidate{std::move(key), RoomSummary{room, e.users, e.online}});
    ++taken;
  };
  if (request.order == RoomsRequest::Order::Name) {
    NameKey from{std::get<1>(after), std::get<2>(after)};
    auto it = from >= NameKey{prefix, ""} ? shard.by_name.upper_bound(from)
                                          : shard.by_name.lower_bound({prefix, ""});
    for (; it != shard.by_name.end() && taken < want && starts_with(it->first, prefix); ++it) {
      take(it->second);
    }
    return;
  }
  for (auto it = shard.by_users.upper_bound(after); it != shard.by_users.end() && taken < want;
       ++it) {
    if (starts_with(std::get<1>(*it), prefix)) take(std::get<2>(*it));
  }
}

RoomsPage RoomDirectory::page(const RoomsRequest& request, const Filter& visible) const {
  const bool by_name = request.order == RoomsRequest::Order::Name;
  const std::string prefix = fold(request.query);
  // The cursor: by name, the last room's name; by people, "<users>:<name>".
  // Anything else starts from the beginning ({0, "", ""} sorts first).
  UsersKey after{0, "", ""};
  std::string_view cursor = request.after;
  uint64_t users = 0;
  if (!by_name && !cursor.empty()) {
    const std::size_t colon = std::min(cursor.find(':'), cursor.size());
    auto [end, ec] = std::from_chars(cursor.data(), cursor.data() + colon, users);
    const bool valid = colon < cursor.size() && ec == std::errc{} && end == cursor.data() + colon;
    cursor = valid ? cursor.substr(colon + 1) : std::string_view();
  }
  if (!cursor.empty()) after = {by_name ? 0 : ~users, fold(cursor), std::string(cursor)};
  std::vector<Candidate> candidates;
  RoomsPage page;
  for (const Shard& shard : shards_) {
    std::lock_guard lock(shard.mutex);
    page.total += shard.rooms.size();
    collect(shard, request, prefix, after, visible, candidates);
  }
  std::sort(candidates.begin(), candidates.end(),
            [](const Candidate& a, const Candidate& b) { return a.key < b.key; });
  const std::size_t n = std::min<std::size_t>(request.limit, candidates.size());
  for (std::size_t i = 0; i < n; ++i) page.rooms.push_back(std::move(candidates[i].summary));
  if (candidates.size() > n && n > 0) {
    const RoomSummary& last = page.rooms.back();
    page.next = by_name ? last.room : std::to_string(last.users) + ":" + last.room;
  }
  return page;
}

}  // namespace parley::chat
