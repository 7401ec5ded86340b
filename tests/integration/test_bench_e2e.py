"""`talkingub bench` end to end on CPU: a tiny build of real peer clips -> tiny training of
PTUS and two baselines -> evaluation on the fixed lists -> tables; exact resume after SIGKILL;
two torchrun (gloo) processes give the metrics of one."""

from __future__ import annotations

import json
import math
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from talkingub.bench.lists import EvalLists
from talkingub.bench.tables import aggregate_videos

pytestmark = pytest.mark.slow

METHODS = ("ptus", "fomm", "mraa")
REPO = Path(__file__).resolve().parents[2]


def _env() -> dict[str, str]:
    return {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO)}


@pytest.fixture(scope="module")
def tiny_build(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from talkingub.build import BuildRun, run
    from talkingub.fetch import FetchConfig

    folder = tmp_path_factory.mktemp("bench-build")
    rows = ["video_id,url,identity,split"]
    for vid, fixture, split in (
        ("presenter", "presenter_chest_up_mp4", "train"),
        ("swalwell", "swalwell_mp4", "test"),
        ("aoc-wide", "aoc_wide_mp4", "test"),
    ):
        rows.append(f"{vid},{request.getfixturevalue(fixture)},{vid},{split}")
    manifest = folder / "manifest.csv"
    manifest.write_text("\n".join(rows) + "\n")
    out = folder / "out"
    fetch = FetchConfig(manifest=manifest, out_dir=out, progress=False)
    run(BuildRun(out_dir=out, fetch=fetch, workers=2, progress=False))
    return out


@pytest.fixture(scope="module")
def bench(tiny_build: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, object]:
    from talkingub.bench import run_tiny_bench

    out = tmp_path_factory.mktemp("bench") / "out"
    return out, run_tiny_bench(tiny_build, out, methods=METHODS, steps=2)


def test_tables_exist_and_list_every_method_and_metric(bench: tuple[Path, object]) -> None:
    from talkingub.bench.protocol import load_protocol

    out, result = bench
    protocol = load_protocol("tiny-cpu")
    md = result.table_path.read_text()  # type: ignore[attr-defined]
    tex = (out / "tables" / "leaderboard.tex").read_text()
    for method in METHODS:
        assert f"| {method} |" in md and method in tex
    for metric in {*protocol.evaluation.same_metrics, *protocol.evaluation.cross_metrics}:
        assert metric.upper() in md and metric.upper() in tex
    assert "Published (PTUS paper)" in md and "26.610" in md
    assert (out / "tables" / "bars.png").stat().st_size > 1000
    assert list((out / "tables" / "grids").glob("*.mp4"))


def test_table_numbers_are_finite_and_re_aggregate_from_per_video(
    bench: tuple[Path, object],
) -> None:
    out, _ = bench
    csv = pd.read_csv(out / "tables" / "leaderboard.csv")
    assert set(csv["method"]) == set(METHODS)
    assert csv["mean"].map(math.isfinite).all(), csv
    per_video = pd.concat(pd.read_parquet(p) for p in out.glob("*/seed-0/eval/per_video.parquet"))
    again = aggregate_videos(per_video).set_index(["method", "task", "metric"])["value"]
    for row in csv.itertuples():
        assert row.mean == pytest.approx(again[(row.method, row.task, row.metric)], rel=1e-9)
    for summary in out.glob("*/seed-0/eval/summary.json"):
        data = json.loads(summary.read_text())
        for total in data["totals"]:  # the list-wide torchmetrics value agrees too
            key = (data["method"], total["task"], total["metric"])
            assert total["value"] == pytest.approx(again[key], rel=1e-9)


def test_every_method_was_scored_on_the_same_cross_identity_list(
    bench: tuple[Path, object],
) -> None:
    out, _ = bench
    lists = EvalLists.from_json((out / "eval_lists.json").read_text())
    assert lists.cross and all(i.source_identity != i.identity for i in lists.cross)
    per_video = pd.concat(pd.read_parquet(p) for p in out.glob("*/seed-0/eval/per_video.parquet"))
    cross = per_video[per_video["task"] == "cross"]
    items = {m: sorted(set(g["item"])) for m, g in cross.groupby("method")}
    assert all(v == sorted(i.item for i in lists.cross) for v in items.values())
    assert (cross["source_identity"] != cross["identity"]).all()
    videos = sorted(
        p.name for p in (out / "fomm" / "seed-0" / "eval" / "videos" / "cross").iterdir()
    )
    assert videos == sorted(f"{i.item}.mp4" for i in lists.cross)


TRAIN_SCRIPT = """
import sys
from pathlib import Path
from talkingub.bench.protocol import load_protocol, with_schedule
from talkingub.bench.train import TrainJob, train
protocol = with_schedule(load_protocol("tiny-cpu", methods=("fomm",)), steps=10,
                         checkpoint_every=3, batch_size=1)
train(TrainJob("fomm", Path(sys.argv[1]), Path(sys.argv[2]), protocol,
               device="cpu", resume=sys.argv[3] == "1", progress=False))
"""


def _train(build: Path, run_dir: Path, resume: bool) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-c", TRAIN_SCRIPT, str(build), str(run_dir), "1" if resume else "0"]
    return subprocess.Popen(cmd, env=_env(), cwd=REPO)


def _losses(run_dir: Path) -> pd.DataFrame:
    log = pd.read_csv(run_dir / "train_log.csv")
    return log.drop(columns="seconds").sort_values(["step", "name"]).reset_index(drop=True)


def test_sigkill_after_a_checkpoint_then_resume_matches_an_uninterrupted_run(
    tiny_build: Path, tmp_path: Path
) -> None:
    reference = _train(tiny_build, tmp_path / "reference", resume=False)
    killed = _train(tiny_build, tmp_path / "killed", resume=False)
    checkpoint = tmp_path / "killed" / "checkpoints" / "last.pt"
    deadline = time.monotonic() + 240
    while not checkpoint.is_file() and killed.poll() is None and time.monotonic() < deadline:
        time.sleep(0.02)
    killed.send_signal(signal.SIGKILL)
    assert killed.wait() == -signal.SIGKILL
    assert not (tmp_path / "killed" / "final.pt").exists(), "run finished before the kill"
    resumed = _train(tiny_build, tmp_path / "killed", resume=True)
    assert resumed.wait(timeout=300) == 0 and reference.wait(timeout=300) == 0
    expected, got = _losses(tmp_path / "reference"), _losses(tmp_path / "killed")
    assert got["step"].max() == 10
    pd.testing.assert_frame_equal(got, expected, check_exact=True)


def test_two_gloo_processes_give_the_metrics_of_one(
    bench: tuple[Path, object], tiny_build: Path, tmp_path: Path
) -> None:
    out, _ = bench
    copy = tmp_path / "bench"
    shutil.copytree(
        out / "fomm", copy / "fomm", ignore=shutil.ignore_patterns("eval", "checkpoints")
    )
    shutil.copy(out / "eval_lists.json", copy / "eval_lists.json")
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc_per_node",
        "2",
        "-m",
        "talkingub",
        "bench",
        "eval",
        str(tiny_build),
        "-o",
        str(copy),
        "--methods",
        "fomm",
        "--device",
        "cpu",
        "--no-progress",
    ]
    env = {**_env(), "GLOO_SOCKET_IFNAME": "lo"}  # single host: gloo pairs on loopback
    done = subprocess.run(cmd, env=env, cwd=REPO, capture_output=True, text=True, timeout=400)
    if done.returncode != 0 and "connectFullMesh" in done.stderr:
        # gloo's pair handshake can time out on a loaded 2-core machine; that is the
        # transport, not the code under test, so the launch is tried once more.
        done = subprocess.run(cmd, env=env, cwd=REPO, capture_output=True, text=True, timeout=400)
    assert done.returncode == 0, done.stderr[-3000:]
    one = json.loads((out / "fomm" / "seed-0" / "eval" / "summary.json").read_text())
    two = json.loads((copy / "fomm" / "seed-0" / "eval" / "summary.json").read_text())
    assert two["world"] == 2 and one["world"] == 1
    assert [(t["task"], t["metric"]) for t in two["totals"]] == [
        (t["task"], t["metric"]) for t in one["totals"]
    ]
    for a, b in zip(one["totals"], two["totals"]):
        assert b["value"] == pytest.approx(a["value"], rel=1e-9) and b["frames"] == a["frames"]
    cols = ["task", "item", "metric", "value", "frames"]
    pv_one = pd.read_parquet(out / "fomm" / "seed-0" / "eval" / "per_video.parquet")[cols]
    pv_two = pd.read_parquet(copy / "fomm" / "seed-0" / "eval" / "per_video.parquet")[cols]
    pd.testing.assert_frame_equal(pv_one, pv_two, rtol=1e-9)
