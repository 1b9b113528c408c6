#include "net/output_queue.h"

#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

namespace parley::net {
namespace {

// A non-blocking socketpair with small buffers, so writes come up short.
struct Pair {
  int fds[2] = {-1, -1};
  Pair() {
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, fds), 0);
    int small = 4096;
    setsockopt(fds[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
    setsockopt(fds[1], SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
  }
  ~Pair() {
    ::close(fds[0]);
    ::close(fds[1]);
  }
  std::string drain() {
    std::string out;
    char buf[65536];
    ssize_t n;
    while ((n = ::read(fds[1], buf, sizeof buf)) > 0) out.append(buf, static_cast<std::size_t>(n));
    return out;
  }
};

TEST(OutputQueue, CountsEveryByteAndFlushesInOrder) {
  Pair p;
  OutputQueue q;
  q.append("ab");
  q.append(make_shared_bytes("cd"));
  q.append("ef");
  q.append("");             // nothing
  q.append(SharedBytes{});  // nothing
  EXPECT_EQ(q.pending_bytes(), 6u);
  EXPECT_EQ(q.flush(p.fds[0]), OutputQueue::FlushResult::Done);
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(p.drain(), "abcdef");
}

// More segments than one sendmsg takes (IOV_MAX): the batches follow one
// another in order, the bytes of a shared frame as often as it was queued.
TEST(OutputQueue, MoreSegmentsThanOneCallTakesLeaveInOrder) {
  Pair p;
  OutputQueue q;
  SharedBytes frame = make_shared_bytes("x");
  std::string expected;
  for (int i = 0; i < 2500; ++i) {
    if (i % 2 == 0) {
      q.append(frame);
      expected += 'x';
    } else {
      const std::string own = std::to_string(i % 10);
      q.append(own);
      expected += own;
    }
  }
  std::string got;
  while (!q.empty()) {
    ASSERT_NE(q.flush(p.fds[0]), OutputQueue::FlushResult::Error);
    got += p.drain();
  }
  got += p.drain();
  EXPECT_EQ(got, expected);
}

TEST(OutputQueue, PartialWritesResumeWhereTheKernelStopped) {
  Pair p;
  OutputQueue q;
  std::string big;
  for (int i = 0; i < 200000; ++i) big.push_back(static_cast<char>('a' + i % 26));
  SharedBytes shared = make_shared_bytes(big);
  q.append(shared);
  q.append("tail");
  std::string received;
  int would_block = 0;
  for (int round = 0; round < 10000 && !q.empty(); ++round) {
    if (q.flush(p.fds[0]) == OutputQueue::FlushResult::WouldBlock) ++would_block;
    received += p.drain();
  }
  received += p.drain();
  ASSERT_TRUE(q.empty());
  EXPECT_GT(would_block, 0);  // the socket buffer filled up (EAGAIN) at least once
  EXPECT_EQ(received, big + "tail");
}

TEST(OutputQueue, PartialWritesKeepTheByteStreamIntact) {
  Pair p;
  OutputQueue q;
  std::string expected;
  for (int i = 0; i < 50; ++i) {
    std::string piece(1000 + i * 37, static_cast<char>('A' + i % 26));
    expected += piece;
    if (i % 2 == 0) {
      q.append(make_shared_bytes(piece));
    } else {
      q.append(piece);
    }
  }
  std::string received;
  while (!q.empty()) {
    ASSERT_NE(q.flush(p.fds[0]), OutputQueue::FlushResult::Error);
    received += p.drain();
  }
  EXPECT_EQ(received, expected);
}

TEST(OutputQueue, DropUnstartedKeepsAPartlyWrittenSegmentWhole) {
  Pair p;
  OutputQueue q;
  std::string first(100000, 'x');
  q.append(make_shared_bytes(first));
  q.append(make_shared_bytes(std::string(1000, 'y')));
  q.append("zzz");
  ASSERT_EQ(q.flush(p.fds[0]), OutputQueue::FlushResult::WouldBlock);
  std::size_t sent = 100000 + 1003 - q.pending_bytes();
  ASSERT_LT(sent, 100000u);  // stopped inside the first segment
  EXPECT_EQ(q.drop_unstarted(), 1003u);
  EXPECT_EQ(q.pending_bytes(), 100000 - sent);
  std::string received;
  while (!q.empty()) {
    ASSERT_NE(q.flush(p.fds[0]), OutputQueue::FlushResult::Error);
    received += p.drain();
  }
  received += p.drain();
  EXPECT_EQ(received, first);
}

TEST(OutputQueue, ErrorWhenThePeerIsGone) {
  Pair p;
  OutputQueue q;
  ::close(p.fds[1]);
  p.fds[1] = ::dup(p.fds[0]);  // keep the destructor's close harmless
  ::shutdown(p.fds[0], SHUT_WR);
  q.append("lost");
  EXPECT_EQ(q.flush(p.fds[0]), OutputQueue::FlushResult::Error);
}

TEST(OutputQueue, ClearReleasesEverything) {
  OutputQueue q;
  q.append("abc");
  q.append(make_shared_bytes("def"));
  q.clear();
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.pending_bytes(), 0u);
}

}  // namespace
}  // namespace parley::net
