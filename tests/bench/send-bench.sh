#!/usr/bin/env bash
# Benchmark of paperpost's sending next to Postfix's smtp-source, in the same run, on loopback.
# A benchmark, not a test: it prints figures and judges nothing.
#
# usage: [TOPICS=distinct] tests/bench/send-bench.sh [MESSAGES] [SESSIONS] [BYTES] [BIG]
#   defaults: 10000 10 40000 100000 (BIG 0 skips step 5); TOPICS=distinct gives readers up to 4,095 different
#   topic lines (default: 10 lines, varied)
#
#   1. reference: ../shared/bench/smtp-reference.sh MESSAGES SESSIONS BYTES (smtp-source → smtp-sink)
#   2. a sink for paperpost: SINK_ONLY=1 smtp-reference.sh … PORT (stopped by its PID at the end)
#   3. transport alone: `cargo bench --bench transport` — MESSAGES pre-built messages of BYTES
#      bytes over SESSIONS reused `delivery::Session`s (no store, no rendering)
#   4. end to end: MESSAGES subscribers with varied topics (CSV import), papers from the recorded
#      fixtures (digests of ~40 KB: max_papers = 10), `paperpost send` timed by the wall clock —
#      selection, rendering, durable bookkeeping and SMTP over SESSIONS connections — under
#      /usr/bin/time -v for peak RSS
#   5. BIG subscribers: peak RSS of `send --dry-run` (planning) and of a full `send` to the sink
#
# PERF=FILE: profile step 4's send with perf (see below).
# BACKEND=postgres: the same on PostgreSQL — a throwaway server (initdb into the work folder,
#   as `nobody` when run as root, on PG_PORT (5499); stopped by its PID at the end), one
#   database per newsletter. SENDERS=N (PostgreSQL only): step 3 runs N `paperpost send`
#   processes at once against the one database and the one sink; the rate is all their
#   digests over the wall time until the last one ends.
#
# Builds with cargo in release mode (honours CARGO_TARGET_DIR). Installs Postfix (smtp-sink,
# smtp-source) and GNU time with apt when missing. Ports: PORT_REF (2526) and PORT (2527).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
N=${1:-10000}
S=${2:-10}
L=${3:-40000}
BIG=${4:-100000}
REF=${REF:-$ROOT/../shared/bench/smtp-reference.sh}
PORT_REF=${PORT_REF:-2526}
PORT=${PORT:-2527}
BACKEND=${BACKEND:-sqlite}
SENDERS=${SENDERS:-1}
PG_PORT=${PG_PORT:-5499}
TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
# PERF=FILE: step 4's send runs under `perf record` (DWARF call graphs, 499 Hz) into FILE, for
# `perf report -i FILE` (the figures in the README's send profile come from it).
PROFILE=
if [ -n "${PERF:-}" ]; then PROFILE="perf record -F 499 --call-graph dwarf,16384 -o $PERF --"; fi

if ! command -v smtp-sink >/dev/null || ! command -v smtp-source >/dev/null; then
  echo "installing Postfix's smtp-sink/smtp-source (Debian package postfix)..." >&2
  echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postfix >/dev/null 2>&1 || {
    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postfix >/dev/null; }
fi
if [ ! -x /usr/bin/time ]; then
  echo "installing GNU time (Debian package time)..." >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time >/dev/null 2>&1 || {
    apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq time >/dev/null; }
fi

echo "building (release)..." >&2
cargo build --release --quiet --bin paperpost
cargo bench --quiet --bench transport --no-run 2>/dev/null
BIN=$TARGET/release/paperpost

