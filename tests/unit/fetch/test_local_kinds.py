"""Local paths that are not regular files, and images, get reasons that say what they are.

Everything runs the real probe / fetch code on media made here. A FIFO is never opened (that
would block), so every test that meets one guards against a hang instead of trusting it.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

import pandas as pd
import pytest
from PIL import Image

from talkingub.fetch import REASONS, FetchConfig, FetchSummary, run
from talkingub.fetch.local import place_local
from talkingub.fetch.reasons import classify
from talkingub.video.probe import ProbeError, probe_video

DEVICE = Path("/dev/zero")
DEADLINE_S = 60.0
T = TypeVar("T")


def pictures(count: int, mode: str = "RGB") -> list[Image.Image]:
    return [Image.new(mode, (32, 24), (60 * i, 90, 30, 255)[: len(mode)]) for i in range(count)]


def animated(path: Path, image_format: str | None = None) -> Path:
    first, *rest = pictures(4)
    first.save(path, image_format, save_all=True, append_images=rest, duration=100, loop=0)
    return path


def still(path: Path, mode: str = "RGB") -> Path:
    pictures(1, mode)[0].save(path)
    return path


def directory(folder: Path) -> Path:
    path = folder / "folder.mp4"
    path.mkdir()
    return path


def fifo(folder: Path) -> Path:
    path = folder / "pipe.mp4"
    os.mkfifo(path)
    return path


def symlinked_fifo(folder: Path) -> Path:
    link = folder / "link.mp4"
    link.symlink_to(fifo(folder))
    return link


def device(folder: Path) -> Path:
    return DEVICE


NON_FILES: dict[str, tuple[Callable[[Path], Path], str]] = {
    "directory": (directory, "is a directory"),
    "fifo": (fifo, "is a FIFO (named pipe)"),
    "symlink to a fifo": (symlinked_fifo, "is a FIFO (named pipe)"),
    "character device": (device, "is a character device"),
}


def release_fifo_readers(folder: Path) -> None:
    """Open the write end of every FIFO under `folder`, so that a reader blocked in open()
    gets EOF instead of hanging the test process."""
    for path in folder.rglob("*"):
        if path.is_fifo():
            with contextlib.suppress(OSError):
                os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))


def within_deadline(work: Callable[[], T], fifos: Path) -> T:
    pool = ThreadPoolExecutor(max_workers=1)
    future = pool.submit(work)
    try:
        return future.result(timeout=DEADLINE_S)
    except TimeoutError:
        release_fifo_readers(fifos)
        pytest.fail(f"still blocked after {DEADLINE_S:.0f}s: a FIFO was opened")
    finally:
        pool.shutdown(wait=False)


@pytest.mark.parametrize("kind", list(NON_FILES))
def test_probe_names_what_a_non_file_is(tmp_path: Path, kind: str) -> None:
    make, what = NON_FILES[kind]
    path = make(tmp_path)
    with pytest.raises(ProbeError) as caught:
        within_deadline(lambda: probe_video(path), tmp_path)
    assert caught.value.reason == "not_a_file"
    assert caught.value.detail == f"{what}: {path}"
    assert classify(caught.value).reason == "not_a_file"


@pytest.mark.parametrize("mode", ["link", "copy"])
@pytest.mark.parametrize("kind", list(NON_FILES))
def test_local_fetch_refuses_a_non_file_without_opening_it(
    tmp_path: Path, kind: str, mode: str
) -> None:
    make, what = NON_FILES[kind]
    source = make(tmp_path)
    raw = tmp_path / "raw"
    with pytest.raises(ProbeError) as caught:
        within_deadline(lambda: place_local(source, raw / "v.mp4", mode), tmp_path)
    assert (caught.value.reason, caught.value.detail) == ("not_a_file", f"{what}: {source}")
    assert not raw.exists() or not list(raw.iterdir())


def test_a_missing_path_is_still_not_found(tmp_path: Path) -> None:
    missing = tmp_path / "missing.mp4"
    for attempt in (
        lambda: probe_video(missing),
        lambda: place_local(missing, tmp_path / "v.mp4", "link"),
    ):
        with pytest.raises(ProbeError) as caught:
            attempt()
        assert (caught.value.reason, caught.value.detail) == (
            "not_found",
            f"no such file: {missing}",
        )


IMAGES: dict[str, tuple[Callable[[Path], Path], str]] = {
    "animated gif": (lambda d: animated(d / "anim.gif"), "animated image (gif)"),
    "animated gif named .mp4": (lambda d: animated(d / "anim.mp4", "GIF"), "animated image (gif)"),
    "apng": (lambda d: animated(d / "anim.png"), "animated image (apng)"),
    "animated webp": (lambda d: animated(d / "anim.webp"), "animated image (webp)"),
    "still png": (lambda d: still(d / "still.png"), "file is a still image (png_pipe)"),
    "still gif": (lambda d: still(d / "still.gif"), "file is a still image (gif)"),
    "still webp": (lambda d: still(d / "still.webp"), "file is a still image (webp_pipe)"),
    "still webp with alpha": (
        lambda d: still(d / "alpha.webp", "RGBA"),
        "file is a still image (webp_pipe)",
    ),
}


@pytest.mark.parametrize("kind", list(IMAGES))
def test_images_are_not_videos_and_say_whether_they_move(tmp_path: Path, kind: str) -> None:
    make, detail = IMAGES[kind]
    with pytest.raises(ProbeError) as caught:
        probe_video(make(tmp_path))
    assert (caught.value.reason, caught.value.detail) == ("not_a_video", detail)


def test_not_a_file_is_in_the_reason_catalogue() -> None:
    assert "not_a_file" in REASONS
    assert "animated" in REASONS["not_a_video"]


def manifest(tmp_path: Path, rows: dict[str, str]) -> Path:
    path = tmp_path / "manifest.csv"
    lines = "".join(f"{video_id},{url},speaker\n" for video_id, url in rows.items())
    path.write_text("video_id,url,identity\n" + lines)
    return path


@pytest.mark.parametrize("dry_run", [False, True])
def test_fetch_run_records_each_non_file_and_image_without_hanging(
    tmp_path: Path, dry_run: bool
) -> None:
    media = tmp_path / "media"
    media.mkdir()
    pipe = fifo(media)
    rows = {
        "folder": str(directory(media)),
        "pipe": f"file://{pipe}",
        "zero": str(DEVICE),
        "anim": str(animated(media / "anim.gif")),
    }
    config = FetchConfig(
        manifest=manifest(tmp_path, rows),
        out_dir=tmp_path / "out",
        workers=2,
        retries=0,
        dry_run=dry_run,
        progress=False,
    )
    summary: FetchSummary = within_deadline(lambda: run(config), media)
    table = pd.read_parquet(summary.table).set_index("video_id")
    assert sorted(table.index) == sorted(rows)
    assert (table["status"] == "failed").all(), table[["reason", "error"]]
    assert table["reason"].to_dict() == {
        "folder": "not_a_file",
        "pipe": "not_a_file",
        "zero": "not_a_file",
        "anim": "not_a_video",
    }
    assert "is a directory" in table.loc["folder", "error"]
    assert "is a FIFO (named pipe)" in table.loc["pipe", "error"]
    assert "is a character device" in table.loc["zero", "error"]
    assert "animated image (gif)" in table.loc["anim", "error"]
    assert not list((tmp_path / "out" / "raw").iterdir())
