"""How face height and upper-body height are measured (shared by every backend).

On each analysed frame (coordinates in source pixels, y down):
- **face box**: the extent of the main face's landmarks (face mesh: forehead to chin, cheek to
  cheek). The main face is the largest detected face; `n_faces` counts detections above the
  score and size floors.
- **face height** = face box bottom - face box top (forehead to chin).
- **head top**: the highest person-mask pixel (probability > 0.5) in the columns of the face box,
  i.e. the top of the hair; without mask support, the face top minus 20% of the face height.
- **body bottom**: the mean y of both hips when both are visible (visibility >= 0.5) and inside
  the frame; otherwise the lowest person-mask pixel in the torso columns (between the
  shoulders, or twice the face width when shoulders are not visible) - the lowest visible
  torso point, at most the frame's last row.
- **upper-body height** = body bottom - head top; **face ratio** = face height / upper-body height.
- **body censored**: the body bottom is the frame's last row (hips not visible): the torso is
  cut by the frame, so the upper-body height (and the ratio) is what the frame shows, not more.
- **shoulders in frame**: both shoulders (pose 11/12) visible (>= 0.5) and inside the frame.
- **torso extent** = (body bottom - shoulder line) / face height: how much torso the frame shows
  below the shoulders, in face heights (negative when the shoulders are below the frame).
- **head margin** = head top / face height: room between the frame top and the head.
- **people**: faces above the score floor of *any* size (`n_faces_any`), and connected
  components of the person mask covering >= 1% of the frame and >= 20% of the largest one
  (`n_person_regions`), so a video grid of small people counts several people even when no face
  is big enough to measure.
- **sharpness**: variance of the Laplacian of the grey face crop resized to 128 px high.
"""

from __future__ import annotations

import numpy as np

from talkingub.curate.analysis.base import FaceDetection, RawDetections, main_face
from talkingub.curate.types import AnalysedFrame, FrameMeasure

LEFT_SHOULDER, RIGHT_SHOULDER, LEFT_HIP, RIGHT_HIP = 11, 12, 23, 24
VISIBLE = 0.5
MASK_ON = 0.5
# A person-mask region counts as a person when it covers >= 1% of the frame and >= 20% of the
# largest region. Smaller regions are not people: on the TED speaker clip the clasped hands
# form a second region of up to 2.6% of the frame (7% of the body's region) on a quarter of
# the frames, while the grids' extra people reach 52-82% of the largest region.
MIN_REGION, MIN_REGION_SHARE = 0.01, 0.2


def measure_frame(
    frame: AnalysedFrame, raw: RawDetections, min_face_score: float, min_face_px: int
) -> FrameMeasure:
    confident = [f for f in raw.faces if f[4] >= min_face_score]
    faces = [f for f in confident if f[3] - f[1] >= min_face_px]
    m = FrameMeasure(
        index=frame.index, time=frame.time, n_faces=len(faces), n_faces_any=len(confident)
    )
    m.person_area = float((raw.mask > MASK_ON).mean())
    m.n_person_regions = person_regions(raw.mask)
    if raw.pose is not None:
        m.pose = _scaled_pose(raw.pose, frame.scale)
    if faces:
        m.face_score = round(float(main_face(faces)[4]), 4)
        m.face_detector = raw.face_model
    box = face_box(faces, raw.face_points)
    if box is None:
        return m
    _fill_geometry(m, box, raw, frame)
    m.sharpness = sharpness(frame.image, box)
    return m


def person_regions(
    mask: np.ndarray, min_area: float = MIN_REGION, min_share: float = MIN_REGION_SHARE
) -> int:
    """Connected person-mask regions covering >= `min_area` of the frame and >= `min_share`
    of the largest region."""
    import cv2

    binary = (mask > MASK_ON).astype(np.uint8)
    _, _, stats, _ = cv2.connectedComponentsWithStats(binary)
    areas = stats[1:, cv2.CC_STAT_AREA] / binary.size
    if areas.size == 0:
        return 0
    return int(((areas >= min_area) & (areas >= min_share * areas.max())).sum())


def face_box(
    faces: list[FaceDetection], points: np.ndarray | None
) -> tuple[float, float, float, float] | None:
    """Landmark extent of the main face, if landmarks fall inside the main detection."""
    if not faces:
        return None
    main = main_face(faces)
    if points is None or len(points) == 0:
        return None
    cx, cy = points[:, 0].mean(), points[:, 1].mean()
    if not (main[0] <= cx <= main[2] and main[1] <= cy <= main[3]):
        return None  # the mesh found another face than the main detection
    x0, y0 = points.min(axis=0)
    x1, y1 = points.max(axis=0)
    return float(x0), float(y0), float(x1), float(y1)


