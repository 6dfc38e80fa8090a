#!/usr/bin/env bash
# The whole test suite on a fresh machine: installs what the tests need (Python's aiosmtpd
# and dkimpy + PyNaCl for the real SMTP server and the DKIM verifier (PyNaCl verifies
# Ed25519), openssl to make test keys, Debian's chromium and Node's
# playwright-core for the browser test), then runs every test. .ci/run calls this.
# Postfix too, for the bounce tests. PostgreSQL's server programs too: the store-touching
# tests run a second time on PostgreSQL (PAPERPOST_TEST_BACKEND=postgres), each test binary
# starting a throwaway server of its own (initdb in a temp folder; no system cluster runs).
#
# The integration tests are three binaries, each linked once: tests/suite/ (every test that
# touches the store a test's config names: both passes), tests/single_pass/ (the tests the
# second pass would only repeat: no store, a backend of their own choosing, or the SQLite
# file itself) and tests/sources_huge_input.rs (alone in its process: it measures the
# process's peak memory).
set -euo pipefail
cd "$(dirname "$0")/.."

need_apt=()
command -v python3 >/dev/null || need_apt+=(python3 python3-pip)
command -v openssl >/dev/null || need_apt+=(openssl)
command -v chromium >/dev/null || need_apt+=(chromium)
command -v node >/dev/null || need_apt+=(nodejs npm)
# Postfix for the bounce tests (tests/suite/bounces.rs runs a private instance of its own
# from a temp folder; no system Postfix needs to run, so none is configured here).
[ -x /usr/sbin/postfix ] || command -v postfix >/dev/null || need_apt+=(postfix)
# PostgreSQL (server programs under /usr/lib/postgresql/N/bin) for the second pass.
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null || need_apt+=(postgresql)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "installing ${need_apt[*]} (apt)…" >&2
  export DEBIAN_FRONTEND=noninteractive
  echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections 2>/dev/null || true
  apt-get update -qq >/dev/null
  apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi
if ! python3 -c 'import aiosmtpd, dkim, nacl' 2>/dev/null; then
  echo "installing aiosmtpd, dkimpy and pynacl (pip)…" >&2
  python3 -m pip install --quiet --disable-pip-version-check aiosmtpd dkimpy pynacl 2>/dev/null \
    || python3 -m pip install --quiet --disable-pip-version-check --break-system-packages aiosmtpd dkimpy pynacl
fi
if [ -f tests/browser/package.json ] && [ ! -d tests/browser/node_modules/playwright-core ]; then
  echo "installing playwright-core (npm)…" >&2
  (cd tests/browser && npm install --silent --no-audit --no-fund >/dev/null)
fi
if [ -f tests/lint/package.json ] && [ ! -d tests/lint/node_modules/@jsx-email/doiuse-email ]; then
  echo "installing @jsx-email/doiuse-email (npm) for the email lint…" >&2
  (cd tests/lint && npm ci --silent --no-audit --no-fund >/dev/null)
fi

cargo test --locked "$@"

# The second pass: the unit tests and the suite binary (every test that touches the store),
# on PostgreSQL; one throwaway server for each of the two binaries. Tests in the suite about
# the SQLite file itself skip themselves there. Not again: tests/single_pass/ and
# tests/sources_huge_input.rs, which the second pass would only repeat
# (tests/single_pass/main.rs says why). Which pass a test runs in is the binary its module
# is declared in, not a filter here. With arguments, the same selection runs again on PostgreSQL.
if [ $# -gt 0 ]; then
  PAPERPOST_TEST_BACKEND=postgres cargo test --locked "$@"
else
  echo "the store-touching tests again, on PostgreSQL…" >&2
  PAPERPOST_TEST_BACKEND=postgres cargo test --locked --no-fail-fast --lib --test suite
fi
