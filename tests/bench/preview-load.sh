#!/usr/bin/env bash
# /preview under load — a bench, not a test (CI does not run it).
#
#   tests/bench/preview-load.sh        # PAPERS=94000 PREVIEWS=16; BIN=… to use another binary
#
# Issue 8 measured, with 94k papers, 1.7 s a preview, and 16 concurrent previews holding
# /healthz up for 24.4 s (every scan ran under the store's one lock). This stores PAPERS
# papers (a generated `file` source, `paperpost fetch`), starts `paperpost serve` on a free
# loopback port and sends PREVIEWS previews with distinct topics at once while a prober asks
# /healthz every 50 ms; it prints how long the previews took and the slowest /healthz answer
# meanwhile. It talks to 127.0.0.1 only and stops the server by its PID.
set -euo pipefail
cd "$(dirname "$0")/../.."

PAPERS=${PAPERS:-94000}
PREVIEWS=${PREVIEWS:-16}
if [ -z "${BIN:-}" ]; then
  echo "building the release binary…" >&2
  cargo build --release --locked --quiet
  BIN="${CARGO_TARGET_DIR:-target}/release/paperpost"
fi

work=$(mktemp -d)
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then
    kill -TERM "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

python3 - "$work/papers.json" "$PAPERS" <<'EOF'
import json, sys
from datetime import datetime, timezone
today = datetime.now(timezone.utc).strftime("%Y-%m-%d")
words = "sparse graph diffusion transformer retrieval agent reasoning scaling".split()
papers = [{
    "id": f"2611.{i:05d}" if i < 100000 else f"2612.{i - 100000:05d}",
    "title": f"Paper {i} on {words[i % len(words)]} {words[(i * 7) % len(words)]} models",
    "abstract": "We study " + " ".join(words[(i + k) % len(words)] for k in range(120)) + ".",
    "authors": [f"Author {i}", f"Author {i + 1}"],
    "categories": ["cs.LG"],
    "published": today,
    "upvotes": i % 50,
} for i in range(int(sys.argv[2]))]
json.dump(papers, open(sys.argv[1], "w"))
EOF

cat >"$work/config.toml" <<EOF
[newsletter]
name = "paperpost bench"
base_url = "https://papers.example.org/"
from = "paperpost <digest@papers.example.org>"

[store]
path = "pp.sqlite3"

[fetch]
max_body_bytes = 1073741824

[[sources]]
name = "bulk"
kind = "file"
path = "papers.json"

[schedule]
fetch = ""

[delivery]
transport = "file"
outbox = "outbox"

[web]
bind = "127.0.0.1:0"
max_previews_per_ip_per_minute = 0
request_timeout_secs = 600
EOF

echo "storing $PAPERS papers…" >&2
"$BIN" --config "$work/config.toml" fetch >/dev/null
RUST_LOG=paperpost=warn "$BIN" --config "$work/config.toml" serve --bind 127.0.0.1:0 \
  >"$work/serve.out" 2>"$work/serve.log" &
server_pid=$!

python3 - "$work/serve.out" "$PREVIEWS" <<'EOF'
import re, sys, threading, time, urllib.request
for _ in range(300):
    m = re.search(r"http://127\.0\.0\.1:(\d+)/", open(sys.argv[1]).read())
    if m:
        break
    time.sleep(0.1)
else:
    sys.exit("serve did not start")
base = f"http://127.0.0.1:{m.group(1)}/"
urllib.request.urlopen(base + "healthz", timeout=30).read()

n = int(sys.argv[2])
done, health, statuses = [], [], []
def preview(i):
    t = time.monotonic()
    with urllib.request.urlopen(f"{base}preview?topics=graph+{i}", timeout=600) as r:
        r.read()
        statuses.append(r.status)
    done.append(time.monotonic() - t)
def probe():
    while len(done) < n:
        t = time.monotonic()
        urllib.request.urlopen(base + "healthz", timeout=600).read()
        health.append(time.monotonic() - t)
        time.sleep(0.05)
start = time.monotonic()
threads = [threading.Thread(target=preview, args=(i,)) for i in range(n)] + [threading.Thread(target=probe)]
for t in threads:
    t.start()
for t in threads:
    t.join()
total = time.monotonic() - start
print(f"{n} concurrent previews: all done in {total:.1f} s (fastest {min(done):.2f} s, slowest {max(done):.2f} s), statuses {sorted(set(statuses))}")
print(f"/healthz meanwhile: {len(health)} answers, slowest {max(health) * 1000:.0f} ms")
EOF
