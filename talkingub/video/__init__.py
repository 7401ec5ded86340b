"""Video probing and decoding on PyAV."""

from talkingub.video.probe import ProbeError, VideoInfo, probe_video

__all__ = ["ProbeError", "VideoInfo", "probe_video"]
