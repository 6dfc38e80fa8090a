#!/usr/bin/env bash
# Benchmark of `paperpost store copy`: an SQLite store of READERS readers, each with one
# delivered digest (picks JSON as a real plan writes it), copied into a throwaway PostgreSQL
# (initdb into a temp folder, fsync on, stopped by PID at the end). Prints the time and the
# peak RSS of the copy, which must not grow with READERS (rows are read 1,000 at a time).
#
#   READERS=100000 tests/bench/copy-bench.sh            # release build
#   PROFILE=debug READERS=20000 tests/bench/copy-bench.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
READERS=${READERS:-100000}
PROFILE=${PROFILE:-release}
PG_PORT=${PG_PORT:-$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')}
TARGET=${CARGO_TARGET_DIR:-target}
if [ "$PROFILE" = release ]; then cargo build --release --quiet --bin paperpost; else cargo build --quiet --bin paperpost; fi
BIN=$TARGET/$PROFILE/paperpost

WORK=$(mktemp -d)
PG_PID=
cleanup() {
  if [ -n "$PG_PID" ]; then kill -INT "$PG_PID" 2>/dev/null || true; sleep 1; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

PG_BIN=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}
[ -x "$PG_BIN/initdb" ] || { echo "needs PostgreSQL's server programs (Debian: postgresql)" >&2; exit 1; }
AS=""
if [ "$(id -u)" = 0 ]; then AS="setpriv --reuid=65534 --regid=65534 --clear-groups --"; chmod 755 "$WORK"; fi
mkdir -p "$WORK/pg" && { [ -z "$AS" ] || chown 65534:65534 "$WORK/pg"; }
(cd "$WORK/pg" && $AS "$PG_BIN/initdb" -D "$WORK/pg/data" -U paperpost --auth=trust -E UTF8 --locale=C >/dev/null)
(cd "$WORK/pg" && exec $AS "$PG_BIN/postgres" -D "$WORK/pg/data" -p "$PG_PORT" -k "$WORK/pg" \
   -c listen_addresses=127.0.0.1 >"$WORK/pg/server.log" 2>&1) &
PG_PID=$!
for _ in $(seq 1 100); do "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$PG_PORT" && break; sleep 0.2; done
"$PG_BIN/psql" -q -h 127.0.0.1 -p "$PG_PORT" -U paperpost -d postgres -c "CREATE DATABASE copy" >/dev/null

cat >"$WORK/config.toml" <<TOML
[newsletter]
name = "bench"
base_url = "https://papers.example.org/"
from = "bench <digest@papers.example.org>"
[store]
path = "pp.sqlite3"
TOML
RUST_LOG=warn "$BIN" --config "$WORK/config.toml" check-config >/dev/null
PICKS='[{"id":"arxiv:2410.18975","reasons":["topic: large language models","upvotes"]},{"id":"arxiv:2410.17243","reasons":["topic: retrieval"]},{"id":"arxiv:2410.18057","reasons":["trending"]},{"id":"arxiv:2410.16153","reasons":["topic: agents"]},{"id":"arxiv:2410.14059","reasons":["trending"]}]'
python3 - "$WORK/pp.sqlite3" "$READERS" "$PICKS" <<'PY'
import sqlite3, sys
db, n, picks = sys.argv[1], int(sys.argv[2]), sys.argv[3]
c = sqlite3.connect(db)
c.execute("INSERT INTO editions (id, period_key, created_at) VALUES (1, '2026-W48', 1764000000)")
c.executemany("INSERT INTO subscribers (id, email, email_key, status, topics, token_salt, created_at, updated_at) VALUES (?,?,?,'active','llm, agents',?,1764000000,1764000000)",
              ((i, f"reader{i:06}@example.org", f"reader{i:06}@example.org", f"{i:032x}") for i in range(1, n + 1)))
c.executemany("INSERT INTO deliveries (edition_id, subscriber_id, state, picks, message_id, attempts, relay, created_at, updated_at, sent_at) VALUES (1,?,'sent',?,?,1,'relay',1764000000,1764000100,1764000100)",
              ((i, picks, f"<{i}.2026-W48@papers.example.org>") for i in range(1, n + 1)))
c.commit()
PY
echo "SQLite store: $READERS readers and deliveries, $(du -h "$WORK/pp.sqlite3" | cut -f1)" >&2
URL="postgres://paperpost@127.0.0.1:$PG_PORT/copy"
/usr/bin/time -f "copy: %e s elapsed, peak RSS %M KB" \
  env RUST_LOG=warn "$BIN" --config "$WORK/config.toml" store copy --to "$URL" --tls disable
/usr/bin/time -f "again (nothing new): %e s elapsed, peak RSS %M KB" \
  env RUST_LOG=warn "$BIN" --config "$WORK/config.toml" store copy --to "$URL" --tls disable | tail -2
