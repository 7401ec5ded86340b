"""`benchmarks/reproduce_published.py` (issue 21, item 4) at CPU scale: tiny randomly
initialised FOMM / TPSMM checkpoints on a generated test folder (a video and a frame folder,
a few frames each). L1 follows reconstruction.py (first frame as source, every frame driven,
float prediction) and equals a hand computation; every published number printed carries its
citation; a metric the protocol needs but talkingub cannot measure is n/a with the reason."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from benchmarks.reproduce_published import main
from benchmarks.reproduce_sources import PUBLISHED
from talkingub.bench.checkpoint import load_model_weights, save
from talkingub.bench.video import write_mp4
from talkingub.config import to_dict
from talkingub.metrics.media import iter_frames, list_items
from talkingub.models.registry import create_model

SIZE = 64  # the tiny configs' image size


def _weights(folder: Path, method: str) -> Path:
    torch.manual_seed(0)
    model = create_model(method, "tiny")
    state = {"method": method, "variant": "tiny", "model_config": to_dict(model.config)}
    source = {"file": f"{method}-official.pth.tar", "sha256": "0" * 64}
    return save(
        folder / f"{method}.pt", {**state, "model": model.state_dict(), "step": 0, "source": source}
    )


@pytest.fixture
def test_folder(tmp_path: Path) -> Path:
    """Two test items: an mp4 of 4 frames and a folder of 3 PNG frames, a moving square."""
    from PIL import Image

    folder = tmp_path / "test"
    frames = np.full((4, SIZE, SIZE, 3), 90, np.uint8)
    for t in range(4):
        frames[t, 20:40, 10 + 4 * t : 30 + 4 * t] = (230, 180, 40)
    write_mp4(folder / "clip-a.mp4", frames, fps=25.0)
    (folder / "clip-b").mkdir()
    for t in range(3):
        Image.fromarray(frames[t][:, ::-1].copy()).save(folder / "clip-b" / f"{t:05d}.png")
    return folder


def _hand_l1(weights: Path, folder: Path) -> float:
    """mean over all frames of mean |reconstruct(frame 0, frame) - frame|, float in [0, 1]."""
    model, _ = load_model_weights(weights)
    errors = []
    for item in sorted(list_items(folder).values(), key=lambda i: i.name):
        video = torch.from_numpy(np.stack(list(iter_frames(item, SIZE)))).permute(0, 3, 1, 2) / 255
        with torch.no_grad():
            pred = model.reconstruct(video[:1], video[None])[0]
        errors += (pred - video).abs().mean(dim=(1, 2, 3)).tolist()
    return float(np.mean(errors))


def test_fomm_vox_l1_is_the_reconstruction_protocol_and_rows_cite_their_source(
    tmp_path: Path, test_folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    weights = _weights(tmp_path, "fomm")
    args = ["--method", "fomm", "--checkpoint", str(weights), "--dataset", "vox"]
    args += ["--test-folder", str(test_folder), "--chunk", "2", "--json", str(tmp_path / "r.json")]
    result = main([*args, "--metrics", "l1"])
    assert (result["videos"], result["frames"], result["image_size"]) == (2, 7, SIZE)
    [row] = result["rows"]
    assert row["ours"] == pytest.approx(_hand_l1(weights, test_folder), rel=1e-5)
    assert row["published"] is None and "no published value found" in row["citation"]
    printed = capsys.readouterr().out
    assert "| L1 |" in printed and "published protocol used 256" in printed
    assert (
        json.loads((tmp_path / "r.json").read_text())["source"]["file"] == "fomm-official.pth.tar"
    )

    result = main([*args, "--metrics", "akd,aed", "--max-videos", "1"])
    rows = {r["metric"]: r for r in result["rows"]}
    for metric in ("akd", "aed"):  # measured, or n/a with the reason (detector missing here)
        assert np.isfinite(rows[metric]["ours"]) or rows[metric]["note"]
        [published] = [p for p in PUBLISHED if (p.method, p.metric) == ("fomm", metric)]
        assert rows[metric]["published"] == published.value
        assert "issue #" in rows[metric]["citation"] and "NeurIPS 2019" in rows[metric]["citation"]


def test_tpsmm_ted_names_what_it_cannot_measure(tmp_path: Path, test_folder: Path) -> None:
    weights = _weights(tmp_path, "tpsmm")
    args = ["--method", "tpsmm", "--checkpoint", str(weights), "--dataset", "ted"]
    result = main([*args, "--test-folder", str(test_folder), "--metrics", "l1,aed"])
    rows = {r["metric"]: r for r in result["rows"]}
    assert np.isfinite(rows["l1"]["ours"]) and not np.isfinite(rows["aed"]["ours"])
    assert "re-identification" in rows["aed"]["note"]
    assert "Table 1" in rows["l1"]["citation"] and rows["l1"]["published"] is None
    with pytest.raises(SystemExit, match="holds 'tpsmm', not 'fomm'"):
        main(["--method", "fomm", *args[2:], "--test-folder", str(test_folder)])
