"""Training and inference throughput per registered model, through the bench's own step.

Each model trains with exactly the optimisation step `talkingub bench train` runs
(`talkingub.bench.train.harness_step`: autocast, GradScaler, channels-last, clipping, LR
schedulers), on synthetic batches of the model's input shapes, in a fresh process per model
(honest peak memory). Reported: steps/s over timed steps after warm-up, peak memory (CPU:
resident set; CUDA: peak allocated), and `reconstruct` ms/frame in fp32 and, on CUDA, fp16
(autocast).

CPU (this machine): the `tiny` configs under `talkingub/presets/protocols/tiny-cpu.yaml`, batch 2.
CUDA: the `paper` configs under `paper-gpu.yaml` (AMP as that protocol sets it), batch from
each model's config unless `--batch`; `--compile on|both` also times torch.compile'd loss and
reconstruct functions. Loss teachers whose weights are absent are left out (recorded).

    python -m benchmarks.train_throughput [--steps 5] [--models fomm,lia] [--device cuda]
        [--batch N] [--compile off|on|both]
"""

from __future__ import annotations

import argparse
import dataclasses
import multiprocessing
import resource
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.common import write_result


@dataclasses.dataclass(frozen=True)
class Setting:
    model: str
    device: str
    steps: int
    batch: int | None  # None: the model config's batch size
    compiled: bool


def protocol_for(setting: Setting) -> Any:
    from talkingub.bench.pretrained import without_missing_teachers
    from talkingub.bench.protocol import load_protocol, with_schedule

    cuda = setting.device.startswith("cuda")
    protocol = load_protocol("paper-gpu" if cuda else "tiny-cpu", methods=[setting.model])
    protocol = with_schedule(protocol, batch_size=setting.batch, deterministic=False)
    return without_missing_teachers([setting.model], protocol)


def batch_for(config: Any, batch: int, device: str) -> dict[str, Any]:
    from tests.unit.models.test_zoo import make_batch

    return {k: v.to(device) for k, v in make_batch(config, batch).items()}


def measure_model(setting: Setting) -> dict[str, Any]:
    import torch

    from talkingub.bench.optim import batch_size_of
    from talkingub.bench.pretrained import dropped_terms
    from talkingub.bench.train import TrainJob, harness_step

    protocol = protocol_for(setting)
    with tempfile.TemporaryDirectory() as run_dir:
        job = TrainJob(setting.model, Path(run_dir), Path(run_dir), protocol, 0, setting.device)
        with harness_step(job) as (model, step):
            batch = batch_size_of(model.config, protocol.schedule.batch_size)
            data = batch_for(model.config, batch, setting.device)
            if setting.compiled:
                _compile(model)
            step_s = _time_steps(step, data, setting.steps, setting.device)
            row = {
                "model": setting.model,
                "variant": protocol.variant,
                "image_size": int(model.config.image_size),
                "batch": batch,
                "amp": protocol.schedule.amp and setting.device.startswith("cuda"),
                "amp_dtype": protocol.schedule.amp_dtype,
                "compiled": setting.compiled,
                "dropped_loss_terms": dropped_terms(setting.model, protocol),
                "steps_per_s": 1 / step_s,
                **inference(model, data, setting.device),
                "params_m": sum(p.numel() for p in model.parameters()) / 1e6,
            }
    return {**row, **peak_memory(setting.device, torch)}


def _compile(model: Any) -> None:
    """torch.compile the functions the step and the inference call (instance attributes
    shadow the methods, so the harness's step picks the compiled ones up)."""
    import torch

    for name in ("generator_losses", "discriminator_losses", "reconstruct"):
        setattr(model, name, torch.compile(getattr(model, name)))


def _time_steps(step: Any, data: dict[str, Any], steps: int, device: str) -> float:
    step(data)  # warm-up (lazy modules, cuDNN autotune, compilation)
    _sync(device)
    start = time.perf_counter()
    for _ in range(steps):
        step(data)
    _sync(device)
    return (time.perf_counter() - start) / steps


def _sync(device: str) -> None:
    import torch

    if device.startswith("cuda"):
        torch.cuda.synchronize()


def peak_memory(device: str, torch: Any) -> dict[str, float]:
    if device.startswith("cuda"):
        return {"peak_gpu_mb": torch.cuda.max_memory_allocated() / 2**20}
    return {"peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


def inference(model: Any, data: dict[str, Any], device: str, frames: int = 8) -> dict[str, float]:
    """`reconstruct` ms/frame: fp32 always, fp16 (autocast) on CUDA."""
    import torch

    from tests.unit.models.test_zoo import reconstruct_inputs

    model.eval()
    source, driving, extra = reconstruct_inputs(data, frames)
    dtypes = {"fp32": None, **({"fp16": torch.float16} if device.startswith("cuda") else {})}
    out = {}
    for label, dtype in dtypes.items():
        kind = torch.device(device).type
        with torch.no_grad(), torch.autocast(kind, dtype=dtype, enabled=dtype is not None):
            model.reconstruct(source, driving, **extra)  # warm-up
            _sync(device)
            start = time.perf_counter()
            model.reconstruct(source, driving, **extra)
            _sync(device)
        out[f"reconstruct_ms_per_frame_{label}"] = (time.perf_counter() - start) * 1000 / frames
    return out


def _child(setting: Setting) -> dict[str, Any]:
    import torch

    if not setting.device.startswith("cuda"):
        torch.set_num_threads(2)
    if not setting.compiled:
        return measure_model(setting)
    try:
        return measure_model(setting)
    except Exception as exc:  # e.g. double backward, which aot_autograd does not support
        return {"model": setting.model, "compiled": True, "error": f"{type(exc).__name__}: {exc}"}


def settings(args: argparse.Namespace) -> list[Setting]:
    cuda = args.device.startswith("cuda")
    batch = args.batch if args.batch is not None or cuda else 2
    modes = {"off": [False], "on": [True], "both": [False, True]}[args.compile]
    return [
        Setting(name, args.device, args.steps, batch, compiled)
        for name in args.models.split(",")
        for compiled in modes
    ]


def main() -> None:
    from talkingub import list_models

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--models", default=",".join(list_models()))
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--batch", type=int, default=None, help="default: 2 on CPU, config's")
    parser.add_argument("--compile", choices=("off", "on", "both"), default="off")
    args = parser.parse_args()
    rows = []
    context = multiprocessing.get_context("spawn")
    for setting in settings(args):
        with context.Pool(1) as pool:  # a fresh process per model: honest peak memory
            rows.append(pool.apply(_child, (setting,)))
        print(rows[-1])
    note = None
    if not args.device.startswith("cuda"):
        note = "CPU: tiny configs; paper/AMP/fp16 rows come from --device cuda"
    device = args.device.split(":")[0]
    path = write_result(f"train_throughput_{device}", {"rows": rows, "note": note})
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
