"""`talkingub.data.mp4_decoder` on a small mp4 written here (no peer media), and
`import talkingub.data` without torch: the tables and the decoder work, the datasets name
the extra to install."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from talkingub.data import decode_mp4, mp4_decoder
from talkingub.errors import ConfigError

REPO = Path(__file__).resolve().parents[3]


def encoded(frames: int, side: int = 32) -> bytes:
    """An H.264 mp4 of `frames` frames, frame i a flat grey of level 20 * i."""
    import av

    buffer = io.BytesIO()
    with av.open(buffer, mode="w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=10)
        stream.width = stream.height = side
        stream.pix_fmt = "yuv420p"
        stream.options = {"crf": "0"}
        for i in range(frames):
            image = np.full((side, side, 3), 20 * i, dtype=np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return buffer.getvalue()


def test_mp4_member_decodes_to_uint8_frames_in_order() -> None:
    frames = mp4_decoder(".mp4", encoded(5))
    assert frames is not None
    assert frames.dtype == np.uint8 and frames.shape == (5, 32, 32, 3)
    levels = frames.reshape(5, -1).mean(1)
    np.testing.assert_allclose(levels, [0, 20, 40, 60, 80], atol=3)
    np.testing.assert_array_equal(decode_mp4(encoded(5)), frames)


@pytest.mark.parametrize("key", [".json", ".mp4.json", ".txt", "__key__", ".mp4x", ".jpg"])
def test_other_members_are_left_to_other_handlers(key: str) -> None:
    assert mp4_decoder(key, b"not a video") is None


def test_upper_case_and_bare_extension_are_mp4() -> None:
    data = encoded(2)
    for key in (".MP4", "mp4", "clip.mp4"):
        frames = mp4_decoder(key, data)
        assert frames is not None and frames.shape == (2, 32, 32, 3)


def test_bytes_that_are_not_a_video_are_refused() -> None:
    with pytest.raises(ConfigError, match="not a decodable video"):
        mp4_decoder(".mp4", b"not a video")
    with pytest.raises(ConfigError, match="not a decodable video"):
        decode_mp4(encoded(3)[:200])


def test_import_without_torch() -> None:
    script = (
        "import sys\n"
        "sys.modules['torch'] = None\n"  # `import torch` now raises ImportError
        "import talkingub.data as data\n"
        "from talkingub.errors import DependencyError\n"
        "assert callable(data.load_build) and callable(data.mp4_decoder)\n"
        "for name in ('TalkingUBClips', 'TalkingUBPairs'):\n"
        "    try:\n"
        "        getattr(data, name)\n"
        "    except DependencyError as exc:\n"
        "        assert 'talkingub[bench]' in str(exc), exc\n"
        "    else:\n"
        "        raise SystemExit(name + ' imported without torch')\n"
        "try:\n"
        "    data.nothing\n"
        "except AttributeError:\n"
        "    pass\n"
        "else:\n"
        "    raise SystemExit('no AttributeError')\n"
        "print('ok')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr


def test_datasets_are_exported_with_torch() -> None:
    import talkingub.data as data
    from talkingub.data.clips import TalkingUBClips
    from talkingub.data.pairs import TalkingUBPairs

    assert data.TalkingUBClips is TalkingUBClips and data.TalkingUBPairs is TalkingUBPairs
