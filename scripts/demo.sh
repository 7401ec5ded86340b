#!/usr/bin/env bash
# README command 1: install (if needed) and run the embedded end-to-end demo offline.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
VENV="${TALKINGUB_VENV:-.venv}"
export PATH="$PWD/$VENV/bin:$PATH"
"$VENV/bin/talkingub" demo --out "${DEMO_OUT:-out/demo}" "$@"
