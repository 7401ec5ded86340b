"""CPU learning proof: do FOMM and PTUS learn motion on a real build within a CPU budget?

Trains each method with the `small-cpu` protocol (`small` model configs, warm-up + cosine LR)
on a real build of peer videos and scores it on the **far-pairs** list: source and driving
frames at least 2 s apart in the held-back tails of the training clips (seen persons, unseen
frames, large motion; on consecutive frames copying the source is nearly unbeatable, so it
would prove nothing). Beside each trained model: the same model at step 0 (its initial
weights), `copy-source` (the source frame) and `copy-driving` (the driving frame, the bound).
All rows go through the bench's own training and evaluation code.

The build: the peer videos below, with the shipped Talking-UB recipe except where
`RECIPE_CHANGES` says (so that clips with motion, TED speakers, are kept at all; a learning
benchmark, not a dataset). Evaluation at the models' own resolution (`--size`, default the
small configs' 128 px), so upsampling is not counted against them.

    python -m benchmarks.learn_cpu [--steps 1500] [--methods fomm,ptus] [--work DIR]
        [--build DIR] [--results DIR]

Writes `learn_cpu.json` (schema: `RESULT_KEYS`) and `learn_cpu.png` (loss curves) into
`--results` (default benchmarks/results/). A CI test runs it for a few steps only.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import json
import time
from pathlib import Path
from typing import Any

from benchmarks.common import RESULTS, peer, write_result

# video id -> (peer file, split); identities are the video ids.
VIDEOS = {
    "ted-woman": ("mraa/sup-mat/driving.mp4", "train"),  # TED speaker gesturing, knees-up
    "presenter": ("video-retalking/examples/face/1.mp4", "train"),  # chest-up presenter
    "swalwell": ("video-retalking/examples/face/2.mp4", "test"),
    "aoc": ("video-retalking/examples/face/3.mp4", "test"),
}
# Changes to the shipped recipe, and why (a learning benchmark needs clips with motion).
RECIPE_CHANGES = {
    "filters.face_ratio_min": (0.2, "TED speakers (face/upper body ~0.25) are kept"),
    "filters.min_torso": (0.15, "head-and-shoulders test clips are kept (tests/support)"),
    "filters.max_upscale": (4.0, "the 256 px TED clips may be upscaled to the crop"),
    "split.train_fps": (10.0, "every frame of the 10 fps TED clips trains"),
}
RESULT_KEYS = ("protocol", "steps", "size", "build", "references", "methods", "figure")
METRICS = ("l1", "psnr")
TASK = "far"


def main(argv: list[str] | None = None) -> Path:
    args = _parse(argv)
    work = Path(args.work)
    build = Path(args.build) if args.build else build_peers(work / "build")
    protocol = learn_protocol(args.steps, tuple(args.methods.split(",")), args.size)
    start = time.perf_counter()
    trained = run_bench(build, work / "bench", protocol)
    initial = step_zero(build, work / "bench" / "eval_lists.json", work / "step0", protocol)
    results = Path(args.results)
    figure = plot_losses(work / "bench", protocol, results / "learn_cpu.png")
    payload = summarise(build, work, protocol, trained, initial, figure)
    payload["wall_s"] = round(time.perf_counter() - start, 1)
    path = write_result("learn_cpu", payload, results)
    print(json.dumps(payload["methods"], indent=2))
    return path


def _parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=None, help="default: the protocol's")
    parser.add_argument("--methods", default="fomm,ptus")
    parser.add_argument("--size", type=int, default=128, help="evaluation resolution")
    parser.add_argument("--work", default="out/learn_cpu", help="build, runs, evaluations")
    parser.add_argument("--build", default=None, help="an existing build (default: make one)")
    parser.add_argument("--results", default=str(RESULTS))
    return parser.parse_args(argv)


def build_peers(out: Path) -> Path:
    """Build VIDEOS with the shipped recipe plus RECIPE_CHANGES (reused when finished)."""
    from talkingub.config import from_dict, to_dict
    from talkingub.curate import BuildConfig, BuildRun, run
    from talkingub.fetch import FetchConfig

    if (out / "SHA256SUMS").is_file():
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    rows = ["video_id,url,identity,split"]
    rows += [f"{vid},{peer(path)},{vid},{split}" for vid, (path, split) in VIDEOS.items()]
    manifest = out.parent / "manifest.csv"
    manifest.write_text("\n".join(rows) + "\n")
    recipe = to_dict(BuildConfig())
    for dotted, (value, _why) in RECIPE_CHANGES.items():
        section, key = dotted.split(".")
        recipe[section][key] = value
    config = from_dict(BuildConfig, recipe, where="recipe")
    fetch = FetchConfig(manifest=manifest, out_dir=out, progress=False)
    run(BuildRun(out_dir=out, recipe=config, fetch=fetch, workers=2, progress=False))
    return out


def learn_protocol(steps: int | None, methods: tuple[str, ...], size: int) -> Any:
    """small-cpu, scoring the far-pairs list only (references on) at `size` px."""
    from talkingub.bench.protocol import load_protocol, with_schedule

    protocol = load_protocol("small-cpu", methods=methods)
    evaluation = dataclasses.replace(
        protocol.evaluation,
        lists=("far_pairs",),
        same_metrics=METRICS,
        cross_metrics=(),
        size=size,
        grid_videos=0,
    )
    protocol = dataclasses.replace(protocol, evaluation=evaluation)
    return with_schedule(protocol, steps=steps) if steps else protocol


def run_bench(build: Path, out: Path, protocol: Any) -> Any:
    """Train (resuming a killed run) and score every method and reference."""
    from talkingub.bench.runner import BenchRun, run_all

    resume = any(out.glob("*/seed-*/checkpoints/last.pt"))
    return run_all(BenchRun(build, out, protocol, device="cpu", resume=resume, progress=True))


def step_zero(build: Path, lists_file: Path, out: Path, protocol: Any) -> dict[str, Path]:
    """Each method's initial weights (the seed `bench train` starts from), scored on the
    same lists."""
    import torch

    from talkingub.bench import checkpoint as ckpt
    from talkingub.bench.evaluate import EvalJob, evaluate
    from talkingub.bench.lists import EvalLists
    from talkingub.bench.pretrained import model_config
    from talkingub.bench.runner import trained_methods
    from talkingub.config import to_dict
    from talkingub.models.registry import create_model

    lists = EvalLists.from_json(lists_file.read_text())
    summaries = {}
    for method in trained_methods(protocol):
        seed = protocol.seeds[0]
        torch.manual_seed(seed)  # as talkingub.bench.train._setup before create_model
        config = model_config(method, protocol)
        model = create_model(method, config)
        state = {"method": method, "variant": protocol.variant, "seed": seed, "step": 0}
        state.update(model_config=to_dict(config), model=model.state_dict())
        state["protocol"] = to_dict(protocol)
        weights = ckpt.save(out / method / "initial.pt", state)
        evaluation = protocol.evaluation
        folder = out / method / "eval"
        job = EvalJob(
            method, weights, build, folder, lists, evaluation, seed, "cpu", progress=False
        )
        summaries[method] = evaluate(job).summary
    return summaries


def totals(summary: Path) -> dict[str, float]:
    """{metric: value} of the far-pairs task in a summary.json."""
    rows = json.loads(summary.read_text())["totals"]
    return {r["metric"]: r["value"] for r in rows if r["task"] == TASK and r["metric"] in METRICS}


def loss_curve(run_dir: Path, name: str = "generator/total") -> list[tuple[int, float]]:
    with open(run_dir / "train_log.csv", newline="") as handle:
        rows = csv.DictReader(handle)
        return [(int(r["step"]), float(r["value"])) for r in rows if r["name"] == name]


def plot_losses(bench: Path, protocol: Any, path: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from talkingub.bench.runner import run_dir, trained_methods

    figure, axes = plt.subplots(figsize=(7, 4))
    for method in trained_methods(protocol):
        curve = loss_curve(run_dir(bench, method, protocol.seeds[0]))
        steps, values = zip(*curve, strict=True) if curve else ((), ())
        axes.plot(steps, values, label=method, linewidth=1.2)
    axes.set(xlabel="step", ylabel="generator loss (total)", yscale="log")
    axes.set_title(f"{protocol.name}: training loss on CPU")
    axes.legend()
    axes.grid(alpha=0.3)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)
    return path


def summarise(
    build: Path,
    work: Path,
    protocol: Any,
    trained: Any,
    initial: dict[str, Path],
    figure: Path,
) -> dict[str, Any]:
    from talkingub.bench.lists import EvalLists

    lists = EvalLists.from_json((work / "bench" / "eval_lists.json").read_text())
    scores = {r.method: totals(r.summary) for r in trained.evaluated}
    runs = {r.method: r for r in trained.trained}
    copy = scores.get("copy-source", {})
    methods = {}
    for method, run in runs.items():
        model = scores[method]
        methods[method] = {
            "steps": run.steps,
            "steps_per_s": round(run.steps_per_s, 3),
            "last_losses": run.last_losses,
            "step0": totals(initial[method]),
            "trained": model,
            "beats_copy_source": bool(copy and model["l1"] < copy["l1"]),
        }
    return {
        "protocol": {"name": protocol.name, "variant": protocol.variant, **_schedule(protocol)},
        "steps": protocol.schedule.steps,
        "size": protocol.evaluation.size,
        "build": {
            "path": build.name,  # the folder's name: a result file names no path of a machine
            "videos": kept_videos(build),
            "recipe_changes": {k: v for k, (v, _why) in RECIPE_CHANGES.items()},
            "far_pairs": len(lists.far),
            "far_frames": sum(len(item.driving_frames) for item in lists.far),
        },
        "references": {n: scores[n] for n in ("copy-source", "copy-driving") if n in scores},
        "methods": methods,
        "figure": figure.name,
    }


def kept_videos(build: Path) -> dict[str, str]:
    """video id -> split of the build's kept videos."""
    import pandas as pd

    videos = pd.read_parquet(build / "videos.parquet")
    kept = videos[videos["status"] == "kept"]
    return dict(zip(kept["video_id"], kept["split"], strict=True))


def _schedule(protocol: Any) -> dict[str, Any]:
    schedule = protocol.schedule
    return {k: getattr(schedule, k) for k in ("lr_schedule", "warmup_steps", "batch_size")}


if __name__ == "__main__":
    main()
