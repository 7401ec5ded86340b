"""From one decoded video to motion sequences with raw per-frame measurements.

Shots (PySceneDetect) are analysed frame by frame with the person-analysis backend; a
background step above `bg_split_step` (a cut the shot detector missed) splits a shot.
`progress(done, total)` is told the analysed frames as the backend goes through them.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator

from talkingub.curate.analysis import PersonAnalyzer
from talkingub.curate.background import background_change, score_sequence, thumbnail
from talkingub.curate.config import AnalysisConfig
from talkingub.curate.decode import DecodeResult
from talkingub.curate.measure import measure_frame
from talkingub.curate.types import AnalysedFrame, FrameMeasure, Sequence

Progress = Callable[[int, int | None], None]


class _Counted(list[AnalysedFrame]):
    """A shot's frames that tell `progress` how many the backend has finished with, as it
    asks for the next one (the first pass only; the count after each shot is exact anyway)."""

    def __init__(self, frames: list[AnalysedFrame], before: int, total: int, progress: Progress):
        super().__init__(frames)
        self.before, self.total, self.progress = before, total, progress
        self.told = 0

    def __iter__(self) -> Iterator[AnalysedFrame]:
        for done, frame in enumerate(super().__iter__()):
            if done > self.told:
                self.told = done
                self.progress(min(self.before + done, self.total), self.total)
            yield frame


def analyse_video(
    video_id: str,
    decoded: DecodeResult,
    analyzer: PersonAnalyzer,
    config: AnalysisConfig,
    progress: Progress | None = None,
) -> list[Sequence]:
    sequences: list[Sequence] = []
    total, done = len(decoded.frames), 0
    for shot_no, (start, end, score) in enumerate(decoded.shots):
        frames = [f for f in decoded.frames if start <= f.index < end]
        if progress is not None:
            frames = _Counted(frames, done, total, progress)
        parts = _analyse_shot(frames, start, end, analyzer, config)
        done += len(frames)
        if progress is not None:
            progress(min(done, total), total)
        for part_start, part_end, part in parts:
            seq = Sequence(video_id, shot_no, part_start, part_end, decoded.fps, part, score)
            sequences.append(seq)
    return sequences


def _analyse_shot(
    frames: list[AnalysedFrame],
    start: int,
    end: int,
    analyzer: PersonAnalyzer,
    config: AnalysisConfig,
) -> list[tuple[int, int, list[FrameMeasure]]]:
    if not frames:
        return [(start, end, [])]
    raws = analyzer.detect(frames)
    measures = [
        measure_frame(f, r, config.min_face_score, config.min_face_px) for f, r in zip(frames, raws)
    ]
    thumbs = [thumbnail(f.image, r.mask) for f, r in zip(frames, raws)]
    cuts = _missed_cuts(thumbs, config.bg_split_step)
    parts = []
    bounds = [0, *cuts, len(frames)]
    for a, b in itertools.pairwise(bounds):
        score_sequence(measures[a:b], thumbs[a:b])
        first = start if a == 0 else frames[a].index
        last = end if b == len(frames) else frames[b].index
        parts.append((first, last, measures[a:b]))
    return parts


def _missed_cuts(thumbs: list, threshold: float) -> list[int]:
    """Positions i where the background jumps between analysed frames i-1 and i."""
    cuts = []
    for i in range(1, len(thumbs)):
        step = background_change(thumbs[i - 1], thumbs[i])
        if step is not None and step > threshold:
            cuts.append(i)
    return cuts
