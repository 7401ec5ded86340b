"""`talkingub bench` end to end on CPU: a tiny build of real peer clips -> tiny training of
PTUS and two baselines -> evaluation on the fixed lists -> tables; TensorBoard events that
hold the logged scalars; exact resume after SIGKILL; two torchrun (gloo) processes give the
metrics of one and train in lockstep; missing pretrained loss weights refuse, the explicit
opt-out trains and is recorded; training loads none of the build-only libraries; reference
rows (copy-source, copy-driving) in every table, equal to a numpy hand computation, scored
without a checkpoint; the far-pairs list respects its gap and the training holdout."""

from __future__ import annotations

import hashlib
import json
import math
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
import yaml
from click.testing import CliRunner

from talkingub.bench.checkpoint import load as load_checkpoint
from talkingub.bench.events import read_scalars
from talkingub.bench.leaderboard import aggregate_videos
from talkingub.bench.lists import EvalLists
from talkingub.bench.video import read_mp4
from talkingub.cli import main
from talkingub.errors import WeightsMissingError
from talkingub.presets import preset_path

pytestmark = pytest.mark.slow

METHODS = ("ptus", "fomm", "mraa")
REPO = Path(__file__).resolve().parents[2]


def _env() -> dict[str, str]:
    return {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO)}


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
    grids = sorted((out / "tables" / "grids").glob("*.mp4"))
    assert grids
    frames = read_mp4(grids[0])  # a label strip over source | driving | each method at 256
    assert frames.shape[1:] == (256 + 24, 256 * (2 + len(METHODS)), 3)
    assert frames[0, :24].min() < 128 < frames[0, :24].max()  # dark text on white


def test_the_html_leaderboard_opens_clean_with_every_grid_video(
    bench: tuple[Path, object], tmp_path: Path
) -> None:
    """OUT/report/leaderboard.html in headless Chromium (screenshot in tmp_path): no console
    error, the bar chart and every grid video load."""
    from tests.support.browser import check_page

    out, result = bench
    page = out / "report" / "leaderboard.html"
    assert result.tables.html == page  # type: ignore[attr-defined]
    text = page.read_text()
    assert all(f"<tr><td>{m}</td>" in text for m in METHODS)
    assert "<tr><td>copy-driving</td>" in text and "<td>26.610</td>" in text
    report = check_page(page, tmp_path / "leaderboard.png")
    report.assert_clean()
    assert report.n_videos == len(list((out / "tables" / "grids").glob("*.mp4"))) >= 1
    assert report.n_images >= 1


def test_table_numbers_are_finite_and_re_aggregate_from_per_video(
    bench: tuple[Path, object],
) -> None:
    out, _ = bench
    csv = pd.read_csv(out / "tables" / "leaderboard.csv")
    ours = csv[csv["block"] == "ours"]  # the methods; the reference rows are the other block
    assert set(ours["method"]) == set(METHODS)
    assert ours["mean"].map(math.isfinite).all(), csv
    evals = [*out.glob("*/seed-0/eval"), *out.glob("references/*/eval")]
    per_video = pd.concat(pd.read_parquet(p / "per_video.parquet") for p in evals)
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


def _assert_events_match_csv(run_dir: Path) -> None:
    """The event files hold exactly the scalars of train_log.csv (float32 in the events)."""
    log = pd.read_csv(run_dir / "train_log.csv")
    expected = {
        name: dict(zip(group["step"].astype(int), group["value"].astype(float)))
        for name, group in log.groupby("name")
    }
    events = {
        tag: series
        for tag, series in read_scalars(run_dir / "events").items()
        if not tag.startswith("eval/")  # the evaluation's file (checked on its own)
    }
    assert sorted(events) == sorted(expected)
    for name, series in expected.items():
        assert sorted(events[name]) == sorted(series), name
        for step, value in series.items():
            assert events[name][step] == pytest.approx(value, rel=1e-6, abs=1e-12), (name, step)


def test_training_writes_tensorboard_events_with_the_logged_scalars(
    bench: tuple[Path, object],
) -> None:
    out, _ = bench
    for method in METHODS:
        run_dir = out / method / "seed-0"
        _assert_events_match_csv(run_dir)
        tags = read_scalars(run_dir / "events")
        assert {"generator/total", "lr/generator"} <= set(tags)
        assert sorted(tags["generator/total"]) == [1, 2]  # log_every 1, two steps


