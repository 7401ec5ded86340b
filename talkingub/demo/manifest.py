"""The sample clips and their source manifest (same rows as the repository's
`manifests/sample.csv`); `sample.py` renders the videos these rows name."""

from __future__ import annotations

import csv
import dataclasses
import io
from pathlib import Path

from talkingub.io.atomic import atomic_write_text

COLUMNS = ("video_id", "url", "start", "end", "identity", "split", "license", "channel", "notes")


@dataclasses.dataclass(frozen=True)
class SampleClip:
    video_id: str
    photo: str  # astronaut | hopper | cameraman
    identity: str
    split: str
    seconds: float
    seed: int  # phase/amplitude variation of the synthetic motion
    note: str


SAMPLE_CLIPS = (
    SampleClip(
        "astronaut-a", "astronaut", "eileen-collins", "train", 6.0, 0, "chest-up, talking sway"
    ),
    SampleClip(
        "astronaut-b", "astronaut", "eileen-collins", "train", 6.0, 1, "chest-up, larger head turn"
    ),
    SampleClip("hopper-a", "hopper", "grace-hopper", "test", 6.0, 2, "chest-up portrait"),
    SampleClip("hopper-b", "hopper", "grace-hopper", "test", 6.0, 3, "chest-up portrait, nod"),
    SampleClip("cameraman", "cameraman", "cameraman", "train", 4.0, 4, "half body, small face"),
)


def sample_manifest_text(prefix: str = "") -> str:
    """CSV text; `prefix` is prepended to each relative video path."""
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