WORK=$(mktemp -d)
SINK_PID=
PG_PID=
cleanup() {
  if [ -n "$SINK_PID" ]; then kill "$SINK_PID" 2>/dev/null || true; fi
  if [ -n "$PG_PID" ]; then kill -INT "$PG_PID" 2>/dev/null || true; sleep 1; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

if [ "$BACKEND" = postgres ]; then
  PG_BIN=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}
  if [ ! -x "$PG_BIN/initdb" ]; then
    echo "installing PostgreSQL (Debian package postgresql)..." >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null 2>&1 || {
      apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null; }
    PG_BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
  fi
  AS=""
  if [ "$(id -u)" = 0 ]; then AS="setpriv --reuid=65534 --regid=65534 --clear-groups --"; chmod 755 "$WORK"; fi
  mkdir -p "$WORK/pg" && { [ -z "$AS" ] || chown 65534:65534 "$WORK/pg"; }
  (cd "$WORK/pg" && $AS "$PG_BIN/initdb" -D "$WORK/pg/data" -U paperpost --auth=trust -E UTF8 --locale=C >/dev/null)
  # Durable settings as a production server would run them (fsync on).
  (cd "$WORK/pg" && exec $AS "$PG_BIN/postgres" -D "$WORK/pg/data" -p "$PG_PORT" -k "$WORK/pg" \
     -c listen_addresses=127.0.0.1 -c max_connections=200 -c shared_buffers=256MB \
     >"$WORK/pg/server.log" 2>&1) &
  PG_PID=$!
  for _ in $(seq 1 100); do
    "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" && break; sleep 0.2
  done
  echo "PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') on port $PG_PORT (pid $PG_PID)" >&2
fi
# The [store] table of a newsletter named $1.
store_table() {
  if [ "$BACKEND" = postgres ]; then
    "$PG_BIN/psql" -q -h 127.0.0.1 -p "$PG_PORT" -U paperpost -d postgres -c "CREATE DATABASE bench_$1" >/dev/null
    printf 'url = "postgres://paperpost@127.0.0.1:%s/bench_%s"\ntls = "disable"\n' "$PG_PORT" "$1"
  else
    echo 'path = "pp.sqlite3"'
  fi
}

now() { date +%s.%N; }
calc() { python3 -c "print($1)"; }
rss_mb() { awk -F: '/Maximum resident set size/ {printf "%.1f", $2/1024}' "$1"; }

