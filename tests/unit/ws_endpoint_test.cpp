// The Endpoint state machine: messages, fragmentation, control frames, close
// handshake, limits and error closes. Every parameterised test is run with the
// input fed whole, one byte at a time, and in several random splits; each
// piece is fed from its own heap copy, so ASan catches any view kept past
// feed().
#include "ws/endpoint.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "ws/close_code.h"
#include "ws/frame_parser.h"
#include "ws/frame_writer.h"
#include "ws_endpoint_test_util.h"

namespace parley::ws {
namespace {

using namespace test;  // NOLINT(google-build-using-namespace): test helpers

class EndpointTest : public testing::TestWithParam<Split> {
 protected:
  EndpointTest() : endpoint_(std::make_unique<Endpoint>(role_, limits_, rec)) {
    rec.endpoint = endpoint_.get();
  }

  void reset(Role role, Endpoint::Limits limits = {}) {
    rec = Recorder();
    role_ = role;
    endpoint_ = std::make_unique<Endpoint>(role, limits, rec);
    rec.endpoint = endpoint_.get();
  }

  void feed(std::string_view input) {
    feed_in_pieces(input, GetParam(), [&](std::span<char> piece) { endpoint_->feed(piece); });
  }

  Endpoint& endpoint() { return *endpoint_; }
  std::vector<std::string> sent() const { return rec.sent_frames(role_); }

  Recorder rec;

