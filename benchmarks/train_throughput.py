"""Training and inference throughput per registered model.

CPU (this machine): each model's `tiny` config, batch 2, steps/s over timed steps after
warm-up, peak resident memory of a fresh process, and `reconstruct` ms/frame. On a CUDA
device the same script runs the `paper` configs with AMP (`--device cuda`).

    python -m benchmarks.train_throughput [--steps 5] [--models fomm,lia] [--device cpu]
"""

from __future__ import annotations

import argparse
import multiprocessing
import resource
import time
from typing import Any

from benchmarks.common import write_result


def batch_for(config: Any, batch: int, device: str) -> dict[str, Any]:
    from tests.unit.models.test_zoo import make_batch

    return {k: v.to(device) for k, v in make_batch(config, batch).items()}


def measure_model(name: str, variant: str, steps: int, device: str) -> dict[str, Any]:
    import torch

    torch.manual_seed(0)
    model = __import__("talkingub").create_model(name, variant).to(device)
    optimizers = {g: torch.optim.Adam(p, lr=1e-4) for g, p in model.parameter_groups().items()}
    data = batch_for(model.config, 2, device)
    model.train_step(data, optimizers)  # warm-up
    start = time.perf_counter()
    for _ in range(steps):
        model.train_step(data, optimizers)
    step_s = (time.perf_counter() - start) / steps
    return {
        "model": name,
        "variant": variant,
        "image_size": int(model.config.image_size),
        "batch": 2,
        "steps_per_s": 1 / step_s,
        **inference(model, data, device),
        "params_m": sum(p.numel() for p in model.parameters()) / 1e6,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def inference(model: Any, data: dict[str, Any], device: str, frames: int = 8) -> dict[str, float]:
    import torch

    model.eval()
    driving = torch.stack([data["driving"][:1]] * frames, dim=1)
    extra = {
        "source_face": data["source_face"][:1],
        "driving_face": torch.stack([data["driving_face"][:1]] * frames, dim=1),
        "source_face_box": data["source_face_box"][:1],
        "driving_face_box": torch.stack([data["driving_face_box"][:1]] * frames, dim=1),
    }
    with torch.no_grad():
        model.reconstruct(data["source"][:1], driving, **extra)
        start = time.perf_counter()
        model.reconstruct(data["source"][:1], driving, **extra)
    return {"reconstruct_ms_per_frame": (time.perf_counter() - start) * 1000 / frames}


def _child(args: tuple[str, str, int, str]) -> dict[str, Any]:
    import torch

    torch.set_num_threads(2)
    return measure_model(*args)


def main() -> None:
    from talkingub import list_models

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--models", default=",".join(list_models()))
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    variant = "paper" if args.device.startswith("cuda") else "tiny"
    rows = []
    context = multiprocessing.get_context("spawn")
    for name in args.models.split(","):
        with context.Pool(1) as pool:  # a fresh process per model: honest peak memory
            rows.append(pool.apply(_child, ((name, variant, args.steps, args.device),)))
        print(rows[-1])
    note = None
    if not args.device.startswith("cuda"):
        note = "CPU only: no GPU on this machine; paper/AMP/fp16 rows need --device cuda"
    device = args.device.split(":")[0]
    path = write_result(f"train_throughput_{device}", {"rows": rows, "note": note})
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
