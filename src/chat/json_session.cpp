#include "chat/json_session.h"

#include <variant>

#include "chat/events.h"
#include "chat/json_protocol.h"
#include "ws/close_code.h"

namespace parley::chat {

JsonSession::JsonSession(ChatHub& hub, uint32_t loop, ChatTransport& transport,
                         const Identity& identity, const JsonSessionOptions& options,
                         std::string session_id, std::optional<auth::Claims> upgrade_claims)
    : ChatSession(hub, loop, transport),
      identity_(identity),
      options_(options),
      session_id_(std::move(session_id)),
      request_rate_(options.rate_per_sec, options.rate_burst),
      // Typing indicators are ephemeral: a couple per second is plenty.
      typing_rate_(2, 4),
      byte_rate_(options.byte_rate, options.byte_burst),
      upgrade_claims_(std::move(upgrade_claims)) {
  if (options_.jwt != nullptr) auth_.emplace(*options_.jwt, options_.token_warning);
}

namespace {

// The client id and room of a request, for errors about it.
struct RequestRef {
  std::string_view id;
  std::string_view room;
};

RequestRef ref_of(const ClientMessage& msg) {
  return std::visit(
      [](const auto& m) -> RequestRef {
        if constexpr (requires {
                        m.id;
                        m.room;
                      }) {
          return {m.id, m.room};
        } else if constexpr (requires { m.room; }) {
          return {{}, m.room};
        } else {
          return {};
        }
      },
      msg);
}

}  // namespace

void JsonSession::fail(ErrorCode code, std::string_view message, std::string_view ref,
                       std::string_view id, std::string_view room) {
  deliver(error_text(code, message, ref, id, room));
  // Counted and logged by the connection (the byte rate reports itself).
  if (code == ErrorCode::TextTooLong) transport_.refused(Refused::TextTooLong);
  if (code == ErrorCode::RoomLimit) transport_.refused(Refused::RoomLimit);
  // Abuse guard: too many errors in the window and the client is closed.
  if (recent_errors_.note(now_, options_.abuse_window) > options_.abuse_errors) {
    transport_.close(ws::close_code::PolicyViolation, "too many invalid requests");
    // Out of its rooms now, not when the closing handshake ends: the reads
    // it asked for are cancelled before the store runs them.
    leave_all();
  }
}

void JsonSession::on_text(std::string_view text) {
  now_ = Clock::now();
  ParseLimits limits{options_.max_text_bytes, static_cast<uint32_t>(options_.history_page_max),
                     static_cast<uint32_t>(options_.search_page_max)};
  ParseResult parsed = parse_client_message(text, limits);
  if (auto* err = std::get_if<ParseError>(&parsed)) {
    fail(err->code, err->message, err->ref, err->id, err->room);
    return;
  }
  ClientMessage& msg = std::get<ClientMessage>(parsed);
  RequestRef ref = ref_of(msg);
  if (user_.empty() && !std::holds_alternative<Hello>(msg)) {
    fail(ErrorCode::HelloRequired, "send hello first", type_name(msg), ref.id, ref.room);
    return;
  }
  // Every request costs a token, from the connection's bucket and from the
  // one its address shares (docs/PROTOCOL.md, rate limits; docs/SECURITY.md,
  // "Rates per address"); a refused one is neither processed nor
  // acknowledged, and the client retries it. Refusals count towards the
  // abuse guard either way: a connection that keeps sending into a full
  // address is closed, which bounds what the flood costs us to parse.
  // Bytes are charged in the same way (docs/SECURITY.md, "Message bytes").
  if (std::optional<Refused> refusal = over_rate(text.size())) {
    transport_.refused(*refusal);
    fail(ErrorCode::RateLimited, "slow down", type_name(msg), ref.id, ref.room);
    return;
  }
  std::visit([this](auto& m) { on_request(m); }, msg);
}

std::optional<Refused> JsonSession::over_rate(std::size_t bytes) {
  if (!request_rate_.take(now_) || !address_allows(now_)) return Refused::RateLimited;
  if (!byte_rate_.take(now_, static_cast<double>(bytes)) || !address_allows_bytes(now_, bytes)) {
    return Refused::ByteRate;
  }
  return std::nullopt;
}

void JsonSession::on_request(Hello& m) {
  if (!user_.empty()) {
    fail(ErrorCode::HelloRepeated, "hello was already sent", Hello::kType);
    return;
  }
  if (!identify(m)) return;
  WelcomeInfo w;
  w.session = session_id_;
  w.user = user_;
  w.resume = identity_.token_for(user_);
  w.name = name_;
  w.server = options_.server;
  w.max_message_bytes = options_.max_message_bytes;
  w.max_text_bytes = options_.max_text_bytes;
  w.max_rooms = options_.max_rooms;
  w.history_page_max = options_.history_page_max;
  w.rate_per_sec = options_.rate_per_sec;
  w.rate_burst = options_.rate_burst;
  w.search_page_max = options_.search_page_max;
  w.max_upload_bytes = options_.attachments != nullptr ? options_.max_upload_bytes : 0;
  w.rules = options_.rules;
  if (auth_) {
    w.auth = "jwt";
    w.expires_at = auth_->expires_at();
  }
  deliver(welcome_text(w));
}

bool JsonSession::identify(Hello& m) {
  if (!auth_) {
    std::optional<std::string> resumed;
    if (!m.resume.empty()) resumed = identity_.verify(m.resume);
    // An unknown or forged token is not an error: the client simply starts as
    // a new user (its old pending messages may then be stored again, which it
    // is told by the new user id).
    user_ = resumed ? *resumed : identity_.new_user_id();
    name_ = m.name;
    return true;
  }
  // --auth jwt: the token says who the user is; a resume token adds nothing.
  if (auto refusal = auth_->accept(m.token, upgrade_claims_, auth::Clock::now())) {
    refuse(*refusal, Hello::kType);
    return false;
  }
  user_ = auth_->claims().subject;
  name_ = m.name;
  name_from_token_ = false;
  if (const auto& claimed = auth_->claims().name) {
    if (Result<std::string> name = normalize_name(*claimed)) {
      name_ = std::move(name).value();
      name_from_token_ = true;
    }
  }
  return true;
}

void JsonSession::refuse(const SessionAuth::Refusal& refusal, std::string_view ref) {
  deliver(error_text(refusal.code, refusal.message, ref, {}, {}, refusal.reason));
  if (refusal.close != 0) transport_.close(refusal.close, refusal.reason);
}

void JsonSession::on_request(Refresh& m) {
  if (!auth_) {
    fail(ErrorCode::UnknownType, "refresh needs a server with --auth jwt", Refresh::kType);
    return;
  }
  if (auto refusal = auth_->refresh(m.token, auth::Clock::now())) {
    refuse(*refusal, Refresh::kType);
    return;
  }
  // The new token's rooms apply at once.
  std::vector<std::string> gone;
  for (const auto& room : rooms()) {
    if (!auth_->allows(room)) gone.push_back(room);
  }
  for (const auto& room : gone) {
    deliver(error_text(ErrorCode::Forbidden, "the new token does not allow this room",
                       Refresh::kType, {}, room, "forbidden_room"));
    remove_room(room);
    hub_.leave(ref_, room);
  }
  deliver(make_shared_text(encode_refreshed(auth_->expires_at())));
}

void JsonSession::tick() {
  if (!auth_ || !auth_->accepted()) return;
  auto now = auth::Clock::now();
  switch (auth_->tick(now)) {
    case SessionAuth::Due::Nothing:
      return;
    case SessionAuth::Due::Warn:
      deliver(
          make_shared_text(encode_token_expiring(auth_->expires_at(), auth_->seconds_left(now))));
      return;
    case SessionAuth::Due::Expire:
      transport_.close(kCloseTokenExpired, "token expired");
      return;
  }
}

void JsonSession::on_request(Join& m) {
  if (auth_ && !auth_->allows(m.room)) {
    fail(ErrorCode::Forbidden, "the token does not allow this room", Join::kType, {}, m.room);
    return;
  }
  if (!in_room(m.room)) {
    if (rooms().size() >= options_.max_rooms) {
      fail(ErrorCode::TooManyRooms, "too many rooms", Join::kType, {}, m.room);
      return;
    }
    add_room(m.room);
  }
  // Joining a room again resynchronises: a fresh `joined`.
  hub_.join(ref_, JoinRequest{m.room, user_, name_, Protocol::Json, m.since});
}

void JsonSession::on_request(Leave& m) {
  if (!in_room(m.room)) {
    fail(ErrorCode::NotInRoom, "not in this room", Leave::kType, {}, m.room);
    return;
  }
  remove_room(m.room);
  hub_.leave(ref_, m.room);  // the home answers `left`, after pending acks
}

void JsonSession::on_request(Send& m) {
  if (!in_room(m.room)) {
    fail(ErrorCode::NotInRoom, "join the room first", Send::kType, m.id, m.room);
    return;
  }
  SendRequest request{m.room, std::move(m.id), std::move(m.text), m.reply_to};
  if (!m.file.empty()) {
    // The store says what the file is; the client only names it.
    if (options_.attachments == nullptr) {
      // Uploads are off (the Redis engine keeps no files: docs/SCALING.md).
      fail(ErrorCode::Unsupported, "this server keeps no files", Send::kType, request.client_id,
           m.room);
      return;
    }
    Result<Attachment> claimed = options_.attachments->claim(user_, m.file);
    if (!claimed) {
      fail(ErrorCode::FileNotFound, claimed.error().message, Send::kType, request.client_id,
           m.room);
      return;
    }
    request.attachment = *std::move(claimed);
    request.attachment.name = std::move(m.file_name);
  }
  hub_.send(ref_, std::move(request));
}

void JsonSession::on_request(Typing& m) {
  if (!in_room(m.room)) {
    fail(ErrorCode::NotInRoom, "not in this room", Typing::kType, {}, m.room);
    return;
  }
  if (typing_rate_.take(now_)) hub_.typing(ref_, m.room);
}

void JsonSession::on_request(HistoryRequest& m) {
  if (!in_room(m.room)) {
    fail(ErrorCode::NotInRoom, "join the room first", HistoryRequest::kType, {}, m.room);
    return;
  }
  // History reads are the expensive request: a few at a time per connection.
  if (history_in_flight_ >= options_.history_in_flight) {
    transport_.refused(Refused::RateLimited);
    fail(ErrorCode::RateLimited, "wait for the history pages already asked for",
         HistoryRequest::kType, {}, m.room);
    return;
  }
  ++history_in_flight_;
  using Direction = HistoryRequest::Direction;
  auto from = m.direction == Direction::Before  ? PageQuery::From::Before
              : m.direction == Direction::After ? PageQuery::From::After
                                                : PageQuery::From::Around;
  hub_.history(ref_, HistoryQuery{m.room, PageQuery{from, m.anchor, m.limit}});
}

void JsonSession::history_answered() {
  if (history_in_flight_ > 0) --history_in_flight_;
}

bool JsonSession::in_room_for(std::string_view room, std::string_view type, std::string_view id) {
  if (in_room(room)) return true;
  fail(ErrorCode::NotInRoom, "join the room first", type, id, room);
  return false;
}

void JsonSession::on_request(Edit& m) {
  if (!in_room_for(m.room, Edit::kType, m.id)) return;
  hub_.edit(ref_, ChangeRequest{m.room, std::move(m.id), m.target, std::move(m.text)});
}

void JsonSession::on_request(Delete& m) {
  if (!in_room_for(m.room, Delete::kType, m.id)) return;
  hub_.delete_message(ref_, ChangeRequest{m.room, std::move(m.id), m.target, {}});
}

void JsonSession::on_request(React& m) {
  if (!in_room_for(m.room, React::kType, m.id)) return;
  hub_.react(ref_, ChangeRequest{m.room, std::move(m.id), m.target, std::move(m.emoji)}, true);
}

void JsonSession::on_request(Unreact& m) {
  if (!in_room_for(m.room, Unreact::kType, m.id)) return;
  hub_.react(ref_, ChangeRequest{m.room, std::move(m.id), m.target, std::move(m.emoji)}, false);
}

void JsonSession::on_request(SearchRequest& m) {
  if (!in_room_for(m.room, SearchRequest::kType, {})) return;
  // A search reads the store like a history page: a few at a time.
  if (search_in_flight_ >= options_.search_in_flight) {
    transport_.refused(Refused::RateLimited);
    fail(ErrorCode::RateLimited, "wait for the searches already asked for", SearchRequest::kType,
         {}, m.room);
    return;
  }
  ++search_in_flight_;
  hub_.search(ref_, SearchRequestAt{m.room, SearchQuery{std::move(m.query), m.before, m.limit}});
}

void JsonSession::search_answered() {
  if (search_in_flight_ > 0) --search_in_flight_;
}

void JsonSession::on_request(RoomsRequest& m) {
  // Under --auth jwt a user sees only the rooms its token lets it join.
  if (auth_ && auth_->accepted()) {
    hub_.rooms(ref_, m, [this](std::string_view room) { return auth_->allows(room); });
    return;
  }
  hub_.rooms(ref_, m);
}

void JsonSession::on_request(MembersRequest& m) {
  if (!in_room(m.room)) {
    fail(ErrorCode::NotInRoom, "join the room first", MembersRequest::kType, {}, m.room);
    return;
  }
  hub_.members(ref_, m.room, std::move(m.after), m.limit);
}

void JsonSession::join_refused(std::string_view room) {
  remove_room(room);
  fail(ErrorCode::RoomLimit, "the server has as many rooms open as it allows; try an open one",
       Join::kType, {}, room);
}

void JsonSession::kicked(std::string_view room) {
  if (!in_room(room)) return;
  remove_room(room);
  // A join of ours that reached the home after the kick put us back there:
  // this leave takes us out again (the home ignores it otherwise).
  hub_.leave(ref_, std::string(room));
  deliver(make_shared_text(encode_kicked(room)));
}

void JsonSession::join_unavailable(std::string_view room) {
  remove_room(room);
  // The server's trouble, not the client's: not counted toward the abuse limit.
  deliver(error_text(ErrorCode::Unavailable, "the room cannot be opened now; retry later",
                     Join::kType, {}, room));
}

void JsonSession::on_request(Rename& m) {
  if (name_from_token_) {
    fail(ErrorCode::Forbidden, "the name comes from the token", Rename::kType);
    return;
  }
  name_ = m.name;
  for (const auto& room : rooms()) hub_.rename(ref_, room, name_);
}

}  // namespace parley::chat
