"""Regenerate the README's upper-body calibration table from a build of the peer videos.

    .venv/bin/python scripts/calibrate_upper_body.py [--out out/peers-calibration] [--write]

Builds every peer video listed in tests/support/peers.py (from ../shared/data/peers, or
TALKINGUB_PEERS) with the default recipe (re-runs reuse the cached analyses), prints the table
(class -> torso extent, face ratio, share of frames with both shoulders in view, decision) and,
with --write, replaces the block between the README's calibration markers.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from talkingub.curate import BuildRun, run  # noqa: E402
from talkingub.fetch import FetchConfig  # noqa: E402
from tests.support import peers  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "out" / "peers-calibration")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--write", action="store_true", help="rewrite the README block")
    args = parser.parse_args()
    media = Path(os.environ.get("TALKINGUB_PEERS", REPO.parent / "shared" / "data" / "peers"))
    if not (media / "README.md").is_file():
        sys.exit(f"peer media not found at {media} (set TALKINGUB_PEERS)")
    args.out.mkdir(parents=True, exist_ok=True)
    manifest = peers.write_manifest(media, args.out / "peers.csv")
    fetch = FetchConfig(manifest=manifest, out_dir=args.out, progress=False)
    run(BuildRun(out_dir=args.out, fetch=fetch, workers=args.workers, progress=True))
    table = peers.markdown(peers.calibration_rows(args.out))
    print(table)
    if args.write:
        peers.replace_readme_block(REPO / "README.md", table)
        print("README.md calibration block rewritten", file=sys.stderr)


if __name__ == "__main__":
    main()
