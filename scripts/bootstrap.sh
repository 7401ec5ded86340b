#!/usr/bin/env bash
# Create or reuse the local virtual environment with the pinned dependencies.
# Re-runs are instant: a stamp named after the hash of requirements.lock + pyproject.toml
# records a finished install. Works offline from the package registry alone.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV="${TALKINGUB_VENV:-.venv}"
PYTHON="${PYTHON:-python3}"
digest=$(cat requirements.lock pyproject.toml scripts/bootstrap.sh | sha256sum | cut -c1-16)
stamp="$VENV/.talkingub-install-$digest"
if [ -f "$stamp" ]; then
  exit 0
fi
echo "talkingub: installing pinned dependencies into $VENV (first run takes a few minutes)" >&2
[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
pip=("$VENV/bin/python" -m pip --disable-pip-version-check)
# setuptools is installed here too: the editable install below runs without build isolation
# (newer Pythons ship venvs without setuptools); >=77 reads pyproject's SPDX license string,
# <81 keeps pkg_resources, which TensorBoard 2.20 imports (see the bench extra in pyproject).
"${pip[@]}" install -q "pip>=24" "setuptools>=77,<81"
"${pip[@]}" install -q -r requirements.lock
# mediapipe pulls opencv-contrib-python and scenedetect pulls opencv-python: both unpack
# into one cv2/ folder, so reinstall the contrib variant last to leave a complete cv2.
contrib=$(grep -E '^opencv-contrib-python==' requirements.lock)
"${pip[@]}" install -q --force-reinstall --no-deps "$contrib"
"${pip[@]}" install -q --no-deps --no-build-isolation -e .
# yt-dlp looks for `ffmpeg` on PATH: expose imageio-ffmpeg's static binary inside the venv
# unless the system has one.
if ! command -v ffmpeg >/dev/null 2>&1; then
  ln -sf "$("$VENV/bin/python" -c 'import imageio_ffmpeg; print(imageio_ffmpeg.get_ffmpeg_exe())')" \
    "$VENV/bin/ffmpeg"
fi
rm -f "$VENV"/.talkingub-install-*
touch "$stamp"
echo "talkingub: environment ready ($VENV)" >&2
