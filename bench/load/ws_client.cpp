#include "load/ws_client.h"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "net/socket.h"
#include "ws/client_handshake.h"
#include "ws/frame_writer.h"

namespace parley::bench {
namespace {

// A 101 response head is a few hundred bytes; anything this long is not one.
constexpr std::size_t kMaxResponseHead = 8192;

ws::Endpoint::Limits client_limits() {
  ws::Endpoint::Limits limits;
  limits.max_message_size = 16 << 20;  // the bench never refuses what a server relays
  return limits;
}

}  // namespace

WsClient::WsClient(net::EventLoop& loop, const WsTarget& target, Events& events, uint32_t id)
    : loop_(loop),
      target_(target),
      events_(events),
      id_(id),
      mask_state_(id * 2654435761u | 1u),
      endpoint_(ws::Role::Client, client_limits(), *this) {}

WsClient::~WsClient() {
  if (timeout_timer_ != 0) loop_.cancel(timeout_timer_);
}

std::string WsClient::connect(const in_addr* source, net::Clock::duration timeout) {
  connect_started_ns_ = now_ns();
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return std::string("socket: ") + std::strerror(errno);
  if (source != nullptr) {
    int one = 1;
    setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
    sockaddr_in local{};
    local.sin_family = AF_INET;
    local.sin_addr = *source;
    if (::bind(fd, reinterpret_cast<const sockaddr*>(&local), sizeof local) != 0) {
      std::string error = std::string("bind: ") + std::strerror(errno);
      ::close(fd);
      return error;
    }
  }
  net::set_tcp_nodelay(fd);
  const WsEndpoint& server = target_.endpoint_for(id_);
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&server.address), sizeof server.address) !=
          0 &&
      errno != EINPROGRESS) {
    std::string error = std::string("connect: ") + std::strerror(errno);
    ::close(fd);
    return error;
  }
  conn_ = std::make_unique<net::TcpConnection>(loop_, fd);
  if (Status watching = conn_->start(*this); !watching) {
    conn_.reset();  // closes fd
    return watching.error().message;
  }
  // Written while the connect is still in flight: the kernel answers EAGAIN,
  // the queue arms EPOLLOUT and the request leaves as soon as the socket connects.
  key_ = ws::make_random_key();
  conn_->send(ws::make_client_handshake(server.host_header, path_.empty() ? target_.path : path_,
                                        key_, protocols_, offer_deflate_));
  timeout_timer_ = loop_.run_after(timeout, [this] {
    timeout_timer_ = 0;
    if (state_ == State::Connecting) fail("handshake timeout");
  });
  return {};
}

void WsClient::require_subprotocol(std::string protocol) {
  protocols_.assign(1, std::move(protocol));
}

void WsClient::send_text(std::string_view payload) {
  if (state_ != State::Open) return;
  // RFC 6455 wants unpredictable masks so a hostile page cannot steer the
  // bytes an intermediary sees; the bench is no such page, and a CSPRNG call
  // per message would cost more than the rest of the send, so xorshift32.
  mask_state_ ^= mask_state_ << 13;
  mask_state_ ^= mask_state_ >> 17;
  mask_state_ ^= mask_state_ << 5;
  ws::MaskKey mask;
  std::memcpy(mask.data(), &mask_state_, mask.size());
  thread_local std::string frame;
  frame.clear();
  ws::append_masked_frame(frame, ws::Opcode::Text, payload, mask);
  conn_->send(frame);
}

void WsClient::close() {
  if (state_ == State::Open) {
    state_ = State::Closing;
    endpoint_.close(1000);
  } else if (state_ == State::Connecting) {
    fail("closed before the handshake completed");
  }
}

void WsClient::on_data(std::span<char> bytes) {
  read_ns_ = now_ns();

  if (state_ == State::Connecting) {
    on_handshake_bytes(bytes);
  } else {
    endpoint_.feed(bytes);
  }
}

void WsClient::on_handshake_bytes(std::span<char> bytes) {
  const std::size_t before = response_head_.size();
  response_head_.append(bytes.data(), bytes.size());
  const auto end = response_head_.find("\r\n\r\n");
  if (end == std::string::npos) {
    if (response_head_.size() > kMaxResponseHead) fail("response head too long");
    return;
  }
  const std::size_t head_size = end + 4;
  auto check = ws::check_server_handshake(std::string_view(response_head_).substr(0, head_size),
                                          key_, protocols_, offer_deflate_);
  if (!check.ok) {
    fail("handshake rejected: " + check.error);
    return;
  }
  if (!protocols_.empty() && check.subprotocol.empty()) {
    fail("server did not select subprotocol " + protocols_.front());
    return;
  }
  if (check.deflate) endpoint_.enable_deflate(*check.deflate);
  state_ = State::Open;
  has_opened_ = true;
  if (timeout_timer_ != 0) loop_.cancel(timeout_timer_);
  timeout_timer_ = 0;
  // Frames that came in the same read as the 101 are still in `bytes`.
  const std::span<char> rest = bytes.subspan(head_size - before);
  std::string().swap(response_head_);
  std::string().swap(key_);
  events_.on_open(*this);
  if (!rest.empty() && state_ != State::Closed) endpoint_.feed(rest);
}

void WsClient::on_message(ws::Opcode op, std::string_view payload) {
  if (op == ws::Opcode::Text) events_.on_text(*this, payload, read_ns_);
}

void WsClient::send(std::string_view frame_bytes) {
  conn_->send(frame_bytes);
}

void WsClient::on_close(uint16_t code, std::string_view reason) {
  close_reason_ = "close " + std::to_string(code);
  if (!reason.empty()) close_reason_ += " " + std::string(reason);
  if (state_ != State::Closed) state_ = State::Closing;
  // The server closes TCP first (RFC 6455 §7.1.1); we flush our Close, send
  // FIN and wait for its FIN, which ends in on_disconnect.
  conn_->close_after_flush();
}

void WsClient::fail(std::string why) {
  close_reason_ = std::move(why);
  conn_->close_now();  // ends in on_disconnect
}

void WsClient::on_disconnect() {
  if (state_ == State::Closed) return;
  const bool was_connecting = state_ == State::Connecting;
  state_ = State::Closed;
  if (timeout_timer_ != 0) loop_.cancel(timeout_timer_);
  timeout_timer_ = 0;
  if (close_reason_.empty()) {
    close_reason_ = was_connecting ? "connection failed or refused" : "connection lost";
  }
  events_.on_closed(*this, close_reason_);
}

}  // namespace parley::bench
