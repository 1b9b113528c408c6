// The operational endpoints: GET /healthz and GET /metrics (Prometheus text
// format, the per-loop counters summed).
#pragma once

#include <string>

namespace parley::app {

struct SharedServices;

// `head_only`: a HEAD request; `close`: the response ends the connection.
// 200 {"status":"ok"}, or 503 {"status":"unavailable","reason":...} while the history cannot
// serve (a store write failed, its files were removed or replaced).
std::string health_response(const SharedServices& services, bool head_only, bool close);
std::string metrics_response(const SharedServices& services, bool head_only, bool close);

}  // namespace parley::app