 private:
  Role role_ = Role::Server;
  Endpoint::Limits limits_;
  std::unique_ptr<Endpoint> endpoint_;
};

INSTANTIATE_TEST_SUITE_P(Splits, EndpointTest,
                         testing::Values(Split{Split::Whole}, Split{Split::OneByte},
                                         Split{Split::Random, 1}, Split{Split::Random, 2},
                                         Split{Split::Random, 3}, Split{Split::Random, 4}),
                         split_name);

// --- Messages -------------------------------------------------------------

TEST_P(EndpointTest, MaskedHelloFromRfc) {
  // RFC 6455 §5.7: a single-frame masked text message "Hello".
  feed(bytes({0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58}));
  EXPECT_EQ(rec.events, (Events{"text:Hello"}));
  EXPECT_TRUE(rec.sent.empty());
  EXPECT_EQ(endpoint().state(), Endpoint::State::Open);
}

TEST_P(EndpointTest, BinaryAndEmptyMessages) {
  feed(client_frame(Opcode::Binary, std::string("\x00\xff\x01", 3)) +
       client_frame(Opcode::Text, "") + client_frame(Opcode::Binary, ""));
  EXPECT_EQ(rec.events, (Events{std::string("binary:\x00\xff\x01", 10), "text:", "binary:"}));
}

TEST_P(EndpointTest, ManyMessagesInOneStream) {
  std::string input;
  Events expected;
  for (int i = 0; i < 50; ++i) {
    input += client_frame(Opcode::Text, "message " + std::to_string(i));
    expected.push_back("text:message " + std::to_string(i));
  }
  feed(input);
  EXPECT_EQ(rec.events, expected);
}

TEST_P(EndpointTest, SixteenAndSixtyFourBitLengths) {
  const std::string medium(256, 'm');   // §5.7: 256 bytes use the 16-bit length
  const std::string large(65536, 'L');  // §5.7: 64 KiB uses the 64-bit length
  feed(client_frame(Opcode::Binary, medium) + client_frame(Opcode::Text, large));
  EXPECT_EQ(rec.events, (Events{"binary:" + medium, "text:" + large}));
}

TEST_P(EndpointTest, NonMinimalLengthEncodingsAreAccepted) {
  // "Hi" with its length in 16 bits and in 64 bits.
  feed(bytes({0x82, 0xFE, 0x00, 0x02, 0, 0, 0, 0, 'H', 'i'}) +
       bytes({0x82, 0xFF, 0, 0, 0, 0, 0, 0, 0, 0x02, 0, 0, 0, 0, 'H', 'i'}));
  EXPECT_EQ(rec.events, (Events{"binary:Hi", "binary:Hi"}));
}

TEST_P(EndpointTest, FragmentedMessageFromRfc) {
  // §5.7 "Hel" + "lo", here masked as a client must send it.
  feed(client_frame(Opcode::Text, "Hel", false) + client_frame(Opcode::Continuation, "lo"));
  EXPECT_EQ(rec.events, (Events{"text:Hello"}));
}

TEST_P(EndpointTest, FragmentedMessageWithEmptyAndManyFragments) {
  std::string input = client_frame(Opcode::Binary, "", false);
  std::string expected;
  for (int i = 0; i < 20; ++i) {
    const std::string part(static_cast<std::size_t>(i * 7), static_cast<char>('a' + i));
    input += client_frame(Opcode::Continuation, part, false);
    expected += part;
  }
  input += client_frame(Opcode::Continuation, "");
  feed(input + client_frame(Opcode::Binary, "next"));
  EXPECT_EQ(rec.events, (Events{"binary:" + expected, "binary:next"}));
}

TEST_P(EndpointTest, ControlFramesBetweenFragments) {
  feed(client_frame(Opcode::Text, "frag", false) + client_frame(Opcode::Ping, "p1") +
       client_frame(Opcode::Continuation, "ment", false) + client_frame(Opcode::Pong, "u") +
       client_frame(Opcode::Continuation, "ed"));
  EXPECT_EQ(rec.events, (Events{"ping:p1", "pong:u", "text:fragmented"}));
  EXPECT_EQ(sent(), (Events{"pong:p1"}));
}

TEST_P(EndpointTest, ContinuationWithoutMessageFails) {
  feed(client_frame(Opcode::Continuation, "x") + client_frame(Opcode::Text, "ignored"));
  EXPECT_EQ(rec.events, (Events{"close:1002:continuation frame without a message"}));
  EXPECT_EQ(sent(), (Events{"close:1002:continuation frame without a message"}));
  EXPECT_EQ(endpoint().state(), Endpoint::State::Closed);
}

TEST_P(EndpointTest, NewMessageDuringFragmentedOneFails) {
  feed(client_frame(Opcode::Text, "a", false) + client_frame(Opcode::Binary, "b"));
  ASSERT_EQ(rec.events.size(), 1u);
  EXPECT_EQ(rec.events[0].substr(0, 11), "close:1002:");
  EXPECT_EQ(sent().size(), 1u);
}

// --- Control frames -------------------------------------------------------

TEST_P(EndpointTest, PingIsAnsweredWithSamePayload) {
  const std::string payload(125, 'p');
  feed(client_frame(Opcode::Ping, "Hello") + client_frame(Opcode::Ping, "") +
       client_frame(Opcode::Ping, payload));
  EXPECT_EQ(rec.events, (Events{"ping:Hello", "ping:", "ping:" + payload}));
  EXPECT_EQ(sent(), (Events{"pong:Hello", "pong:", "pong:" + payload}));
}

TEST_P(EndpointTest, UnsolicitedPongIsOnlyReported) {
  feed(client_frame(Opcode::Pong, "Hello"));
  EXPECT_EQ(rec.events, (Events{"pong:Hello"}));
  EXPECT_TRUE(rec.sent.empty());
}

TEST_P(EndpointTest, ControlFramePayloadOver125Fails) {
  feed(client_frame(Opcode::Ping, std::string(126, 'x')));
  EXPECT_EQ(rec.events, (Events{"close:1002:control frame payload over 125 bytes"}));
}

TEST_P(EndpointTest, FragmentedControlFrameFails) {
  feed(client_frame(Opcode::Ping, "x", false));
  EXPECT_EQ(rec.events, (Events{"close:1002:fragmented control frame"}));
}

// --- Framing errors ---------------------------------------------------------

TEST_P(EndpointTest, ReservedBitsFail) {
  for (int rsv : {0x40, 0x20, 0x10, 0x70}) {
    reset(Role::Server);
    std::string frame = client_frame(Opcode::Text, "x");
    frame[0] = static_cast<char>(frame[0] | rsv);
    feed(frame);
    ASSERT_EQ(rec.events.size(), 1u) << rsv;
    EXPECT_EQ(rec.events[0].substr(0, 11), "close:1002:") << rsv;
    EXPECT_EQ(sent().size(), 1u);
  }
}

TEST_P(EndpointTest, ReservedOpcodesFail) {
  for (int op : {3, 4, 5, 6, 7, 11, 12, 13, 14, 15}) {
    reset(Role::Server);
    feed(bytes({0x80 | op, 0x80, 1, 2, 3, 4}));
    EXPECT_EQ(rec.events, (Events{"close:1002:reserved opcode"})) << op;
  }
}

TEST_P(EndpointTest, ServerRejectsUnmaskedFrames) {
  feed(encode_frame(Opcode::Text, "Hello"));
  EXPECT_EQ(rec.events, (Events{"close:1002:client frame not masked"}));
}

TEST_P(EndpointTest, ClientRejectsMaskedFrames) {
  reset(Role::Client);
  feed(client_frame(Opcode::Text, "Hello"));
  EXPECT_EQ(rec.events, (Events{"close:1002:server frame masked"}));
  EXPECT_EQ(sent(), (Events{"close:1002:server frame masked"}));
}

TEST_P(EndpointTest, SixtyFourBitLengthWithHighBitFails) {
  feed(bytes({0x82, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 1, 1, 2, 3, 4}));
  EXPECT_EQ(rec.events, (Events{"close:1002:64-bit payload length with the high bit set"}));
}

// --- Client role ------------------------------------------------------------

TEST_P(EndpointTest, ClientReadsUnmaskedFramesAndMasksItsReplies) {
  reset(Role::Client);
  // RFC 6455 §5.7: unmasked "Hello", fragmented "Hel"+"lo", unmasked ping.
  feed(bytes({0x81, 0x05, 'H', 'e', 'l', 'l', 'o'}) + bytes({0x01, 0x03, 'H', 'e', 'l'}) +
       bytes({0x80, 0x02, 'l', 'o'}) + bytes({0x89, 0x05, 'H', 'e', 'l', 'l', 'o'}));
  EXPECT_EQ(rec.events, (Events{"text:Hello", "text:Hello", "ping:Hello"}));
  EXPECT_EQ(sent(), (Events{"pong:Hello"}));  // decoded by a Server-role parser: masked
  endpoint().close(close_code::GoingAway, "bye");
  EXPECT_EQ(sent(), (Events{"pong:Hello", "close:1001:bye"}));
}

// --- Limits -----------------------------------------------------------------

TEST_P(EndpointTest, MessageAtTheLimitIsAccepted) {
  reset(Role::Server, {.max_message_size = 100});
  feed(client_frame(Opcode::Binary, std::string(100, 'x')) +
       client_frame(Opcode::Text, std::string(50, 'y'), false) +
       client_frame(Opcode::Continuation, std::string(50, 'z')));
  EXPECT_EQ(rec.events, (Events{"binary:" + std::string(100, 'x'),
                                "text:" + std::string(50, 'y') + std::string(50, 'z')}));
}

TEST_P(EndpointTest, TooBigFrameFailsFromItsHeaderAlone) {
  reset(Role::Server, {.max_message_size = 100});
  // Only the header of a 101-byte frame: no payload needs to arrive.
  const std::string frame = client_frame(Opcode::Binary, std::string(101, 'x'));
  feed(frame.substr(0, frame_header_size(101, true)));
  EXPECT_EQ(rec.events, (Events{"close:1009:message too big"}));
  EXPECT_EQ(sent(), (Events{"close:1009:message too big"}));
}

TEST_P(EndpointTest, HugeAnnouncedLengthFailsWithoutBuffering) {
  reset(Role::Server, {.max_message_size = 100});
  feed(bytes({0x82, 0xFF, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 1, 2, 3, 4}));
  EXPECT_EQ(rec.events, (Events{"close:1009:message too big"}));
}

TEST_P(EndpointTest, TooBigFragmentedMessageFailsAtTheOffendingHeader) {
  reset(Role::Server, {.max_message_size = 100});
  const std::string third = client_frame(Opcode::Continuation, std::string(21, 'c'));
  feed(client_frame(Opcode::Text, std::string(40, 'a'), false) +
       client_frame(Opcode::Continuation, std::string(40, 'b'), false) +
       third.substr(0, frame_header_size(21, true)));
  EXPECT_EQ(rec.events, (Events{"close:1009:message too big"}));
}

// --- UTF-8 ------------------------------------------------------------------

TEST_P(EndpointTest, InvalidUtf8TextFails) {
  feed(client_frame(Opcode::Text, "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80"));
  EXPECT_EQ(rec.events, (Events{"close:1007:invalid UTF-8 in text message"}));
  EXPECT_EQ(sent(), (Events{"close:1007:invalid UTF-8 in text message"}));
}

TEST_P(EndpointTest, InvalidUtf8FailsBeforeTheFrameEnds) {
  // A 20-byte frame whose first bytes can no longer be UTF-8 (F4 90 > U+10FFFF):
  // only those bytes are fed.
  const std::string frame = client_frame(Opcode::Text, "ab\xf4\x90\x80\x80" + std::string(14, 'x'));
  feed(frame.substr(0, frame_header_size(20, true) + 4));
  EXPECT_EQ(rec.events, (Events{"close:1007:invalid UTF-8 in text message"}));
}

TEST_P(EndpointTest, InvalidUtf8FailsBeforeTheMessageEnds) {
  // Autobahn 6.4.x: valid first fragment, invalid second, message never finished.
  feed(client_frame(Opcode::Text, "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5", false) +
       client_frame(Opcode::Continuation, "\xf4\x90\x80\x80", false));
  EXPECT_EQ(rec.events, (Events{"close:1007:invalid UTF-8 in text message"}));
}

TEST_P(EndpointTest, CodePointSplitAcrossFragmentsIsValid) {
  feed(client_frame(Opcode::Text, "\xe2\x82", false) + client_frame(Opcode::Continuation, "\xac"));
  EXPECT_EQ(rec.events, (Events{"text:\xe2\x82\xac"}));
}

TEST_P(EndpointTest, TextEndingInsideCodePointFails) {
  feed(client_frame(Opcode::Text, "euro \xe2\x82"));
  EXPECT_EQ(rec.events, (Events{"close:1007:text message ends inside a UTF-8 sequence"}));
}

TEST_P(EndpointTest, BinaryIsNotValidated) {
  feed(client_frame(Opcode::Binary, "\xff\xfe\xed\xa0\x80"));
  EXPECT_EQ(rec.events, (Events{"binary:\xff\xfe\xed\xa0\x80"}));
}

// --- Close handshake initiated by the peer ---------------------------------

TEST_P(EndpointTest, EmptyCloseIsAnsweredEmptyAndReportedAs1005) {
  feed(client_frame(Opcode::Close, ""));
  EXPECT_EQ(rec.events, (Events{"close:1005:"}));
  EXPECT_EQ(sent(), (Events{"close:"}));
  EXPECT_EQ(endpoint().state(), Endpoint::State::Closed);
}

TEST_P(EndpointTest, CloseCodeIsEchoed) {
  feed(client_frame(Opcode::Close, close_payload(close_code::Normal, "bye")));
  EXPECT_EQ(rec.events, (Events{"close:1000:bye"}));
  EXPECT_EQ(sent(), (Events{"close:1000:"}));
}

TEST_P(EndpointTest, EveryValidCloseCodeIsEchoed) {
  for (int code : {1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000,
                   3999, 4000, 4999}) {
    reset(Role::Server);
    feed(client_frame(Opcode::Close, close_payload(static_cast<uint16_t>(code))));
    EXPECT_EQ(rec.events, (Events{"close:" + std::to_string(code) + ":"}));
    EXPECT_EQ(sent(), (Events{"close:" + std::to_string(code) + ":"}));
  }
}

TEST_P(EndpointTest, InvalidCloseCodesFail) {
  for (int code : {0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535}) {
    reset(Role::Server);
    feed(client_frame(Opcode::Close, close_payload(static_cast<uint16_t>(code))));
    EXPECT_EQ(rec.events, (Events{"close:1002:invalid close code"})) << code;
    EXPECT_EQ(sent(), (Events{"close:1002:invalid close code"})) << code;
  }
}

TEST_P(EndpointTest, OneByteClosePayloadFails) {
  feed(client_frame(Opcode::Close, "\x03"));
  EXPECT_EQ(rec.events, (Events{"close:1002:close frame of 1 byte"}));
}

TEST_P(EndpointTest, CloseReasonMustBeUtf8) {
  feed(client_frame(Opcode::Close, close_payload(1000) + "\xce\xba\xe1\xbd\xb9\xed\xa0\x80"));
  EXPECT_EQ(rec.events, (Events{"close:1007:invalid UTF-8 in close reason"}));
}

TEST_P(EndpointTest, MaximalCloseReason) {
  const std::string reason(123, 'r');
  feed(client_frame(Opcode::Close, close_payload(1000, reason)));
  EXPECT_EQ(rec.events, (Events{"close:1000:" + reason}));
}

TEST_P(EndpointTest, BytesAfterCloseAreIgnored) {
  feed(client_frame(Opcode::Close, close_payload(1000)) + client_frame(Opcode::Text, "late") +
       client_frame(Opcode::Ping, "late") + bytes({0xff, 0xff, 0xff}));
  EXPECT_EQ(rec.events, (Events{"close:1000:"}));
  EXPECT_EQ(sent(), (Events{"close:1000:"}));
}

TEST_P(EndpointTest, CloseDuringFragmentedMessage) {
  feed(client_frame(Opcode::Text, "part", false) +
       client_frame(Opcode::Close, close_payload(1001)));
  EXPECT_EQ(rec.events, (Events{"close:1001:"}));
}

// --- Close handshake initiated by us ----------------------------------------

TEST_P(EndpointTest, OurCloseWaitsForThePeersClose) {
  endpoint().close(close_code::GoingAway, "shutting down");
  EXPECT_EQ(endpoint().state(), Endpoint::State::Closing);
  EXPECT_EQ(sent(), (Events{"close:1001:shutting down"}));
  endpoint().close(close_code::Normal);  // a second close() sends nothing
  feed(client_frame(Opcode::Text, "ignored") + client_frame(Opcode::Ping, "ignored") +
       client_frame(Opcode::Binary, "frag", false) + client_frame(Opcode::Continuation, "x") +
       client_frame(Opcode::Close, close_payload(1001)));
  EXPECT_EQ(rec.events, (Events{"close:1001:"}));
  EXPECT_EQ(sent(), (Events{"close:1001:shutting down"}));
  EXPECT_EQ(endpoint().state(), Endpoint::State::Closed);
}

TEST_P(EndpointTest, OurCloseWithMessageInProgress) {
  feed(client_frame(Opcode::Text, "fragmented", false));
  endpoint().close(close_code::GoingAway);
  feed(client_frame(Opcode::Continuation, "rest") + client_frame(Opcode::Close, ""));
  EXPECT_EQ(rec.events, (Events{"close:1005:"}));
  EXPECT_EQ(sent(), (Events{"close:1001:"}));
}

TEST_P(EndpointTest, ProtocolErrorWhileClosingSendsNoSecondClose) {
  endpoint().close(close_code::GoingAway);
  feed(bytes({0x83, 0x80, 1, 2, 3, 4}));  // reserved opcode
  EXPECT_EQ(rec.events, (Events{"close:1002:reserved opcode"}));
  EXPECT_EQ(sent(), (Events{"close:1001:"}));
}

TEST_P(EndpointTest, ClosingWithUnsendableCodeSendsEmptyClose) {
  endpoint().close(close_code::NoStatus);
  EXPECT_EQ(sent(), (Events{"close:"}));
  reset(Role::Server);
  endpoint().close(close_code::Abnormal, "reason dropped");
  EXPECT_EQ(sent(), (Events{"close:"}));
}

TEST_P(EndpointTest, CloseFromInsideOnMessage) {
  rec.close_on_message = true;
  feed(client_frame(Opcode::Text, "first") + client_frame(Opcode::Text, "second", false) +
       client_frame(Opcode::Continuation, "more") + client_frame(Opcode::Close, ""));
  EXPECT_EQ(rec.events, (Events{"text:first", "close:1005:"}));
  EXPECT_EQ(sent(), (Events{"close:1000:done"}));
}

TEST_P(EndpointTest, CloseFromInsideOnMessageOfAGatheredMessage) {
  rec.close_on_message = true;
  feed(client_frame(Opcode::Text, "fir", false) + client_frame(Opcode::Continuation, "st") +
       client_frame(Opcode::Text, "second") + client_frame(Opcode::Close, close_payload(1000)));
  EXPECT_EQ(rec.events, (Events{"text:first", "close:1000:"}));
  EXPECT_EQ(sent(), (Events{"close:1000:done"}));
}

// --- Non-parameterised ------------------------------------------------------

TEST(EndpointZeroCopy, WholeFrameIsDeliveredInPlace) {
  Recorder rec;
  Endpoint endpoint(Role::Server, {}, rec);
  std::string input = client_frame(Opcode::Text, "in place, no copy");
  endpoint.feed(input);
  ASSERT_EQ(rec.events, (Events{"text:in place, no copy"}));
  EXPECT_EQ(rec.last_message_data, input.data() + frame_header_size(17, true));
}

// A handler that owns its Endpoint and destroys it in on_close, as a
// transport may: ASan fails this test if the Endpoint touches itself afterwards.
class SelfDestroyingHandler : public Endpoint::Handler {
 public:
  SelfDestroyingHandler()
      : endpoint(std::make_unique<Endpoint>(Role::Server, Endpoint::Limits{}, *this)) {}
  void on_message(Opcode, std::string_view) override { ++messages; }
  void send(std::string_view frame) override { sent.append(frame); }
  void on_close(uint16_t code, std::string_view) override {
    last_code = code;
    endpoint.reset();
  }
  std::unique_ptr<Endpoint> endpoint;
  std::string sent;
  int messages = 0;
  uint16_t last_code = 0;
};

TEST(EndpointLifetime, HandlerMayDestroyEndpointInOnClose) {
  struct Case {
    std::string input;
    int messages;
    uint16_t code;
  };
  const Case cases[] = {
      {client_frame(Opcode::Text, "a") + client_frame(Opcode::Close, "") +
           client_frame(Opcode::Text, "b"),
       1, close_code::NoStatus},
      {client_frame(Opcode::Text, "a") + client_frame(Opcode::Continuation, "b"), 1,
       close_code::ProtocolError},
      {client_frame(Opcode::Text, "\xff") + client_frame(Opcode::Text, "b"), 0,
       close_code::InvalidPayload},
  };
  for (const Case& c : cases) {
    SelfDestroyingHandler handler;
    std::string input = c.input;
    handler.endpoint->feed(input);
    EXPECT_EQ(handler.endpoint, nullptr);
    EXPECT_EQ(handler.messages, c.messages);
    EXPECT_EQ(handler.last_code, c.code);
  }
}

TEST(EndpointLimits, LargeMessageBufferIsReusableAfterDelivery) {
  // A large fragmented message, then small ones: all delivered intact.
  Recorder rec;
  Endpoint endpoint(Role::Server, {.max_message_size = 1 << 22}, rec);
  const std::string big(1 << 21, 'B');
  std::string input = client_frame(Opcode::Binary, big.substr(0, 1 << 20), false) +
                      client_frame(Opcode::Continuation, big.substr(1 << 20)) +
                      client_frame(Opcode::Text, "sm", false) +
                      client_frame(Opcode::Continuation, "all");
  endpoint.feed(input);
  ASSERT_EQ(rec.events.size(), 2u);
  EXPECT_EQ(rec.events[0], "binary:" + big);
  EXPECT_EQ(rec.events[1], "text:small");
}

}  // namespace
}  // namespace parley::ws