# A newsletter in $1 with $2 subscribers, delivering by $3 (smtp | file).
newsletter() {
  local dir=$1 count=$2 transport=$3 f=$ROOT/tests/fixtures
  mkdir -p "$dir"
  cat >"$dir/config.toml" <<EOF
[newsletter]
name = "paperpost bench"
base_url = "https://papers.example.org/"
from = "paperpost <digest@papers.example.org>"

[store]
$(store_table "$(basename "$dir")")

[[sources]]
name = "hf"
kind = "file"
path = "$f/hf_daily_papers_2024-10-25_full.json"

[[sources]]
name = "arxiv-ai"
kind = "file"
path = "$f/arxiv_rss_atom_cs.AI_2025-08-20_excerpt.xml"

[[sources]]
name = "testing"
kind = "file"
path = "$f/arxiv_api_2026_query_testing_max10.xml"

[selection]
max_papers = 10

[delivery]
transport = "$transport"
outbox = "outbox"
connections = $S

[[delivery.relays]]
host = "127.0.0.1"
port = $PORT
tls = "none"
timeout_secs = 30
EOF
  # Varied topics: keywords, phrases, categories, exclusions, and the trending digest.
  # TOPICS=distinct: up to 4,095 different topic lines (subsets of 12 common words), so
  # readers' picks come with many different "Matched: …" reasons.
  python3 - "$dir/subscribers.csv" "$count" "${TOPICS:-varied}" <<'EOF'
import sys
topics = ["", "agent, cat:cs.AI", 'video, "diffusion model"', "language model, reasoning",
          "cat:cs.CL, benchmark", "model, -benchmark", "cat:cs.CV, image",
          "llm, -survey, cat:cs.LG", '"large language model", evaluation', "generation, agent"]
words = ["model", "language", "learning", "agent", "video", "image", "reasoning",
         "benchmark", "generation", "diffusion", "data", "training"]
distinct = sys.argv[3] == "distinct"
with open(sys.argv[1], "w") as f:
    f.write("email,name,topics,status,frequency\n")
    for i in range(int(sys.argv[2])):
        if distinct:
            bits = i % 4095 + 1
            t = ", ".join(w for b, w in enumerate(words) if bits >> b & 1)
        else:
            t = topics[(i * 7 + i // 10) % len(topics)].replace('"', '""')
        f.write(f'reader{i:06d}@example.org,Reader {i},"{t}",active,weekly\n')
EOF
  (cd "$dir" && "$BIN" fetch >/dev/null 2>&1 && "$BIN" subscribers import subscribers.csv >/dev/null)
}

echo "== 1. reference: smtp-source → smtp-sink ($N messages, $S sessions, $L bytes)"
ref_line=$(bash "$REF" "$N" "$S" "$L" "$PORT_REF" | tail -1)
echo "$ref_line"
ref=$(echo "$ref_line" | sed -n 's/.*= \([0-9]*\) msgs\/s/\1/p')

sink_line=$(SINK_ONLY=1 bash "$REF" "$N" "$S" "$L" "$PORT")
SINK_PID=$(echo "$sink_line" | sed -n 's/.*pid=\([0-9]*\).*/\1/p')
echo "($sink_line)"

echo "== 2. transport alone: paperpost::delivery::Session → smtp-sink"
tr_line=$(cargo bench --quiet --bench transport -- "$N" "$S" "$L" "$PORT" 2>/dev/null | tail -1)
echo "$tr_line"
tr=$(echo "$tr_line" | sed -n 's/.*= \([0-9]*\) msgs\/s/\1/p')

echo "== 3. end to end: paperpost send, $N subscribers → smtp-sink"
newsletter "$WORK/sample" 300 file
size=$(python3 -c "import os,sys; d=sys.argv[1]; s=[os.path.getsize(os.path.join(d,f)) for f in os.listdir(d)]; print(sum(s)//len(s))" "$WORK/sample/outbox" 2>/dev/null || true)
if [ -z "$size" ]; then
  (cd "$WORK/sample" && "$BIN" send >/dev/null 2>&1 || true)
  size=$(python3 -c "import os,sys; d=sys.argv[1]; s=[os.path.getsize(os.path.join(d,f)) for f in os.listdir(d)]; print(sum(s)//len(s))" "$WORK/sample/outbox")
fi
echo "average digest: $size bytes (300 sampled readers, same topics)"
newsletter "$WORK/e2e" "$N" smtp
start=$(now)
pids=()
for i in $(seq 1 "$SENDERS"); do
  (cd "$WORK/e2e" && /usr/bin/time -v -o "$WORK/e2e.$i.time" $PROFILE "$BIN" send >"$WORK/e2e.$i.out" 2>"$WORK/e2e.$i.err") &
  pids+=($!)
done
for p in "${pids[@]}"; do wait "$p" || true; done
end=$(now)
sent=0
for i in $(seq 1 "$SENDERS"); do
  cat "$WORK/e2e.$i.out"
  sent=$((sent + $(sed -n 's/^sent \([0-9]*\),.*/\1/p' "$WORK/e2e.$i.out")))
done
cp "$WORK/e2e.1.time" "$WORK/e2e.time"
[ "$SENDERS" = 1 ] || echo "$SENDERS senders on one database sent $sent digests in all" 
e2e=$(calc "round($sent / ($end - $start))")
echo "paperpost send: $sent digests in $(calc "round($end - $start, 3)") s = $e2e msgs/s, peak RSS $(rss_mb "$WORK/e2e.time") MB"

if [ "$BIG" -gt 0 ]; then
echo "== 4. $BIG subscribers: peak memory"
newsletter "$WORK/big" "$BIG" smtp
(cd "$WORK/big" && /usr/bin/time -v -o "$WORK/plan.time" "$BIN" send --dry-run >/dev/null 2>&1) || true
echo "send --dry-run (planning $BIG readers): peak RSS $(rss_mb "$WORK/plan.time") MB"
start=$(now)
(cd "$WORK/big" && /usr/bin/time -v -o "$WORK/big.time" "$BIN" send >"$WORK/big.out" 2>"$WORK/big.err") || true
end=$(now)
big_sent=$(sed -n 's/^sent \([0-9]*\),.*/\1/p' "$WORK/big.out")
echo "send (plan + deliver $big_sent digests): $(calc "round($end - $start, 1)") s, $(calc "round($big_sent / ($end - $start))") msgs/s, peak RSS $(rss_mb "$WORK/big.time") MB"

fi
echo "== summary ($BACKEND, $SENDERS sender(s))"
echo "reference smtp-source:     $ref msgs/s"
echo "paperpost transport alone: $tr msgs/s = $(calc "round($tr / $ref, 2)") x reference (target >= 0.8)"
echo "paperpost send end to end: $e2e msgs/s = $(calc "round($e2e / $ref, 2)") x reference (target >= 0.5)"
[ "$BIG" -gt 0 ] && echo "peak RSS with $BIG subscribers: plan $(rss_mb "$WORK/plan.time") MB, send $(rss_mb "$WORK/big.time") MB (target < 200)"
true
