"""Sources refused before any decoding: frames over `max_pixels`."""

from __future__ import annotations

from pathlib import Path

import pytest

from talkingub.curate import unit
from talkingub.curate.config import BuildConfig
from talkingub.curate.types import SourceVideo
from talkingub.errors import ReasonedError


class Decoded(Exception):
    """Raised instead of decoding: the limit let the video through."""


def video(width: int, height: int) -> SourceVideo:
    return SourceVideo("v", Path("/nonexistent.mp4"), "v", None, width, height, 25.0, 10.0, "0")


@pytest.fixture
def no_decoding(monkeypatch: pytest.MonkeyPatch) -> None:
    def decode(*args: object, **kwargs: object) -> None:
        raise Decoded

    monkeypatch.setattr(unit, "decode_video", decode)


def test_a_frame_over_max_pixels_is_refused_before_decoding(
    no_decoding: None, tmp_path: Path
) -> None:
    with pytest.raises(ReasonedError) as caught:
        unit.process_video(video(16000, 16000), BuildConfig(), tmp_path)
    assert caught.value.reason == "too_large_frame"
    assert "16000x16000" in caught.value.detail and "max_pixels" in caught.value.detail


def test_a_frame_exactly_at_max_pixels_goes_on_to_decoding(
    no_decoding: None, tmp_path: Path
) -> None:
    limit = BuildConfig().max_pixels
    assert limit == 4096 * 2160 * 2
    with pytest.raises(Decoded):
        unit.process_video(video(8192, 2160), BuildConfig(), tmp_path)
    assert limit == 8192 * 2160
