"""Frames per second of the same-identity metric suite at 256x256 with the offline backends,
and where the cost goes (each metric alone, then the suite with detectors shared).

    python -m benchmarks.metrics_throughput [--frames 60]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks.common import peer, write_result

CLIP = "video-retalking/examples/face/1.mp4"
SUITE = ("l1", "psnr", "ssim", "akd", "mkr", "fld", "aed", "csim")


def make_folders(root: Path, frames: int) -> tuple[Path, Path]:
    import av
    from PIL import Image

    pred, target = root / "pred" / "clip", root / "target" / "clip"
    pred.mkdir(parents=True)
    target.mkdir(parents=True)
    with av.open(str(peer(CLIP))) as container:
        for i, frame in enumerate(container.decode(video=0)):
            if i >= frames:
                break
            image = np.asarray(frame.to_image().resize((256, 256)))
            Image.fromarray(image).save(target / f"{i:05d}.png")
            Image.fromarray(np.roll(image, 3, axis=(0, 1))).save(pred / f"{i:05d}.png")
    return pred.parent, target.parent


def timed(pred: Path, target: Path, metrics: tuple[str, ...]) -> tuple[float, int]:
    from talkingub.metrics import evaluate_folders

    start = time.perf_counter()
    evaluation = evaluate_folders(pred, target, metrics=metrics, size=256)
    return time.perf_counter() - start, evaluation.frames


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--frames", type=int, default=60)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        pred, target = make_folders(Path(tmp), args.frames)
        per_metric = {}
        for name in SUITE:
            seconds, frames = timed(pred, target, (name,))
            per_metric[name] = {"seconds": seconds, "frames_per_s": frames / seconds}
            print(f"{name:6s} {frames / seconds:8.1f} frames/s")
        seconds, frames = timed(pred, target, SUITE)
    suite = {"seconds": seconds, "frames": frames, "frames_per_s": frames / seconds}
    print(f"suite  {frames / seconds:8.1f} frames/s ({', '.join(SUITE)})")
    print(f"wrote {write_result('metrics_throughput', {'suite': suite, 'per_metric': per_metric})}")


if __name__ == "__main__":
    main()
