#include "app/uploads.h"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <fstream>

#include <spdlog/spdlog.h>

#include "auth/jwt_verifier.h"
#include "http/content_sniff.h"
#include "http/response.h"

namespace parley::app {
namespace {

constexpr std::size_t kCacheBytes = 64 << 20;  // files kept in memory for serving
constexpr std::size_t kSlotsPerUser = 2;       // uploads one user may run at once

std::string hex(const unsigned char* bytes, std::size_t n) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(n * 2);
  for (std::size_t i = 0; i < n; ++i) {
    out += kHex[bytes[i] >> 4];
    out += kHex[bytes[i] & 15];
  }
  return out;
}

std::string refusal(int status, std::string_view message, std::vector<http::Header> extra = {}) {
  http::Response r = http::make_error_response(status, message);
  for (auto& h : extra) r.headers.push_back(std::move(h));
  return http::serialize(r);
}

bool is_image(std::string_view type) {
  return type.starts_with("image/");
}

std::string_view extension_of(std::string_view type) {
  if (type == "image/png") return ".png";
  if (type == "image/jpeg") return ".jpg";
  if (type == "image/gif") return ".gif";
  if (type == "image/webp") return ".webp";
  if (type == "application/pdf") return ".pdf";
  if (type.starts_with("text/plain")) return ".txt";
  return ".bin";
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// The `name` parameter of a query string, percent-decoded ("" when absent or malformed).
std::string name_parameter(std::string_view target) {
  std::size_t q = target.find('?');
  if (q == std::string_view::npos) return {};
  std::string_view query = target.substr(q + 1);
  std::size_t at = query.starts_with("name=") ? 0 : query.find("&name=");
  if (at == std::string_view::npos) return {};
  query = query.substr(query.find('=', at) + 1);
  query = query.substr(0, query.find('&'));
  std::string out;
  for (std::size_t i = 0; i < query.size(); ++i) {
    if (query[i] != '%') {
      out += query[i];
      continue;
    }
    if (i + 2 >= query.size()) return {};
    int hi = hex_digit(query[i + 1]), lo = hex_digit(query[i + 2]);
    if (hi < 0 || lo < 0) return {};
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return out;
}

// RFC 6266: an ASCII fallback, and the name itself in RFC 8187 encoding.
std::string disposition(std::string_view type, std::string_view id, std::string_view target) {
  if (is_image(type)) return "inline";
  std::string name = name_parameter(target);
  if (!chat::check_file_name(name)) {
    name = std::string(id.substr(0, 12)) + std::string(extension_of(type));
  }
  std::string ascii, encoded;
  static constexpr char kHex[] = "0123456789ABCDEF";
  for (unsigned char c : name) {
    // The fallback: one `_` per character that is not plain ASCII.
    bool plain = c < 0x80 && c > 0x20 && c != '"' && c != '\\' && c != '%' && c != ';';
    if ((c & 0xc0) != 0x80) ascii += plain ? static_cast<char>(c) : '_';
    if (std::isalnum(c) ||
        std::string_view("!#$&+-.^_`|~").find(static_cast<char>(c)) != std::string_view::npos) {
      encoded += static_cast<char>(c);
    } else {
      encoded += '%';
      encoded += kHex[c >> 4];
      encoded += kHex[c & 15];
    }
  }
  return "attachment; filename=\"" + ascii + "\"; filename*=UTF-8''" + encoded;
}

}  // namespace

void TextCheck::feed(std::string_view bytes) {
  if (!ok_) return;
  ok_ = std::none_of(bytes.begin(), bytes.end(), [](char ch) {
    const auto c = static_cast<unsigned char>(ch);
    return (c < 0x20 && c != '\t' && c != '\n' && c != '\f' && c != '\r') || c == 0x7f;
  });
  if (ok_) ok_ = utf8_.feed(bytes);
}

// ---- Receiving one upload ----

UploadReceiver::UploadReceiver(Uploads& uploads, std::string user, uint64_t size,
                               std::pair<std::filesystem::path, int> temp)
    : uploads_(uploads),
      user_(std::move(user)),
      size_(size),
      temp_(std::move(temp.first)),
      fd_(temp.second),
      sha_(EVP_MD_CTX_new()) {
  if (sha_ != nullptr) EVP_DigestInit_ex(sha_, EVP_sha256(), nullptr);
}

UploadReceiver::~UploadReceiver() {
  if (fd_ >= 0) ::close(fd_);
  if (!done_) {
    std::error_code ec;
    std::filesystem::remove(temp_, ec);
  }
  EVP_MD_CTX_free(sha_);
  uploads_.give_back(user_, done_ ? 0 : size_);
}

Status UploadReceiver::feed(std::string_view bytes) {
  if (sha_ == nullptr) return Error{Errc::Internal, "no SHA-256 context"};
  EVP_DigestUpdate(sha_, bytes.data(), bytes.size());
  text_.feed(bytes);
  if (head_.size() < http::kSniffBytes) {
    head_.append(bytes.substr(0, http::kSniffBytes - head_.size()));
  }
  received_ += bytes.size();
  while (!bytes.empty()) {
    ssize_t n = ::write(fd_, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Error::from_errno("cannot write an upload", errno);
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return {};
}

std::string UploadReceiver::finish(bool close) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_DigestFinal_ex(sha_, digest, &length);
  // Durable before it is announced: the 201 promises the file is stored.
  if (::fdatasync(fd_) != 0 || ::close(fd_) != 0) {
    fd_ = -1;
    return refusal(500, "the file could not be stored");
  }
  fd_ = -1;
  http::Sniffed kind = http::sniff(head_, text_.text());
  store::StoredFile file{hex(digest, length), size_, std::string(kind.type), kind.width,
                         kind.height};
  Result<store::StoredFile> stored = uploads_.files_.commit(temp_, file, user_, size_);
  done_ = true;  // the store took the temporary file and the reservation
  if (!stored) {
    spdlog::warn("upload: {}", stored.error().message);
    return refusal(500, "the file could not be stored");
  }
  const store::StoredFile& f = *stored;
  std::string body = "{\"file\":\"" + f.id + "\",\"size\":" + std::to_string(f.size) +
                     ",\"type\":\"" + f.type + "\"";
  if (f.width != 0) {
    body += ",\"width\":" + std::to_string(f.width) + ",\"height\":" + std::to_string(f.height);
  }
  body += "}\n";
  http::Response r;
  r.status = 201;
  r.headers = {{"Content-Type", "application/json"},
               {"Location", "/files/" + f.id},
               {"Cache-Control", "no-store"},
               {"X-Content-Type-Options", "nosniff"}};
  if (close) r.headers.push_back({"Connection", "close"});
  r.body = std::move(body);
  return http::serialize(r);
}

// ---- The service ----

Uploads::Uploads(const Config& config, store::FileStore& files, const chat::Identity& identity)
    : config_(config), files_(files), identity_(identity) {}

std::optional<std::string> Uploads::user_of(const http::Request& request) const {
  std::optional<std::string_view> auth = request.header("Authorization");
  if (!auth || auth->size() < 7 || !http::iequals(auth->substr(0, 7), "Bearer ")) {
    return std::nullopt;
  }
  std::string_view token = auth->substr(7);
  if (config_.jwt) {
    Result<auth::Claims> claims = config_.jwt->verify(token, auth::Clock::now());
    if (!claims) return std::nullopt;
    return claims->subject;
  }
  return identity_.verify(token);
}

std::string Uploads::take_slot(const std::string& user) {
  std::lock_guard lock(mutex_);
  if (in_flight_ >= config_.upload_concurrency) {
    return refusal(503, "too many uploads at once; retry shortly", {{"Retry-After", "5"}});
  }
  auto [it, _] = users_.try_emplace(
      user, PerUser{chat::TokenBucket(config_.upload_rate / 60.0, config_.upload_burst), 0});
  if (it->second.in_flight >= kSlotsPerUser) {
    return refusal(429, "this user is uploading already", {{"Retry-After", "5"}});
  }
  if (!it->second.rate.take(chat::TokenBucket::Clock::now())) {
    return refusal(429, "too many uploads; slow down", {{"Retry-After", "60"}});
  }
  ++it->second.in_flight;
  ++in_flight_;
  return {};
}

void Uploads::give_back(const std::string& user, uint64_t reserved) {
  if (reserved > 0) files_.unreserve(reserved);
  std::lock_guard lock(mutex_);
  --in_flight_;
  auto it = users_.find(user);
  if (it != users_.end() && it->second.in_flight > 0) --it->second.in_flight;
  // Users with nothing in flight and a full bucket need no entry; the map
  // is cleared of them whenever it grows large, so it stays bounded.
  if (users_.size() > 10000) {
    std::erase_if(users_, [](const auto& u) { return u.second.in_flight == 0; });
  }
}

Uploads::Start Uploads::begin(const http::Request& request, uint64_t content_length, bool chunked) {
  std::optional<std::string> user = user_of(request);
  if (!user) {
    return {nullptr, refusal(401, "an upload needs `Authorization: Bearer <token>`",
                             {{"WWW-Authenticate", "Bearer"}})};
  }
  if (chunked) return {nullptr, refusal(411, "an upload needs a Content-Length")};
  if (content_length > config_.max_upload_bytes) {
    return {nullptr, refusal(413, "the file is larger than " +
                                      std::to_string(config_.max_upload_bytes) + " bytes")};
  }
  if (content_length == 0) return {nullptr, refusal(400, "the file is empty")};
  if (std::string refused = take_slot(*user); !refused.empty()) return {nullptr, refused};
  if (!files_.reserve(content_length)) {
    give_back(*user, 0);
    return {nullptr, refusal(507, "the server's storage for files is full")};
  }
  Result<std::pair<std::filesystem::path, int>> temp = files_.create_temp();
  if (!temp) {
    spdlog::warn("upload: {}", temp.error().message);
    give_back(*user, content_length);
    return {nullptr, refusal(500, "the file could not be stored")};
  }
  return {std::make_unique<UploadReceiver>(*this, *user, content_length, *std::move(temp)), {}};
}

// ---- Serving ----

SharedBytes Uploads::cached(const store::StoredFile& file) {
  {
    std::lock_guard lock(cache_mutex_);
    for (auto it = cache_.begin(); it != cache_.end(); ++it) {
      if (it->first != file.id) continue;
      cache_.splice(cache_.begin(), cache_, it);
      return it->second;
    }
  }
  std::ifstream in(files_.path_of(file.id), std::ios::binary);
  std::string bytes(file.size, '\0');
  if (!in.read(bytes.data(), static_cast<std::streamsize>(bytes.size()))) return nullptr;
  SharedBytes shared = make_shared_bytes(std::move(bytes));
  std::lock_guard lock(cache_mutex_);
  cache_.emplace_front(file.id, shared);
  cache_bytes_ += file.size;
  while (cache_bytes_ > kCacheBytes && cache_.size() > 1) {
    cache_bytes_ -= cache_.back().second->size();
    cache_.pop_back();
  }
  return shared;
}

http::StaticFiles::Parts Uploads::serve(const http::Request& request, bool close) {
  std::string_view id = request.path().substr(std::string_view("/files/").size());
  std::optional<store::StoredFile> file;
  if (chat::is_file_id(id)) file = files_.find(id);
  SharedBytes body = file ? cached(*file) : nullptr;
  if (!body) return {http::error_response(404, "no such file", !close), nullptr};
  const std::string etag = "\"" + file->id + "\"";
  std::vector<http::Header> headers = {
      {"Content-Type", file->type},
      {"Content-Disposition", disposition(file->type, file->id, request.target)},
      {"X-Content-Type-Options", "nosniff"},
      {"Content-Security-Policy", "default-src 'none'; sandbox"},
      // Content-addressed: the bytes at this URL never change.
      {"Cache-Control", "public, max-age=31536000, immutable"},
      {"ETag", etag}};
  if (close) headers.push_back({"Connection", "close"});
  std::string head;
  if (request.header("If-None-Match") == std::optional<std::string_view>(etag)) {
    http::append_head(head, 304, headers, 0);
    return {std::move(head), nullptr};
  }
  http::append_head(head, 200, headers, body->size());
  if (request.method == "HEAD") return {std::move(head), nullptr};
  return {std::move(head), std::move(body)};
}

// ---- chat::Attachments ----

Result<chat::Attachment> Uploads::claim(std::string_view user, std::string_view file) {
  Result<store::StoredFile> f = files_.claim(user, file);
  if (!f) return std::move(f).error();
  return chat::Attachment{f->id, {}, f->size, f->type, f->width, f->height};
}

void Uploads::referenced(std::string_view room, uint64_t msg_id, std::string_view file,
                         std::string_view user) {
  files_.referenced(room, msg_id, file, user);
}

void Uploads::released(std::string_view room, uint64_t msg_id) {
  files_.released(room, msg_id);
}

}  // namespace parley::app
