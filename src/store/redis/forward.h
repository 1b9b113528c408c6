// Names of the Redis client's types, for headers that hold them by pointer or
// reference and need not include connection.h (as <iosfwd> does for streams).
#pragma once

namespace parley::redis {
class Connection;
class Script;
}  // namespace parley::redis
