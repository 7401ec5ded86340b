"""Provenance end to end: license/channel/notes, the source url and the requested section
go from a CSV manifest into videos.parquet, clips.parquet and every shard sample's JSON,
and the build reports kept clips per licence. Two offline demo videos (generated from
public-domain portraits, both known to keep a clip) keep it cheap."""

from __future__ import annotations

import csv
import json
import tarfile
from pathlib import Path

import pandas as pd
import pytest

from talkingub.curate import BuildRun, BuildSummary, run
from talkingub.demo.sample import SAMPLE_CLIPS, write_clip
from talkingub.fetch import FetchConfig

pytestmark = pytest.mark.slow

PROVENANCE = {
    # video_id: (start, end, license, channel, notes); local files ignore the section
    "astronaut-a": (0.5, 5.5, "CC0-1.0", 'NASA, "Johnson" Space Center', "portrait; ünïcode"),
    "hopper-a": (None, None, None, "US Navy", None),
}
KEYS = ("source_url", "section_start", "section_end", "license", "channel", "notes")


def write_manifest(path: Path, videos: Path, licence: dict[str, str | None]) -> Path:
    clips = {c.video_id: c for c in SAMPLE_CLIPS}
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["video_id", "url", "start", "end", "identity", "split", *KEYS[3:]])
        for vid, (start, end, _, channel, notes) in PROVENANCE.items():
            clip = clips[vid]
            url = str(videos / f"{vid}.mp4")
            cells = [vid, url, start, end, clip.identity, clip.split, licence[vid], channel, notes]
            writer.writerow(["" if c is None else c for c in cells])
    return path


def expected(videos: Path, licence: dict[str, str | None]) -> dict[str, dict[str, object]]:
    return {
        vid: dict(zip(KEYS, (str(videos / f"{vid}.mp4"), s, e, licence[vid], ch, notes)))
        for vid, (s, e, _, ch, notes) in PROVENANCE.items()
    }


def build(manifest: Path, out: Path) -> BuildSummary:
    fetch = FetchConfig(manifest=manifest, out_dir=out, workers=1, progress=False)
    return run(BuildRun(out_dir=out, fetch=fetch, workers=1, progress=False))


def shard_json(out: Path) -> list[dict[str, object]]:
    samples = []
    for shard in sorted((out / "shards").glob("*.tar")):
        with tarfile.open(shard) as tar:
            for member in tar.getmembers():
                if member.name.endswith(".json"):
                    handle = tar.extractfile(member)
                    assert handle is not None
                    samples.append(json.loads(handle.read()))
    return samples


def clean(value: object) -> object:
    return None if value is None or (isinstance(value, float) and pd.isna(value)) else value


def assert_provenance(out: Path, want: dict[str, dict[str, object]]) -> None:
    fetched = pd.read_parquet(out / "fetch.parquet").set_index("video_id")
    videos = pd.read_parquet(out / "videos.parquet").set_index("video_id")
    clips = pd.read_parquet(out / "clips.parquet")
    for vid, fields in want.items():
        assert clean(fetched.loc[vid, "license"]) == fields["license"]
        assert {k: clean(videos.loc[vid, k]) for k in KEYS} == fields
        assert videos.loc[vid, "url"] == fields["source_url"]
        rows = clips[clips["video_id"] == vid]
        assert len(rows) >= 1
        for row in rows.to_dict("records"):
            assert {k: clean(row[k]) for k in KEYS} == fields, row["clip_id"]
    samples = shard_json(out)
    kept = clips[(clips["status"] == "kept") & (clips["n_sampled"] > 0)]
    assert sorted(s["clip_id"] for s in samples) == sorted(kept["clip_id"])  # type: ignore[type-var]
    for sample in samples:
        assert {k: sample[k] for k in KEYS} == want[str(sample["video_id"])]
        assert isinstance(sample["source_start"], int)  # still the clip's first source frame


@pytest.fixture(scope="module")
def videos(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("demo-videos")
    for clip in SAMPLE_CLIPS:
        if clip.video_id in PROVENANCE:
            write_clip(clip, folder)
    return folder


def test_provenance_reaches_every_output_and_the_licence_summary(
    videos: Path, tmp_path: Path
) -> None:
    licence = {vid: row[2] for vid, row in PROVENANCE.items()}
    manifest = write_manifest(tmp_path / "manifest.csv", videos, licence)
    out = tmp_path / "out"
    summary = build(manifest, out)

    clips = pd.read_parquet(out / "clips.parquet")
    kept = clips[(clips["status"] == "kept") & (clips["n_sampled"] > 0)]
    assert set(kept["video_id"]) == set(PROVENANCE), clips[["video_id", "status", "reason"]]
    assert_provenance(out, expected(videos, licence))
    per_video = kept["video_id"].value_counts()
    assert sorted(summary.licences) == sorted(
        [("CC0-1.0", int(per_video["astronaut-a"])), ("(none)", int(per_video["hopper-a"]))]
    )
    stats = json.loads((out / "stats.json").read_text())
    assert stats["licences"] == dict(summary.licences)
    assert "| CC0-1.0 |" in (out / "funnel.md").read_text()

    # A re-run reuses the fetched files and analyses; a corrected licence still lands.
    licence["hopper-a"] = "Public Domain"
    write_manifest(manifest, videos, licence)
    again = build(manifest, out)
    assert_provenance(out, expected(videos, licence))
    assert dict(again.licences) == {
        "CC0-1.0": int(per_video["astronaut-a"]),
        "Public Domain": int(per_video["hopper-a"]),
    }
