"""From one decoded video to motion sequences with raw per-frame measurements.

Shots (PySceneDetect) are analysed frame by frame with the person-analysis backend; a
background step above `bg_split_step` (a cut the shot detector missed) splits a shot.
"""

from __future__ import annotations

import itertools

from talkingub.curate.analysis import PersonAnalyzer
from talkingub.curate.background import background_change, score_sequence, thumbnail
from talkingub.curate.config import AnalysisConfig
from talkingub.curate.decode import DecodeResult
from talkingub.curate.measure import measure_frame
from talkingub.curate.types import AnalysedFrame, FrameMeasure, Sequence


def analyse_video(
    video_id: str, decoded: DecodeResult, analyzer: PersonAnalyzer, config: AnalysisConfig
) -> list[Sequence]:
    sequences: list[Sequence] = []
    for shot_no, (start, end, score) in enumerate(decoded.shots):
        frames = [f for f in decoded.frames if start <= f.index < end]
        for part_start, part_end, part in _analyse_shot(frames, start, end, analyzer, config):
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