def test_evaluation_scores_and_sample_images_open_in_tensorboard(
    bench: tuple[Path, object],
) -> None:
    """TensorBoard's own reader (the `bench` extra installs it) finds the training scalars,
    every finite list-wide score of summary.json at the final step, and the sample images."""
    from tensorboard.backend.event_processing.event_multiplexer import EventMultiplexer

    out, _ = bench
    run_dir = out / "fomm" / "seed-0"
    summary = json.loads((run_dir / "eval" / "summary.json").read_text())
    final = load_checkpoint(run_dir / "final.pt", torch.device("cpu"))
    multiplexer = EventMultiplexer().AddRunsFromDirectory(str(out))
    multiplexer.Reload()
    run = next(name for name in multiplexer.Runs() if name.startswith("fomm"))
    tags = multiplexer.Runs()[run]
    assert "generator/total" in tags["scalars"]
    scores = [r for r in summary["totals"] if r["value"] is not None]
    assert scores
    for row in scores:
        (event,) = multiplexer.Scalars(run, f"eval/{row['task']}/{row['metric']}")
        assert event.step == final["step"]
        assert event.value == pytest.approx(row["value"], rel=1e-5, abs=1e-7)
    images = [t for t in tags["images"] if t.startswith("eval/")]
    assert {"same", "cross"} <= {t.split("/")[1] for t in images}
    (image,) = multiplexer.Images(run, images[0])
    assert image.width == 3 * 64 and image.height > 3 * 64  # three columns, three rows + labels
    # the README's viewer command finds the same runs (its --inspect mode lists the tags)
    viewer = Path(sys.executable).parent / "tensorboard"
    cmd = [str(viewer), "--inspect", "--logdir", str(out)]
    shown = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=True)
    assert images[0] in shown.stdout and "generator/total" in shown.stdout


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
    (checkpoint.parent / ".tmp-0a1b2c3d-last.pt").touch()  # what a save killed early leaves
    resumed = _train(tiny_build, tmp_path / "killed", resume=True)
    assert resumed.wait(timeout=300) == 0 and reference.wait(timeout=300) == 0
    assert not [
        *checkpoint.parent.glob(".tmp-*-last.pt*"),
        *checkpoint.parent.parent.glob(".tmp-*-final.pt*"),
    ], "stale checkpoint temporaries left in the run folder"
    assert (tmp_path / "killed" / "final.pt.sha256").is_file()
    assert checkpoint.with_name("last.pt.sha256").is_file()
    expected, got = _losses(tmp_path / "reference"), _losses(tmp_path / "killed")
    assert got["step"].max() == 10
    pd.testing.assert_frame_equal(got, expected, check_exact=True)
    _assert_events_match_csv(tmp_path / "killed")  # rows after the checkpoint purged there too


