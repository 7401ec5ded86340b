"""The bench at paper scale on a GPU: each method's `paper` config trained by the bench's own
loop (`talkingub.bench.runner.run_all`: AMP, channels-last, checkpoints) on a small real
Talking-UB build of the peer media, then evaluated on a slice of the same-identity list.
Recorded per method, with the device name: steps/s, peak memory, inference ms/frame,
parameters and any loss terms left out for missing teacher weights.

Two steps, so the GPU machine needs only the bench's lean dependencies:

    python -m benchmarks.bench_gpu prepare BUILD_DIR          # here, on CPU: real clips
    python -m benchmarks.bench_gpu run BUILD_DIR [--device cuda] [--steps 200]
        [--methods fomm,ptus] [--variant paper|tiny] [--out DIR]

`run` writes benchmarks/results/bench_<device>.json (or under `--results`); `--variant tiny
--device cpu` runs the same flow at CPU scale (what the test suite checks).
"""

from __future__ import annotations

import argparse
import dataclasses
import re
import tempfile
from pathlib import Path
from typing import Any

from benchmarks.common import RESULTS, peer, write_result

CLIPS = {  # video_id: (peer media, split) - chest-up / head-and-shoulders presenters
    "presenter": ("video-retalking/examples/face/1.mp4", "train"),
    "aoc-hdtf": ("sadtalker/examples/ref_video/WDA_AlexandriaOcasioCortez_000.mp4", "train"),
    "swalwell": ("video-retalking/examples/face/2.mp4", "test"),
    "aoc-wide": ("video-retalking/examples/face/3.mp4", "test"),
}
PROTOCOLS = {"paper": "paper-gpu", "tiny": "tiny-cpu"}


def prepare(build_dir: Path) -> Path:
    """A Talking-UB build (the default recipe) of the peer clips above, identity-split as
    listed; returns the build folder."""
    from talkingub.curate import BuildRun, run
    from talkingub.fetch import FetchConfig

    build_dir.mkdir(parents=True, exist_ok=True)
    rows = ["video_id,url,identity,split"]
    rows += [f"{vid},{peer(path)},{vid},{split}" for vid, (path, split) in CLIPS.items()]
    manifest = build_dir / "bench_gpu_manifest.csv"
    manifest.write_text("\n".join(rows) + "\n")
    fetch = FetchConfig(manifest=manifest, out_dir=build_dir, progress=False)
    run(BuildRun(out_dir=build_dir, fetch=fetch, workers=2, progress=True))
    return build_dir


def protocol_for(variant: str, methods: tuple[str, ...], steps: int) -> Any:
    from talkingub.bench.pretrained import without_missing_teachers
    from talkingub.bench.protocol import load_protocol, with_schedule

    protocol = load_protocol(PROTOCOLS[variant], methods=methods, seeds=(0,))
    protocol = with_schedule(protocol, steps=steps, checkpoint_every=steps, log_every=10)
    evaluation = dataclasses.replace(
        protocol.evaluation,
        same_metrics=("l1",),
        cross_metrics=(),
        max_frames=24,
        grid_videos=1,
        exclude_first_frame=False,
    )
    protocol = dataclasses.replace(protocol, evaluation=evaluation)
    return without_missing_teachers(methods, protocol)


def bench(build_dir: Path, out_dir: Path, protocol: Any, device: str) -> list[dict[str, Any]]:
    from talkingub.bench.pretrained import dropped_terms
    from talkingub.bench.runner import BenchRun, run_all

    result = run_all(BenchRun(build_dir, out_dir, protocol, device=device, progress=True))
    evaluated = {e.method: e for e in result.evaluated}
    rows = []
    for trained in result.trained:
        ev = evaluated[trained.method]
        rows.append(
            {
                "method": trained.method,
                "variant": protocol.variant,
                "device": trained.device,
                "steps": trained.steps,
                "steps_per_s": trained.steps_per_s,
                "peak_memory_mb": trained.peak_memory_mb,
                "inference_ms_per_frame": ev.ms_per_frame,
                "params_m": ev.params / 1e6,
                "amp": protocol.schedule.amp,
                "amp_dtype": protocol.schedule.amp_dtype,
                "dropped_loss_terms": dropped_terms(trained.method, protocol),
                "last_losses": trained.last_losses,
            }
        )
    return rows


def main(argv: list[str] | None = None) -> Path | None:
    parser = argparse.ArgumentParser(description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    prep = sub.add_parser("prepare", help="build the small real dataset (CPU)")
    prep.add_argument("build_dir", type=Path)
    go = sub.add_parser("run", help="train + evaluate every method, write the JSON")
    go.add_argument("build_dir", type=Path)
    go.add_argument("--device", default="cuda")
    go.add_argument("--steps", type=int, default=200)
    go.add_argument("--variant", choices=sorted(PROTOCOLS), default="paper")
    go.add_argument("--methods", default="fomm,mraa,tpsmm,lia,osfv,ptus,ptus-no-fbmd,ptus-no-lgmd")
    go.add_argument("--out", type=Path, default=None, help="bench output (default: a temp dir)")
    go.add_argument("--results", type=Path, default=RESULTS, help="folder of the JSON")
    args = parser.parse_args(argv)
    if args.command == "prepare":
        prepare(args.build_dir)
        return None
    return _run(args)


def _run(args: argparse.Namespace) -> Path:
    methods = tuple(m for m in args.methods.split(",") if m)
    protocol = protocol_for(args.variant, methods, args.steps)
    with tempfile.TemporaryDirectory() as tmp:
        rows = bench(args.build_dir, args.out or Path(tmp), protocol, args.device)
    device = re.sub(r"[^a-z0-9]+", "-", rows[0]["device"].lower()).strip("-")
    path = write_result(
        f"bench_{device}",
        {"protocol": protocol.name, "steps": args.steps, "rows": rows},
        args.results,
    )
    print_rows(rows)
    print(f"wrote {path}")
    return path


def print_rows(rows: list[dict[str, Any]]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"bench on {rows[0]['device']} ({rows[0]['variant']} configs)")
    for column in ("method", "steps/s", "peak MB", "ms/frame", "params (M)", "dropped terms"):
        table.add_column(column)
    for r in rows:
        table.add_row(
            r["method"],
            f"{r['steps_per_s']:.2f}",
            f"{r['peak_memory_mb']:.0f}",
            f"{r['inference_ms_per_frame']:.1f}",
            f"{r['params_m']:.1f}",
            ", ".join(r["dropped_loss_terms"]) or "-",
        )
    Console().print(table)


if __name__ == "__main__":
    main()
