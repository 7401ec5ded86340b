"""Shared fixtures. Media fixtures are named after the media they provide.

Tests that read the real peer media in ../shared/data/peers FAIL (never skip) when it is
missing, so a CI machine without it cannot report a green run that tested nothing.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PEERS = Path(os.environ.get("TALKINGUB_PEERS", REPO.parent / "shared" / "data" / "peers"))


@pytest.fixture(autouse=True)
def _isolated_home(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Never touch the user's cache from tests (weights, demo media, helper binaries)."""
    home = tmp_path_factory.getbasetemp() / "talkingub-home"
    monkeypatch.setenv("TALKINGUB_HOME", str(home))
    monkeypatch.delenv("TALKINGUB_WEIGHTS", raising=False)


@pytest.fixture(scope="session")
def peers_dir() -> Path:
    if not (PEERS / "README.md").is_file():
        pytest.fail(
            f"peer test media not found at {PEERS}: these tests need ../shared/data/peers "
            "(or TALKINGUB_PEERS pointing at it); they fail rather than skip by design",
            pytrace=False,
        )
    return PEERS


def peer(peers_dir: Path, relative: str) -> Path:
    path = peers_dir / relative
    if not path.is_file():
        pytest.fail(f"peer file missing: {path}", pytrace=False)
    return path


@pytest.fixture(scope="session")
def presenter_chest_up_mp4(peers_dir: Path) -> Path:
    """Chest-up presenter, 700x700, 22.131 fps (video-retalking face/1.mp4)."""
    return peer(peers_dir, "video-retalking/examples/face/1.mp4")


@pytest.fixture(scope="session")
def presenter_landscape_mp4(peers_dir: Path) -> Path:
    """Chest-up woman, 1280x720, 30 fps (LivePortrait s18.mp4)."""
    return peer(peers_dir, "liveportrait/assets/examples/source/s18.mp4")


@pytest.fixture(scope="session")
def ted_speaker_mp4(peers_dir: Path) -> Path:
    """TED knees-up speaker, 384x384, 10 fps (MRAA sup-mat driving.mp4)."""
    return peer(peers_dir, "mraa/sup-mat/driving.mp4")


@pytest.fixture(scope="session")
def ted_speaker_256_duplicate_mp4(peers_dir: Path) -> Path:
    """The same clip as ted_speaker_mp4 resized to 256 px (LIA ted driving3.mp4)."""
    return peer(peers_dir, "lia/data/ted/driving3.mp4")


@pytest.fixture(scope="session")
def taichi_full_body_mp4(peers_dir: Path) -> Path:
    """Full-body tai-chi performer, 256x256, 10 fps (negative case)."""
    return peer(peers_dir, "lia/data/taichi/driving2.mp4")


@pytest.fixture(scope="session")
def aoc_hdtf_mp4(peers_dir: Path) -> Path:
    """Alexandria Ocasio-Cortez, HDTF head crop 512x512 (same person as aoc_wide_mp4)."""
    return peer(peers_dir, "sadtalker/examples/ref_video/WDA_AlexandriaOcasioCortez_000.mp4")


@pytest.fixture(scope="session")
def aoc_wide_mp4(peers_dir: Path) -> Path:
    """Alexandria Ocasio-Cortez, head + shoulders 590x590 (same person as aoc_hdtf_mp4)."""
    return peer(peers_dir, "video-retalking/examples/face/3.mp4")


@pytest.fixture(scope="session")
def swalwell_mp4(peers_dir: Path) -> Path:
    """Eric Swalwell, head + shoulders 844x844, 25 fps."""
    return peer(peers_dir, "video-retalking/examples/face/2.mp4")


@pytest.fixture(scope="session")
def ted_grid_mp4(peers_dir: Path) -> Path:
    """Multi-person comparison grid, 1700x1152 (negative case)."""
    return peer(peers_dir, "mraa/web/videos/ted-comparison/example1.mp4")


@pytest.fixture(scope="session")
def obama_mov(peers_dir: Path) -> Path:
    """Barack Obama, head and shoulders, 256x256 MOV with audio (LIA vox obama.mov)."""
    return peer(peers_dir, "lia/data/vox/obama.mov")
