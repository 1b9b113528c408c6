// websocketpp broadcast/echo server: a benchmark peer for Parley, written the
// way websocketpp's own broadcast examples are (one asio io_service on one
// thread, a std::set of connection handles, m_server.send to each).
//
//   /echo      each message goes back to its sender
//   any other  chat: each message goes to every connection, sender included
//
// TCP_NODELAY is set on every accepted socket: without it Nagle delays small
// frames by up to 40 ms and the latency columns would measure the kernel.
//
// Build (Debian libwebsocketpp-dev + libboost-dev; header-only):
//   g++ -O2 -std=c++17 -o websocketpp-server server.cpp -pthread
// Run:
//   websocketpp-server [--host 127.0.0.1] [--port 8080]

#include <websocketpp/config/asio_no_tls.hpp>
#include <websocketpp/server.hpp>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <set>
#include <string>

namespace {

using Server = websocketpp::server<websocketpp::config::asio>;
using websocketpp::connection_hdl;

class PeerServer {
 public:
  PeerServer() {
    server_.clear_access_channels(websocketpp::log::alevel::all);
    server_.clear_error_channels(websocketpp::log::elevel::all);
    server_.set_error_channels(websocketpp::log::elevel::fatal);
    server_.init_asio();
    server_.set_reuse_addr(true);
    // The idle and connect workloads open thousands of connections at once.
    server_.set_listen_backlog(4096);
    // Not set_socket_init_handler: on a server it runs when the socket object
    // is made, before accept, and set_option then fails with EBADF. The TCP
    // pre-init hook runs right after accept, before the HTTP handshake.
    server_.set_tcp_pre_init_handler([this](connection_hdl h) {
      boost::system::error_code ec;
      server_.get_con_from_hdl(h)->get_raw_socket().set_option(boost::asio::ip::tcp::no_delay(true),
                                                               ec);
    });
    server_.set_open_handler([this](connection_hdl h) { on_open(h); });
    server_.set_close_handler([this](connection_hdl h) { chat_.erase(h); });
  }

  void run(const std::string& host, uint16_t port) {
    boost::asio::ip::tcp::endpoint ep(boost::asio::ip::make_address(host), port);
    server_.listen(ep);
    server_.start_accept();
    std::fprintf(stderr, "websocketpp-server listening on %s:%u (/ chat, /echo)\n", host.c_str(),
                 static_cast<unsigned>(port));
    server_.run();
  }

 private:
  // The path decides the service once, at open: each connection gets its own
  // message handler, so the data path does no lookup to tell them apart.
  void on_open(connection_hdl h) {
    Server::connection_ptr con = server_.get_con_from_hdl(h);
    if (con->get_resource() == "/echo") {
      con->set_message_handler([this](connection_hdl hdl, Server::message_ptr msg) {
        websocketpp::lib::error_code ec;
        server_.send(hdl, msg->get_payload(), msg->get_opcode(), ec);
      });
      return;
    }
    chat_.insert(h);
    con->set_message_handler([this](connection_hdl, Server::message_ptr msg) {
      websocketpp::lib::error_code ec;
      for (const connection_hdl& to : chat_) server_.send(to, msg, ec);  // errors: peer left
    });
  }

  Server server_;
  std::set<connection_hdl, std::owner_less<connection_hdl>> chat_;
};

}  // namespace

int main(int argc, char** argv) {
  std::string host = "127.0.0.1";
  long port = 8080;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--host") == 0 && i + 1 < argc) {
      host = argv[++i];
    } else if (std::strcmp(argv[i], "--port") == 0 && i + 1 < argc) {
      port = std::strtol(argv[++i], nullptr, 10);
    } else {
      std::fprintf(stderr, "usage: %s [--host ADDR] [--port PORT]\n", argv[0]);
      return 2;
    }
  }
  if (port < 1 || port > 65535) {
    std::fprintf(stderr, "websocketpp-server: --port must be 1..65535\n");
    return 2;
  }
  try {
    PeerServer server;
    server.run(host, static_cast<uint16_t>(port));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "websocketpp-server: %s\n", e.what());
    return 1;
  }
  return 0;
}
