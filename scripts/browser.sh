#!/usr/bin/env bash
# Headless Chromium for the HTML report tests (Debian's package; Playwright drives it, it never
# downloads a browser of its own). Installs it when missing and this shell may: as root, or
# with password-less sudo. Otherwise says which command to run and fails.
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" = 0 ]; then
  sudo=()
elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
  sudo=(sudo -n)
else
  echo "talkingub: the HTML report tests need headless Chromium: sudo apt-get install chromium" >&2
  exit 1
fi
echo "talkingub: installing Debian's chromium for the HTML report tests" >&2
export DEBIAN_FRONTEND=noninteractive
if ! "${sudo[@]}" apt-get install -y -q --no-install-recommends chromium >/dev/null; then
  "${sudo[@]}" apt-get update -q >/dev/null
  "${sudo[@]}" apt-get install -y -q --no-install-recommends chromium >/dev/null
fi
command -v chromium >/dev/null
