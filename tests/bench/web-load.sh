#!/usr/bin/env bash
# Load figures for `paperpost serve` — a bench, not a test (CI does not run it).
#
#   tests/bench/web-load.sh            # DURATION=15 THREADS=2 CONNECTIONS=32 by default
#
# Builds the release binary, starts `paperpost serve` on a free loopback port with a temporary
# store and the file transport (confirmation mails become .eml files in the temp folder), and
# drives it with wrk (installed from apt when missing):
#   1. POST /subscribe, a new address per request (tests/bench/subscribe.lua), with
#      max_subscribes_per_ip_per_hour raised so the per-IP limiter lets one client's load in;
#   2. the RFC 8058 one-click POST /unsubscribe/{token} over subscribers created beforehand
#      with `paperpost subscribers import` (tests/bench/unsubscribe.lua);
#   3. a short POST /subscribe pass against a fresh server with the default limits, to show
#      that they hold (every post answered alike, only the first 20 create anything).
# Then it checks that nothing was lost: the store's rows against what wrk got answered, the
# confirmation .eml files against the rows. It talks to 127.0.0.1 only, every run is bounded
# by DURATION, and each server is stopped by its PID (also on failure).
set -euo pipefail
cd "$(dirname "$0")/../.."

DURATION=${DURATION:-15}
THREADS=${THREADS:-2}
CONNECTIONS=${CONNECTIONS:-32}
# More subscribers than the unsubscribe run can reach, so every request unsubscribes
# someone new (a repeat only reads; repeats are counted).
UNSUB_SUBSCRIBERS=${UNSUB_SUBSCRIBERS:-200000}
HIGH_LIMIT=100000000
DEFAULT_PASS_SECS=5

target=${CARGO_TARGET_DIR:-target}
echo "building the release binary…" >&2
cargo build --release --locked --quiet
bin="$target/release/paperpost"

if ! command -v wrk >/dev/null; then
  echo "installing wrk (apt)…" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq wrk >/dev/null
fi

work=$(mktemp -d)
server_pid=""
stop_server() {
  if [ -n "$server_pid" ]; then
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    server_pid=""
  fi
}
cleanup() {
  stop_server
  if [ "${KEEP:-0}" = 1 ]; then echo "kept $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT

fail() {
  echo "FAILED: $*" >&2
  exit 1
}

# config DIR [WEB_EXTRA]: a config with its store and outbox in DIR.
config() {
  mkdir -p "$1/outbox"
  cat >"$1/config.toml" <<EOF
[newsletter]
base_url = "http://127.0.0.1:8080/"
from = "paperpost <digest@paperpost.invalid>"

[store]
path = "pp.sqlite3"

[delivery]
transport = "file"
outbox = "outbox"

[web]
bind = "127.0.0.1:0"
# wrk's connections all come from one address: no per-IP connection cap for the run.
max_connections_per_ip = 0
${2:-}
EOF
}

# start DIR: serve on a free port; sets $port and $server_pid.
start() {
  RUST_LOG=paperpost=info "$bin" --config "$1/config.toml" serve --bind 127.0.0.1:0 \
    >"$1/serve.log" 2>&1 &
  server_pid=$!
  port=""
  for _ in $(seq 1 100); do
    port=$(sed -n 's|^listening on http://127\.0\.0\.1:\([0-9]*\)/.*|\1|p' "$1/serve.log")
    [ -n "$port" ] && break
    kill -0 "$server_pid" 2>/dev/null || fail "serve exited: $(cat "$1/serve.log")"
    sleep 0.1
  done
  [ -n "$port" ] || fail "serve did not start: $(cat "$1/serve.log")"
  python3 - "$port" <<'EOF' || fail "/healthz did not answer"
import sys, time, urllib.request
for _ in range(100):
    try:
        if urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/healthz", timeout=2).status == 200:
            sys.exit(0)
    except OSError:
        time.sleep(0.1)
sys.exit(1)
EOF
}

# field NAME LINE: the value of NAME=… in a RESULT line.
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<" $2"; }

# load LUA SECONDS -- ARGS…: runs wrk and prints its report; sets $result to the RESULT line.
load() {
  local script=$1 secs=$2
  shift 3
  wrk -t"$THREADS" -c"$CONNECTIONS" -d"${secs}s" --timeout 10s --latency -s "$script" \
    "http://127.0.0.1:$port" -- "$@" | tee "$work/wrk.out"
  result=$(grep '^RESULT ' "$work/wrk.out") || fail "wrk printed no RESULT line"
  [ "$(field socket_errors "$result")" = 0 ] || fail "socket errors: $result"
}

