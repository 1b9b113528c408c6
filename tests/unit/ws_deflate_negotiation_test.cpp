// permessage-deflate negotiation, case by case against RFC 7692 §5 and §7.1:
// header syntax (RFC 6455 §9.1), which offer is accepted, each parameter, the
// offers that must be declined, and what the server answers.
#include "ws/deflate_negotiation.h"

#include <gtest/gtest.h>

#include <optional>
#include <string>

namespace parley::ws {
namespace {

// The policy that accepts exactly what is offered (adds nothing).
DeflateOptions plain_policy() {
  DeflateOptions o;
  o.server_no_context_takeover = false;
  o.client_no_context_takeover = false;
  return o;
}

std::optional<std::string> answer(std::string_view header,
                                  const DeflateOptions& options = plain_policy()) {
  auto a = negotiate_deflate(header, options);
  if (!a) return std::nullopt;
  return a->response;
}

DeflateParams params_of(std::string_view header, const DeflateOptions& options = plain_policy()) {
  auto a = negotiate_deflate(header, options);
  EXPECT_TRUE(a.has_value()) << header;
  return a ? a->params : DeflateParams{};
}

// --- Header syntax --------------------------------------------------------

TEST(ExtensionOffers, ParsesNamesParamsAndValues) {
  auto offers = parse_extension_offers(
      "permessage-deflate; client_max_window_bits, x-foo ;a=1; b = \"two\" ;c, bar");
  ASSERT_TRUE(offers);
  ASSERT_EQ(offers->size(), 3u);
  const ExtensionOffer& first = (*offers)[0];
  EXPECT_EQ(first.name, "permessage-deflate");
  ASSERT_EQ(first.params.size(), 1u);
  EXPECT_EQ(first.params[0].name, "client_max_window_bits");
  EXPECT_FALSE(first.params[0].value);
  const ExtensionOffer& second = (*offers)[1];
  EXPECT_EQ(second.name, "x-foo");
  ASSERT_EQ(second.params.size(), 3u);
  EXPECT_EQ(second.params[0].value, "1");
  EXPECT_EQ(second.params[1].name, "b");
  EXPECT_EQ(second.params[1].value, "two");  // quotes removed
  EXPECT_FALSE(second.params[2].value);
  EXPECT_EQ((*offers)[2].name, "bar");
  EXPECT_TRUE((*offers)[2].params.empty());
}

TEST(ExtensionOffers, QuotedValuesAreUnescaped) {
  auto offers = parse_extension_offers(R"(e; p="1\0")");
  ASSERT_TRUE(offers);
  EXPECT_EQ((*offers)[0].params[0].value, "10");
}

TEST(ExtensionOffers, EmptyElementsAndWhitespaceAreSkipped) {
  auto offers = parse_extension_offers(" ,, a ,\t, b;x ,");
  ASSERT_TRUE(offers);
  ASSERT_EQ(offers->size(), 2u);
  EXPECT_EQ((*offers)[0].name, "a");
  EXPECT_EQ((*offers)[1].name, "b");
  EXPECT_TRUE(parse_extension_offers("")->empty());
}

TEST(ExtensionOffers, SyntaxErrorsAreRejected) {
  for (const char* bad : {
           "permessage-deflate;",     // parameter name missing
           "permessage-deflate; =1",  // parameter name missing
           "permessage-deflate; a=",  // value missing
           "permessage-deflate a",    // two tokens
           "perm@ssage",              // not a token
           "; a",                     // extension name missing
           "e; a=\"1",                // unterminated quoted string
           "e; a=\"1 0\"",            // quoted value must be a token
           "e; a=\"\"",               // ... a non-empty one
           "e; a=\"1\x01\"",          // control character
           "e; a=1 2",                // stray token after a value
       }) {
    auto offers = parse_extension_offers(bad);
    EXPECT_FALSE(offers) << bad;
    if (!offers) {
      EXPECT_EQ(offers.error().code, Errc::Invalid);
    }
  }
}

// --- Which offer (§5, §7.1) -------------------------------------------------

TEST(DeflateNegotiation, PlainOfferIsAcceptedAsIs) {
  EXPECT_EQ(answer("permessage-deflate"), "permessage-deflate");
  EXPECT_EQ(params_of("permessage-deflate"), DeflateParams{});
}

TEST(DeflateNegotiation, NoOfferNoExtension) {
  EXPECT_FALSE(answer(""));
  EXPECT_FALSE(answer("x-webkit-deflate-frame"));
  EXPECT_FALSE(answer("deflate-frame, perframe-deflate"));
}

TEST(DeflateNegotiation, DisabledNeverAccepts) {
  DeflateOptions off;
  off.enabled = false;
  EXPECT_FALSE(answer("permessage-deflate", off));
}

TEST(DeflateNegotiation, FirstAcceptableOfferWins) {
  // The first offer is declined (unknown parameter), the second accepted;
  // the third is never looked at.
  auto a = negotiate_deflate(
      "permessage-deflate; foo, permessage-deflate; server_max_window_bits=10, "
      "permessage-deflate",
      plain_policy());
  ASSERT_TRUE(a);
  EXPECT_EQ(a->params.server_max_window_bits, 10);
  EXPECT_EQ(a->response, "permessage-deflate; server_max_window_bits=10");
}

TEST(DeflateNegotiation, OtherExtensionsBeforeItAreSkipped) {
  EXPECT_EQ(answer("x-foo; bar=1, permessage-deflate; client_max_window_bits"),
            "permessage-deflate");
}

TEST(DeflateNegotiation, OffersOverSeveralHeaderLinesJoined) {
  // http::Request::header_list joins repeated headers with ", ".
  EXPECT_EQ(answer("permessage-deflate; bad, permessage-deflate; server_no_context_takeover"),
            "permessage-deflate; server_no_context_takeover");
}

TEST(DeflateNegotiation, NamesAreCaseInsensitive) {
  EXPECT_EQ(answer("PerMessage-Deflate; Server_No_Context_Takeover"),
            "permessage-deflate; server_no_context_takeover");
}

TEST(DeflateNegotiation, MalformedHeaderDeclinesEverything) {
  // After a syntax error nothing in the header can be trusted.
  EXPECT_FALSE(answer("permessage-deflate, permessage-deflate; a=\"1"));
}

// --- Declined offers (§7.1: unknown, duplicate, bad value) ------------------

TEST(DeflateNegotiation, UnknownParameterDeclinesTheOffer) {
  ExtensionOffer offer{"permessage-deflate", {{"mystery", std::nullopt}}};
  auto r = accept_deflate_offer(offer, plain_policy());
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, Errc::Invalid);
  EXPECT_FALSE(answer("permessage-deflate; mystery"));
  EXPECT_FALSE(answer("permessage-deflate; server_max_window=10"));
}

TEST(DeflateNegotiation, DuplicateParameterDeclinesTheOffer) {
  for (const char* dup : {
           "permessage-deflate; server_no_context_takeover; server_no_context_takeover",
           "permessage-deflate; client_no_context_takeover; client_no_context_takeover",
           "permessage-deflate; server_max_window_bits=10; server_max_window_bits=10",
           "permessage-deflate; client_max_window_bits; client_max_window_bits=10",
           "permessage-deflate; client_max_window_bits; CLIENT_MAX_WINDOW_BITS",
       }) {
    EXPECT_FALSE(answer(dup)) << dup;
  }
}

TEST(DeflateNegotiation, BadValuesDeclineTheOffer) {
  for (const char* bad : {
           "permessage-deflate; server_no_context_takeover=1",     // takes no value
           "permessage-deflate; client_no_context_takeover=true",  // takes no value
           "permessage-deflate; server_max_window_bits",           // needs a value
           "permessage-deflate; server_max_window_bits=7",         // below 8
           "permessage-deflate; server_max_window_bits=16",        // above 15
           "permessage-deflate; server_max_window_bits=010",       // leading zero
           "permessage-deflate; server_max_window_bits=08",        // leading zero
           "permessage-deflate; server_max_window_bits=+9",        // not 1*DIGIT
           "permessage-deflate; server_max_window_bits=abc",
           "permessage-deflate; client_max_window_bits=0",
           "permessage-deflate; client_max_window_bits=99999999999999999999",
           "permessage-deflate; client_max_window_bits=\"16\"",
       }) {
    EXPECT_FALSE(answer(bad)) << bad;
  }
}

TEST(DeflateNegotiation, DeclinedOfferStillLetsALaterOneThrough) {
  EXPECT_EQ(answer("permessage-deflate; server_max_window_bits=16, permessage-deflate"),
            "permessage-deflate");
}

// --- server_no_context_takeover (§7.1.1.1) ---------------------------------

TEST(DeflateNegotiation, ServerNoContextTakeoverOfferedIsAccepted) {
  EXPECT_EQ(answer("permessage-deflate; server_no_context_takeover"),
            "permessage-deflate; server_no_context_takeover");
  EXPECT_TRUE(
      params_of("permessage-deflate; server_no_context_takeover").server_no_context_takeover);
}

TEST(DeflateNegotiation, ServerMayAddServerNoContextTakeover) {
  DeflateOptions o = plain_policy();
  o.server_no_context_takeover = true;
  EXPECT_EQ(answer("permessage-deflate", o), "permessage-deflate; server_no_context_takeover");
}

// --- client_no_context_takeover (§7.1.1.2) ---------------------------------

TEST(DeflateNegotiation, ClientNoContextTakeoverOfferedIsConfirmed) {
  // A hint that the client won't take over its context: confirming it lets
  // the server drop its inflater between messages.
  EXPECT_EQ(answer("permessage-deflate; client_no_context_takeover"),
            "permessage-deflate; client_no_context_takeover");
  EXPECT_TRUE(
      params_of("permessage-deflate; client_no_context_takeover").client_no_context_takeover);
}

TEST(DeflateNegotiation, ServerMayAddClientNoContextTakeover) {
  DeflateOptions o = plain_policy();
  o.client_no_context_takeover = true;
  EXPECT_EQ(answer("permessage-deflate", o), "permessage-deflate; client_no_context_takeover");
}

// --- server_max_window_bits (§7.1.2.1) -------------------------------------

TEST(DeflateNegotiation, ServerMaxWindowBitsOfferedIsAnsweredWithTheSameOrLess) {
  for (int bits = 8; bits <= 15; ++bits) {
    const std::string offer = "permessage-deflate; server_max_window_bits=" + std::to_string(bits);
    EXPECT_EQ(answer(offer), offer);  // required in the answer to accept
    EXPECT_EQ(params_of(offer).server_max_window_bits, bits);
  }
  DeflateOptions o = plain_policy();
  o.server_max_window_bits = 10;
  EXPECT_EQ(answer("permessage-deflate; server_max_window_bits=12", o),
            "permessage-deflate; server_max_window_bits=10");
  EXPECT_EQ(answer("permessage-deflate; server_max_window_bits=9", o),
            "permessage-deflate; server_max_window_bits=9");
}

TEST(DeflateNegotiation, QuotedWindowBitsAreAccepted) {
  EXPECT_EQ(params_of("permessage-deflate; server_max_window_bits=\"10\"").server_max_window_bits,
            10);
  EXPECT_EQ(params_of("permessage-deflate; client_max_window_bits=\"9\"").client_max_window_bits,
            9);
}

TEST(DeflateNegotiation, ServerMayAnnounceASmallerWindowUnasked) {
  DeflateOptions o = plain_policy();
  o.server_max_window_bits = 11;
  EXPECT_EQ(answer("permessage-deflate", o), "permessage-deflate; server_max_window_bits=11");
  EXPECT_EQ(params_of("permessage-deflate", o).server_max_window_bits, 11);
}

// --- client_max_window_bits (§7.1.2.2) -------------------------------------

TEST(DeflateNegotiation, ClientMaxWindowBitsWithoutValueLetsTheServerChoose) {
  // Offered without a value: the client supports the parameter in the answer.
  EXPECT_EQ(answer("permessage-deflate; client_max_window_bits"), "permessage-deflate");
  EXPECT_EQ(params_of("permessage-deflate; client_max_window_bits").client_max_window_bits, 15);
  DeflateOptions o = plain_policy();
  o.client_max_window_bits = 10;
  EXPECT_EQ(answer("permessage-deflate; client_max_window_bits", o),
            "permessage-deflate; client_max_window_bits=10");
  EXPECT_EQ(params_of("permessage-deflate; client_max_window_bits", o).client_max_window_bits, 10);
}

TEST(DeflateNegotiation, ClientMaxWindowBitsValueIsAHint) {
  // The client will use at most 12 anyway: no need to answer; asking for
  // less than it offered is answered.
  EXPECT_EQ(answer("permessage-deflate; client_max_window_bits=12"), "permessage-deflate");
  EXPECT_EQ(params_of("permessage-deflate; client_max_window_bits=12").client_max_window_bits, 12);
  DeflateOptions o = plain_policy();
  o.client_max_window_bits = 9;
  EXPECT_EQ(answer("permessage-deflate; client_max_window_bits=12", o),
            "permessage-deflate; client_max_window_bits=9");
  o.client_max_window_bits = 13;
  EXPECT_EQ(params_of("permessage-deflate; client_max_window_bits=12", o).client_max_window_bits,
            12);
}

TEST(DeflateNegotiation, ClientMaxWindowBitsNeverAnsweredUnoffered) {
  // "MUST NOT include" it when the offer does not have it: the client then
  // compresses with up to 32 KiB and we inflate with that.
  DeflateOptions o = plain_policy();
  o.client_max_window_bits = 9;
  EXPECT_EQ(answer("permessage-deflate", o), "permessage-deflate");
  EXPECT_EQ(params_of("permessage-deflate", o).client_max_window_bits, 15);
}

// --- What the default policy answers to real clients -----------------------

TEST(DeflateNegotiation, DefaultPolicyAnswersBrowsers) {
  // Chromium, npm ws, python3-websockets and Autobahn offer
  // client_max_window_bits; Firefox offers nothing.
  const DeflateOptions o = shared_deflate_policy();
  EXPECT_EQ(answer("permessage-deflate; client_max_window_bits", o),
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover; "
            "client_max_window_bits=12");
  EXPECT_EQ(answer("permessage-deflate", o),
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover");
  const DeflateParams p = params_of("permessage-deflate; client_max_window_bits", o);
  EXPECT_TRUE(p.server_no_context_takeover);
  EXPECT_TRUE(p.client_no_context_takeover);
  EXPECT_EQ(p.server_max_window_bits, 15);
  EXPECT_EQ(p.client_max_window_bits, 12);
  EXPECT_EQ(params_of("permessage-deflate", o).client_max_window_bits, 15);
}

TEST(DeflateNegotiation, ContextTakeoverPolicy) {
  // --deflate takeover: contexts kept both ways, a 4 KiB window asked of
  // clients that allow it (browsers), none of those that don't (Firefox).
  const DeflateOptions o = context_takeover_policy();
  EXPECT_EQ(answer("permessage-deflate; client_max_window_bits", o),
            "permessage-deflate; client_max_window_bits=12");
  EXPECT_EQ(answer("permessage-deflate", o), "permessage-deflate");
  const DeflateParams p = params_of("permessage-deflate; client_max_window_bits", o);
  EXPECT_FALSE(p.server_no_context_takeover);
  EXPECT_FALSE(p.client_no_context_takeover);
  EXPECT_EQ(p.client_max_window_bits, 12);
  // What the client asks for still binds us.
  EXPECT_EQ(answer("permessage-deflate; server_no_context_takeover; client_no_context_takeover", o),
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover");
}

TEST(DeflateNegotiation, AllParametersTogether) {
  const char* offer =
      "permessage-deflate; server_no_context_takeover; client_no_context_takeover; "
      "server_max_window_bits=9; client_max_window_bits=10";
  const DeflateParams p = params_of(offer);
  EXPECT_TRUE(p.server_no_context_takeover);
  EXPECT_TRUE(p.client_no_context_takeover);
  EXPECT_EQ(p.server_max_window_bits, 9);
  EXPECT_EQ(p.client_max_window_bits, 10);
  EXPECT_EQ(answer(offer),
            "permessage-deflate; server_no_context_takeover; client_no_context_takeover; "
            "server_max_window_bits=9");
}

}  // namespace
}  // namespace parley::ws
