"""The one loader of MediaPipe graphs: every graph the toolkit runs is created here.

The models are the ones bundled in the mediapipe 0.10.14 wheel (legacy `mp.solutions`, gone
from mediapipe >= 0.10.15). Their users are the `mediapipe-pose` vision backend, the dataset
builder's person analysis (`talkingub.curate.analysis`) and the demo's sample videos. Each
function returns the solution object itself (a graph with `process`, `reset`, `close`, usable
as a context manager); the arguments are passed through unchanged, so each user chooses its
own settings (a metric detects every frame on its own, the analysis tracks the pose across a
sequence). mediapipe is imported only when a graph is made.
"""

from __future__ import annotations

import importlib.metadata
from typing import Any

LEGACY_HINT = "needs mediapipe==0.10.14 with its legacy solutions: pip install mediapipe==0.10.14"


def mediapipe_module() -> Any:
    import mediapipe as mp

    return mp


def legacy_solutions_missing() -> str | None:
    """Why the legacy solutions cannot run here (None when they can); loads no graph."""
    try:
        mp = mediapipe_module()
        mp.solutions.pose  # noqa: B018 - missing on mediapipe >= 0.10.15
    except (ImportError, AttributeError):
        return LEGACY_HINT
    return None


def mediapipe_version() -> str:
    """The installed distribution's version (as recorded by the dataset builder)."""
    return importlib.metadata.version("mediapipe")


def face_detection(model_selection: int, min_detection_confidence: float) -> Any:
    """BlazeFace: `model_selection` 0 = short range (2 m), 1 = full range (5 m)."""
    return mediapipe_module().solutions.face_detection.FaceDetection(
        model_selection=model_selection, min_detection_confidence=min_detection_confidence
    )


def face_mesh(static_image_mode: bool, max_num_faces: int, refine_landmarks: bool) -> Any:
    """Face mesh, 468 points (478 with `refine_landmarks`)."""
    return mediapipe_module().solutions.face_mesh.FaceMesh(
        static_image_mode=static_image_mode,
        max_num_faces=max_num_faces,
        refine_landmarks=refine_landmarks,
    )


def pose(static_image_mode: bool, model_complexity: int, min_detection_confidence: float) -> Any:
    """BlazePose GHUM 3D, 33 points; `static_image_mode=False` tracks across frames."""
    return mediapipe_module().solutions.pose.Pose(
        static_image_mode=static_image_mode,
        model_complexity=model_complexity,
        min_detection_confidence=min_detection_confidence,
    )


def selfie_segmentation(model_selection: int) -> Any:
    """Person mask: `model_selection` 0 = general (256x256), 1 = landscape (144x256)."""
    return mediapipe_module().solutions.selfie_segmentation.SelfieSegmentation(
        model_selection=model_selection
    )
