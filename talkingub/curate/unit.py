"""The per-video work unit: analyse once (cached), decide, encode kept clips (cached).

Cache layout under `<out>/work/<video_id>/`:
- `analysis-<key>.json`: raw measurements per sequence (key = hash of the analysis settings,
  `MEASURE_REVISION` and the video's sha256), written atomically; a later run or `refilter`
  reuses it.
- `thumbs/<frame>.jpg`: a few analysis frames for contact sheets.
- `clips/<clip_id>-<hash>.mp4`: encoded 256x256 clips (hash of range + crop + encode settings).

Progress: the stages (decode + shots, analysis, crop + encode) are reported to `listener` as
`talkingub.curate.stages.StageEvent`s (frames done / total); the default listens to nothing.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np

from talkingub.curate.analysis.plugins import backend_factory
from talkingub.curate.config import BuildConfig
from talkingub.curate.decode import DecodeResult, decode_video
from talkingub.curate.encode import encode_clips
from talkingub.curate.filters import ClipPlan, plan_clips, video_reason
from talkingub.curate.run_types import Analysis, VideoResult
from talkingub.curate.sequences import analyse_video
from talkingub.curate.stages import Listener, StageReporter, no_listener
from talkingub.curate.types import FrameMeasure, Sequence, SourceVideo
from talkingub.errors import ReasonedError
from talkingub.io.atomic import atomic_write_bytes, atomic_write_text

_ANALYZER_CACHE: dict[str, Any] = {}
# Bumped whenever the code changes what is measured for the same settings (decoding, models,
# measurement rules), so that caches from older versions are not reused.
MEASURE_REVISION = 3
THUMB_EVERY = 6  # keep every 6th analysed frame (2 s at 3 fps) as a contact-sheet thumbnail


def video_dir(work: Path, video_id: str) -> Path:
    return work / video_id


def process_video(
    video: SourceVideo, config: BuildConfig, work: Path, listener: Listener = no_listener
) -> VideoResult:
    refused = video_reason(video, config)  # before decoding: nothing is read
    if refused is not None:
        raise ReasonedError(*refused)
    report = StageReporter(video.video_id, listener)
    analysis = load_or_analyse(video, config, work, report)
    plans = decide(analysis, config)
    paths = encode_kept(video, analysis, plans, config, work, report)
    return VideoResult(analysis, plans, paths)


def decide(analysis: Analysis, config: BuildConfig) -> list[ClipPlan]:
    size = (analysis.width, analysis.height)
    return [p for s in analysis.sequences for p in plan_clips(s, size, config.filters, config.crop)]


def analysis_path(video: SourceVideo, config: BuildConfig, work: Path) -> Path:
    key = hashlib.sha256(
        f"{config.analysis_key()}:{MEASURE_REVISION}:{video.sha256}".encode()
    ).hexdigest()[:16]
    return video_dir(work, video.video_id) / f"analysis-{key}.json"


def load_or_analyse(
    video: SourceVideo, config: BuildConfig, work: Path, report: StageReporter | None = None
) -> Analysis:
    path = analysis_path(video, config, work)
    if path.is_file():
        return _load(path)
    analysis = _analyse(video, config, work, report or StageReporter(video.video_id))
    atomic_write_text(path, json.dumps(_dump(analysis)))
    return analysis


def _analyse(
    video: SourceVideo, config: BuildConfig, work: Path, report: StageReporter
) -> Analysis:
    decoded = decode_video(
        video.path,
        config.shots,
        config.analysis,
        config.decode_timeout,
        progress=report.stage("decode"),
    )
    analysing = report.stage("analysis", len(decoded.frames))  # shown while models load
    analyzer = _analyzer(config)
    sequences = analyse_video(video.video_id, decoded, analyzer, config.analysis, analysing)
    thumbs = _save_thumbs(decoded, sequences, video_dir(work, video.video_id) / "thumbs")
    return Analysis(
        video.video_id,
        decoded.frame_count,
        decoded.fps,
        decoded.width,
        decoded.height,
        analyzer.name,
        analyzer.version,
        sequences,
        _phashes(decoded),
        thumbs,
    )


def _analyzer(config: BuildConfig) -> Any:
    """One backend instance per process and analysis setting (models load once)."""
    a = config.analysis
    key = f"{a.backend}:{a.min_face_score}:{a.pose_every}"
    if key not in _ANALYZER_CACHE:
        factory = backend_factory(a)  # imports analysis.plugins first (fresh workers)
        _ANALYZER_CACHE[key] = factory(min_face_score=a.min_face_score, pose_every=a.pose_every)
    return _ANALYZER_CACHE[key]


def dhash(image: np.ndarray) -> str:
    import cv2

    grey = cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)
    small = cv2.resize(grey, (9, 8), interpolation=cv2.INTER_AREA).astype(np.int16)
    bits = (small[:, 1:] > small[:, :-1]).flatten()
    return f"{int(''.join('1' if b else '0' for b in bits), 2):016x}"


def _phashes(decoded: DecodeResult, count: int = 8) -> list[str]:
    frames = decoded.frames
    picks = np.linspace(0, len(frames) - 1, num=min(count, len(frames))).round().astype(int)
    return [dhash(frames[i].image) for i in sorted(set(picks.tolist()))]


def _save_thumbs(
    decoded: DecodeResult, sequences: list[Sequence], folder: Path
) -> dict[int, float]:
    import cv2

    wanted = {s.frames[len(s.frames) // 2].index for s in sequences if s.frames}
    wanted |= {f.index for f in decoded.frames[::THUMB_EVERY]}
    thumbs = {}
    for frame in decoded.frames:
        if frame.index not in wanted:
            continue
        h, w = frame.image.shape[:2]
        scale = 320 / max(h, w)
        small = cv2.resize(
            frame.image, (round(w * scale), round(h * scale)), interpolation=cv2.INTER_AREA
        )
        # encoded in memory and written by Python: cv2.imwrite fails silently on a full disk
        ok, jpeg = cv2.imencode(".jpg", cv2.cvtColor(small, cv2.COLOR_RGB2BGR))
        if not ok:
            raise ReasonedError("error", f"could not encode thumbnail of frame {frame.index}")
        atomic_write_bytes(folder / f"{frame.index:06d}.jpg", jpeg.tobytes())
        thumbs[frame.index] = frame.scale / scale
    return thumbs


def _dump(a: Analysis) -> dict[str, Any]:
    data = dataclasses.asdict(a)
    data["thumbs"] = {str(k): v for k, v in a.thumbs.items()}
    return data


def _load(path: Path) -> Analysis:
    data = json.loads(path.read_text())
    data["sequences"] = [
        Sequence(**{**s, "frames": [FrameMeasure(**f) for f in s["frames"]]})
        for s in data["sequences"]
    ]
    data["thumbs"] = {int(k): v for k, v in data["thumbs"].items()}
    return Analysis(**data)


def clip_file(plan: ClipPlan, config: BuildConfig, work: Path) -> Path:
    assert plan.crop is not None
    key = json.dumps([plan.start, plan.end, plan.crop.as_list(), dataclasses.asdict(config.crop)])
    digest = hashlib.sha256(key.encode()).hexdigest()[:10]
    return video_dir(work, plan.video_id) / "clips" / f"{plan.clip_id}-{digest}.mp4"


def encode_kept(
    video: SourceVideo,
    analysis: Analysis,
    plans: list[ClipPlan],
    config: BuildConfig,
    work: Path,
    report: StageReporter | None = None,
) -> dict[str, Path]:
    kept = [p for p in plans if p.status == "kept"]
    targets = {p.clip_id: clip_file(p, config, work) for p in kept}
    todo = [
        (targets[p.clip_id].stem, p.start, p.end, p.crop)
        for p in kept
        if not targets[p.clip_id].is_file()
    ]
    if todo:
        folder = video_dir(work, video.video_id) / "clips"
        tick = (report or StageReporter(video.video_id)).stage("encode", max(t[2] for t in todo))
        encode_clips(
            video.path,
            todo,  # type: ignore[arg-type]
            analysis.fps,
            folder,
            config.crop,
            progress=tick,
        )
    return targets
