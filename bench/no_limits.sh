# Parley's rate and per-address limits, lifted for a load test: its clients
# all come from loopback and send as fast as they can, and the peers compared
# have no such limits (docs/SECURITY.md lists them). Sourced by compare.sh,
# cluster.sh and tls_compare.sh.
# shellcheck disable=SC2034  # used by the scripts that source this file
PARLEY_NO_LIMITS=(--rate 1000000000 --rate-burst 1000000000
  --max-connections 0 --max-connections-per-ip 0 --handshake-rate-per-ip 0 --rate-per-ip 0
  --byte-rate 0 --byte-rate-per-ip 0 --inflate-rate 0)
