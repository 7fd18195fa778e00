#!/usr/bin/env bash
# Install Janus (Debian's package janus 1.1.2) when it is missing, and start it with the
# benchmark's configuration (loadtest/janus/) on loopback.
#
#   scripts/janus.sh install          install only
#   scripts/janus.sh start [PORT]     start in the foreground, WebSocket API on PORT
#                                      (default 8188); the process becomes Janus itself
#
# kakehashi-load runs `scripts/janus.sh start PORT` for `media --janus`.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"

install() {
  if ! command -v janus >/dev/null 2>&1; then
    echo "installing janus" >&2
    apt-get update -q >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends janus >&2
  fi
}

case "${1:-start}" in
  install)
    install
    ;;
  start)
    install
    port="${2:-8188}"
    conf="$(mktemp -d /tmp/kakehashi-janus.XXXXXX)"
    cp "$here"/loadtest/janus/janus.jcfg "$here"/loadtest/janus/janus.plugin.videoroom.jcfg \
      "$here"/loadtest/janus/janus.plugin.audiobridge.jcfg "$conf"/
    sed "s/@PORT@/$port/" "$here"/loadtest/janus/janus.transport.websockets.jcfg.in >"$conf"/janus.transport.websockets.jcfg
    log="${JANUS_LOG:-$conf/janus.log}"
    exec janus --configs-folder="$conf" --log-file="$log" --disable-colors --disable-stdout
    ;;
  *)
    echo "usage: scripts/janus.sh install | start [PORT]" >&2
    exit 2
    ;;
esac
