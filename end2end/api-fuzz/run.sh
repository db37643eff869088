#!/usr/bin/env bash
# Schemathesis over the running server: a demo server (the debug build) on a free loopback port,
# a staff API token with every scope, every check; settings and the documented exception are in
# schemathesis.toml. Schemathesis is installed from PyPI into target/schemathesis once.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
venv="$root/target/schemathesis"
if [ ! -x "$venv/bin/schemathesis" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check 'schemathesis==4.32.5'
fi
server="$root/target/debug/server"
data=$(mktemp -d)
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
LEPTOS_SITE_ROOT="$root/target/site" "$server" serve --demo --data-dir "$data" --listen "127.0.0.1:$port" \
  >"$data/server.log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$data"' EXIT
python3 - "$port" <<'PY'
import sys, time, urllib.request
for _ in range(240):
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/healthz", timeout=2)
        sys.exit(0)
    except Exception:
        time.sleep(0.5)
sys.exit("the demo server did not start")
PY
token=$("$server" token create --data-dir "$data" --username staff --label schemathesis \
  --scope log:read --scope review --scope build:write --scope export | awk 'END { print $NF }')
cd "$(dirname "$0")"
CLEARROOM_TOKEN="$token" timeout 600 "$venv/bin/schemathesis" --no-color run \
  "http://127.0.0.1:$port/api/v1/openapi.json" --header "Authorization: Bearer $token" --checks all
