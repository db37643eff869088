#!/usr/bin/env bash
# The load benchmark of issue 10: the release server against the shared 300 MB corpus, and cgit
# (with and without its page cache) on the same repository, driven by wrk at 16 connections.
#
#   bench/load.sh [CORPUS_DIR]          (default /tmp/corpus; built with ../shared/corpus/make-corpus.sh)
#   DURATION=20s CONNECTIONS=16 SKIP_CGIT=1 bench/load.sh
#   LOAD_WORK=DIR SERVER_BIN=PATH bench/load.sh   (keep the data directory; run another build)
#   ROUNDS=5 bench/load.sh              (rounds of the side-by-side run against cgit, at the end)
#
# It builds the release server, pins v1.0 and v2.0, waits for pre-highlighting (printing its time),
# then for each request kind prints req/s, p50/p99 latency and page bytes (as sent to a browser
# that accepts zstd/br/gzip, and uncompressed), the server's RSS, and checks that the audit log grew
# by exactly the number of requests served; at the end it alternates Clearroom and cgit on repo.rs
# and prints the ratio of their medians. Debian packages it needs (wrk, cgit, lighttpd,
# highlight) are installed with apt when missing. Nothing here is a test: it prints figures.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
CORPUS=${1:-/tmp/corpus}
DURATION=${DURATION:-20s}
CONNECTIONS=${CONNECTIONS:-16}
PORT=${PORT:-18080}
CGIT_PORT=${CGIT_PORT:-18081}
# LOAD_WORK=DIR keeps the data directory (and its pre-highlighted cache) for another run.
WORK=${LOAD_WORK:-$(mktemp -d /tmp/clearroom-load.XXXXXX)}
mkdir -p "$WORK"
BASE="http://127.0.0.1:$PORT"
ACCEPT="Accept-Encoding: gzip, deflate, br, zstd"

install_missing() {
    local missing=()
    command -v wrk >/dev/null || missing+=(wrk)
    if [ -z "${SKIP_CGIT:-}" ]; then
        [ -x /usr/lib/cgit/cgit.cgi ] || missing+=(cgit)
        command -v lighttpd >/dev/null || missing+=(lighttpd)
        command -v highlight >/dev/null || missing+=(highlight)
    fi
    if [ ${#missing[@]} -gt 0 ]; then
        echo "installing ${missing[*]} from Debian's packages"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >/dev/null
    fi
}

cleanup() {
    [ -n "${SERVER_PID:-}" ] && kill "$SERVER_PID" 2>/dev/null || true
    [ -n "${CGIT_PID:-}" ] && kill "$CGIT_PID" 2>/dev/null || true
    # A run stopped during the cold views puts the highlight cache it set aside back.
    if [ -d "$WORK/highlight.kept" ]; then
        wait "${SERVER_PID:-}" 2>/dev/null || true
        rm -rf "$WORK/data/highlight"
        mv -T "$WORK/highlight.kept" "$WORK/data/highlight"
    fi
    [ -n "${LOAD_WORK:-}" ] || rm -rf "$WORK"
}
trap cleanup EXIT
trap 'echo "bench/load.sh: line $LINENO failed: $BASH_COMMAND" >&2' ERR

install_missing
# SERVER_BIN=PATH runs a server binary built elsewhere (to compare two builds on one data directory).
if [ -n "${SERVER_BIN:-}" ]; then
    BIN=$SERVER_BIN
else
    (cd "$ROOT" && cargo xtask build --release >/dev/null)
    BIN="$ROOT/target/release/server"
fi
if [ ! -d "$CORPUS/corpus.git" ]; then
    bash "$ROOT/../shared/corpus/make-corpus.sh" "$CORPUS"
fi

export CLEARROOM_DATA_DIR="$WORK/data"
if [ ! -f "$WORK/ids" ]; then
    printf 'bench-operator-7f3a9c2e\n' | "$BIN" user add --username staff --role staff >/dev/null
    printf 'bench-reader-5b1d8e0a\n' | "$BIN" user add --username rev --role reviewer >/dev/null
    "$BIN" repo import corpus "$CORPUS/corpus.git" >/dev/null
    P1=$("$BIN" pin corpus v1.0 --label v1.0 | tail -1 | awk '{print $NF}')
    P2=$("$BIN" pin corpus v2.0 --label v2.0 | tail -1 | awk '{print $NF}')
    "$BIN" grant --username rev --pin "$P1" --pin "$P2" \
        --from "$(date -u -d '-1 minute' +%FT%TZ)" --until "$(date -u -d '+8 hours' +%FT%TZ)" >/dev/null
    TOKEN=$("$BIN" token create --username staff --scope ops:read --scope log:read --days 30 --label load.sh | tail -1 | awk '{print $NF}')
    echo "P1=$P1 P2=$P2 TOKEN=$TOKEN" >"$WORK/ids"
fi
eval "$(cat "$WORK/ids")"

# Starts the server (its log appended to server.log) and waits until it answers.
serve() {
    "$BIN" serve --listen "127.0.0.1:$PORT" --site-root "$ROOT/target/site" >>"$WORK/server.log" 2>&1 &
    SERVER_PID=$!
    until curl -sf "$BASE/healthz" >/dev/null; do sleep 0.2; done
}
# Requests/s from wrk's output.
rate() { awk '/Requests\/sec/ {print $2}'; }

: >"$WORK/server.log"
started=$(date +%s.%N)
serve

job_state() { # pin kind
    curl -s -H "Authorization: Bearer $TOKEN" "$BASE/api/v1/pins/$1/jobs" |
        python3 -c "import json,sys; print(next((j['state'] for j in json.load(sys.stdin) if j['kind']=='$2'), 'none'))"
}
for pin in "$P1" "$P2"; do
    while :; do
        state=$(job_state "$pin" pin.prehighlight)
        case "$state" in done) break ;; failed|cancelled) echo "pre-highlighting pin $pin: $state"; exit 1 ;; esac
        sleep 1
    done
    printf 'pre-highlighting done up to pin %s after %.0f s (from server start; indexing runs first)\n' \
        "$pin" "$(echo "$(date +%s.%N) - $started" | bc)"
