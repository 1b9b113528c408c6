// A connection in its HTTP phase: reads request heads, serves the embedded
// files and /healthz, and hands WebSocket upgrades to a WebSocketSession.
#pragma once

#include <memory>
#include <span>

#include "app/server_context.h"
#include "app/session.h"
#include "http/request_parser.h"
#include "net/tcp_connection.h"

namespace parley::app {

class HttpSession final : public Session, public net::TcpConnection::Handler {
 public:
  HttpSession(LoopContext& ctx, int fd);
  void start();

  void on_data(std::span<char> bytes) override;
  void on_disconnect() override;
  void tick(net::Clock::time_point now) override;
  void shutdown() override;
  void abort() override;

 private:
  // Returns false when the connection leaves this session (closed or upgraded).
  bool handle_request(const http::Request& req, std::span<char> rest);
  bool upgrade(const http::Request& req, std::span<char> rest);
  void reply_and_close(const std::string& response);
  void finish();
  std::string serve(const http::Request& req);
  std::string metrics(const http::Request& req) const;

  LoopContext& ctx_;
  std::unique_ptr<net::TcpConnection> conn_;
  http::RequestParser parser_;
  net::Clock::time_point deadline_;
  bool finished_ = false;
};

}  // namespace parley::app
