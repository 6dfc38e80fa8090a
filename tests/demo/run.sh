#!/usr/bin/env bash
# The main job end to end, offline: recorded HF and arXiv responses → SQLite → selection →
# .eml digests for three readers → an HTML preview. Output: ./paperpost-demo/
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo build --release --quiet
pp() { ./target/release/paperpost --config tests/demo/config.toml "$@"; }
rm -rf paperpost-demo
pp subscribers import tests/demo/subscribers.csv
pp run
pp preview --topics '"diffusion model", video, cat:cs.CV' --out paperpost-demo/preview.html
pp deliveries
echo
echo "digests written:"; ls -1 paperpost-demo/outbox
echo "preview:         paperpost-demo/preview.html"
