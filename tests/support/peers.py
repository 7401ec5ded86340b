"""The peer videos with the framing class the peers README gives them, and the calibration
table (class -> measured torso extent, face ratio, decision) that the README publishes.

Classes follow `../shared/data/peers/README.md`. Where its two tables disagree (a file listed
under one class in the summary and described as another in the file table) the file is marked
ambiguous and its decision is reported, not judged.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pandas as pd


@dataclasses.dataclass(frozen=True)
class PeerVideo:
    video_id: str
    path: str  # relative to the peers folder
    framing: str  # class in the peers README
    expected: str | None  # "kept" or a rejection reason; None: ambiguous, not judged
    identity: str


def _p(vid: str, path: str, framing: str, expected: str | None, identity: str = "") -> PeerVideo:
    return PeerVideo(vid, path, framing, expected, identity or vid)


LP = "liveportrait/assets/examples"
PEER_VIDEOS = (
    _p("vr-1", "video-retalking/examples/face/1.mp4", "chest-up, seated", "kept"),
    _p("lp-s18", f"{LP}/source/s18.mp4", "chest-up, camera moves", "background_moving"),
    _p("vr-2", "video-retalking/examples/face/2.mp4", "chest-up / head+shoulders", None),
    _p("lp-d13", f"{LP}/driving/d13.mp4", "chest-up / head+shoulders, vertical", None),
    _p("obama", "lia/data/vox/obama.mov", "head+shoulders", None),
    _p("vr-3", "video-retalking/examples/face/3.mp4", "head+shoulders", None, "aoc"),
    _p("vox-3", "lia/data/vox/driving3.mov", "head+shoulders", None),
    _p("lp-d20", f"{LP}/driving/d20.mp4", "head+shoulders", None),
    _p("lp-d0", f"{LP}/driving/d0.mp4", "head+shoulders", None),
    _p("vox-1", "lia/data/vox/driving1.mp4", "head only", "no_upper_body"),
    _p("tpsmm", "tpsmm/assets/driving.mp4", "head only", "no_upper_body"),
    _p(
        "hdtf-aoc",
        "sadtalker/examples/ref_video/WDA_AlexandriaOcasioCortez_000.mp4",
        "head only",
        "no_upper_body",
        "aoc",
    ),
    _p("lp-d6", f"{LP}/driving/d6.mp4", "head only", "no_upper_body"),
    _p("lp-d9", f"{LP}/driving/d9.mp4", "head only", "no_upper_body"),
    _p("lp-d19", f"{LP}/driving/d19.mp4", "head only", "no_upper_body"),
    _p("ted-384", "mraa/sup-mat/driving.mp4", "upper body, TED knees-up", "face_ratio_low"),
    _p("ted-1", "lia/data/ted/driving1.mp4", "upper body, TED thighs-up", "face_ratio_low"),
    _p("ted-3", "lia/data/ted/driving3.mp4", "upper body, TED (duplicate)", "face_ratio_low"),
    _p("lp-s20", f"{LP}/source/s20.mp4", "upper body, waist-up, vertical", "face_ratio_low"),
    _p("taichi", "lia/data/taichi/driving2.mp4", "full body", "face_ratio_low"),
    _p("lp-s13", f"{LP}/source/s13.mp4", "full body", "face_ratio_low"),
    _p("grid-1", "mraa/web/videos/ted-comparison/example1.mp4", "grid", "multiple_people"),
    _p("grid-2", "mraa/web/videos/ted-comparison/example2.mp4", "grid", "multiple_people"),
    _p("grid-4", "mraa/web/videos/ted-comparison/example4.mp4", "grid", "multiple_people"),
)

START, END = "<!-- calibration:start -->", "<!-- calibration:end -->"
COLUMNS = ("file", "class", "torso", "ratio", "shoulders", "decision", "expected")


def write_manifest(peers: Path, path: Path) -> Path:
    rows = ["video_id,url,identity"]
    rows += [f"{v.video_id},{peers / v.path},{v.identity}" for v in PEER_VIDEOS]
    path.write_text("\n".join(rows) + "\n")
    return path


def decision(video: pd.Series) -> str:
    return "kept" if video["status"] == "kept" else str(video["reason"])


def calibration_rows(out: Path) -> list[dict[str, str]]:
    """One row per peer video: medians over its analysed frames with a face measured."""
    videos = pd.read_parquet(out / "videos.parquet").set_index("video_id")
    frames = pd.read_parquet(out / "frames.parquet")
    analysed = frames[frames["analysed"] & frames["face_ratio"].notna()]
    rows = []
    for v in PEER_VIDEOS:
        mine = analysed[analysed["video_id"] == v.video_id]
        got = decision(videos.loc[v.video_id])
        rows.append(
            {
                "file": v.path.replace("liveportrait/assets/examples/", "liveportrait/…/"),
                "class": v.framing,
                "torso": _median(mine["torso_extent"]),
                "ratio": _median(mine["face_ratio"]),
                "shoulders": f"{mine['shoulders_in_frame'].mean():.2f}" if len(mine) else "-",
                "decision": got,
                "expected": _verdict(v.expected, got),
            }
        )
    return rows


def _median(values: pd.Series) -> str:
    present = values.dropna()
    return f"{present.median():.2f}" if len(present) else "-"


def _verdict(expected: str | None, got: str) -> str:
    if expected is None:
        return "(ambiguous)"
    return f"{expected} ✓" if expected == got else f"{expected} ✗"


def markdown(rows: list[dict[str, str]]) -> str:
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    lines += ["| " + " | ".join(r[c] for c in COLUMNS) + " |" for r in rows]
    return "\n".join(lines)


def readme_rows(readme: Path) -> list[dict[str, str]]:
    """The calibration table as published between the README's markers."""
    text = readme.read_text()
    block = text[text.index(START) + len(START) : text.index(END)]
    lines = [ln for ln in block.strip().splitlines() if ln.startswith("|")][2:]
    return [dict(zip(COLUMNS, (c.strip() for c in ln.strip("|").split(" | ")))) for ln in lines]


def replace_readme_block(readme: Path, table: str) -> None:
    text = readme.read_text()
    pattern = re.compile(re.escape(START) + ".*?" + re.escape(END), re.S)
    readme.write_text(pattern.sub(lambda _: f"{START}\n{table}\n{END}", text))
