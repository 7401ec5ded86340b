"""benchmarks.train_throughput times the harness's own step (one tiny model, CPU)."""

from __future__ import annotations

import math

from benchmarks.train_throughput import Setting, measure_model


def test_measures_the_harness_step_on_a_tiny_model() -> None:
    row = measure_model(Setting("fomm", "cpu", steps=1, batch=2, compiled=False))
    assert row["variant"] == "tiny" and row["batch"] == 2 and row["amp"] is False
    assert row["dropped_loss_terms"] == []  # tiny configs use random-init teachers
    for key in ("steps_per_s", "reconstruct_ms_per_frame_fp32", "params_m", "peak_rss_mb"):
        assert math.isfinite(row[key]) and row[key] > 0, key