def _fill_geometry(
    m: FrameMeasure,
    box: tuple[float, float, float, float],
    raw: RawDetections,
    frame: AnalysedFrame,
) -> None:
    s = frame.scale
    h = frame.image.shape[0]
    top = head_top(raw.mask, box)
    bottom, hips = body_bottom(raw.mask, raw.pose, box, h)
    m.face_box = (box[0] * s, box[1] * s, box[2] * s, box[3] * s)
    m.face_height = (box[3] - box[1]) * s
    m.head_top, m.body_bottom, m.hips_visible = top * s, bottom * s, hips
    m.upper_body_height = max(bottom - top, 1.0) * s
    m.face_ratio = m.face_height / m.upper_body_height
    x0, x1 = torso_columns(raw.pose, box, frame.image.shape[1])
    m.body_x = (min(x0, box[0]) * s, max(x1, box[2]) * s)
    m.body_censored = not hips and bottom >= h - 1
    m.head_margin = top / (box[3] - box[1])
    _fill_shoulders(m, raw.pose, box, bottom, frame)


def _fill_shoulders(
    m: FrameMeasure,
    pose: np.ndarray | None,
    box: tuple[float, float, float, float],
    bottom: float,
    frame: AnalysedFrame,
) -> None:
    """Shoulder line, whether both shoulders are in the frame, torso shown below them."""
    if pose is None or not _both_visible(pose, LEFT_SHOULDER, RIGHT_SHOULDER, None):
        return
    h, w = frame.image.shape[:2]
    pts = pose[[LEFT_SHOULDER, RIGHT_SHOULDER], :2]
    line = float(pts[:, 1].mean())
    m.shoulder_y = line * frame.scale
    xs, ys = pts[:, 0], pts[:, 1]
    m.shoulders_in_frame = bool(((xs >= 0) & (xs <= w) & (ys >= 0) & (ys < h)).all())
    m.torso_extent = round((bottom - line) / (box[3] - box[1]), 4)


def head_top(mask: np.ndarray, box: tuple[float, float, float, float]) -> float:
    x0, y0, x1, _ = (round(v) for v in box)
    band = mask[: max(y0, 1), max(x0, 0) : max(x1, x0 + 1)] > MASK_ON
    rows = np.flatnonzero(band.any(axis=1))
    fallback = box[1] - 0.2 * (box[3] - box[1])
    return float(rows[0]) if rows.size else max(fallback, 0.0)


def body_bottom(
    mask: np.ndarray, pose: np.ndarray | None, box: tuple[float, float, float, float], height: int
) -> tuple[float, bool]:
    if pose is not None and _both_visible(pose, LEFT_HIP, RIGHT_HIP, height):
        return float((pose[LEFT_HIP, 1] + pose[RIGHT_HIP, 1]) / 2), True
    x0, x1 = torso_columns(pose, box, mask.shape[1])
    band = mask[int(box[3]) :, int(x0) : max(int(x1), int(x0) + 1)] > MASK_ON
    rows = np.flatnonzero(band.any(axis=1))
    lowest = box[3] + (rows[-1] + 1 if rows.size else 0)
    return float(min(lowest, height)), False


def torso_columns(
    pose: np.ndarray | None, box: tuple[float, float, float, float], width: int
) -> tuple[float, float]:
    if pose is not None and _both_visible(pose, LEFT_SHOULDER, RIGHT_SHOULDER, None):
        xs = pose[[LEFT_SHOULDER, RIGHT_SHOULDER], 0]
        return float(max(xs.min(), 0)), float(min(xs.max(), width))
    cx, half = (box[0] + box[2]) / 2, box[2] - box[0]
    return float(max(cx - half, 0)), float(min(cx + half, width))


def _both_visible(pose: np.ndarray, a: int, b: int, height: int | None) -> bool:
    ok = pose[a, 2] >= VISIBLE and pose[b, 2] >= VISIBLE
    if height is not None:
        ok = ok and pose[a, 1] < height and pose[b, 1] < height
    return bool(ok)


def sharpness(image: np.ndarray, box: tuple[float, float, float, float]) -> float | None:
    import cv2

    x0, y0, x1, y1 = (round(v) for v in box)
    crop = image[max(y0, 0) : y1, max(x0, 0) : x1]
    if crop.size == 0 or crop.shape[0] < 4 or crop.shape[1] < 4:
        return None
    grey = cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY)
    grey = cv2.resize(grey, (max(4, round(128 * crop.shape[1] / crop.shape[0])), 128))
    return float(cv2.Laplacian(grey, cv2.CV_64F).var())


def _scaled_pose(pose: np.ndarray, scale: float) -> list[list[float]]:
    out = pose.astype(np.float64).copy()
    out[:, :2] *= scale
    return np.round(out, 2).tolist()
