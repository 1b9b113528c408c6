#include "ws/close_code.h"

#include <gtest/gtest.h>

namespace parley::ws {
namespace {

// The whole 16-bit range against the table in RFC 6455 §7.4 and the IANA registry.
TEST(CloseCode, ValidReceivedCodesTable) {
  for (uint32_t code = 0; code <= 0xFFFF; ++code) {
    const bool expected = (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) ||
                          (code >= 3000 && code <= 4999);
    EXPECT_EQ(is_valid_received_close_code(static_cast<uint16_t>(code)), expected) << code;
  }
}

TEST(CloseCode, ReportOnlyCodesAreInvalidOnTheWire) {
  EXPECT_FALSE(is_valid_received_close_code(close_code::NoStatus));
  EXPECT_FALSE(is_valid_received_close_code(close_code::Abnormal));
  EXPECT_FALSE(is_valid_received_close_code(1004));
  EXPECT_FALSE(is_valid_received_close_code(1015));
  EXPECT_TRUE(is_valid_received_close_code(close_code::Normal));
  EXPECT_TRUE(is_valid_received_close_code(close_code::BadGateway));
}

TEST(CloseCode, NamedValues) {
  EXPECT_EQ(close_code::Normal, 1000);
  EXPECT_EQ(close_code::GoingAway, 1001);
  EXPECT_EQ(close_code::ProtocolError, 1002);
  EXPECT_EQ(close_code::UnsupportedData, 1003);
  EXPECT_EQ(close_code::NoStatus, 1005);
  EXPECT_EQ(close_code::Abnormal, 1006);
  EXPECT_EQ(close_code::InvalidPayload, 1007);
  EXPECT_EQ(close_code::PolicyViolation, 1008);
  EXPECT_EQ(close_code::MessageTooBig, 1009);
  EXPECT_EQ(close_code::MandatoryExtension, 1010);
  EXPECT_EQ(close_code::InternalError, 1011);
  EXPECT_EQ(close_code::ServiceRestart, 1012);
  EXPECT_EQ(close_code::TryAgainLater, 1013);
  EXPECT_EQ(close_code::BadGateway, 1014);
}

}  // namespace
}  // namespace parley::ws
