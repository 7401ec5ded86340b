"""What a training run reports while it runs: the long-format CSV (`train_log.csv`: step,
name, value, seconds) and TensorBoard event files (`events/`, through
`talkingub.bench.events`) with the same scalars, and a rich progress bar with it/s and ETA."""

from __future__ import annotations

import contextlib
import csv
import io
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import torch

from talkingub.bench.events import open_writer
from talkingub.io.atomic import atomic_write_text


class TrainLogger:
    """`train_log.csv` (step, name, value, seconds) and TensorBoard events (`events/`), the
    same scalars in both, every `log_every` steps and at step 1; a resumed run drops what was
    logged after its checkpoint."""

    def __init__(self, run_dir: Path, enabled: bool, keep_until: int, log_every: int) -> None:
        self.enabled, self.path = enabled, run_dir / "train_log.csv"
        self.log_every = log_every
        self.start = time.perf_counter()
        self.writer: Any = None
        if not enabled:
            return
        run_dir.mkdir(parents=True, exist_ok=True)
        truncate_csv(self.path, keep_until)
        self.writer = open_writer(run_dir / "events", keep_until + 1 if keep_until else None)

    def log(
        self, step: int, losses: dict[str, float], optimizers: dict[str, torch.optim.Optimizer]
    ) -> None:
        if not self.enabled or (step % self.log_every and step != 1):
            return
        rows = dict(losses)
        rows.update({f"lr/{g}": o.param_groups[0]["lr"] for g, o in optimizers.items()})
        seconds = time.perf_counter() - self.start
        new = not self.path.is_file()
        with open(self.path, "a", newline="") as handle:
            out = csv.writer(handle)
            if new:
                out.writerow(["step", "name", "value", "seconds"])
            out.writerows([step, k, repr(v), f"{seconds:.3f}"] for k, v in sorted(rows.items()))
        if self.writer is not None:
            for key, value in sorted(rows.items()):
                self.writer.add_scalar(key, value, step)
            self.writer.flush()  # on disk with the CSV row, before any checkpoint

    def __enter__(self) -> TrainLogger:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.writer is not None:
            self.writer.close()


def truncate_csv(path: Path, keep_until: int) -> None:
    """Fresh run: start a new log. Resume: drop rows logged after the checkpoint."""
    if not path.is_file():
        return
    if not keep_until:
        path.unlink()
        return
    with open(path, newline="") as handle:
        rows = list(csv.reader(handle))
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows[:1] + [r for r in rows[1:] if int(r[0]) <= keep_until])
    atomic_write_text(path, buffer.getvalue())


@contextlib.contextmanager
def progress_bar(
    title: str | None, steps: int, done: int
) -> Iterator[Callable[[dict[str, float]], None]]:
    """`advance(losses)` after each step; `title` None: no bar (another process, or off)."""
    if title is None:
        yield lambda losses: None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn

    from talkingub.progress import EtaColumn, ProgressBars

    columns = (
        TextColumn(title),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]} it/s"),
        TimeElapsedColumn(),
        EtaColumn(),
        TextColumn("{task.fields[loss]}"),
    )
    with ProgressBars(*columns) as bars:  # on stderr, as every bar
        bar = bars.progress
        task = bar.add_task("train", total=steps, completed=done, rate="-", loss="")
        start = time.perf_counter()

        def advance(losses: dict[str, float]) -> None:
            bar.advance(task)
            ran = bar.tasks[task].completed - done
            rate = ran / max(time.perf_counter() - start, 1e-9)
            total = losses.get("generator/total", float("nan"))
            bar.update(task, rate=f"{rate:.2f}", loss=f"G {total:.4f}")

        yield advance