TORCHRUN = (sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node")


TRANSPORT_STALLS = ("connectFullMesh", "Timed out", "timed out", "DistStoreError")


def _torchrun(cmd: list[str]) -> subprocess.CompletedProcess[str]:
    """Run a 2-process gloo job; a collective stuck past 120 s raises in the job itself.

    A launch that failed in gloo's pair handshake is tried once more (a deadlock or a
    mismatch fails both times). Most such failures here came from re-joining the process
    group within one process, fixed in `distributed.session` (3 of 10 two-process evals
    failed before, 0 of 10 after); the relaunch stays for handshakes on a loaded machine."""
    env = {
        **_env(),
        "GLOO_SOCKET_IFNAME": "lo",  # single host: gloo pairs on loopback
        "TALKINGUB_DIST_TIMEOUT": "120",
    }
    for attempt in range(2):
        try:
            done = subprocess.run(
                cmd, env=env, cwd=REPO, capture_output=True, text=True, timeout=240
            )
        except subprocess.TimeoutExpired as exc:
            if attempt:
                raise
            print(f"torchrun stalled ({exc}); launching once more")
            continue
        if done.returncode == 0 or attempt or not any(s in done.stderr for s in TRANSPORT_STALLS):
            return done
        print(f"torchrun transport stall; launching once more:\n{done.stderr[-1500:]}")
    return done


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
        *TORCHRUN,
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
    done = _torchrun(cmd)
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


DDP_TRAIN_SCRIPT = """
import json, sys
from pathlib import Path
import torch
from talkingub.bench import train as T
from talkingub.bench.protocol import load_protocol, with_schedule

build, run_dir = Path(sys.argv[1]), Path(sys.argv[2])
step_fn, finish_fn, losses = T._train_step, T._finish, []

def step(ctx, batch, index):  # record this process's losses
    out = step_fn(ctx, batch, index)
    losses.append(out)
    return out

def finish(ctx, *args):  # record this process's final parameters
    rank = ctx.info.rank
    params = {k: v.detach().clone() for k, v in ctx.model.named_parameters()}
    torch.save(params, run_dir / f"params-{rank}.pt")
    (run_dir / f"losses-{rank}.json").write_text(json.dumps(losses))
    return finish_fn(ctx, *args)

T._train_step, T._finish = step, finish
protocol = with_schedule(load_protocol("tiny-cpu", methods=("fomm",)), steps=2, batch_size=1)
T.train(T.TrainJob("fomm", build, run_dir, protocol, device="cpu", progress=False))
"""


def test_two_gloo_processes_train_in_lockstep(tiny_build: Path, tmp_path: Path) -> None:
    """Each process draws its own batch; averaged gradients keep the weights identical. The
    first step of rank 0 sees the weights and the sample of a one-process run."""
    script = tmp_path / "ddp_train.py"
    script.write_text(DDP_TRAIN_SCRIPT)
    runs = {}
    for world in (1, 2):
        runs[world] = tmp_path / f"world-{world}"
        runs[world].mkdir()
        done = _torchrun([*TORCHRUN, str(world), str(script), str(tiny_build), str(runs[world])])
        assert done.returncode == 0, done.stderr[-3000:]
    rank0, rank1 = (torch.load(runs[2] / f"params-{r}.pt") for r in (0, 1))
    single = torch.load(runs[1] / "params-0.pt")
    assert rank0.keys() == rank1.keys() == single.keys()
    assert all(torch.equal(rank0[k], rank1[k]) for k in rank0), "ranks drifted apart"
    assert not all(torch.equal(rank0[k], single[k]) for k in rank0), "rank 1 had no effect"
    losses = {r: json.loads((runs[2] / f"losses-{r}.json").read_text()) for r in (0, 1)}
    one = json.loads((runs[1] / "losses-0.json").read_text())
    assert len(losses[0]) == len(losses[1]) == len(one) == 2
    assert losses[0][0] == one[0]  # same initial weights, same first sample
    assert losses[1][0]["generator/total"] != losses[0][0]["generator/total"]  # other batch
    logged = _losses(runs[2])
    for step, row in enumerate(losses[0], start=1):  # the CSV holds rank 0's values
        got = logged[(logged["step"] == step) & ~logged["name"].str.startswith("lr/")]
        assert dict(zip(got["name"], got["value"])) == pytest.approx(row, rel=1e-12)
    assert json.loads((runs[2] / "train.json").read_text())["world"] == 2


def _paper_like_osfv(folder: Path) -> Path:
    """A protocol training OSFV's tiny network with the paper's pretrained loss teachers."""
    config = yaml.safe_load(
        (REPO / "talkingub" / "zoo" / "osfv" / "configs" / "tiny.yaml").read_text()
    )
    config.update(perceptual="pretrained", head_pose_loss=True)
    variant = folder / "osfv-paper-like.yaml"
    variant.write_text(yaml.safe_dump(config))
    protocol = yaml.safe_load(preset_path("protocols", "tiny-cpu").read_text())
    protocol.update(variant=str(variant), methods=["osfv"])
    path = folder / "protocol.yaml"
    path.write_text(yaml.safe_dump(protocol))
    return path


def test_missing_teacher_weights_refuse_and_the_opt_out_trains_and_is_recorded(
    tiny_build: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TALKINGUB_WEIGHTS", str(tmp_path / "no-weights"))
    out = tmp_path / "bench"
    args = ["bench", "train", str(tiny_build), "-o", str(out), "--protocol"]
    args += [str(_paper_like_osfv(tmp_path)), "--steps", "2", "--device", "cpu", "--no-progress"]
    refused = CliRunner().invoke(main, args)
    assert refused.exit_code == WeightsMissingError.exit_code, refused.output
    assert "run `talkingub weights fetch vgg19 hopenet`" in refused.output
    assert not (out / "osfv").exists()

    trained = CliRunner().invoke(main, [*args, "--without-pretrained-losses"])
    assert trained.exit_code == 0, trained.output
    run_dir = out / "osfv" / "seed-0"
    record = json.loads((run_dir / "run.json").read_text())
    assert record["without_pretrained_losses"] is True
    assert record["protocol"]["without_pretrained_losses"] is True
    assert record["dropped_loss_terms"] == ["perceptual", "head_pose"]
    assert (record["model_config"]["perceptual"], record["model_config"]["head_pose_loss"]) == (
        "off",
        False,
    )
    final = torch.load(run_dir / "final.pt", weights_only=True)  # plain data only
    assert final["model_config"] == record["model_config"]
    names = set(pd.read_csv(run_dir / "train_log.csv")["name"])
    assert "generator/total" in names
    assert not {"generator/perceptual", "generator/head_pose"} & names


LEAN_TRAIN_SCRIPT = """
import json, sys
from talkingub.cli import main
args = ["bench", "train", sys.argv[1], "-o", sys.argv[2], "--methods", "fomm", "--steps", "1",
        "--device", "cpu", "--no-progress"]
main.main(args, prog_name="talkingub", standalone_mode=False)
tops = {m.split(".")[0] for m in sys.modules}
print(json.dumps(sorted(tops | ({"talkingub.zoo"} & set(sys.modules)))))
"""


def test_bench_train_loads_no_build_only_library(tiny_build: Path, tmp_path: Path) -> None:
    cmd = [sys.executable, "-c", LEAN_TRAIN_SCRIPT, str(tiny_build), str(tmp_path / "bench")]
    done = subprocess.run(cmd, env=_env(), cwd=REPO, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    loaded = set(json.loads(done.stdout.strip().splitlines()[-1]))
    assert {"torch", "tensorboardX", "talkingub.zoo"} <= loaded  # it did train and log
    assert loaded.isdisjoint({"mediapipe", "dlib", "yt_dlp", "scenedetect"}), loaded
    assert (tmp_path / "bench" / "fomm" / "seed-0" / "final.pt").is_file()


def test_gpu_bench_script_runs_at_cpu_scale(tiny_build: Path, tmp_path: Path) -> None:
    """benchmarks.bench_gpu (the prepared GPU measurement) through its own CLI, tiny on CPU:
    a JSON row per method with finite speed, memory and inference figures."""
    from benchmarks.bench_gpu import main as bench_gpu

    args = ["run", str(tiny_build), "--device", "cpu", "--variant", "tiny", "--steps", "2"]
    path = bench_gpu([*args, "--methods", "fomm,lia", "--results", str(tmp_path)])
    assert path is not None and path.parent == tmp_path
    payload = json.loads(path.read_text())
    assert [r["method"] for r in payload["rows"]] == ["fomm", "lia"]
    for row in payload["rows"]:
        assert row["steps"] == 2 and row["device"].startswith("cpu")
        for key in ("steps_per_s", "peak_memory_mb", "inference_ms_per_frame", "params_m"):
            assert math.isfinite(row[key]) and row[key] > 0, key


# --- reference rows and far pairs (issue 16) -----------------------------------------------


def _decoded(build: Path, clip_id: str) -> np.ndarray:
    """Every frame of a kept clip, read from its shard with tarfile + PyAV (not the bench's
    reader): uint8 [T, H, W, 3]."""
    import io
    import tarfile

    import av

    for shard in sorted((build / "shards").glob("*.tar")):
        with tarfile.open(shard) as tar:
            if f"{clip_id}.mp4" in tar.getnames():
                handle = tar.extractfile(f"{clip_id}.mp4")
                assert handle is not None
                data = handle.read()
                with av.open(io.BytesIO(data), mode="r") as container:
                    return np.stack(
                        [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]
                    )
    raise AssertionError(f"{clip_id} in no shard")


def _values(folder: Path) -> pd.Series:
    table = pd.read_parquet(folder / "per_video.parquet")
    return table.set_index(["task", "item", "metric"])["value"]


def test_reference_rows_are_in_every_table_and_the_bar_chart(bench: tuple[Path, object]) -> None:
    out, result = bench
    md = result.table_path.read_text()  # type: ignore[attr-defined]
    ours, references = md.split("## Published")[0].split("### References (not ranked)")
    assert all(f"| {m} |" in ours for m in METHODS) and "copy-" not in ours
    assert "| copy-source |" in references and "| copy-driving |" in references
    assert "**" not in references  # never ranked
    tex = (out / "tables" / "leaderboard.tex").read_text()
    block = tex.split(r"\emph{References (not ranked)}")[1].split(r"\bottomrule")[0]
    assert "copy-source &" in block and "copy-driving &" in block
    csv = pd.read_csv(out / "tables" / "leaderboard.csv")
    refs = csv[csv["block"] == "references"]
    assert list(dict.fromkeys(refs["method"])) == ["copy-source", "copy-driving"]
    assert {"same", "same_excl0", "cross"} <= set(refs["task"])  # every table's columns
    copy = refs[refs["method"] == "copy-driving"].set_index(["task", "metric"])["mean"]
    assert copy[("same", "l1")] == 0 and copy[("same_excl0", "l1")] == 0  # the bound
    for name in ("copy-source", "copy-driving"):  # no checkpoint, no training, no videos
        assert not (out / name).exists()
        assert not (out / "references" / name / "eval" / "videos").exists()
    assert (out / "tables" / "bars.png").stat().st_size > 1000


def test_reference_scores_equal_a_numpy_hand_computation(
    bench: tuple[Path, object], tiny_build: Path
) -> None:
    """copy-source on a real clip: L1 = mean |source - driving| of the decoded [0, 1] frames,
    PSNR (w/o frame 0) the mean of -10 log10(MSE) per frame; copy-driving: L1 0."""
    out, _ = bench
    lists = EvalLists.from_json((out / "eval_lists.json").read_text())
    item = lists.same[0]
    frames = _decoded(tiny_build, item.clip_id).astype(np.float64) / 255
    assert frames.shape[1:3] == (256, 256)  # the evaluation size: no resizing to mirror
    source, driving = frames[item.source_frame], frames[list(item.driving_frames)]
    got = _values(out / "references" / "copy-source" / "eval")
    assert got[("same", item.item, "l1")] == pytest.approx(np.abs(driving - source).mean())
    rest = driving[1:]
    assert got[("same_excl0", item.item, "l1")] == pytest.approx(np.abs(rest - source).mean())
    mse = ((rest - source) ** 2).mean(axis=(1, 2, 3))
    assert got[("same_excl0", item.item, "psnr")] == pytest.approx(np.mean(-10 * np.log10(mse)))
    exact = _values(out / "references" / "copy-driving" / "eval")
    assert exact[("same", item.item, "l1")] == 0 and exact[("same_excl0", item.item, "l1")] == 0


def _far_protocol(folder: Path) -> Path:
    protocol = yaml.safe_load(preset_path("protocols", "tiny-cpu").read_text())
    protocol["evaluation"]["lists"] = ["same", "cross", "far_pairs"]
    path = folder / "far.yaml"
    path.write_text(yaml.safe_dump(protocol))
    return path


def test_bench_eval_of_a_reference_needs_no_checkpoint_and_scores_far_pairs(
    tiny_build: Path, tmp_path: Path
) -> None:
    from talkingub.bench.data import BuildIndex, ClipStore, PairDataset, PairSpec
    from talkingub.bench.holdout import TRAIN_HOLDOUT, training_holdout
    from talkingub.bench.protocol import AugmentConfig, load_protocol

    out = tmp_path / "bench"
    where = [str(tiny_build), "-o", str(out), "--protocol", str(_far_protocol(tmp_path))]
    where += ["--methods", "copy-source"]
    args = [*where, "--no-references"]  # the protocol's references off: copy-source alone
    trained = CliRunner().invoke(main, ["bench", "train", *where, "--device", "cpu"])
    assert trained.exit_code == 0, trained.output
    assert trained.output.strip().splitlines() == [
        "copy-source: a reference row, nothing to train (`talkingub bench eval` scores it)"
    ]
    done = CliRunner().invoke(main, ["bench", "eval", *args, "--device", "cpu", "--no-progress"])
    assert done.exit_code == 0, done.output
    assert not list(out.rglob("*.pt"))
    assert sorted(p.name for p in (out / "references").iterdir()) == ["copy-source"]
    table = CliRunner().invoke(main, ["bench", "table", *args])
    assert table.exit_code == 0, table.output
    assert "| copy-source |" in table.output.split("### References (not ranked)")[1]
    assert "far pairs L1" in table.output

    # the far pairs: held-back frames of the training clip, >= 2 s apart, with their times
    lists = EvalLists.from_json((out / "eval_lists.json").read_text())
    index = BuildIndex(tiny_build)
    assert lists.far and lists.params["far_pairs"]["min_gap_s"] == 2.0
    got = _values(out / "references" / "copy-source" / "eval")
    for item in lists.far:
        record = index.clips[item.clip_id]
        assert record.split == "train"
        held = set(TRAIN_HOLDOUT.held_back(record))
        assert {item.source_frame, *item.driving_frames} <= held
        fps = float(record.meta["fps"])
        assert item.source_time == pytest.approx(item.source_frame / fps, abs=1e-4)
        for frame, seconds in zip(item.driving_frames, item.driving_times, strict=True):
            assert seconds == pytest.approx(frame / fps, abs=1e-4)
            assert abs(frame - item.source_frame) / fps >= 2.0
        frames = _decoded(tiny_build, item.clip_id).astype(np.float64) / 255
        source, driving = frames[item.source_frame], frames[list(item.driving_frames)]
        assert got[("far", item.item, "l1")] == pytest.approx(np.abs(driving - source).mean())

    # the training loader never draws a held-back frame of the real build
    drawn: list[tuple[str, int]] = []

    class Recording(ClipStore):
        def frames(self, clip_id: str, indices: list[int]) -> np.ndarray:
            drawn.extend((clip_id, f) for f in indices)
            return super().frames(clip_id, indices)

    protocol = load_protocol(_far_protocol(tmp_path))
    holdout = training_holdout(protocol.evaluation.lists)  # what bench train passes
    assert holdout == TRAIN_HOLDOUT
    spec = PairSpec(64, None, AugmentConfig(), 0)
    dataset = PairDataset(Recording(index), spec, length=40, holdout=holdout)
    for i in range(len(dataset)):
        dataset[i]
    far = {(i.clip_id, f) for i in lists.far for f in (i.source_frame, *i.driving_frames)}
    assert drawn and not set(drawn) & far
    assert all(f not in TRAIN_HOLDOUT.held_back(index.clips[c]) for c, f in drawn)


# --- published weights, zero-shot (issue 21, item 3) --------------------------------------


def _official_fomm(folder: Path) -> tuple[Path, Path]:
    """A tiny FOMM checkpoint written in the official layout (random values) and its import
    by `talkingub weights import` (`import_official`): (official file, bench-format weights)."""
    from talkingub.bench.official import import_official
    from talkingub.config import load_yaml
    from talkingub.models.registry import load_model_config, model_spec
    from tests.support.official_files import write_official

    data = load_yaml(model_spec("fomm").config_path("tiny"))
    data.pop("sources", None)
    file = folder / "vox-cpk.pth.tar"
    write_official(file, "fomm", load_model_config("fomm", data))
    return file, import_official("fomm", file, "vox", folder / "fomm-vox.pt", config=data)


def _published_weights(path: Path, method: str, file: str) -> Path:
    """A bench-format checkpoint as an import writes one, for a model with no official
    layout here: a randomly initialised tiny model with the keys `load_model_weights` reads
    and a `source` record."""
    from talkingub.bench.checkpoint import save
    from talkingub.config import to_dict
    from talkingub.models.registry import create_model

    torch.manual_seed(0)
    model = create_model(method, "tiny")
    source = {"file": file, "sha256": "0" * 64, "layout": "official"}
    state = {"method": method, "variant": "tiny", "model_config": to_dict(model.config)}
    return save(path, {**state, "model": model.state_dict(), "step": 0, "source": source})


def test_published_weights_are_evaluated_zero_shot_and_tabled_apart(
    bench: tuple[Path, object], tiny_build: Path, tmp_path: Path
) -> None:
    """`bench eval --pretrained` on the trained runs' lists without training them again (their
    evaluations copied, no checkpoint), then `bench table`: the trained methods' table is the
    one written without the published weights, which form a block of their own. LivePortrait
    gets the build's face boxes, animates the face crop and pastes it into the full frame."""
    from talkingub.bench.build_ref import BuildRef

    out, result = bench
    copy = tmp_path / "bench"
    for method in METHODS:  # evaluations only: evaluating a trained method would need final.pt
        shutil.copytree(out / method / "seed-0" / "eval", copy / method / "seed-0" / "eval")
    shutil.copytree(out / "references", copy / "references")  # reused: same lists and build
    shutil.copy(out / "eval_lists.json", copy / "eval_lists.json")
    (tmp_path / "w").mkdir()
    official, weights = _official_fomm(tmp_path / "w")
    portrait = _published_weights(tmp_path / "w" / "lp.pt", "liveportrait", "liveportrait/")
    where = [str(tiny_build), "-o", str(copy), "--no-progress"]
    args = ["bench", "eval", *where, "--device", "cpu", "--pretrained", f"fomm-vox={weights}"]
    args += ["--pretrained", f"liveportrait-random={portrait}"]
    done = CliRunner().invoke(main, args)
    assert done.exit_code == 0, done.output
    assert f"fomm-vox zero-shot: {copy / 'pretrained' / 'fomm-vox' / 'eval'}" in done.output
    assert "seed 0" not in done.output  # no trained method without --methods
    folder = copy / "pretrained" / "fomm-vox" / "eval"
    summary = json.loads((folder / "summary.json").read_text())
    assert (summary["track"], summary["model"]) == ("zero-shot", "fomm")
    assert summary["source"]["file"] == "vox-cpk.pth.tar" and summary["trained_on"] is None
    assert summary["source"]["sha256"] == hashlib.sha256(official.read_bytes()).hexdigest()
    assert summary["build"] == BuildRef.from_build(tiny_build).to_dict()
    per_video = pd.read_parquet(folder / "per_video.parquet")
    assert set(per_video["method"]) == {"fomm-vox"} and {"same", "cross"} <= set(per_video["task"])
    lists = EvalLists.from_json((copy / "eval_lists.json").read_text())
    assert read_mp4(folder / "videos" / "same" / f"{lists.same[0].item}.mp4").shape[1:3] == (64, 64)
    portrait_eval = copy / "pretrained" / "liveportrait-random" / "eval"
    assert json.loads((portrait_eval / "summary.json").read_text())["model"] == "liveportrait"
    assert (portrait_eval / "videos" / "cross").is_dir()

    table = CliRunner().invoke(main, ["bench", "table", *where, "--methods", ",".join(METHODS)])
    assert table.exit_code == 0, table.output
    md = (copy / "tables" / "leaderboard.md").read_text()
    before = result.table_path.read_text()  # type: ignore[attr-defined]
    assert md.split("### References")[0] == before.split("### References")[0]  # same ranking
    zero = md.split("### Zero-shot: published weights")[1].split("## Published (PTUS paper)")[0]
    assert "| published weights, zero-shot |" in zero and "| fomm-vox |" in zero
    assert "| liveportrait-random |" in zero
    assert "fomm (vox-cpk.pth.tar)" in zero and "**" not in zero
    assert "Zero-shot: published weights" in table.output  # the terminal shows the block
    csv = pd.read_csv(copy / "tables" / "leaderboard.csv")
    assert set(csv[csv["method"] == "fomm-vox"]["track"]) == {"zero-shot"}
    assert set(csv[csv["method"].isin(METHODS)]["track"]) == {"one-shot"}  # their own track
    page = (copy / "report" / "leaderboard.html").read_text()
    assert "<td>fomm-vox</td>" in page.split('id="zero-shot"')[1]
