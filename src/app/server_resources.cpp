// What the server opens before it serves: the TLS context (and its reload on
// SIGHUP), the history engine (SQLite, Redis or memory) and the file store
// for uploads. Server::start() calls these in order (app/server.cpp).
#include "app/server.h"

#include <filesystem>

#include <spdlog/spdlog.h>

#include "app/redis_engine.h"
#include "app/uploads.h"
#include "net/tls_stream.h"
#include "store/file_store.h"
#include "store/history_store.h"

namespace parley::app {

// Native TLS (docs/DEPLOY.md): a bad certificate or key at start is fatal...
Status Server::load_tls() {
  if (!config_.tls()) return {};
  auto loaded = net::TlsContext::load(config_.tls_cert_file, config_.tls_key_file);
  if (!loaded) return std::move(loaded).error();
  tls_ = *std::move(loaded);
  spdlog::info("TLS certificate: {}", tls_->description());
  if (tls_->expired()) spdlog::warn("the TLS certificate has expired: clients will refuse it");
  return {};
}

// ...and on SIGHUP only logged: the old context stays, and so do the clients.
void Server::reload_tls() {
  if (!config_.tls()) {
    spdlog::info("SIGHUP: no TLS certificate to reload (no --tls-cert)");
    return;
  }
  auto loaded = net::TlsContext::load(config_.tls_cert_file, config_.tls_key_file);
  if (!loaded) {
    spdlog::error("SIGHUP: TLS certificate not reloaded, keeping the current one: {}",
                  loaded.error().message);
    return;
  }
  tls_ = *std::move(loaded);  // connections keep the context they started with
  spdlog::info("SIGHUP: TLS certificate reloaded: {}", tls_->description());
  if (tls_->expired()) spdlog::warn("the TLS certificate has expired: clients will refuse it");
}

Status Server::open_history() {
  if (!config_.redis.empty()) {
    Result<std::unique_ptr<RedisEngine>> engine = RedisEngine::create(config_, loops());
    if (!engine) return engine.error();
    redis_ = std::move(engine).value();
    return {};
  }
  if (config_.history != "sqlite") return {};
  store::HistoryStore::Options o;
  o.dir = config_.data_dir;
  o.retain_per_room = config_.history_retain;
  o.retain_age = std::chrono::seconds(static_cast<int64_t>(config_.history_retain_days * 86400));
  // The room's log (issue 10): the store checks the chat's rules in its transactions.
  const chat::ChangeRules rules{};
  o.max_reaction_emoji = rules.max_reaction_emoji;
  o.max_reactions = rules.max_reactions;
  o.quote_chars = rules.quote_chars;
  o.max_bytes = config_.history_max_bytes;
  o.max_pending_room_bytes = config_.store_pending_room_bytes;
  o.max_pending_bytes = config_.store_pending_bytes;
  o.sync_full = config_.sync == "full";
  // Uploads: a message that retention or the cap removes releases its file.
  o.files_dropped = [files = files_.get()](std::vector<store::FileRef> dropped) {
    files->released(dropped);
  };
  auto opened = store::HistoryStore::open(o);
  if (!opened) return std::move(opened).error();
  store_ = std::move(opened).value();
  return {};
}

// Uploads (app/uploads.h): the file store under <data-dir>/files.
Status Server::open_uploads() {
  // The Redis engine keeps no files: a file kept on one node could not be
  // served by the others (docs/SCALING.md), so uploads are off, and said so.
  if (!config_.redis.empty()) return {};
  store::FileStore::Options o;
  o.dir = std::filesystem::path(config_.data_dir) / "files";
  o.max_bytes = config_.uploads_max_bytes;
  o.unattached_ttl = std::chrono::seconds(static_cast<int64_t>(config_.upload_unattached_ttl));
  o.rebuild_references = true;  // rebuild_file_references(), once the history is open
  Result<std::unique_ptr<store::FileStore>> opened = store::FileStore::open(std::move(o));
  if (!opened) return std::move(opened).error();
  files_ = *std::move(opened);
  uploads_ = std::make_unique<Uploads>(config_, *files_, *identity_);
  chat_options_.attachments = uploads_.get();
  json_options_.attachments = uploads_.get();
  return {};
}

// The messages that show a file, as the history holds them (store/file_store.h).
// SQLite keeps them; the in-memory history forgot its messages at exit, so
// their files and the unattached uploads go (Redis refuses attachments).
void Server::rebuild_file_references() {
  if (!files_) return;  // uploads are off
  if (store_) {
    files_->rebuild_references(store_->take_files_at_open(), false);
  } else {
    files_->rebuild_references({}, true);
  }
}

}  // namespace parley::app
