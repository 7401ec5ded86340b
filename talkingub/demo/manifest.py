"""The sample source manifest (same rows as the repository's `manifests/sample.csv`)."""

from __future__ import annotations

from pathlib import Path

from talkingub.io.atomic import atomic_write_text

HEADER = "video_id,url,start,end,identity,split,license,channel,notes"


def sample_manifest_text() -> str:
    from talkingub.demo.sample import SAMPLE_CLIPS

    rows = [HEADER]
    for clip in SAMPLE_CLIPS:
        rows.append(
            f"{clip.video_id},{clip.video_id}.mp4,,,{clip.identity},{clip.split},"
            f"public-domain photo,talkingub-demo,{clip.note}"
        )
    return "\n".join(rows) + "\n"


def write_sample_manifest(path: Path) -> Path:
    return atomic_write_text(path, sample_manifest_text())
