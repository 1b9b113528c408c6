#include "app/session.h"

namespace parley::app {

void SessionList::add(Session* s) {
  if (s->listed_) return;
  s->listed_ = true;
  s->prev_ = nullptr;
  s->next_ = head_;
  if (head_ != nullptr) head_->prev_ = s;
  head_ = s;
  ++size_;
}

void SessionList::remove(Session* s) {
  if (!s->listed_) return;
  s->listed_ = false;
  if (s->prev_ != nullptr) s->prev_->next_ = s->next_;
  if (s->next_ != nullptr) s->next_->prev_ = s->prev_;
  if (head_ == s) head_ = s->next_;
  s->prev_ = s->next_ = nullptr;
  --size_;
}

}  // namespace parley::app
