// Files in the chat codec (docs/PROTOCOL.md "Attachments"): `send.file` and
// `send.file_name` parsed and checked, `message.attachment` encoded, and a
// delete clearing a message's attachment.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "chat/attachment.h"
#include "chat/client_message.h"
#include "chat/message_log.h"
#include "chat/server_event.h"

namespace parley::chat {
namespace {

const std::string kFile(64, 'e');

ParseResult parse(const std::string& json) {
  return parse_client_message(json, ParseLimits{});
}

TEST(ChatAttachment, SendWithAFileMayHaveNoText) {
  ParseResult r = parse(R"({"type":"send","room":"r","id":"c1","file":")" + kFile +
                        R"(","file_name":"cat 🐱.png"})");
  ASSERT_TRUE(std::holds_alternative<ClientMessage>(r));
  const Send& s = std::get<Send>(std::get<ClientMessage>(r));
  EXPECT_EQ(s.file, kFile);
  EXPECT_EQ(s.file_name, "cat 🐱.png");
  EXPECT_EQ(s.text, "");
}

TEST(ChatAttachment, BadFilesAreFileInvalidWithTheirId) {
  for (const std::string& fields : std::vector<std::string>{
           R"("file":"abc","file_name":"a")",
           R"("file":")" + std::string(64, 'E') + R"(","file_name":"a")",
           R"("file":")" + kFile + R"(","file_name":"a/b")",
           R"("file":")" + kFile + R"(","file_name":"")",
           R"("file":")" + kFile + R"(","file_name":"a\u0000b")",
           R"("file":")" + kFile + R"(","file_name":")" + std::string(256, 'x') + "\""}) {
    ParseResult r = parse(R"({"type":"send","room":"r","id":"c1",)" + fields + "}");
    ASSERT_TRUE(std::holds_alternative<ParseError>(r)) << fields;
    EXPECT_EQ(std::get<ParseError>(r).code, ErrorCode::FileInvalid) << fields;
    EXPECT_EQ(std::get<ParseError>(r).id, "c1");
  }
  // A file without its name is a missing field; text stays required without a file.
  auto no_name = parse(R"({"type":"send","room":"r","id":"c1","file":")" + kFile + "\"}");
  EXPECT_EQ(std::get<ParseError>(no_name).code, ErrorCode::BadMessage);
  auto no_text = parse(R"({"type":"send","room":"r","id":"c1"})");
  EXPECT_EQ(std::get<ParseError>(no_text).code, ErrorCode::BadMessage);
  auto empty = parse(R"({"type":"send","room":"r","id":"c1","text":""})");
  EXPECT_EQ(std::get<ParseError>(empty).code, ErrorCode::TextEmpty);
  EXPECT_EQ(error_code_name(ErrorCode::FileNotFound), "file_not_found");
}

TEST(ChatAttachment, AMessageCarriesItsAttachmentUntilDeleted) {
  Message m{7, 1000, "u-1", "alice", "c1", "look"};
  m.attachment = Attachment{kFile, "a \"b\".png", 1234, "image/png", 64, 32};
  EXPECT_EQ(encode_message("r", m),
            R"({"type":"message","room":"r","msg_id":7,"ts":1000,"user":"u-1","from":"alice",)"
            R"("text":"look","id":"c1","attachment":{"file":")" +
                kFile +
                R"(","name":"a \"b\".png","size":1234,"type":"image/png",)"
                R"("width":64,"height":32}})");
  m.attachment.width = 0;  // no size known: neither side is written
  EXPECT_EQ(encode_message("r", m).find("width"), std::string::npos);

  Message del{9, 2000, "u-1", "alice", "c2", ""};
  del.kind = EntryKind::Delete;
  del.target = 7;
  apply_change(m, del);
  EXPECT_TRUE(m.deleted);
  EXPECT_TRUE(m.attachment.empty());
  EXPECT_EQ(encode_message("r", m).find("attachment"), std::string::npos);
}

TEST(ChatAttachment, FileIdsAndNames) {
  EXPECT_TRUE(is_file_id(kFile));
  EXPECT_FALSE(is_file_id(kFile.substr(1)));
  EXPECT_FALSE(is_file_id(std::string(64, 'g')));
  EXPECT_TRUE(check_file_name("报告.pdf"));
  EXPECT_FALSE(check_file_name("a\\b"));
  EXPECT_FALSE(check_file_name("\xff"));
  EXPECT_TRUE(check_file_name(std::string(255, 'x')));
}

}  // namespace
}  // namespace parley::chat
