"""Two processes (gloo, CPU) give the same results as one process on all the data."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from talkingub.metrics import (
    AverageKeypointDistance,
    CosineSimilarity,
    FrechetDistance,
    L1Distance,
)
from talkingub.vision import Embeddings, Keypoints


def data() -> dict[str, object]:
    rng = np.random.default_rng(7)
    pts_t = rng.uniform(0, 256, (12, 6, 2))
    pts_p = pts_t + rng.normal(0, 2, pts_t.shape)
    conf = rng.uniform(0, 1, (12, 6))
    vec_t, vec_p = rng.normal(size=(12, 8)), rng.normal(size=(12, 8))
    found = rng.uniform(size=12) > 0.2
    return {
        "pred": torch.from_numpy(rng.uniform(size=(12, 3, 16, 16))).float(),
        "target": torch.from_numpy(rng.uniform(size=(12, 3, 16, 16))).float(),
        "kp_p": Keypoints(pts_p, conf, np.ones(12, bool), (256, 256), "t", "1"),
        "kp_t": Keypoints(pts_t, conf[::-1].copy(), np.ones(12, bool), (256, 256), "t", "1"),
        "emb_p": Embeddings(np.where(found[:, None], vec_p, np.nan), found, "t", "1"),
        "emb_t": Embeddings(vec_t, np.ones(12, bool), "t", "1"),
        "feats": torch.from_numpy(rng.normal(size=(40, 5))),
        "video": torch.arange(12) // 3,
    }


def rows(x: object, idx: np.ndarray) -> object:
    if isinstance(x, Keypoints):
        return Keypoints(x.points[idx], x.confidence[idx], x.detected[idx], x.image_size, "t", "1")
    if isinstance(x, Embeddings):
        return Embeddings(x.vectors[idx], x.detected[idx], "t", "1")
    return x[torch.from_numpy(idx)]  # type: ignore[index]


def run_metrics(idx: np.ndarray, feat_idx: np.ndarray) -> dict[str, float]:
    d = data()
    metrics = {
        "l1": L1Distance(averaging="video"),
        "akd": AverageKeypointDistance(averaging="video"),
        "csim": CosineSimilarity(missing="penalise"),
    }
    video = rows(d["video"], idx)
    assert isinstance(video, torch.Tensor)
    metrics["l1"].update(rows(d["pred"], idx), rows(d["target"], idx), video=video)
    metrics["akd"].update(rows(d["kp_p"], idx), rows(d["kp_t"], idx), video=video)
    metrics["csim"].update(rows(d["emb_p"], idx), rows(d["emb_t"], idx))
    fd = FrechetDistance(torch.nn.Identity(), 5)
    feats = rows(d["feats"], feat_idx)
    fd.update(feats[::2], real=True)  # type: ignore[index]
    fd.update(feats[1::2], real=False)  # type: ignore[index]
    out = {name: float(m.compute()) for name, m in metrics.items()}
    out["csim_missing"] = float(metrics["csim"].result().missing_rate or 0)
    out["fd"] = float(fd.compute())
    return out


def worker(rank: int, port: int, out_dir: str) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    torch.set_num_threads(1)
    dist.init_process_group("gloo", rank=rank, world_size=2)
    # uneven shards: rank 0 gets 5 frames, rank 1 gets 7 (gather must handle it)
    idx = np.arange(5) if rank == 0 else np.arange(5, 12)
    feat_idx = np.arange(16) if rank == 0 else np.arange(16, 40)
    result = run_metrics(idx, feat_idx)
    Path(out_dir, f"{rank}.json").write_text(json.dumps(result))
    dist.destroy_process_group()


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.slow
def test_two_process_gloo_equals_single_process(tmp_path: Path) -> None:
    mp.spawn(worker, args=(free_port(), str(tmp_path)), nprocs=2, join=True)
    single = run_metrics(np.arange(12), np.arange(40))
    for rank in (0, 1):
        got = json.loads((tmp_path / f"{rank}.json").read_text())
        assert got.keys() == single.keys()
        for key, value in single.items():
            assert got[key] == pytest.approx(value, rel=1e-9), key
