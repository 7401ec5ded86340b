"""Reproduction check: imported FOMM / TPSMM checkpoints on a VoxCeleb or TED-talks test
folder under the original video-reconstruction protocol, our numbers beside the published
ones, each with where it was published.

    talkingub weights import fomm vox-cpk.pth.tar -o fomm-vox.pt
    python -m benchmarks.reproduce_published --method fomm --checkpoint fomm-vox.pt \\
        --dataset vox --test-folder data/vox-png/test --device cuda [--json result.json]

The test folder is the original one (AliaksandrSiarohin/video-preprocessing for VoxCeleb,
snap-research/articulated-animation for TED-talks): one item per test video, a video file
(.mp4, .mov, .avi, .mkv, .webm) or a folder of frames (.png, .jpg), the FOMM layout.

Protocol, as `reconstruction.py` of AliaksandrSiarohin/first-order-model@69c8901 and of
yoyo-nb/Thin-Plate-Spline-Motion-Model@0ec14f6 (read side by side): every frame of a test
video is generated from its first frame (source = frame 0, driving = each frame, frame 0
included) with the driving keypoints as they are (no relative motion; TPSMM with its
background motion), in float32 at the checkpoint's image size (256 vox, 384 ted; frames of
another size are resized). L1 = the mean over all frames of all videos of the mean |prediction
- frame| in [0, 1], from the float prediction (`loss_list` there). AKD / MKR / AED follow
AliaksandrSiarohin/pose-evaluation on the 8-bit frames, scored by `talkingub.metrics`:
- vox: AKD of 68 face landmarks (face-alignment's 2D-FAN there; `fan-2dfan4` here, after
  `talkingub weights fetch fan-2dfan4`), AED of identity embeddings (`preset="fomm"`: OpenFace
  there, dlib-128 here; see `talkingub.metrics.identity`).
- ted: AKD and MKR of body keypoints (OpenPose there; `rtmpose-m-body7` here), AED of a person
  re-identification network there, which talkingub has not: n/a.
A metric whose backend cannot run here is n/a with the reason. Detector substitutes make
AKD / AED comparable in kind, not to the digit; L1 needs no detector.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.reproduce_sources import NOT_FOUND, PUBLISHED, Published

DATASETS = ("vox", "ted")
METHODS = ("fomm", "tpsmm")
IMAGE_SIZE = {"vox": 256, "ted": 384}  # the official configs' frame_shape
# dataset -> the detector metrics of the original protocol and their options
DETECTOR_METRICS: dict[str, dict[str, dict[str, Any]]] = {
    "vox": {
        "akd": {"points": "face68", "backend": "fan-2dfan4"},
        "aed": {"preset": "fomm"},
    },
    "ted": {"akd": {"backend": "rtmpose-m-body7"}, "mkr": {"backend": "rtmpose-m-body7"}},
}
UNMEASURED = {
    ("ted", "aed"): "the original AED uses a person re-identification network "
    "(layumi/Person_reID_baseline_pytorch, pose-evaluation), which talkingub has not",
}


@dataclasses.dataclass
class Score:
    metric: str
    value: float
    note: str = ""


def _args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.reproduce_published",
        description="Imported FOMM/TPSMM weights on a VoxCeleb or TED test folder "
        "(original reconstruction protocol), beside the published numbers.",
    )
    parser.add_argument("--method", choices=METHODS, required=True)
    parser.add_argument("--checkpoint", type=Path, required=True, help="bench-format weights")
    parser.add_argument("--dataset", choices=DATASETS, required=True)
    parser.add_argument("--test-folder", type=Path, required=True)
    parser.add_argument("--device", default="cpu", help="cpu | cuda | cuda:N | mps")
    parser.add_argument("--metrics", default=None, help="comma-separated subset, e.g. l1")
    parser.add_argument("--max-videos", type=int, default=None, help="first N items (a check)")
    parser.add_argument("--chunk", type=int, default=16, help="frames generated at once")
    parser.add_argument("--json", type=Path, default=None, help="also write the result here")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    args = _args(argv)
    from talkingub.bench.checkpoint import load_model_weights
    from talkingub.metrics.media import list_items

    model, state = load_model_weights(args.checkpoint, args.device)
    if state.get("method") != args.method:
        raise SystemExit(f"{args.checkpoint} holds {state.get('method')!r}, not {args.method!r}")
    size = int(model.config.image_size)
    items = sorted(list_items(args.test_folder).values(), key=lambda item: item.name)
    items = items[: args.max_videos] if args.max_videos else items
    if not items:
        raise SystemExit(f"no test videos or frame folders in {args.test_folder}")
    names = _chosen(args)
    scores, frames = _evaluate(model, items, size, args, names)
    result = {
        "method": args.method,
        "dataset": args.dataset,
        "checkpoint": str(args.checkpoint),
        "source": state.get("source"),
        "image_size": size,
        "videos": len(items),
        "frames": frames,
        "rows": [_row(args.method, args.dataset, s) for s in scores],
    }
    if size != IMAGE_SIZE[args.dataset]:
        result["warning"] = (
            f"image size {size}, the published protocol used {IMAGE_SIZE[args.dataset]}"
        )
    print(render(result))
    if args.json is not None:
        args.json.write_text(json.dumps(_plain(result), indent=2) + "\n")
    return result


def _chosen(args: argparse.Namespace) -> tuple[str, ...]:
    known = (
        "l1",
        *DETECTOR_METRICS[args.dataset],
        *(m for d, m in UNMEASURED if d == args.dataset),
    )
    if args.metrics is None:
        return known
    chosen = tuple(m.strip() for m in args.metrics.split(",") if m.strip())
    unknown = [m for m in chosen if m not in known]
    if unknown:
        raise SystemExit(f"--metrics {unknown}: the {args.dataset} protocol has {list(known)}")
    return chosen


def _evaluate(
    model: Any, items: list[Any], size: int, args: argparse.Namespace, names: tuple[str, ...]
) -> tuple[list[Score], int]:
    """Reconstruct every item; L1 here, the detector metrics through `talkingub.metrics`."""
    from talkingub.metrics.media import iter_frames
    from talkingub.metrics.scoring import MetricScorer, contract_options

    options = DETECTOR_METRICS[args.dataset]
    detected = tuple(n for n in names if n in options)

    def chosen(name: str) -> dict[str, Any]:  # keypoints in the checkpoint's pixels
        scale = {"resolution": size} if name in ("akd", "mkr") else {}
        return contract_options(name, "frame", "skip", {**options[name], **scale})

    scorer = MetricScorer(detected, chosen, on_unavailable="na")
    l1: list[float] = []
    for index, item in enumerate(items):
        frames = np.stack(list(iter_frames(item, size)))
        pred, errors = reconstruct(model, frames, args.chunk)
        l1 += errors
        if detected:
            scorer.update(index, pred, {"driving": frames})
    scores = [Score("l1", float(np.mean(l1)))] if "l1" in names else []
    for result in scorer.results() if detected else []:
        value, note = float(result.value), result.note or ""
        if math.isnan(value) and not note:
            note = f"no frame scored: {result.frames} frames with detections in both"
        scores.append(Score(result.name, value, note))
    for name in names:
        if (args.dataset, name) in UNMEASURED:
            scores.append(Score(name, math.nan, UNMEASURED[(args.dataset, name)]))
    return sorted(scores, key=lambda s: names.index(s.metric)), len(l1)


def reconstruct(model: Any, frames: np.ndarray, chunk: int = 16) -> tuple[np.ndarray, list[float]]:
    """Every frame of one video from its first (reconstruction.py): uint8 [T, H, W, 3] and the
    per-frame L1 of the float prediction against the frame, in [0, 1]."""
    import torch

    device = next(model.parameters()).device
    video = torch.from_numpy(frames).permute(0, 3, 1, 2).float().div(255)
    source = video[:1].to(device)
    out, errors = [], []
    with torch.no_grad():
        for start in range(0, len(video), chunk):
            driving = video[start : start + chunk].to(device)
            pred = model.reconstruct(source, driving[None])[0].float()
            errors += (pred - driving).abs().mean(dim=(1, 2, 3)).tolist()
            out.append((pred.clamp(0, 1) * 255).round().byte().permute(0, 2, 3, 1).cpu())
    return torch.cat(out).numpy(), errors


def _row(method: str, dataset: str, score: Score) -> dict[str, Any]:
    published: Published | None = next(
        (
            p
            for p in PUBLISHED
            if (p.method, p.dataset, p.metric) == (method, dataset, score.metric)
        ),
        None,
    )
    row: dict[str, Any] = {"metric": score.metric, "ours": score.value, "note": score.note}
    if published is None:
        row["published"] = None
        row["citation"] = NOT_FOUND.get((method, dataset), "not found in the sources searched")
    else:
        row["published"], row["published_text"] = published.value, published.text
        row["citation"] = published.citation()
    return row


def render(result: dict[str, Any]) -> str:
    """The table printed: ours beside the published value, a citation per row."""
    lines = [
        f"{result['method']} on {result['dataset']}: {result['videos']} videos, "
        f"{result['frames']} frames at {result['image_size']} px (original reconstruction "
        "protocol)",
        "",
        "| metric | ours | published | citation |",
        "|---|---|---|---|",
    ]
    for row in result["rows"]:
        ours = "n/a" if math.isnan(row["ours"]) else f"{row['ours']:.4f}"
        if row["note"] and math.isnan(row["ours"]):
            ours += f" ({row['note']})"
        published = row.get("published_text") or "-"
        lines.append(f"| {row['metric'].upper()} | {ours} | {published} | {row['citation']} |")
    if "warning" in result:
        lines += ["", f"warning: {result['warning']}"]
    return "\n".join(lines)


def _plain(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


if __name__ == "__main__":
    main(sys.argv[1:])
