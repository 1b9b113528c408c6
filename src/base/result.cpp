#include "base/result.h"

#include <cstring>

namespace parley {

std::string_view errc_name(Errc code) {
  switch (code) {
    case Errc::Io:
      return "io";
    case Errc::Closed:
      return "closed";
    case Errc::Unavailable:
      return "unavailable";
    case Errc::Overloaded:
      return "overloaded";
    case Errc::Invalid:
      return "invalid";
    case Errc::NotFound:
      return "not_found";
    case Errc::Corrupt:
      return "corrupt";
    case Errc::Internal:
      return "internal";
  }
  return "internal";
}

Error Error::from_errno(std::string_view what, int err) {
  return Error(Errc::Io, std::string(what) + ": " + std::strerror(err), err);
}

}  // namespace parley
