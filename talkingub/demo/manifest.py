"""The sample source manifest (same rows as the repository's `manifests/sample.csv`)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from talkingub.io.atomic import atomic_write_text

COLUMNS = ("video_id", "url", "start", "end", "identity", "split", "license", "channel", "notes")


def sample_manifest_text(prefix: str = "") -> str:
    """CSV text; `prefix` is prepended to each relative video path."""
    from talkingub.demo.sample import SAMPLE_CLIPS

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    for clip in SAMPLE_CLIPS:
        writer.writerow(
            [
                clip.video_id,
                f"{prefix}{clip.video_id}.mp4",
                "",
                "",
                clip.identity,
                clip.split,
                "public-domain photo",
                "talkingub-demo",
                clip.note,
            ]
        )
    return buffer.getvalue()


def write_sample_manifest(path: Path) -> Path:
    return atomic_write_text(path, sample_manifest_text())
