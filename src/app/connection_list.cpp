#include "app/connection_list.h"

#include "app/connection.h"

namespace parley::app {

ConnectionList::ConnectionList(net::EventLoop& loop) : loop_(loop) {}

ConnectionList::~ConnectionList() {
  while (head_ != nullptr) {
    Node* n = head_;
    unlink(n);
    std::unique_ptr<Connection> owned(&as_connection(n));
  }
  retired_.clear();
}

Connection& ConnectionList::as_connection(Node* n) {
  return static_cast<Connection&>(*n);
}

Connection& ConnectionList::add(std::unique_ptr<Connection> c) {
  PARLEY_ASSERT_LOOP_THREAD(loop_);
  Node* n = c.release();
  n->listed_ = true;
  n->prev_ = nullptr;
  n->next_ = head_;
  if (head_ != nullptr) head_->prev_ = n;
  head_ = n;
  ++size_;
  return as_connection(n);
}

void ConnectionList::unlink(Node* n) {
  n->listed_ = false;
  if (n->prev_ != nullptr) n->prev_->next_ = n->next_;
  if (n->next_ != nullptr) n->next_->prev_ = n->prev_;
  if (head_ == n) head_ = n->next_;
  n->prev_ = n->next_ = nullptr;
  --size_;
}

void ConnectionList::retire(Connection& c) {
  PARLEY_ASSERT_LOOP_THREAD(loop_);
  Node* n = &c;
  if (!n->listed_) return;
  unlink(n);
  retired_.emplace_back(&c);
  if (destroy_scheduled_) return;
  destroy_scheduled_ = true;
  loop_.defer([this] { destroy_retired(); });
}

void ConnectionList::destroy_retired() {
  destroy_scheduled_ = false;
  // A destructor may retire another connection (and schedule another pass).
  std::vector<std::unique_ptr<Connection>> batch;
  batch.swap(retired_);
  batch.clear();
}

}  // namespace parley::app
