// The files of web/, embedded at build time by cmake/embed.cmake.
#pragma once
#include <cstddef>

#include "http/static_files.h"

namespace parley::web {
extern const http::EmbeddedFile kFiles[];
extern const std::size_t kFileCount;
}  // namespace parley::web
