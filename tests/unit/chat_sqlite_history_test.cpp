// SqliteHistory against MemoryHistory (the History every backend must behave
// like): the same random room logs (messages, replies, edits, deletes,
// reactions, resends, changes of missing or changed targets) are appended to
// both, and every answer is compared: the appends' ids, refusals, duplicates,
// quotes and counts, then pages of every kind at random anchors, and searches
// (short and long queries, upper and lower case, CJK) paged to their end.
// Messages with a file (attachments) among them; and what retention removes
// releases its file, across a restart too.
#include <gtest/gtest.h>

#include <mutex>
#include <random>
#include <string>
#include <vector>

#include "chat/memory_history.h"
#include "chat/message_log.h"
#include "chat/server_event.h"
#include "chat/sqlite_history.h"
#include "store_test_support.h"

namespace parley::chat {
namespace {

using store::test_support::kTimeout;
using store::test_support::TempDir;

template <typename Answer, typename Start>
Answer await(Start start) {
  return store::test_support::await<Answer>(std::move(start));
}

Result<Appended> put(History& h, const Message& m) {
  return await<Result<Appended>>([&](auto done) { h.append("r", m, std::move(done)); });
}
Result<Page> read(History& h, const PageQuery& q) {
  return await<Result<Page>>([&](auto done) { h.read("r", q, std::move(done)); });
}
Result<SearchPage> find(History& h, const SearchQuery& q) {
  return await<Result<SearchPage>>([&](auto done) { h.search("r", q, std::move(done)); });
}

std::vector<std::string> states(const std::vector<Message>& messages) {
  std::vector<std::string> out;
  for (const Message& m : messages) out.push_back(encode_message("r", m, "u1"));
  return out;
}

std::string describe(const Result<Appended>& r) {
  if (!r) return "error " + std::to_string(static_cast<int>(refusal_of(r.error())));
  return std::to_string(r->id) + (r->duplicate ? " dup" : "") + " ts " + std::to_string(r->ts_ms) +
         " quote " + std::to_string(r->reply.id) + "/" + r->reply.user + "/" + r->reply.from + "/" +
         r->reply.text + (r->reply.deleted ? "/deleted" : "") + " count " +
         std::to_string(r->count);
}

// Every match of a search, paged with `next` until the history says there is no more.
std::vector<std::string> all_matches(History& h, const std::string& text, std::size_t limit) {
  std::vector<std::string> out;
  SearchQuery q{text, 0, limit};
  for (int pages = 0; pages < 1000; ++pages) {
    Result<SearchPage> page = find(h, q);
    EXPECT_TRUE(page) << page.error().message;
    if (!page) break;
    for (const std::string& s : states(page->messages)) out.push_back(s);
    if (!page->truncated) break;
    q.before = page->next;
  }
  return out;
}

class RandomLog {
 public:
  explicit RandomLog(uint32_t seed) : rng_(seed) {}

  Message entry(uint64_t last, int64_t ts) {
    const uint64_t target = 1 + rng_() % (last + 2);
    const std::string& user = pick(users_);
    Message m;
    switch (rng_() % 8) {
      case 0:
        m = change(EntryKind::Edit, user, target, text());
        break;
      case 1:
        m = change(EntryKind::Delete, user, target, "");
        break;
      case 2:
      case 3:
        m = change(EntryKind::React, user, target, pick(emoji_));
        break;
      case 4:
        m = change(EntryKind::Unreact, user, target, pick(emoji_));
        break;
      case 5:
        m = Message{0, 0, user, user + "-name", "", text()};
        m.reply.id = target;
        break;
      default:
        m = Message{0, 0, user, user + "-name", "", text()};
        break;
    }
    // Some messages (replies too) show a file (schema step 4): stored, paged,
    // searched by their text, gone with a delete.
    if (m.is_message() && rng_() % 3 == 0) {
      const auto n = static_cast<uint32_t>(rng_() % 4);
      m.attachment = Attachment{std::string(64, "0123"[n]),
                                "f" + text() + ".png",
                                100 + n,
                                n % 2 == 0 ? "image/png" : "application/pdf",
                                10 * n,
                                5 * n};
    }
    m.ts_ms = ts;
    // Sometimes a client id, from a small set so that resends happen.
    if (rng_() % 3 == 0) m.client_id = "c" + std::to_string(rng_() % 8);
    return m;
  }

