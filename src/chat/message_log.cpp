#include "chat/message_log.h"

#include <algorithm>

#include "base/strings.h"

namespace parley::chat {
namespace {

Reaction* find_reaction(Message& m, std::string_view emoji) {
  for (Reaction& r : m.reactions) {
    if (r.emoji == emoji) return &r;
  }
  return nullptr;
}

const Reaction* find_reaction(const Message& m, std::string_view emoji) {
  return find_reaction(const_cast<Message&>(m), emoji);
}

bool has_user(const Reaction& r, std::string_view user) {
  return std::find(r.users.begin(), r.users.end(), user) != r.users.end();
}

std::size_t total_reactions(const Message& m) {
  std::size_t n = 0;
  for (const Reaction& r : m.reactions) n += r.users.size();
  return n;
}

Result<bool> check_reaction(const Message& target, const Message& change,
                            const ChangeRules& rules) {
  const Reaction* r = find_reaction(target, change.text);
  const bool present = r != nullptr && has_user(*r, change.user);
  if (change.kind == EntryKind::Unreact) return present;
  if (present) return false;
  if (r == nullptr && target.reactions.size() >= rules.max_reaction_emoji) {
    return refusal_error(Refusal::LimitReached);
  }
  if (total_reactions(target) >= rules.max_reactions) return refusal_error(Refusal::LimitReached);
  return true;
}

}  // namespace

Error refusal_error(Refusal refusal) {
  Error e;
  switch (refusal) {
    case Refusal::NotFound:
      e = Error{Errc::NotFound, "no such message in this room"};
      break;
    case Refusal::NotAuthor:
      e = Error{Errc::Invalid, "only its author can change this message"};
      break;
    case Refusal::Deleted:
      e = Error{Errc::Invalid, "the message was deleted"};
      break;
    case Refusal::LimitReached:
      e = Error{Errc::Invalid, "the message has as many reactions as it may"};
      break;
    case Refusal::None:
      e = Error{Errc::Internal, "not a refusal"};
      break;
  }
  e.detail = static_cast<unsigned char>(refusal);
  return e;
}

Refusal refusal_of(const Error& error) {
  if (error.code != Errc::Invalid && error.code != Errc::NotFound) return Refusal::None;
  if (error.detail > static_cast<unsigned char>(Refusal::LimitReached)) return Refusal::None;
  return static_cast<Refusal>(error.detail);
}

Quote quote_of(const Message& target, const ChangeRules& rules) {
  Quote q{target.id, target.user, target.from, {}, target.deleted};
  if (!target.deleted) q.text = first_code_points(target.text, rules.quote_chars);
  return q;
}

void forget_quote(Quote& quote) {
  quote.text.clear();
  quote.text.shrink_to_fit();
  quote.deleted = true;
}

Result<bool> check_change(const Message* target, const Message& change, const ChangeRules& rules) {
  if (target == nullptr || !target->is_message()) return refusal_error(Refusal::NotFound);
  switch (change.kind) {
    case EntryKind::Edit:
    case EntryKind::Delete:
      if (target->user != change.user) return refusal_error(Refusal::NotAuthor);
      if (target->deleted) return refusal_error(Refusal::Deleted);
      return true;
    case EntryKind::React:
    case EntryKind::Unreact:
      if (target->deleted) return refusal_error(Refusal::Deleted);
      return check_reaction(*target, change, rules);
    case EntryKind::Message:
      break;
  }
  return Error{Errc::Internal, "a message is not a change"};
}

void apply_change(Message& target, Message& change) {
  if (change.id != 0 && change.id <= target.revision()) return;  // already reflected
  switch (change.kind) {
    case EntryKind::Edit:
      target.text = change.text;
      target.edited_ms = change.ts_ms;
      break;
    case EntryKind::Delete:
      target.deleted = true;
      target.text.clear();
      target.text.shrink_to_fit();
      target.reactions.clear();
      target.reactions.shrink_to_fit();
      target.reply = Quote{};
      target.attachment = Attachment{};
      target.edited_ms = 0;
      break;
    case EntryKind::React: {
      Reaction* r = find_reaction(target, change.text);
      if (r == nullptr) r = &target.reactions.emplace_back(Reaction{change.text, {}});
      if (!has_user(*r, change.user)) r->users.push_back(change.user);
      change.count = static_cast<uint32_t>(r->users.size());
      break;
    }
    case EntryKind::Unreact: {
      Reaction* r = find_reaction(target, change.text);
      if (r != nullptr) std::erase(r->users, change.user);
      change.count = r != nullptr ? static_cast<uint32_t>(r->users.size()) : 0;
      if (r != nullptr && r->users.empty()) {
        target.reactions.erase(target.reactions.begin() + (r - target.reactions.data()));
      }
      break;
    }
    case EntryKind::Message:
      return;
  }
  target.rev = change.id;
}

}  // namespace parley::chat
