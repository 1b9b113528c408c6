#include "chat/member.h"

#include "ws/frame_writer.h"

namespace parley::chat {

SharedFrame make_text_frame(std::string_view text) {
  return std::make_shared<const std::string>(ws::encode_frame(ws::Opcode::Text, text));
}

}  // namespace parley::chat
