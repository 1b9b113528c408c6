// Files and images over HTTP (docs/SECURITY.md "Uploads", docs/PROTOCOL.md
// "Attachments"): POST /upload receives one file, GET /files/<id> serves it.
//
// Uploads is shared by every loop: it checks who is uploading, applies the
// limits and hands out receivers; it is also the chat's chat::Attachments,
// over the file store. An UploadReceiver belongs to one connection's HTTP
// phase and takes the body of one request as it arrives: each piece is
// written to a temporary file in <data-dir>/files/tmp and hashed (SHA-256);
// only the first 64 KiB are kept, for sniffing. So an upload costs a
// connection 64 KiB of memory whatever its size, and at most
// --upload-concurrency uploads run at once.
//
// Identity: `Authorization: Bearer <token>`, where the token is the
// connection's `welcome.resume` (or, under --auth jwt, the JWT). Both are
// unforgeable without the server's secret (the resume token's HMAC) or the
// issuer's key, and a browser on another site cannot send an Authorization
// header to us without a CORS preflight we never grant, so nobody uploads
// in someone else's name.
//
// The order of checks, all on the request head, before a byte of the body
// is read: identity (401), Content-Length present (411), its size (413),
// the user's rate (429), concurrent uploads (503), the disk budget (507).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include <openssl/evp.h>

#include "app/config.h"
#include "chat/attachment.h"
#include "chat/identity.h"
#include "chat/token_bucket.h"
#include "http/request.h"
#include "http/static_files.h"
#include "store/file_store.h"
#include "ws/utf8.h"

namespace parley::app {

// Whether a stream of bytes is plain text: valid UTF-8 with no control
// characters other than \t \n \f \r. Fed in pieces of any size.
class TextCheck {
 public:
  void feed(std::string_view bytes);
  bool text() const { return ok_ && utf8_.complete(); }

 private:
  ws::Utf8Validator utf8_;
  bool ok_ = true;
};

class Uploads;

class UploadReceiver {
 public:
  UploadReceiver(Uploads& uploads, std::string user, uint64_t size,
                 std::pair<std::filesystem::path, int> temp);
  // An upload that did not finish leaves nothing behind: its temporary file
  // goes, its reservation and its slot are given back.
  ~UploadReceiver();
  UploadReceiver(const UploadReceiver&) = delete;
  UploadReceiver& operator=(const UploadReceiver&) = delete;

  uint64_t remaining() const { return size_ - received_; }
  // The next bytes of the body (no more than remaining()).
  Status feed(std::string_view bytes);
  // After the last byte: stores the file and returns the response.
  std::string finish(bool close);

 private:
  Uploads& uploads_;
  std::string user_;
  uint64_t size_;
  uint64_t received_ = 0;
  std::filesystem::path temp_;
  int fd_;
  EVP_MD_CTX* sha_;
  std::string head_;  // the first bytes, for sniffing
  TextCheck text_;
  bool done_ = false;
};

class Uploads final : public chat::Attachments {
 public:
  Uploads(const Config& config, store::FileStore& files, const chat::Identity& identity);

  // The head of a POST /upload: a receiver for its body, or a response refusing it.
  struct Start {
    std::unique_ptr<UploadReceiver> receiver;
    std::string refusal;
  };
  Start begin(const http::Request& request, uint64_t content_length, bool chunked);

  // GET or HEAD /files/<id>.
  http::StaticFiles::Parts serve(const http::Request& request, bool close);

  // chat::Attachments
  Result<chat::Attachment> claim(std::string_view user, std::string_view file) override;
  void referenced(std::string_view room, uint64_t msg_id, std::string_view file,
                  std::string_view user) override;
  void released(std::string_view room, uint64_t msg_id) override;

 private:
  friend class UploadReceiver;
  struct PerUser {
    chat::TokenBucket rate;
    std::size_t in_flight = 0;
  };

  std::optional<std::string> user_of(const http::Request& request) const;
  // The user's rate and the concurrency limits; the refusal, or "" when taken.
  std::string take_slot(const std::string& user);
  void give_back(const std::string& user, uint64_t reserved);
  SharedBytes cached(const store::StoredFile& file);

  const Config& config_;
  store::FileStore& files_;
  const chat::Identity& identity_;
  std::mutex mutex_;
  std::unordered_map<std::string, PerUser> users_;
  std::size_t in_flight_ = 0;
  // Files being served, shared by reference by every response (LRU by bytes).
  std::mutex cache_mutex_;
  std::list<std::pair<std::string, SharedBytes>> cache_;
  std::size_t cache_bytes_ = 0;
};

}  // namespace parley::app
