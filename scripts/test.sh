#!/usr/bin/env bash
# The one test command. On a fresh machine it installs what the tests need (a Python venv with pinned
# moto[server] and cfn-lint under .venv/), starts moto on a free loopback port, runs every Rust test,
# lints template.yaml, runs the console's headless-browser test (installing Debian's chromium and the
# pinned playwright-core when missing), and stops moto on exit whatever happens. Needs Python 3, Node
# (>= 20, with npm) and Chromium: an existing /usr/bin/chromium (or $CHROMIUM_BIN) is used, else Debian's
# chromium is apt-get installed, which needs root. Tests must not rewrite tracked files: the script fails
# if one changed while it ran.
set -euo pipefail
cd "$(dirname "$0")/.."

# What the tracked files hold now (uncommitted edits included), to check that no test rewrote one.
tracked_state() { git diff --binary HEAD -- . 2>/dev/null | sha256sum; }
in_git=false
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then in_git=true; tracked_before=$(tracked_state); fi

VENV=.venv
PY_PINS=("moto[server]==5.2.5" "cfn-lint==1.58.0")
STAMP="$VENV/.pins-$(printf '%s ' "${PY_PINS[@]}" | sha256sum | cut -c1-16)"

if [ ! -f "$STAMP" ]; then
  echo "==> setting up $VENV (${PY_PINS[*]})"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check "${PY_PINS[@]}"
  touch "$STAMP"
fi

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
mkdir -p target
"$VENV/bin/moto_server" -H 127.0.0.1 -p "$port" >target/moto.log 2>&1 &
moto_pid=$!
cleanup() { kill "$moto_pid" 2>/dev/null || true; wait "$moto_pid" 2>/dev/null || true; }
trap cleanup EXIT INT TERM

for _ in $(seq 1 150); do
  if python3 -c "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:$port/moto-api/', timeout=1)" 2>/dev/null; then
    break
  fi
  kill -0 "$moto_pid" 2>/dev/null || { cat target/moto.log; echo "moto_server failed to start" >&2; exit 1; }
  sleep 0.2
done
echo "==> moto_server on 127.0.0.1:$port"

export MOTO_ENDPOINT="http://127.0.0.1:$port"
export CI="${CI:-1}"   # inside this script a test that needs moto must never skip

# The README's "Run the Lambdas locally" step: the table and queue of template.yaml, made in moto.
echo "==> scripts/local-aws.py against moto (the table as template.yaml defines it)"
"$VENV/bin/python" scripts/local-aws.py --endpoint "$MOTO_ENDPOINT" --table "readme-$port" --queue "readme-$port"

# Style and lints hold in CI, not only by habit: formatting, then clippy with the workspace's lint set
# ([workspace.lints] in Cargo.toml: clippy's pedantic group minus the lints named there) as errors.
echo "==> cargo fmt --check"
cargo fmt --all --check
echo "==> cargo clippy --all-targets -- -D warnings"
cargo clippy --workspace --all-targets --quiet -- -D warnings
cargo test --workspace --all-targets
# The US accuracy check against the revenue departments' publications (issue 15): print its share and misses.
echo "==> US accuracy against the revenue departments (shared/tests/fixtures/us-accuracy.csv)"
cargo test -q -p shared --test us_accuracy -- --nocapture 2>&1 | grep -E '^(US accuracy|  [A-Z]{2}: |  miss )' || true

if [ -f template.yaml ]; then
  echo "==> cfn-lint template.yaml"
  "$VENV/bin/cfn-lint" template.yaml
fi
# The console's browser test: Debian's Chromium driven by playwright-core (pinned in tests/browser;
# npm cannot download browsers here, so the Debian package is used).
if [ ! -x "${CHROMIUM_BIN:-/usr/bin/chromium}" ]; then
  echo "==> installing chromium (Debian package)"
  [ "$(id -u)" = 0 ] || { echo "chromium is missing and installing it needs root: sudo apt-get install chromium (or set CHROMIUM_BIN)" >&2; exit 1; }
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi
command -v node >/dev/null || { echo "the console's browser test needs Node (>= 20) and npm" >&2; exit 1; }
NPM_STAMP="tests/browser/node_modules/.lock-$(sha256sum tests/browser/package-lock.json | cut -c1-16)"
if [ ! -f "$NPM_STAMP" ]; then
  echo "==> npm ci --prefix tests/browser"
  npm ci --prefix tests/browser --no-audit --no-fund --loglevel=error
  touch "$NPM_STAMP"
fi
cargo build -p sphere-local
echo "==> browser test's step accounting (a skipped step is not a pass)"
node --test tests/browser/steps.test.mjs
echo "==> browser test of the console (headless chromium)"
# CI=1 (set above): a skipped step fails the run. The screenshot goes to target/, never docs/.
SPHERE_LOCAL_BIN="${CARGO_TARGET_DIR:-target}/debug/sphere-local" node tests/browser/console.test.mjs

if $in_git && [ "$(tracked_state)" != "$tracked_before" ]; then
  echo "a test rewrote tracked files (tests must write under target/ or a temp dir):" >&2
  git status --short --untracked-files=no >&2
  exit 1
fi

echo "==> all tests passed"
