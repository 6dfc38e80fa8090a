#!/usr/bin/env bash
# The main job end to end, offline: recorded HF and arXiv responses → SQLite → selection →
# .eml digests for three readers → an HTML preview. Output: ./paperpost-demo/
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo build --release --quiet
pp() { ./target/release/paperpost --config tests/demo/config.toml "$@"; }
rm -rf paperpost-demo
pp subscribers import tests/demo/subscribers.csv
# The editor's word on the edition `run` plans now: `next` is this week in the newsletter's
# time zone (Europe/Berlin), whatever the hour in UTC (`pp editions show next` prints it).
pp editions note next "A week of long-context training and data scaling laws."
pp editions pin next 2410.17243 --note "Contrastive loss at batch sizes once out of reach."
pp run
pp preview --topics '"diffusion model", video, cat:cs.CV' --out paperpost-demo/preview.html
pp deliveries
echo
echo "digests written:"; ls -1 paperpost-demo/outbox
echo "preview:         paperpost-demo/preview.html"
echo
echo "each digest opens with the editor's note and pick and links its web copy and feed:"
missing=0
for f in paperpost-demo/outbox/*.eml; do
  has() { if grep -q "$1" "$f"; then echo "$2 yes"; else echo "$2 NO"; fi; }
  line="$(has 'FROM THE EDITOR' note), $(has "Editor's note: Contrastive" pick), $(has '^View in browser: ' 'web copy'), $(has '^Your Atom feed: ' feed)"
  echo "  $(basename "$f"): $line"
  case "$line" in *NO*) missing=1 ;; esac
done
[ "$missing" = 0 ] || { echo "a digest lacks one of them" >&2; exit 1; }
