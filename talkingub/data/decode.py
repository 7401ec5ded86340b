"""Decoding a shard sample's mp4 member with PyAV, and `mp4_decoder`, a WebDataset decoder
handler for it (webdataset's own video handler needs `torchvision.io.read_video`, which
torchvision 0.29 removed). Needs only the core dependencies (PyAV, numpy)."""

from __future__ import annotations

import io

import numpy as np

from talkingub.errors import ConfigError


def decode_mp4(data: bytes) -> np.ndarray:
    """Every frame of an encoded video, uint8 RGB [T, H, W, 3] (one sequential decode);
    bytes PyAV cannot decode, or a video without frames, raise `ConfigError`."""
    import av

    try:
        with av.open(io.BytesIO(data), mode="r") as container:
            frames = [frame.to_ndarray(format="rgb24") for frame in container.decode(video=0)]
    except av.error.FFmpegError as exc:
        raise ConfigError(f"not a decodable video: {exc}") from exc
    if not frames:
        raise ConfigError("video has no frames")
    return np.stack(frames)


def mp4_decoder(key: str, data: bytes) -> np.ndarray | None:
    """WebDataset decoder handler: for a key ending in `.mp4` (webdataset passes `.mp4`, the
    member's extension) the clip's frames, uint8 RGB [T, H, W, 3]; None for any other key,
    so webdataset's other handlers decode it (e.g. `json`).

        wds.WebDataset(urls).decode(mp4_decoder)
    """
    if key.rsplit(".", 1)[-1].lower() != "mp4":
        return None
    return decode_mp4(data)
