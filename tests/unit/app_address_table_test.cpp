// Connection caps and per-address rates (app/address_table.h).
#include "app/address_table.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace parley::app {
namespace {

using namespace std::chrono_literals;

net::IpAddress ip(std::string_view text) {
  return *net::IpAddress::parse(text);
}

AddressTable::Limits limits() {
  AddressTable::Limits l;
  l.max_connections = 3;
  l.max_per_address = 2;
  l.handshake_rate = 1;
  l.handshake_burst = 2;
  l.message_rate = 10;
  l.message_burst = 5;
  return l;
}

TEST(AddressTable, TheServerCapCountsOpenConnections) {
  AddressTable t(limits());
  std::vector<AddressTable::Ticket> held;
  for (int i = 0; i < 3; ++i) {
    auto ticket = t.admit();
    ASSERT_TRUE(ticket);
    held.push_back(std::move(ticket).value());
  }
  auto refused = t.admit();
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().code, Errc::Overloaded);
  EXPECT_EQ(t.open_connections(), 3u);
  held.pop_back();  // one closes: a place is free again
  EXPECT_TRUE(t.admit());
  EXPECT_EQ(t.open_connections(), 2u);  // the temporary gave its place back
}

TEST(AddressTable, TheAddressCapCountsPerAddressAndIpv6PerSlash64) {
  AddressTable t(limits());
  auto a1 = t.hold(ip("192.0.2.1"));
  auto a2 = t.hold(ip("::ffff:192.0.2.1"));  // the same client
  ASSERT_TRUE(a1 && a2);
  EXPECT_FALSE(t.hold(ip("192.0.2.1")));
  EXPECT_TRUE(t.hold(ip("192.0.2.2")));  // another address is not affected
  auto v6a = t.hold(ip("2001:db8:0:1::a"));
  auto v6b = t.hold(ip("2001:db8:0:1::b"));
  ASSERT_TRUE(v6a && v6b);
  EXPECT_FALSE(t.hold(ip("2001:db8:0:1:ffff::c")));  // same /64
  EXPECT_TRUE(t.hold(ip("2001:db8:0:2::a")));
  a1 = Error(Errc::Closed, "gone");  // releases its slot
  EXPECT_TRUE(t.hold(ip("192.0.2.1")));
}

TEST(AddressTable, ZeroMeansNoLimit) {
  AddressTable t(AddressTable::Limits{});
  std::vector<AddressTable::Slot> slots;
  for (int i = 0; i < 1000; ++i) {
    auto s = t.hold(ip("192.0.2.1"));
    ASSERT_TRUE(s);
    ASSERT_TRUE(t.admit());
    ASSERT_TRUE(s->take_handshake(AddressTable::Clock::now()));
    ASSERT_TRUE(s->message_rate().take(AddressTable::Clock::now()));
    slots.push_back(std::move(s).value());
  }
}

TEST(AddressTable, AnAddressSharesItsRatesAcrossItsConnections) {
  AddressTable t(limits());
  auto now = AddressTable::Clock::now();
  auto a = t.hold(ip("192.0.2.1"));
  auto b = t.hold(ip("192.0.2.1"));
  auto other = t.hold(ip("192.0.2.9"));
  int taken = 0;
  for (int i = 0; i < 10; ++i) {
    taken += a->message_rate().take(now) ? 1 : 0;
    taken += b->message_rate().take(now) ? 1 : 0;
  }
  EXPECT_EQ(taken, 5);  // the burst, for both together
  EXPECT_EQ(t.messages_refused(), 15u);
  EXPECT_TRUE(other->message_rate().take(now));
  EXPECT_TRUE(a->take_handshake(now));
  EXPECT_TRUE(b->take_handshake(now));
  EXPECT_FALSE(a->take_handshake(now));
  EXPECT_NEAR(a->handshake_wait(now), 1.0, 1e-6);
}

TEST(AddressTable, AnAddressIsRememberedUntilItsRatesHaveRefilled) {
  AddressTable t(limits());
  auto now = AddressTable::Clock::now();
  {
    auto a = t.hold(ip("192.0.2.1"));
    ASSERT_TRUE(a->take_handshake(now));
    ASSERT_TRUE(a->take_handshake(now));
    EXPECT_EQ(t.prune(now), 1u);  // held
  }
  EXPECT_EQ(t.prune(now), 1u);  // no connection, but its handshakes are spent
  // Reconnecting does not refill the bucket.
  auto again = t.hold(ip("192.0.2.1"));
  EXPECT_FALSE(again->take_handshake(now));
  again = Error(Errc::Closed, "gone");
  EXPECT_EQ(t.prune(now + 3s), 0u);  // refilled: nothing left to remember
}

TEST(AddressTable, ThreadsCountExactly) {
  AddressTable::Limits l;
  l.max_per_address = 100;
  AddressTable t(l);
  std::atomic<int> held{0};
  std::vector<std::thread> threads;
  std::vector<std::vector<AddressTable::Slot>> slots(4);
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&, i] {
      for (int k = 0; k < 50; ++k) {
        if (auto s = t.hold(ip("192.0.2.1"))) {
          slots[i].push_back(std::move(s).value());
          ++held;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(held.load(), 100);
}

}  // namespace
}  // namespace parley::app
