#include "support/server_harness.h"

#include <functional>
#include <span>

#include "web_assets.h"

namespace parley::testing {
namespace {

std::span<const http::EmbeddedFile> web_files(bool web) {
  if (!web) return {};
  return {web::kFiles, web::kFileCount};
}

}  // namespace

ServerHarness::ServerHarness(app::Config config, bool web)
    : config_(std::move(config)), static_files_(web_files(web)), identity_(std::string(32, 'k')) {
  json_options_.max_message_bytes = config_.max_message_size;
  json_options_.max_text_bytes = config_.max_text_bytes;
  json_options_.rate_per_sec = config_.rate_per_sec;
  json_options_.rate_burst = config_.rate_burst;
  // As the server with --history off: the history is in memory.
  chat::ChatOptions chat_options;
  chat_options.room.join_history = config_.join_history;
  chat_options.room.cache.max_messages = 0;
  chat_options.max_rooms = config_.max_rooms;
  chat_options.room.presence_batch_above = config_.presence_batch_above;
  history_ = std::make_unique<chat::MemoryHistory>(
      chat::MemoryHistory::Options{config_.cache_per_room, config_.cache_bytes});
  hub_ = std::make_unique<chat::ChatHub>(std::vector<chat::LoopPort*>{&port_}, *history_, bus_,
                                         chat_options);
  services_ = std::unique_ptr<app::SharedServices>(new app::SharedServices{
      config_, static_files_, *hub_, identity_, json_options_, {1}, {1}, "test", {}});
  if (config_.api_keys) {  // the backend API, as with --api-key-file
    api_ = std::make_unique<app::ApiService>(config_.api_keys, config_.api_rate, config_.api_burst);
    services_->api = api_.get();
  }
  ctx_ = std::make_unique<app::LoopContext>(*services_, loop_, 0);
  services_->loops.push_back(ctx_.get());
}

ServerHarness::~ServerHarness() {
  abort_all();
  ctx_.reset();
  settle();
  hub_.reset();
  history_.reset();
}

std::shared_ptr<MemoryPeer> ServerHarness::connect(MemoryPeer::Options options) {
  auto peer = std::make_shared<MemoryPeer>(options);
  ctx_->stats.connections_accepted.add();
  app::Connection& c =
      ctx_->connections.add(std::make_unique<app::Connection>(*ctx_, peer->make_stream()));
  static_cast<void>(c.start());  // a failed start ends the connection: the peer sees it
  return peer;
}

void ServerHarness::sweep(net::Clock::time_point now) {
  ctx_->connections.for_each([now](app::Connection& c) { c.tick(now); });
}

void ServerHarness::abort_all() {
  ctx_->connections.for_each([](app::Connection& c) { c.abort(); });
  settle();
}

}  // namespace parley::testing
