#!/usr/bin/env bash
# Make sure Debian's Chromium is installed for the browser tests; install it with apt-get when we can.
set -euo pipefail
if [ -n "${CHROMIUM_PATH:-}" ] && [ -x "${CHROMIUM_PATH}" ]; then exit 0; fi
if command -v chromium >/dev/null 2>&1; then exit 0; fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing Debian's chromium for the browser tests..."
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  exit 0
fi
cat >&2 <<'MSG'
The end-to-end tests need Chromium, and it is not installed.
Install it with your package manager (Debian/Ubuntu: sudo apt-get install chromium),
or point CHROMIUM_PATH at a Chromium or Chrome binary, then run `make test` again.
MSG
exit 1