  std::string query() {
    std::string q;
    for (std::size_t i = 0, n = 1 + rng_() % 4; i < n; ++i) q += pick(pieces_);
    return q;
  }
  std::size_t below(std::size_t n) { return rng_() % n; }

 private:
  static Message change(EntryKind kind, const std::string& user, uint64_t target,
                        std::string text) {
    Message m{0, 0, user, user + "-name", "", std::move(text)};
    m.kind = kind;
    m.target = target;
    return m;
  }
  const std::string& pick(const std::vector<std::string>& from) {
    return from[rng_() % from.size()];
  }
  std::string text() {
    std::string t;
    for (std::size_t i = 0, n = 1 + rng_() % 8; i < n; ++i) t += pick(pieces_);
    return t;
  }

  std::mt19937 rng_;
  const std::vector<std::string> users_{"u1", "u2", "u3"};
  const std::vector<std::string> emoji_{"👍", "🎉", "❤️", "😀"};
  // Few pieces, so that queries often match; both cases; CJK for the trigram index.
  const std::vector<std::string> pieces_{"a", "b", "A", "B", "ab", " ", "房", "间", "很", "É", "é"};
};

TEST(SqliteHistory, AnswersExactlyLikeMemoryHistory) {
  const ChangeRules rules{3, 5, 4};
  for (uint32_t round = 0; round < 12; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    RandomLog log(round);
    TempDir dir;
    store::HistoryStore::Options options{.dir = dir.path(), .retain_per_room = 0};
    options.max_reaction_emoji = rules.max_reaction_emoji;
    options.max_reactions = rules.max_reactions;
    options.quote_chars = rules.quote_chars;
    auto store = store::test_support::open_store(options);
    ASSERT_TRUE(store);
    SqliteHistory sqlite(*store);
    MemoryHistory memory({0, 0, rules});

    uint64_t last = 0;
    for (int i = 0, n = 40 + static_cast<int>(log.below(80)); i < n; ++i) {
      const Message entry = log.entry(last, 1000 + i);
      Result<Appended> expected = put(memory, entry);
      Result<Appended> got = put(sqlite, entry);
      ASSERT_EQ(describe(got), describe(expected)) << "entry " << i;
      if (expected && !expected->duplicate) last = expected->id;
    }
    for (int q = 0; q < 60; ++q) {
      const PageQuery query{static_cast<PageQuery::From>(log.below(4)), log.below(last + 3),
                            1 + log.below(12)};
      Result<Page> expected = read(memory, query);
      Result<Page> got = read(sqlite, query);
      ASSERT_TRUE(expected && got);
      const std::string what = "query " + std::to_string(static_cast<int>(query.from)) +
                               " anchor " + std::to_string(query.anchor) + " limit " +
                               std::to_string(query.limit);
      ASSERT_EQ(states(got->messages), states(expected->messages)) << what;
      ASSERT_EQ(got->truncated, expected->truncated) << what;
      ASSERT_EQ(got->newer, expected->newer) << what;
    }
    for (int q = 0; q < 30; ++q) {
      const std::string text = log.query();
      const std::size_t limit = 1 + log.below(5);
      // The first page exactly (the newest `limit` matches), then every match.
      Result<SearchPage> expected = find(memory, {text, 0, limit});
      Result<SearchPage> got = find(sqlite, {text, 0, limit});
      ASSERT_TRUE(expected && got);
      ASSERT_EQ(states(got->messages), states(expected->messages)) << "search '" << text << "'";
      ASSERT_EQ(all_matches(sqlite, text, limit), all_matches(memory, text, limit))
          << "search '" << text << "' limit " << limit;
    }
    EXPECT_EQ(sqlite.last_ids(), memory.last_ids());
  }
}

// The files of the messages retention drops, as the file store is told of them.
struct DroppedFiles {
  std::mutex mutex;
  std::vector<std::string> seen;  // "room/id/file"
  void add(const std::vector<store::FileRef>& refs) {
    std::lock_guard lock(mutex);
    for (const auto& r : refs)
      seen.push_back(r.room + "/" + std::to_string(r.msg_id) + "/" + r.file);
  }
  std::vector<std::string> take() {
    std::lock_guard lock(mutex);
    return std::exchange(seen, {});
  }
};

Message with_file(const std::string& user, const std::string& text, char file) {
  Message m{0, 0, user, user + "-name", "", text};
  m.attachment = Attachment{std::string(64, file), text + ".png", 64, "image/png", 3, 2};
  return m;
}

TEST(SqliteHistory, AttachmentsSurviveARestartAndRetentionReleasesTheirFiles) {
  TempDir dir;
  DroppedFiles dropped;
  store::HistoryStore::Options options{
      .dir = dir.path(), .retain_per_room = 3, .retention_interval = std::chrono::milliseconds(0)};
  options.files_dropped = [&](std::vector<store::FileRef> refs) { dropped.add(refs); };
  {
    auto store = store::test_support::open_store(options);
    ASSERT_TRUE(store);
    EXPECT_TRUE(store->take_files_at_open().empty());
    SqliteHistory history(*store);
    ASSERT_TRUE(put(history, with_file("u1", "one", 'a')));
    ASSERT_TRUE(put(history, Message{0, 0, "u1", "u1-name", "", "two"}));
    ASSERT_TRUE(put(history, with_file("u2", "three", 'b')));
    store->flush();
    EXPECT_EQ(dropped.take(), std::vector<std::string>{});
    ASSERT_TRUE(put(history, with_file("u2", "four", 'c')));
    store->flush();  // and the retention step due after it: 3 entries are kept
    EXPECT_EQ(dropped.take(), std::vector<std::string>{"r/1/" + std::string(64, 'a')});
    Message del{0, 0, "u2", "u2-name", "", ""};
    del.kind = EntryKind::Delete;
    del.target = 3;
    ASSERT_TRUE(put(history, del));
    store->flush();
    EXPECT_EQ(dropped.take(), std::vector<std::string>{}) << "message 2 had no file";
  }
  auto store = store::test_support::open_store(options);
  ASSERT_TRUE(store);
  // What the file store rebuilds its references from: message 3 was deleted.
  std::vector<store::FileRef> at_open = store->take_files_at_open();
  ASSERT_EQ(at_open.size(), 1u);
  EXPECT_EQ(at_open[0].room + "/" + std::to_string(at_open[0].msg_id) + "/" + at_open[0].file,
            "r/4/" + std::string(64, 'c'));
  SqliteHistory history(*store);
  Result<Page> page = read(history, PageQuery{});
  ASSERT_TRUE(page);
  ASSERT_EQ(page->messages.size(), 2u);
  EXPECT_TRUE(page->messages[0].deleted);
  EXPECT_TRUE(page->messages[0].attachment.empty()) << "a tombstone shows no file";
  const Attachment& a = page->messages[1].attachment;
  EXPECT_EQ(a.file, std::string(64, 'c'));
  EXPECT_EQ(a.name, "four.png");
  EXPECT_EQ(a.size, 64u);
  EXPECT_EQ(a.type, "image/png");
  EXPECT_EQ(a.width, 3u);
  EXPECT_EQ(a.height, 2u);
  Result<SearchPage> found = find(history, SearchQuery{"four", 0, 5});
  ASSERT_TRUE(found);
  ASSERT_EQ(found->messages.size(), 1u);
  EXPECT_EQ(found->messages[0].attachment.file, std::string(64, 'c'));
}

// MemoryHistory keeps the same rule: what its bounds drop releases its file.
class RecordingAttachments final : public Attachments {
 public:
  Result<Attachment> claim(std::string_view, std::string_view) override {
    return Error{Errc::NotFound, "none"};
  }
  void referenced(std::string_view, uint64_t, std::string_view, std::string_view) override {}
  void released(std::string_view room, uint64_t msg_id) override {
    seen.push_back(std::string(room) + "/" + std::to_string(msg_id));
  }
  std::vector<std::string> seen;
};

TEST(MemoryHistory, RetentionReleasesTheFilesOfWhatItDrops) {
  RecordingAttachments files;
  MemoryHistory history({2, 0, {}, &files});
  ASSERT_TRUE(put(history, with_file("u1", "one", 'a')));
  ASSERT_TRUE(put(history, Message{0, 0, "u1", "u1-name", "", "two"}));
  ASSERT_TRUE(put(history, with_file("u1", "three", 'b')));
  ASSERT_TRUE(put(history, with_file("u1", "four", 'c')));
  EXPECT_EQ(files.seen, std::vector<std::string>{"r/1"}) << "message 2 had no file";
  ASSERT_TRUE(put(history, Message{0, 0, "u1", "u1-name", "", "five"}));
  EXPECT_EQ(files.seen, (std::vector<std::string>{"r/1", "r/3"}));
}

}  // namespace
}  // namespace parley::chat
