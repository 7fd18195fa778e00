#!/usr/bin/env bash
# The Debian packages building and testing kakehashi need, installed when missing (CI and
# scripts/test.sh run this first; so can a developer's machine).
#
# To build: libopus-dev and pkg-config (the phone bridge's Opus, through audiopus).
# To test: promtool (from prometheus) checks /metrics; chromium runs the web clients
# (tests/browser), with Noto fonts so every language's script renders in the
# screenshots; janus is the load tool's peer for the side-by-side media run; sip-tester
# (SIPp) plays trunks and phones against the phone bridge, and baresip-core is an
# independent softphone calling it; python3-openpyxl is an independent reader of the
# Excel reports; redis-server holds cluster mode's writer lease in its tests and postgresql
# is the store the server tests run on a second time (ADR 0020); python3-yaml reads the
# deployment files in their test.
# The tests start and stop what they need on loopback.
set -euo pipefail
packages=(libopus-dev pkg-config prometheus chromium fonts-noto-core fonts-noto-cjk janus sip-tester baresip-core python3-openpyxl redis-server postgresql python3-yaml)
missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "installing: ${missing[*]}"
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
