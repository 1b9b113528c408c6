// What the bench reads about the server process (through /proc) and itself.
//
// Server CPU time is what makes a figure fair on a machine the load generator
// shares: deliveries per server CPU-second does not change when the bench
// steals cycles, while deliveries per wall-clock second does.
#pragma once

#include <sys/types.h>
#include <optional>

namespace parley::bench {

// utime + stime of `pid` in seconds (fields 14 and 15 of /proc/PID/stat, in
// clock ticks); nullopt if the process cannot be read.
std::optional<double> process_cpu_seconds(pid_t pid);

// Resident set size of `pid` in bytes (VmRSS of /proc/PID/status).
std::optional<long> process_rss_bytes(pid_t pid);

// This process's user + system CPU time, all threads (getrusage).
double self_cpu_seconds();

// This process's own resident set size in bytes.
long self_rss_bytes();

}  // namespace parley::bench
