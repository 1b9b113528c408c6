// The operational endpoints: GET /healthz and GET /metrics (Prometheus text
// format, the per-loop counters summed).
#pragma once

#include <string>

namespace parley::app {

struct SharedServices;

// `head_only`: a HEAD request; `close`: the response ends the connection.
std::string health_response(bool head_only, bool close);
std::string metrics_response(const SharedServices& services, bool head_only, bool close);

}  // namespace parley::app
