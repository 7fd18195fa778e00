#!/usr/bin/env bash
# schemathesis against the server's own OpenAPI document: generated requests (valid and
# not) to every operation, each answer checked against the document (status, content
# type, body schema), no 5xx, schema-valid bodies accepted and invalid ones refused
# (tests/api/schemathesis.toml says where a rule across fields makes that impossible).
# schemathesis comes from PyPI at the version below, into target/api-fuzz-venv.
#
#   scripts/api-fuzz.sh [EXAMPLES]    (default 30 per operation; more for a long run)
set -euo pipefail
cd "$(dirname "$0")/.."
examples="${1:-30}"
venv=target/api-fuzz-venv
if [ ! -x "$venv/bin/st" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check "schemathesis==4.32.5"
fi
bin=./target/debug/kakehashi
[ -x "$bin" ] || cargo build --locked -q -p kakehashi --bin kakehashi
data="$(mktemp -d)"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
media="$(python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
KAKEHASHI_MEDIA_LISTEN="127.0.0.1:$media" KAKEHASHI_LOG=warn "$bin" serve --demo --data "$data" --listen "127.0.0.1:$port" 2>"$data/log" &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null; rm -rf "$data"' EXIT
base="http://127.0.0.1:$port"
# The demo directory's history takes a while to seed on a fresh machine's debug build.
for _ in $(seq 1 600); do curl -fs "$base/healthz" >/dev/null && break; sleep 0.1; done
curl -fs "$base/healthz" >/dev/null || { echo "the server did not answer /healthz within 60 s:"; cat "$data/log"; exit 1; }
token="$(curl -fs -X POST "$base/api/sign-in" -H 'content-type: application/json' \
  -d '{"role": "staff", "login": "admin", "password": "demo-admin"}' | python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])')"
# Signing out would end the run's own session; /ws is WebSocket (proto/, its own tests).
"$venv/bin/st" --config-file tests/api/schemathesis.toml run "$base/api/openapi.json" \
  -H "Authorization: Bearer $token" --exclude-path /api/sign-out --exclude-path /ws \
  --max-examples "$examples" --workers 1 --seed 1 --no-color
echo "schemathesis against the OpenAPI document: ok"
