"""Shot segmentation with PySceneDetect's ContentDetector, fed frame by frame.

The detector's per-frame `content_val` scores are recorded through a StatsManager; the
cut score of each shot is kept in clips.parquet (record scores, decide by threshold).
"""

from __future__ import annotations

import itertools

import numpy as np

from talkingub.build.config import ShotConfig


class ShotDetector:
    def __init__(self, config: ShotConfig, fps: float) -> None:
        from scenedetect import ContentDetector
        from scenedetect.stats_manager import StatsManager

        self.fps = fps
        min_len = max(1, round(config.min_scene_seconds * fps))
        self.detector = ContentDetector(
            threshold=config.threshold, min_scene_len=min_len, luma_only=True
        )
        self.stats = StatsManager()
        self.detector.stats_manager = self.stats
        self.cuts: list[int] = []
        self.scores: dict[int, float] = {}

    def push(self, index: int, bgr: np.ndarray) -> None:
        from scenedetect import FrameTimecode

        timecode = FrameTimecode(index, fps=self.fps)
        for cut in self.detector.process_frame(timecode, bgr):
            self.cuts.append(int(cut.frame_num))
        score = self.stats.get_metrics(timecode, ["content_val"])[0]
        if score is not None:
            self.scores[index] = float(score)

    def shots(self, frame_count: int) -> list[tuple[int, int, float]]:
        """(start, end exclusive, score of the cut that opened the shot)."""
        bounds = [0, *sorted(c for c in set(self.cuts) if 0 < c < frame_count), frame_count]
        return [(a, b, self.scores.get(a, 0.0)) for a, b in itertools.pairwise(bounds) if b > a]
