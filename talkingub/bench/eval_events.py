"""An evaluation's results in its training run's TensorBoard events: every list-wide metric as
a scalar `eval/<task>/<metric>` and, for the first items of each task, a sample image (rows:
the first, middle and last driving frame; columns: source image, driving frame, the model's
output) as `eval/<task>/<item>`, at the step the evaluated checkpoint was saved at. They land
in `<run>/events/` in a file of their own, beside the training scalars."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from talkingub.bench.data import BuildIndex, ClipStore
from talkingub.bench.events import EventLog, append_writer
from talkingub.bench.figures import label_strip
from talkingub.bench.lists import CrossItem, EvalLists, FarItem, SameItem
from talkingub.bench.video import read_mp4
from talkingub.metrics.media import resize

SAMPLES_PER_TASK = 3  # sample images per evaluated task


def log_evaluation(
    run_dir: Path,
    step: int,
    eval_dir: Path,
    build_dir: Path,
    lists: EvalLists,
    samples: int = SAMPLES_PER_TASK,
) -> Path:
    """Log `eval_dir`'s `summary.json` totals and sample images into `run_dir/events`; returns
    the event folder."""
    folder = run_dir / "events"
    log = append_writer(folder, "eval")
    try:
        for tag, value in eval_scalars(json.loads((eval_dir / "summary.json").read_text())):
            log.add_scalar(tag, value, step)
        store = ClipStore(BuildIndex(build_dir))
        _log_samples(log, store, eval_dir, lists, step, samples)
        log.flush()
    finally:
        log.close()
    return folder


def eval_scalars(summary: dict[str, Any]) -> list[tuple[str, float]]:
    """(`eval/<task>/<metric>`, value) of every finite list-wide value of a summary."""
    out = []
    for row in summary.get("totals", []):
        value = row.get("value")
        if isinstance(value, int | float) and math.isfinite(value):
            out.append((f"eval/{row['task']}/{row['metric']}", float(value)))
    if isinstance(summary.get("ms_per_frame"), int | float):
        out.append(("eval/ms_per_frame", float(summary["ms_per_frame"])))
    return out


def _log_samples(
    log: EventLog, store: ClipStore, eval_dir: Path, lists: EvalLists, step: int, count: int
) -> None:
    tasks: dict[str, tuple[SameItem | CrossItem | FarItem, ...]] = {
        "same": lists.same,
        "cross": lists.cross,
        "far": lists.far,
    }
    for task, items in tasks.items():
        shown = 0
        for item in items:
            video = eval_dir / "videos" / task / f"{item.item}.mp4"
            if shown >= count:
                break
            if video.is_file():
                log.add_image(f"eval/{task}/{item.item}", sample_image(item, store, video), step)
                shown += 1


def sample_image(item: SameItem | CrossItem | FarItem, store: ClipStore, video: Path) -> np.ndarray:
    """uint8 [H, W, 3]: a label strip, then one row per shown driving frame."""
    output = read_mp4(video)
    size = int(output.shape[1])
    frames = list(item.driving_frames)
    shown = sorted({0, len(frames) // 2, len(frames) - 1})
    source_clip = item.source_clip if isinstance(item, CrossItem) else item.clip_id
    source = resize(store.frames(source_clip, [item.source_frame])[0], size)
    driving = store.frames(item.clip_id, [frames[t] for t in shown])
    rows = [label_strip(["source", "driving", "output"], size)]
    for row, t in enumerate(shown):
        generated = output[min(t, len(output) - 1)]
        rows.append(np.concatenate([source, resize(driving[row], size), generated], axis=1))
    return np.concatenate(rows, axis=0)