done
grep -h "pre-highlighting finished" "$WORK/server.log" | sed 's/^.*INFO //' || true

# A reviewer's session, signed in as a browser does.
JAR="$WORK/cookies"
curl -s -c "$JAR" -b "$JAR" -o /dev/null "$BASE/login"
curl -s -c "$JAR" -b "$JAR" -o /dev/null -H "Origin: $BASE" \
    --data-urlencode username=rev --data-urlencode password=bench-reader-5b1d8e0a --data-urlencode next=/ "$BASE/login"
COOKIE="Cookie: clearroom_session=$(awk '$6 == "clearroom_session" {print $7}' "$JAR")"
if [ "$(curl -s -o /dev/null -w '%{http_code}' -H "$COOKIE" "$BASE/pins/$P2/tree/")" != 200 ]; then
    echo "bench/load.sh: the reviewer could not sign in" >&2
    exit 1
fi

log_size() {
    curl -s -H "Authorization: Bearer $TOKEN" "$BASE/api/v1/log/checkpoint?latest=1" | sed -n 2p
}
# Whether reading the log's size is itself recorded (the difference of two reads in a row).
probe_a=$(log_size)
probe_b=$(log_size)
SELF=$((probe_b - probe_a))
# Resident memory, and how much of it is the server's own (anonymous) and mapped files (git packs).
rss() { awk '/^VmRSS/ {r = $2} /^RssAnon/ {a = $2} /^RssFile/ {f = $2}
    END {printf "%d MB (anon %d, file %d)", r / 1024, a / 1024, f / 1024}' "/proc/$SERVER_PID/status"; }
peak() { awk '/^VmHWM/ {printf "%d MB", $2 / 1024}' "/proc/$SERVER_PID/status"; }

# The random mix: 1,000 text files of v2.0 (fixed seed).
git -C "$CORPUS/corpus.git" ls-tree -r --name-only v2.0 |
    python3 -c "
import random, sys, urllib.parse
paths = [l.rstrip('\n') for l in sys.stdin if l.strip()]
random.Random(10).shuffle(paths)
for p in paths[:1000]:
    print('/pins/$P2/blob/' + urllib.parse.quote(p))
" >"$WORK/mix.txt"
cat >"$WORK/mix.lua" <<LUA
local paths = {}
for line in io.lines("$WORK/mix.txt") do paths[#paths + 1] = line end
local n = 0
request = function()
    n = n + 1
    return wrk.format("GET", paths[(n * 7919) % #paths + 1])
end
LUA
LARGEST_DIR=$(git -C "$CORPUS/corpus.git" ls-tree -r -t v2.0 | awk '$2 == "tree" {print $4}' | while read -r d; do
    printf '%s %s\n' "$(git -C "$CORPUS/corpus.git" ls-tree "v2.0:$d" | wc -l)" "$d"; done | sort -rn | awk 'NR == 1 {print $2}')

run() { # name url [lua]
    local name=$1 url=$2 lua=${3:-}
    local before after out requests
    before=$(log_size)
    if [ -n "$lua" ]; then
        out=$(wrk -t2 -c"$CONNECTIONS" -d"$DURATION" --latency -H "$COOKIE" -H "$ACCEPT" -s "$lua" "$BASE")
    else
        out=$(wrk -t2 -c"$CONNECTIONS" -d"$DURATION" --latency -H "$COOKIE" -H "$ACCEPT" "$url")
    fi
    sleep 1
    after=$(log_size)
    requests=$(echo "$out" | awk '/requests in/ {print $1}')
    local wire plain
    if [ -z "$lua" ]; then
        wire=$(curl -s -o /dev/null -w '%{size_download}' -H "$COOKIE" -H "$ACCEPT" "$url")
        plain=$(curl -s -o /dev/null -w '%{size_download}' -H "$COOKIE" "$url")
    else
        wire=-
        plain=-
    fi
    local errors
    errors=$(echo "$out" | awk '/Non-2xx/ {print $NF}')
    printf '%-28s %8s req/s  p50 %8s  p99 %8s  wire %9s B  plain %9s B  RSS %s  log +%s for %s requests%s\n' \
        "$name" "$(echo "$out" | rate)" \
        "$(echo "$out" | awk '$1 == "50%" {print $2}')" "$(echo "$out" | awk '$1 == "99%" {print $2}')" \
        "$wire" "$plain" "$(rss)" "$((after - before - SELF))" "$requests" "${errors:+ ($errors non-2xx!)}"
    # (wrk stops with up to one request per connection in flight: served and recorded, not counted.)
}

echo
echo "Clearroom, release build, $CONNECTIONS connections, $DURATION each (log: events recorded during the run)"
REPO_RS="$BASE/pins/$P2/blob/vendor/git2-0.20.2/src/repo.rs"
SQLITE=$(git -C "$CORPUS/corpus.git" ls-tree -r --name-only v2.0 | grep '/sqlite3\.c$' | head -1)
run "repo.rs (warm)" "$REPO_RS"
run "sqlite3.c first window" "$BASE/pins/$P2/blob/$SQLITE"
run "largest dir ($LARGEST_DIR)" "$BASE/pins/$P2/tree/$LARGEST_DIR"
run "random mix of 1,000 files" "" "$WORK/mix.lua"
echo "first byte of sqlite3.c: $(curl -s -o /dev/null -w '%{time_starttransfer}' -H "$COOKIE" -H "$ACCEPT" "$BASE/pins/$P2/blob/$SQLITE") s"
echo "server RSS now $(rss), peak $(peak)"

# Exactly one event per request: a fixed number of requests, counted.
before=$(log_size)
seq 500 | xargs -P "$CONNECTIONS" -I{} curl -s -o /dev/null -H "$COOKIE" -H "$ACCEPT" "$REPO_RS"
after=$(log_size)
if [ $((after - before - SELF)) -eq 500 ]; then
    echo "audit: 500 views recorded 500 events"
else
    echo "audit: 500 views recorded $((after - before - SELF)) events: MISMATCH"
    exit 1
fi

# A restart: the first view of repo.rs is read from the disk cache.
kill "$SERVER_PID"
wait "$SERVER_PID" 2>/dev/null || true
serve
echo "first view of repo.rs after a restart: $(curl -s -o /dev/null -w '%{time_total}' -H "$COOKIE" -H "$ACCEPT" "$REPO_RS") s"

# Cold views: a fresh server with no file highlighted yet (as before pre-highlighting reaches it).
# The highlight cache is set aside for this and put back after.
kill "$SERVER_PID"
wait "$SERVER_PID" 2>/dev/null || true
mv -T "$CLEARROOM_DATA_DIR/highlight" "$WORK/highlight.kept"
serve
curl -s -o /dev/null -H "$COOKIE" -H "$ACCEPT" "$BASE/pins/$P2/blob/Cargo.toml"
for file in vendor/git2-0.20.2/src/repo.rs vendor/gimli-0.34.0/src/read/unit.rs; do
    printf 'cold view of %s (%s lines, not highlighted yet): %s s\n' "$file" \
        "$(git -C "$CORPUS/corpus.git" show "v2.0:$file" | wc -l)" \
        "$(curl -s -o /dev/null -w '%{time_total}' -H "$COOKIE" -H "$ACCEPT" "$BASE/pins/$P2/blob/$file")"
done
kill "$SERVER_PID"
wait "$SERVER_PID" 2>/dev/null || true
SERVER_PID=
rm -rf "$CLEARROOM_DATA_DIR/highlight"
mv -T "$WORK/highlight.kept" "$CLEARROOM_DATA_DIR/highlight"

if [ -n "${SKIP_CGIT:-}" ]; then exit 0; fi

# cgit on the same repository, through lighttpd's CGI, with highlight(1) as its source filter.
CGIT_URL="http://127.0.0.1:$CGIT_PORT/cgit.cgi/corpus/tree/vendor/git2-0.20.2/src/repo.rs?h=v2.0"
cgit_start() { # cache-size
    mkdir -p "$WORK/cgit-cache"
    cat >"$WORK/cgitrc" <<CGITRC
cache-root=$WORK/cgit-cache
cache-size=$1
css=/cgit.css
logo=
virtual-root=/cgit.cgi/
source-filter=/usr/lib/cgit/filters/syntax-highlighting.sh
repo.url=corpus
repo.path=$CORPUS/corpus.git
CGITRC
    cat >"$WORK/lighttpd.conf" <<CONF
server.modules = ("mod_cgi", "mod_setenv")
server.document-root = "/usr/lib/cgit"
server.bind = "127.0.0.1"
server.port = $CGIT_PORT
server.errorlog = "$WORK/lighttpd.log"
server.pid-file = "$WORK/lighttpd.pid"
cgi.assign = (".cgi" => "")
setenv.add-environment = ("CGIT_CONFIG" => "$WORK/cgitrc")
CONF
    lighttpd -D -f "$WORK/lighttpd.conf" &
    CGIT_PID=$!
    until curl -s -o /dev/null "http://127.0.0.1:$CGIT_PORT/cgit.cgi/"; do sleep 0.2; done
    curl -s -o /dev/null "$CGIT_URL"
}
cgit_stop() {
    kill "$CGIT_PID"
    wait "$CGIT_PID" 2>/dev/null || true
    CGIT_PID=
}
cgit_run() { # cache-size label
    cgit_start "$1"
    local out
    out=$(wrk -t2 -c"$CONNECTIONS" -d"$DURATION" --latency "$CGIT_URL")
    printf '%-28s %8s req/s  p50 %8s  p99 %8s  wire %9s B\n' "cgit repo.rs ($2)" \
        "$(echo "$out" | rate)" \
        "$(echo "$out" | awk '$1 == "50%" {print $2}')" "$(echo "$out" | awk '$1 == "99%" {print $2}')" \
        "$(curl -s -o /dev/null -w '%{size_download}' -H "$ACCEPT" "$CGIT_URL")"
    cgit_stop
}
echo
cgit_run 1000 "page cache on"
cgit_run 0 "page cache off"

# Side by side: Clearroom's warm repo.rs and cgit's with its page cache, alternated round by round
# in one stretch of time, so that a change in the machine's speed (seen between runs on shared
# machines) touches both alike. The goal's ratio is the ratio of the two medians.
ROUNDS=${ROUNDS:-5}
echo
echo "side by side, $ROUNDS rounds of $DURATION each, alternated: warm repo.rs, Clearroom against cgit (page cache on)"
serve
curl -s -o /dev/null -H "$COOKIE" -H "$ACCEPT" "$REPO_RS"
cgit_start 1000
ours=() theirs=()
for round in $(seq "$ROUNDS"); do
    ours+=("$(wrk -t2 -c"$CONNECTIONS" -d"$DURATION" -H "$COOKIE" -H "$ACCEPT" "$REPO_RS" | rate)")
    theirs+=("$(wrk -t2 -c"$CONNECTIONS" -d"$DURATION" "$CGIT_URL" | rate)")
    printf 'round %s: Clearroom %8s req/s, cgit %8s req/s, ratio %s\n' "$round" "${ours[-1]}" "${theirs[-1]}" \
        "$(echo "scale=2; ${ours[-1]} / ${theirs[-1]}" | bc)"
done
cgit_stop
median() { printf '%s\n' "$@" | sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
m_ours=$(median "${ours[@]}")
m_theirs=$(median "${theirs[@]}")
printf 'medians: Clearroom %s req/s, cgit %s req/s: Clearroom serves %s times as many (goal: 2)\n' \
    "$m_ours" "$m_theirs" "$(echo "scale=2; $m_ours / $m_theirs" | bc)"
