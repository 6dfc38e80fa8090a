#!/usr/bin/env bash
# The main job end to end, offline: recorded HF and arXiv responses → SQLite → selection →
# .eml digests for three readers → an HTML preview. Output: ./paperpost-demo/
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo build --release --quiet
pp() { ./target/release/paperpost --config tests/demo/config.toml "$@"; }
rm -rf paperpost-demo
pp subscribers import tests/demo/subscribers.csv
# The editor's word on this week's edition (stored; `pp editions show` prints it).
week=$(date -u +%G-W%V)
pp editions note "$week" "A week of long-context training and data scaling laws."
pp editions pin "$week" 2410.17243 --note "Contrastive loss at batch sizes once out of reach."
pp run
pp preview --topics '"diffusion model", video, cat:cs.CV' --out paperpost-demo/preview.html
pp deliveries
echo
echo "digests written:"; ls -1 paperpost-demo/outbox
echo "preview:         paperpost-demo/preview.html"
echo
echo "each digest opens with the editor's note and pick and links its web copy and feed:"
for f in paperpost-demo/outbox/*.eml; do
  has() { grep -q "$1" "$f" && echo "$2 yes" || echo "$2 NO"; }
  echo "  $(basename "$f"): $(has 'FROM THE EDITOR' note), $(has "Editor's note: Contrastive" pick), $(has '^View in browser: ' 'web copy'), $(has '^Your Atom feed: ' feed)"
done
