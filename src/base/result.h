// One way to report a failure, in every layer: a function that can fail
// returns Result<T> (a T, or an Error), or Status (nothing, or an Error).
//
// Shaped after std::expected (C++23), which our C++20 toolchain lacks:
// has_value()/operator bool, value()/operator*/operator->, error(). An Error
// carries a kind a caller can switch on (say, Unavailable -> try again later)
// and a message written for the log, never for program logic.
//
// Errors do not cross the data path as exceptions: exceptions are reserved
// for bugs and for start-up configuration that cannot continue.
#pragma once

#include <cassert>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>

namespace parley {

enum class Errc : unsigned char {
  Io,           // a system call failed (`sys_errno` says which way)
  Closed,       // the peer or the object is gone; nothing more will happen
  Unavailable,  // a dependency (disk, store, network service) cannot serve now; retry later
  Overloaded,   // a queue or budget is full; retry later, more slowly
  Invalid,      // bad input or configuration: retrying the same thing fails again
  NotFound,     // what was asked for does not exist
  Corrupt,      // data on disk or on the wire is not what it must be
  Internal,     // a bug or an unexpected library failure
};

std::string_view errc_name(Errc code);

struct Error {
  Errc code = Errc::Internal;
  std::string message;
  int sys_errno = 0;  // for Errc::Io, the errno of the failed call
  // A finer kind owned by the layer that raised the error, for callers that
  // must tell its failures apart (auth::Rejection is one); 0 when there is none.
  unsigned char detail = 0;

  Error() = default;
  Error(Errc c, std::string m, int e = 0) : code(c), message(std::move(m)), sys_errno(e) {}
  // "what failed: strerror(errno)" for a failed system call.
  static Error from_errno(std::string_view what, int err);
};

template <class T>
class [[nodiscard]] Result {
  static_assert(!std::is_same_v<std::remove_cv_t<T>, Error>, "Result<Error> is ambiguous");

 public:
  // Implicit on purpose: `return value;` and `return Error{...};` both read naturally.
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}      // NOLINT
  Result(Error error) : v_(std::in_place_index<1>, std::move(error)) {}  // NOLINT

  bool has_value() const { return v_.index() == 0; }
  explicit operator bool() const { return has_value(); }

  T& value() & {
    assert(has_value());
    return std::get<0>(v_);
  }
  const T& value() const& {
    assert(has_value());
    return std::get<0>(v_);
  }
  T&& value() && {
    assert(has_value());
    return std::get<0>(std::move(v_));
  }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const Error& error() const& {
    assert(!has_value());
    return std::get<1>(v_);
  }
  Error&& error() && {
    assert(!has_value());
    return std::get<1>(std::move(v_));
  }

 private:
  std::variant<T, Error> v_;
};

// Success or an Error, for operations that produce nothing.
class [[nodiscard]] Status {
 public:
  Status() = default;                                            // success
  Status(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT: implicit on purpose

  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const {
    assert(!ok_);
    return error_;
  }

 private:
  Error error_;
  bool ok_ = true;
};

}  // namespace parley
