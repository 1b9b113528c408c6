// TcpConnection over a real loopback TCP connection on a real EventLoop: corked writes,
// partial writes against a full socket buffer, peer EOF and reset, the
// graceful close, and read pausing (output backpressure).
#include "net/tcp_connection.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <functional>
#include <string>

namespace parley::net {
namespace {

using std::chrono::milliseconds;

struct Recorder final : Stream::Handler {
  std::string data;
  int drained = 0;
  int disconnects = 0;
  std::function<void(std::span<char>)> on_bytes;
  void on_data(std::span<char> bytes) override {
    data.append(bytes.data(), bytes.size());
    if (on_bytes) on_bytes(bytes);
  }
  void on_drained() override { ++drained; }
  void on_disconnect() override { ++disconnects; }
};

class TcpConnectionTest : public ::testing::Test {
 protected:
  // fds_[0]: the server's end, fds_[1]: the peer's; both non-blocking, with
  // small buffers so that a megabyte fills them.
  void SetUp() override {
    int listener = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    ASSERT_EQ(::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    ASSERT_EQ(::listen(listener, 1), 0);
    ASSERT_EQ(::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len), 0);
    fds_[1] = ::socket(AF_INET, SOCK_STREAM, 0);
    int small = 4096;
    setsockopt(fds_[1], SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    ASSERT_EQ(::connect(fds_[1], reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
    fds_[0] = ::accept4(listener, nullptr, nullptr, SOCK_NONBLOCK);
    ::close(listener);
    ASSERT_GE(fds_[0], 0);
    setsockopt(fds_[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
    ::fcntl(fds_[1], F_SETFL, O_NONBLOCK);
    conn_ = std::make_unique<TcpConnection>(loop_, fds_[0]);
    ASSERT_TRUE(conn_->start(rec_));
  }
  void TearDown() override {
    conn_.reset();
    if (fds_[1] >= 0) ::close(fds_[1]);
  }

  // Runs the loop until `done()` or the deadline; false on the deadline.
  bool run_until(const std::function<bool()>& done, milliseconds limit = milliseconds(5000)) {
    bool ok = false;
    auto deadline = Clock::now() + limit;
    std::function<void()> check = [&] {
      if (done()) {
        ok = true;
        loop_.stop();
      } else if (Clock::now() > deadline) {
        loop_.stop();
      } else {
        loop_.run_after(milliseconds(1), check);
      }
    };
    loop_.run_after(milliseconds(0), check);
    loop_.run();
    return ok;
  }

  // What the peer can read now.
  std::string peer_read() {
    std::string out;
    char buf[65536];
    ssize_t n;
    while ((n = ::read(fds_[1], buf, sizeof buf)) > 0) out.append(buf, static_cast<std::size_t>(n));
    return out;
  }
  void peer_write(std::string_view s) {
    ASSERT_EQ(::write(fds_[1], s.data(), s.size()), static_cast<ssize_t>(s.size()));
  }

  EventLoop loop_;
  int fds_[2] = {-1, -1};
  Recorder rec_;
  std::unique_ptr<TcpConnection> conn_;
};

TEST_F(TcpConnectionTest, WritesOfOneIterationLeaveTogether) {
  loop_.run_after(milliseconds(0), [&] {
    conn_->send("hello ");
    conn_->send(make_shared_bytes("world"));
    EXPECT_EQ(conn_->pending_bytes(), 11u);  // queued, not written yet (corked)
  });
  std::string got;
  ASSERT_TRUE(run_until([&] {
    got += peer_read();
    return got.size() == 11;
  }));
  EXPECT_EQ(got, "hello world");
  EXPECT_EQ(conn_->pending_bytes(), 0u);
}

TEST_F(TcpConnectionTest, DeliversWhatThePeerWrites) {
  peer_write("ping");
  ASSERT_TRUE(run_until([&] { return rec_.data == "ping"; }));
}

TEST_F(TcpConnectionTest, AFullSocketBufferQueuesAndResumesWhenThePeerReads) {
  std::string big(1 << 20, 'x');
  loop_.run_after(milliseconds(0), [&] { conn_->send(big); });
  // The kernel takes a little, then EAGAIN: the rest waits in the queue.
  ASSERT_TRUE(
      run_until([&] { return conn_->pending_bytes() > 0 && conn_->pending_bytes() < big.size(); }));
  std::string got;
  ASSERT_TRUE(run_until([&] {
    got += peer_read();
    return got.size() == big.size();
  }));
  EXPECT_EQ(got, big);
  EXPECT_EQ(conn_->pending_bytes(), 0u);
}

TEST_F(TcpConnectionTest, PeerEofDisconnectsOnce) {
  ::shutdown(fds_[1], SHUT_WR);
  ASSERT_TRUE(run_until([&] { return rec_.disconnects > 0; }));
  EXPECT_EQ(rec_.disconnects, 1);
  EXPECT_EQ(conn_->state(), Stream::State::Closed);
  conn_->close_now();  // already closed: nothing more
  EXPECT_EQ(rec_.disconnects, 1);
}

TEST_F(TcpConnectionTest, PeerResetWhileWritingDisconnectsOnce) {
  std::string big(1 << 20, 'x');
  loop_.run_after(milliseconds(0), [&] { conn_->send(big); });
  ASSERT_TRUE(
      run_until([&] { return conn_->pending_bytes() > 0 && conn_->pending_bytes() < big.size(); }));
  ::close(fds_[1]);  // unread data: the peer's end goes away
  fds_[1] = -1;
  ASSERT_TRUE(run_until([&] { return rec_.disconnects > 0; }));
  EXPECT_EQ(rec_.disconnects, 1);
}

TEST_F(TcpConnectionTest, GracefulCloseFlushesThenSendsFinAndWaitsForThePeers) {
  loop_.run_after(milliseconds(0), [&] {
    conn_->send("bye");
    conn_->close_after_flush();
    conn_->send("dropped");  // nothing is queued once closing
  });
  std::string got;
  char c;
  ASSERT_TRUE(run_until([&] {
    got += peer_read();
    return ::recv(fds_[1], &c, 1, MSG_PEEK) == 0;  // EOF: our FIN arrived
  }));
  EXPECT_EQ(got, "bye");
  EXPECT_EQ(conn_->state(), Stream::State::Lingering);
  EXPECT_EQ(rec_.disconnects, 0);
  ::shutdown(fds_[1], SHUT_WR);  // the peer's FIN ends it
  ASSERT_TRUE(run_until([&] { return rec_.disconnects == 1; }));
}

TEST_F(TcpConnectionTest, CloseNowWithUnreadInputResetsTheConnection) {
  // A flooder we stopped reading: its unread input makes the close a reset.
  loop_.run_after(milliseconds(0), [&] { conn_->pause_reading(); });
  ASSERT_TRUE(run_until([&] { return rec_.drained == 1; }));
  peer_write("unread flood");
  loop_.run_after(milliseconds(0), [&] {
    conn_->send("never sent");
    conn_->close_now();
  });
  ASSERT_TRUE(run_until([&] { return rec_.disconnects == 1; }));
  pollfd p{fds_[1], POLLIN, 0};
  ASSERT_EQ(::poll(&p, 1, 5000), 1);
  char buf[16];
  ssize_t n = ::read(fds_[1], buf, sizeof buf);
  EXPECT_EQ(n, -1);
  EXPECT_EQ(errno, ECONNRESET);
}

TEST_F(TcpConnectionTest, PeerEofIsAnOrderlyClose) {
  loop_.run_after(milliseconds(0), [&] { conn_->send("last words"); });
  ASSERT_TRUE(run_until([&] { return conn_->pending_bytes() == 0; }));
  ::shutdown(fds_[1], SHUT_WR);
  ASSERT_TRUE(run_until([&] { return rec_.disconnects == 1; }));
  std::string got;
  ASSERT_TRUE(run_until([&] {
    got += peer_read();
    return got == "last words";
  }));
}

TEST_F(TcpConnectionTest, PausedReadingDeliversNothingUntilResumed) {
  loop_.run_after(milliseconds(0), [&] { conn_->pause_reading(); });
  // An empty queue drains at once: the handler hears of it.
  ASSERT_TRUE(run_until([&] { return rec_.drained == 1; }));
  peer_write("waiting");
  EXPECT_FALSE(run_until([&] { return !rec_.data.empty(); }, milliseconds(50)));
  EXPECT_TRUE(conn_->reading_paused());
  loop_.run_after(milliseconds(0), [&] { conn_->resume_reading(); });
  ASSERT_TRUE(run_until([&] { return rec_.data == "waiting"; }));
}

TEST_F(TcpConnectionTest, DrainNoticeComesWhenThePeerHasReadEverything) {
  std::string big(1 << 20, 'x');
  loop_.run_after(milliseconds(0), [&] {
    conn_->send(big);
    conn_->pause_reading();
  });
  ASSERT_TRUE(run_until([&] { return conn_->pending_bytes() > 0; }));
  EXPECT_EQ(rec_.drained, 0);
  std::size_t got = 0;
  ASSERT_TRUE(run_until([&] {
    got += peer_read().size();
    return rec_.drained > 0;
  }));
  EXPECT_EQ(conn_->pending_bytes(), 0u);
  // The handler decides: it resumes, and input flows again.
  conn_->resume_reading();
  peer_write("more");
  ASSERT_TRUE(run_until([&] { return rec_.data == "more"; }));
}

TEST_F(TcpConnectionTest, APausedConnectionStillNoticesTheResetOfItsPeer) {
  std::string big(1 << 20, 'x');
  loop_.run_after(milliseconds(0), [&] {
    conn_->send(big);
    conn_->pause_reading();
  });
  ASSERT_TRUE(run_until([&] { return conn_->pending_bytes() > 0; }));
  ::close(fds_[1]);
  fds_[1] = -1;
  ASSERT_TRUE(run_until([&] { return rec_.disconnects == 1; }));
}

}  // namespace
}  // namespace parley::net