sql() { python3 -c 'import sqlite3, sys; print(*sqlite3.connect(sys.argv[1]).execute(sys.argv[2]).fetchone())' "$@"; }

# --- 1 + 2: raised per-IP limit ---------------------------------------------------------
high="$work/high"
config "$high" "max_subscribes_per_ip_per_hour = $HIGH_LIMIT"
echo "creating $UNSUB_SUBSCRIBERS active subscribers with paperpost subscribers import…" >&2
python3 - "$high/import.csv" "$UNSUB_SUBSCRIBERS" <<'EOF'
import sys
with open(sys.argv[1], "w") as f:
    f.write("email,name,topics,status,frequency\n")
    for i in range(int(sys.argv[2])):
        f.write(f"unsub-{i}@example.org,,diffusion,active,weekly\n")
EOF
"$bin" --config "$high/config.toml" subscribers import "$high/import.csv" >&2
# The readers' managing tokens, made as paperpost makes them (security/reader_tokens.rs:
# HMAC-SHA256 under the server's key of length-prefixed fields, the first 128 bits in hex);
# `subscribers show --links` prints one reader's, and makes the key if there is none yet.
"$bin" --config "$high/config.toml" subscribers show unsub-0@example.org --links >/dev/null
python3 - "$high/pp.sqlite3" "$high/tokens" <<'EOF'
import hashlib, hmac, os, sqlite3, struct, sys
db = sqlite3.connect(sys.argv[1])
key = os.environ.get("PAPERPOST_SECRET", "").encode() or bytes.fromhex(
    db.execute("SELECT value FROM meta WHERE key = 'web_secret'").fetchone()[0])
field = lambda b: struct.pack(">Q", len(b)) + b
rows = db.execute(
    "SELECT id, coalesce(token_salt, ''), manage_generation, email FROM subscribers"
    " WHERE email LIKE 'unsub-%' ORDER BY id")
with open(sys.argv[2], "w") as t, open(sys.argv[2] + ".emails", "w") as e:
    for id, salt, gen, email in rows:
        parts = [b"reader-token", b"manage", struct.pack(">q", id), salt.encode(), struct.pack(">q", gen)]
        mac = hmac.new(key, b"".join(map(field, parts)), hashlib.sha256).hexdigest()[:32]
        t.write(f"{id}.{gen}.{mac}\n")
        e.write(email + "\n")
EOF

load_before=$(cut -d' ' -f1 /proc/loadavg)
start "$high"
echo
echo "== POST /subscribe: ${THREADS} threads, ${CONNECTIONS} connections, ${DURATION} s (per-IP limit raised to $HIGH_LIMIT/h) =="
load tests/bench/subscribe.lua "$DURATION" -- high
sub=$result

echo
echo "== POST /unsubscribe/{token} one-click: ${THREADS} threads, ${CONNECTIONS} connections, ${DURATION} s =="
load tests/bench/unsubscribe.lua "$DURATION" -- "$high/tokens" "$THREADS"
unsub=$result
stop_server # graceful: waits for confirmation mails still being written

# Subscribe: every answered post has its pending row, every row its confirmation mail. Posts
# still in flight when wrk stopped (sent − ok) may or may not have been stored.
sub_ok=$(field ok "$sub")
sub_sent=$(field sent "$sub")
rows=$(sql "$high/pp.sqlite3" "SELECT COUNT(*) FROM subscribers WHERE email LIKE 'bench-%'")
pending=$(sql "$high/pp.sqlite3" "SELECT COUNT(*) FROM subscribers WHERE email LIKE 'bench-%' AND status = 'pending'")
distinct=$(sql "$high/pp.sqlite3" "SELECT COUNT(DISTINCT lower(email)) FROM subscribers WHERE email LIKE 'bench-%'")
confirmations=$(sql "$high/pp.sqlite3" "SELECT COUNT(DISTINCT c.subscriber_id) FROM confirmations c JOIN subscribers s ON s.id = c.subscriber_id WHERE s.email LIKE 'bench-%'")
mails=$(find "$high/outbox" -name '*.eml' | wc -l)
[ "$(field non2xx "$sub")" = 0 ] || fail "non-2xx answers to /subscribe: $sub"
[ "$pending" = "$rows" ] && [ "$distinct" = "$rows" ] || fail "rows $rows, pending $pending, distinct $distinct"
[ "$sub_ok" -le "$rows" ] && [ "$rows" -le "$sub_sent" ] \
  || fail "$sub_ok answered posts but $rows rows (sent $sub_sent)"
[ "$confirmations" = "$rows" ] || fail "$rows pending rows but $confirmations with a confirmation"
[ "$mails" = "$rows" ] || fail "$rows pending rows but $mails confirmation mails in the outbox"

