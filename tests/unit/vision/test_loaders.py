"""One place makes MediaPipe graphs (`vision.mediapipe_models`) and one makes dlib models
(`vision.dlib_face`); the dataset builder's person analysis composes the vision backends."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest

from talkingub.curate.analysis.dlib_backend import MediaPipeDlib68Analyzer
from talkingub.curate.analysis.mediapipe_backend import MediaPipeAnalyzer
from talkingub.metrics.media import MediaItem, iter_frames
from talkingub.vision.dlib_face import Dlib68
from talkingub.vision.mediapipe_pose import MediapipePose

PACKAGE = Path(__file__).resolve().parents[3] / "talkingub"
LOADERS = {"mediapipe": "vision/mediapipe_models.py", "dlib": "vision/dlib_face.py"}


def imported_modules(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.add(node.module.split(".")[0])
    return found


@pytest.fixture(scope="module")
def face_frames(aoc_wide_mp4: Path) -> np.ndarray:
    return np.stack(list(iter_frames(MediaItem("aoc", aoc_wide_mp4), 256, 30, 3)))


def test_only_the_loaders_import_mediapipe_or_dlib() -> None:
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(PACKAGE).as_posix()
        for library, loader in LOADERS.items():
            if relative != loader:
                assert library not in imported_modules(path), relative


def test_the_analyzers_compose_the_vision_backends() -> None:
    mesh = MediaPipeAnalyzer(pose_every=3)
    dlib68 = MediaPipeDlib68Analyzer()
    try:
        assert isinstance(mesh.pose, MediapipePose) and not mesh.pose.static_image_mode
        assert isinstance(dlib68._landmarks, Dlib68)
        assert dlib68.version.startswith(f"mediapipe {mesh.version} + dlib ")
    finally:
        mesh.close()
        dlib68.close()


def test_pose_landmarks_are_the_batch_call_and_reset_restarts_tracking(
    face_frames: np.ndarray,
) -> None:
    static = MediapipePose()
    batch = static(face_frames)
    for i, image in enumerate(face_frames):
        coords = static.landmarks(image)
        assert coords is not None and batch.detected[i]
        np.testing.assert_array_equal(coords[:, :2], batch.points[i])
        np.testing.assert_array_equal(coords[:, 2], batch.confidence[i])
    static.close()
    tracking = MediapipePose(static_image_mode=False)
    first = [tracking.landmarks(image) for image in face_frames]
    tracking.reset()
    again = [tracking.landmarks(image) for image in face_frames]
    tracking.close()
    for a, b in zip(first, again):
        assert a is not None and b is not None
        np.testing.assert_array_equal(a, b)


def test_dlib_points_in_a_given_box_are_the_detected_shape(face_frames: np.ndarray) -> None:
    backend = Dlib68()
    shapes = backend(face_frames)
    boxes = backend.face_boxes(face_frames)
    for image, box, points in zip(face_frames, boxes, shapes.points):
        assert box is not None
        rect = (int(box[0]), int(box[1]), int(box[2]), int(box[3]))
        np.testing.assert_array_equal(backend.points_in_box(image, rect), points)
