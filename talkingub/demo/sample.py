"""Deterministic sample videos for the demo, generated on first use.

Sources are real photographs that ship inside installed packages (never the peer media):
scikit-image's astronaut portrait (Eileen Collins, NASA, public domain), matplotlib's
Grace Hopper portrait (US Navy, public domain) and scikit-image's cameraman. The person is
cut out (MediaPipe selfie segmentation), the background is inpainted and kept still, and
the person is animated with smooth synthetic body sway and a separate head rotation/nod.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from pathlib import Path

import numpy as np

from talkingub.demo.manifest import SAMPLE_CLIPS, SampleClip, write_sample_manifest
from talkingub.io.atomic import atomic_path
from talkingub.io.noise import log_path, route_noise
from talkingub.progress import TaskBars
from talkingub.vision import mediapipe_models

__all__ = ["SAMPLE_CLIPS", "SampleClip", "write_clip", "write_sample"]

FPS = 25
SIZE = (640, 480)  # width, height of every sample video


# (y0, y1, x0, x1) as fractions of the photo: a 4:3 window framed like a talking presenter.
_FRAMING = {
    "astronaut": (0.0, 0.59, 0.11, 0.89),
    "hopper": (0.08, 0.86, 0.0, 1.0),
    "cameraman": (0.0, 1.0, 0.0, 1.0),
}


def load_photo(name: str) -> np.ndarray:
    """The framed photograph as uint8 RGB at SIZE."""
    import cv2

    image = _raw_photo(name)
    h, w = image.shape[:2]
    y0, y1, x0, x1 = _FRAMING[name]
    crop = image[int(y0 * h) : int(y1 * h), int(x0 * w) : int(x1 * w)]
    return cv2.resize(crop, SIZE, interpolation=cv2.INTER_AREA)


def _raw_photo(name: str) -> np.ndarray:
    from skimage import data

    if name == "astronaut":
        return np.asarray(data.astronaut())
    if name == "cameraman":
        return np.repeat(np.asarray(data.camera())[..., None], 3, axis=2)
    if name == "hopper":
        import matplotlib.cbook as cbook
        from PIL import Image

        path = cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)
        return np.asarray(Image.open(str(path)).convert("RGB"))
    raise KeyError(name)


@dataclasses.dataclass(frozen=True)
class Layers:
    background: np.ndarray  # uint8 RGB, person removed
    person: np.ndarray  # float32 RGB premultiplied by body alpha
    body_alpha: np.ndarray  # float32 [H, W]
    head_alpha: np.ndarray  # float32 [H, W], a soft ellipse over the head
    pivot: tuple[float, float]  # neck point the head rotates about (x, y)


def make_layers(photo: np.ndarray) -> Layers:
    import cv2

    alpha = _person_alpha(photo)
    hole = cv2.dilate((alpha > 0.2).astype(np.uint8), np.ones((15, 15), np.uint8)) * 255
    background = cv2.inpaint(photo, hole, 9, cv2.INPAINT_TELEA)
    x0, y0, x1, y1 = _face_box(photo)
    head_alpha = (
        _ellipse(
            photo.shape[:2],
            (x0 + x1) / 2,
            (y0 + y1) / 2 - 0.1 * (y1 - y0),
            0.9 * (x1 - x0),
            1.0 * (y1 - y0),
        )
        * alpha
    )
    pivot = ((x0 + x1) / 2, y1 + 0.15 * (y1 - y0))
    person = photo.astype(np.float32) * alpha[..., None]
    return Layers(background, person, alpha, head_alpha, pivot)


def _person_alpha(photo: np.ndarray) -> np.ndarray:
    import cv2

    with mediapipe_models.selfie_segmentation(model_selection=0) as seg:
        mask = seg.process(photo).segmentation_mask.astype(np.float32)
    mask = np.clip((mask - 0.3) / 0.4, 0.0, 1.0)
    return cv2.GaussianBlur(mask, (5, 5), 0)


def _face_box(photo: np.ndarray) -> tuple[float, float, float, float]:
    with mediapipe_models.face_detection(model_selection=1, min_detection_confidence=0.5) as det:
        found = det.process(photo).detections
    if not found:
        raise RuntimeError("demo photo without a detectable face")
    box = found[0].location_data.relative_bounding_box
    h, w = photo.shape[:2]
    return (box.xmin * w, box.ymin * h, (box.xmin + box.width) * w, (box.ymin + box.height) * h)


def _ellipse(shape: tuple[int, ...], cx: float, cy: float, rx: float, ry: float) -> np.ndarray:
    yy, xx = np.mgrid[0 : shape[0], 0 : shape[1]].astype(np.float32)
    d = ((xx - cx) / rx) ** 2 + ((yy - cy) / ry) ** 2
    return np.clip((1.2 - d) / 0.4, 0.0, 1.0)


def render_frame(layers: Layers, t: float, seed: int) -> np.ndarray:
    """Composite one frame at time t (seconds): body sway, then head turn/nod on top."""
    import cv2

    rng = np.random.default_rng(seed)
    amp = rng.uniform(0.7, 1.3, size=4)
    w, h = SIZE
    body = _affine(
        0.0,
        1.0 + 0.01 * amp[0] * math.sin(1.3 * t),
        8 * amp[1] * math.sin(0.9 * t + seed),
        3 * amp[2] * math.sin(1.7 * t),
        layers.pivot,
    )
    angle = 7 * amp[3] * math.sin(2.1 * t + seed)
    nod = 4 * math.sin(3.0 * t + 0.5 * seed)
    head = body @ _affine(angle, 1.0, 0.0, nod, layers.pivot)
    frame: np.ndarray = layers.background.astype(np.float32)
    for matrix, alpha in ((body, layers.body_alpha), (head, layers.head_alpha)):
        a = cv2.warpAffine(alpha, matrix[:2], (w, h), flags=cv2.INTER_LINEAR)
        rgb = cv2.warpAffine(layers.person, matrix[:2], (w, h), flags=cv2.INTER_LINEAR)
        a_body = cv2.warpAffine(layers.body_alpha, matrix[:2], (w, h), flags=cv2.INTER_LINEAR)
        colour = rgb / np.maximum(a_body, 1e-3)[..., None]
        frame = frame * (1 - a[..., None]) + colour * a[..., None]
    return np.clip(frame + 0.5, 0, 255).astype(np.uint8)


def _affine(
    angle: float, scale: float, dx: float, dy: float, pivot: tuple[float, float]
) -> np.ndarray:
    import cv2

    matrix = np.eye(3)
    matrix[:2] = cv2.getRotationMatrix2D(pivot, angle, scale)
    matrix[0, 2] += dx
    matrix[1, 2] += dy
    return matrix


def encode(frames: list[np.ndarray], path: Path, fps: int = FPS) -> Path:
    """H.264 yuv420p mp4, single-threaded so the bytes are reproducible."""
    import av

    with atomic_path(path) as tmp, av.open(str(tmp), mode="w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width, stream.height = SIZE
        stream.pix_fmt = "yuv420p"
        stream.options = {"crf": "20", "preset": "medium", "threads": "1"}
        stream.codec_context.thread_count = 1
        for image in frames:
            container.mux(stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")))
        container.mux(stream.encode())
    return path


def write_clip(clip: SampleClip, folder: Path) -> Path:
    target = folder / f"{clip.video_id}.mp4"
    if target.is_file():
        return target
    layers = make_layers(load_photo(clip.photo))
    count = round(clip.seconds * FPS)
    frames = [render_frame(layers, i / FPS, clip.seed) for i in range(count)]
    return encode(frames, target)


def write_sample(folder: Path, progress: Callable[[int, int], None] | None = None) -> Path:
    """Generate (once) every sample clip into `folder` and write `sample.csv` beside them;
    `progress(clips done, clips)` after each clip."""
    folder.mkdir(parents=True, exist_ok=True)
    for done, clip in enumerate(SAMPLE_CLIPS, start=1):
        write_clip(clip, folder)
        if progress is not None:
            progress(done, len(SAMPLE_CLIPS))
    return write_sample_manifest(folder / "sample.csv")


def write_sample_quietly(folder: Path, progress: bool = True, verbose: bool = False) -> Path:
    """`write_sample` with a bar over the clips, and the segmentation and face models' log
    output routed to `folder/logs/sample.log` unless `verbose` (talkingub.io.noise)."""
    bars = TaskBars(enabled=progress)
    with route_noise(log_path(folder, "sample"), verbose, title="sample"), bars:
        task = bars.add("sample videos", len(SAMPLE_CLIPS), unit="clips")
        return write_sample(folder, lambda done, _: bars.update(task, completed=done))
