#!/usr/bin/env bash
# README command 2: install (if needed) and run the whole test suite plus the linters.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
bash scripts/browser.sh
VENV="${TALKINGUB_VENV:-.venv}"
export PATH="$PWD/$VENV/bin:$PATH"
"$VENV/bin/ruff" check talkingub tests benchmarks
"$VENV/bin/ruff" format --check talkingub tests benchmarks
"$VENV/bin/mypy" talkingub
"$VENV/bin/python" -m pytest -q -p no:cacheprovider --durations=15 "$@"