# Unsubscribe: every answered one-click names an address that is now unsubscribed; nobody
# outside the requested tokens is; repeats (a thread starting its list over) are counted.
[ "$(field non2xx "$unsub")" = 0 ] || fail "non-2xx answers to the one-click POST: $unsub"
unsub_check=$(python3 - "$high/pp.sqlite3" "$high/tokens" "$(field sent_per_thread "$unsub")" "$THREADS" <<'EOF'
import sqlite3, sys
db, tokens, per_thread, nthreads = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
emails = open(tokens + ".emails").read().split()
acked = open(tokens + ".acked").read().split()
targeted = set()
for k, sent in enumerate(map(int, per_thread.split(","))):
    mine = emails[k::nthreads]
    targeted.update(mine[:min(sent, len(mine))])
status = dict(sqlite3.connect(db).execute(
    "SELECT email, status FROM subscribers WHERE email LIKE 'unsub-%'"))
unsubscribed = {e for e, s in status.items() if s == "unsubscribed"}
acked_not_unsubscribed = [e for e in set(acked) if status.get(e) != "unsubscribed"]
outside = unsubscribed - targeted
print(len(set(acked)), len(targeted), len(unsubscribed), len(acked_not_unsubscribed), len(outside))
EOF
)
read -r acked targeted unsubscribed acked_missing outside <<<"$unsub_check"
[ "$acked_missing" = 0 ] || fail "$acked_missing answered one-clicks whose subscriber is not unsubscribed"
[ "$outside" = 0 ] || fail "$outside subscribers unsubscribed that no request named"
[ "$acked" -le "$unsubscribed" ] && [ "$unsubscribed" -le "$targeted" ] \
  || fail "answered $acked, unsubscribed $unsubscribed, targeted $targeted"
unsub_repeats=$(( $(field sent "$unsub") - targeted ))
[ "$unsub_repeats" -ge 0 ] || unsub_repeats=0

# --- 3: default limits ------------------------------------------------------------------
default="$work/default"
config "$default"
start "$default"
echo
echo "== POST /subscribe with the default limits (20 posts per IP per hour): ${DEFAULT_PASS_SECS} s =="
load tests/bench/subscribe.lua "$DEFAULT_PASS_SECS" -- default
dflt=$result
stop_server
d_rows=$(sql "$default/pp.sqlite3" "SELECT COUNT(*) FROM subscribers")
d_mails=$(find "$default/outbox" -name '*.eml' | wc -l)
[ "$(field non2xx "$dflt")" = 0 ] || fail "non-2xx answers with the default limits: $dflt"
[ "$d_rows" = 20 ] && [ "$d_mails" = 20 ] \
  || fail "default limits: $d_rows rows and $d_mails mails, expected 20 of each"

summary() {
  printf '%-34s %9s req/s   p50 %7s ms   p99 %7s ms   non-2xx %s   (%s requests in %s s)\n' \
    "$1" "$(field rps "$2")" "$(field p50_ms "$2")" "$(field p99_ms "$2")" \
    "$(field non2xx "$2")" "$(field requests "$2")" "$(field seconds "$2")"
}
cpu=$(python3 -c 'import platform, os; print(f"{os.cpu_count()} cores, {platform.machine()}")')
model=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
echo
echo "== paperpost serve: wrk -t$THREADS -c$CONNECTIONS -d${DURATION}s on 127.0.0.1, server and wrk sharing $cpu${model:+ ($model)} =="
echo "(release build; SQLite store in WAL mode on a temp dir; file transport; RUST_LOG=paperpost=info;"
echo " 1-minute load average $load_before before the runs: other work on the machine lowers the figures)"
summary "POST /subscribe (new address each)" "$sub"
echo "    per-IP limit raised to $HIGH_LIMIT/h for this run, so the limiter does not turn the load away"
echo "    no lost rows: $sub_ok posts answered 200, $rows pending subscribers stored ($distinct distinct addresses),"
echo "    each with a confirmation and its .eml ($mails); $((rows - sub_ok)) stored posts were still in flight when wrk stopped ($sub_sent sent)"
summary "POST /unsubscribe/{token} one-click" "$unsub"
echo "    $acked answered one-clicks, all now unsubscribed; $unsubscribed of $targeted requested subscribers unsubscribed,"
echo "    none outside them; $unsub_repeats requests were repeats"
summary "POST /subscribe, default limits" "$dflt"
echo "    every post answered 200 \"check your inbox\" alike; only 20 rows and 20 confirmation mails: the per-IP limit held"
