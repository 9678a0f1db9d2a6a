#!/usr/bin/env bash
# Installs what the tests and the demo need on a fresh Debian machine with
# Rust, Python 3 and Node 20: pytest (with pytest-rerunfailures and
# pytest-xdist, whose re-runs and workers the tests exercise) and behave in
# ./.venv, Debian's chromium, and each Node fixture's node_modules (npm ci).
# Idempotent and quiet when everything is already there.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

PYTEST_VERSION=9.2.0
BEHAVE_VERSION=1.3.3
RERUNFAILURES_VERSION=16.7
XDIST_VERSION=3.8.0

if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv" >&2
  python3 -m venv .venv
fi
if ! .venv/bin/python -c "import pytest, behave, pytest_rerunfailures, xdist" 2>/dev/null \
  || [ "$(.venv/bin/python -c 'import pytest; print(pytest.__version__)')" != "$PYTEST_VERSION" ]; then
  echo "setup: installing pytest $PYTEST_VERSION, pytest-rerunfailures $RERUNFAILURES_VERSION, pytest-xdist $XDIST_VERSION and behave $BEHAVE_VERSION into .venv" >&2
  .venv/bin/python -m pip install --quiet --disable-pip-version-check \
    "pytest==$PYTEST_VERSION" "pytest-rerunfailures==$RERUNFAILURES_VERSION" "pytest-xdist==$XDIST_VERSION" "behave==$BEHAVE_VERSION"
fi

if [ ! -x /usr/bin/chromium ]; then
  echo "setup: installing Debian's chromium" >&2
  if [ "$(id -u)" = 0 ]; then sudo=""; else sudo="sudo"; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >/dev/null
fi

# Every Node project the tests or the demo run (those with a lockfile).
while IFS= read -r lock; do
  dir=$(dirname "$lock")
  if [ ! -d "$dir/node_modules" ] || [ "$lock" -nt "$dir/node_modules" ]; then
    echo "setup: npm ci in $dir" >&2
    (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
    touch "$dir/node_modules"
  fi
done < <(find tests examples -name package-lock.json -not -path '*/node_modules/*' 2>/dev/null | sort)

# The command-runner tests drive cargo-nextest as a real JUnit writer.
if ! cargo nextest --version >/dev/null 2>&1; then
  echo "setup: installing cargo-nextest" >&2
  cargo install --quiet --locked cargo-nextest
fi
