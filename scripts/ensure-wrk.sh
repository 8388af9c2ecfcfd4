#!/usr/bin/env bash
# Make sure Debian's wrk (the HTTP load generator of the throughput benchmark) is installed; install it when we can.
set -euo pipefail
if command -v wrk >/dev/null 2>&1; then exit 0; fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing Debian's wrk for the throughput benchmark..."
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
  exit 0
fi
cat >&2 <<'MSG'
The throughput benchmark needs wrk, and it is not installed.
Install it with your package manager (Debian/Ubuntu: sudo apt-get install wrk), then run `make throughput` again.
MSG
exit 1
