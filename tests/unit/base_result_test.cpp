#include "base/result.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <memory>
#include <string>

namespace parley {
namespace {

Result<int> parse_digit(char c) {
  if (c < '0' || c > '9') return Error{Errc::Invalid, "not a digit"};
  return c - '0';
}

TEST(ResultTest, HoldsAValueOrAnError) {
  Result<int> ok = parse_digit('7');
  ASSERT_TRUE(ok);
  EXPECT_EQ(*ok, 7);
  Result<int> bad = parse_digit('x');
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, Errc::Invalid);
  EXPECT_EQ(bad.error().message, "not a digit");
}

TEST(ResultTest, MovesOutMoveOnlyValues) {
  Result<std::unique_ptr<int>> r = std::make_unique<int>(3);
  std::unique_ptr<int> p = std::move(r).value();
  EXPECT_EQ(*p, 3);
}

TEST(ResultTest, StatusIsOkByDefault) {
  Status s;
  EXPECT_TRUE(s.ok());
  Status failed = Error::from_errno("open(/nope)", ENOENT);
  ASSERT_FALSE(failed);
  EXPECT_EQ(failed.error().code, Errc::Io);
  EXPECT_EQ(failed.error().sys_errno, ENOENT);
  EXPECT_NE(failed.error().message.find("open(/nope): "), std::string::npos);
}

TEST(ResultTest, KindsHaveStableNames) {
  EXPECT_EQ(errc_name(Errc::Unavailable), "unavailable");
  EXPECT_EQ(errc_name(Errc::NotFound), "not_found");
}

}  // namespace
}  // namespace parley
