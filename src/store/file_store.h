// The uploaded files (docs/SECURITY.md, "Uploads"): content-addressed under
// <data-dir>/files, an index of who uploaded what and which messages use it,
// and the disk budget they count against.
//
// Layout: <dir>/ab/cdef... holds the file whose SHA-256 is abcdef... (the
// first two hex digits a folder, so no folder grows past 1/256 of the files);
// <dir>/tmp/ the uploads being received; <dir>/index.sqlite the index:
//   files  (id, size, type, width, height)     one row per stored file
//   owners (id, user, pending_until)            who uploaded it; pending: not yet attached
//   refs   (room, msg_id, id)                   the messages that show it
// A file lives while a message references it or an upload of it waits to be
// attached (pending_until, --upload-unattached-ttl after the upload or the
// last claim). When the last reference goes (its message deleted, or removed
// by the history's retention or cap) and no upload is pending, the file is
// removed at once; unattached uploads are removed by sweep() once their time
// is up (run before any upload that would not fit, and at start).
//
// The history is the truth about which messages show a file; `refs` is this
// store's copy of it, kept by referenced() and released() as the chat stores
// and deletes messages. A crash between a history commit and that call would
// leave the copy wrong (a file kept for a message that is gone, or removed
// under one that was just stored), so at start the server hands over the
// history's own list (rebuild_references: the messages with a file in
// SQLite, none for the memory history) and only then are unused files swept.
//
// The budget counts the stored files plus what uploads in flight reserved
// (their declared Content-Length), so concurrent uploads cannot overshoot it.
// A duplicate costs nothing once committed: its reservation is given back.
//
// Thread-safe: one mutex around the index and the budget. Every call is a
// few SQLite statements on a small table (and an unlink or rename): short
// enough to make on an event loop, the way it is used.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/result.h"
#include "store/append_request.h"
#include "store/sqlite_database.h"

namespace parley::store {

// Bytes of files stored plus bytes reserved by uploads in flight, against a
// limit (0 = none). Pure, not thread-safe: FileStore guards it.
class DiskBudget {
 public:
  explicit DiskBudget(uint64_t limit = 0) : limit_(limit) {}
  // Room for `n` more bytes: reserved and true, or false (nothing changes).
  bool reserve(uint64_t n);
  void unreserve(uint64_t n) { reserved_ -= std::min(n, reserved_); }
  void add(uint64_t n) { used_ += n; }
  void remove(uint64_t n) { used_ -= std::min(n, used_); }
  uint64_t used() const { return used_; }
  uint64_t reserved() const { return reserved_; }
  uint64_t limit() const { return limit_; }

 private:
  uint64_t limit_;
  uint64_t used_ = 0;
  uint64_t reserved_ = 0;
};

struct StoredFile {
  std::string id{};  // SHA-256, lowercase hex
  uint64_t size = 0;
  std::string type{};
  uint32_t width = 0;
  uint32_t height = 0;
};

// <dir>/ab/cdef... for id abcdef...; `id` must be a valid file id.
std::filesystem::path file_path(const std::filesystem::path& dir, std::string_view id);

class FileStore {
 public:
  using Clock = std::chrono::system_clock;
  struct Options {
    std::filesystem::path dir;
    uint64_t max_bytes = 0;                     // the budget; 0 = no limit
    std::chrono::seconds unattached_ttl{3600};  // how long an upload waits to be attached
    bool forget_references = false;             // the messages did not survive (memory history)
    // The history will hand over its references (rebuild_references): nothing
    // is swept before, since `refs` may be stale until then.
    bool rebuild_references = false;
  };

  static Result<std::unique_ptr<FileStore>> open(Options options);
  ~FileStore();

  // Reserves room for an upload of `size` bytes, sweeping expired uploads
  // first when it does not fit. False: the budget is full.
  bool reserve(uint64_t size);
  void unreserve(uint64_t size);
  // A new temporary file for an upload: its path, and an open descriptor.
  Result<std::pair<std::filesystem::path, int>> create_temp();
  // Moves a complete, synced temporary file into place as `file` (or drops
  // it when that content is stored already), records `user` as an owner
  // with a pending upload, and gives back `reserved`. Returns what is stored.
  Result<StoredFile> commit(const std::filesystem::path& temp, const StoredFile& file,
                            std::string_view user, uint64_t reserved);

  std::optional<StoredFile> find(std::string_view id);
  std::filesystem::path path_of(std::string_view id) const { return file_path(dir_, id); }
  // `user` attaches `id` to a message: the file when this user uploaded it
  // (its pending time renewed until the message is stored), else NotFound.
  Result<StoredFile> claim(std::string_view user, std::string_view id);
  void referenced(std::string_view room, uint64_t msg_id, std::string_view id,
                  std::string_view user);
  void released(std::string_view room, uint64_t msg_id);
  // Messages removed by the history's retention or cap: each one's file is
  // released as by released(), in one transaction of the index.
  void released(const std::vector<FileRef>& messages);
  // The messages that show a file, as the history holds them at start: they
  // replace `refs` (less any released since open), then unused files are
  // swept. `forget_pending`: unattached uploads go too (memory history).
  void rebuild_references(const std::vector<FileRef>& messages, bool forget_pending);
  // Removes unattached uploads whose time is up and nobody references.
  void sweep();

  uint64_t used_bytes();

 private:
  FileStore(Options options, SqliteDatabase db);
  Status prepare();
  std::optional<StoredFile> find_locked(std::string_view id);
  void sweep_locked();
  void remove_if_unused(const std::string& id, int64_t now_ms);
  // Deletes one reference; the file it named ("" when there was none).
  std::string drop_reference(std::string_view room, uint64_t msg_id);
  int64_t now_ms() const;

  Options options_;
  std::filesystem::path dir_;
  std::mutex mutex_;
  SqliteDatabase db_;
  DiskBudget budget_;
  // Until rebuild_references: the references released meanwhile, which the
  // history's list (taken at its open) may still hold.
  bool rebuilt_ = false;
  std::set<std::pair<std::string, uint64_t>> released_early_;
};

}  // namespace parley::store
