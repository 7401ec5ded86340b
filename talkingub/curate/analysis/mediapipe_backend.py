"""Offline default backend: the models bundled in mediapipe 0.10.14 (legacy solutions).

Face detection (full-range model, and the short-range model on frames where the full-range one
finds no face: on close-up webcam framing the short-range model finds faces the full-range
model misses) counts people and anchors the main face; face mesh gives
the face extent (468 points, forehead to chin; static mode: each frame on its own); pose
(BlazePose, model_complexity=1, tracking between consecutive analysed frames) gives shoulders
and hips; selfie segmentation gives the person mask: its landscape model (144x256 input, fewer
FLOPs; mediapipe docs/solutions/selfie_segmentation.md) for frames wider than tall, the
general model (256x256) otherwise.

Cost per 640x360 analysed frame on the 2-vCPU development machine: pose 25 ms (run on every
`pose_every`-th frame), face detection 8 ms, face mesh 9.8 ms, segmentation 4.0 ms with the
landscape model (6.6 ms general; person area 27.4% vs 28.1% on the benchmark clip). The face
mesh stays in static mode although tracking costs 5.5 ms: tracked landmarks depend on the
previous frames (7-10% taller faces than static on the 384-px TED clip, and landmarks on a
turned head where static mode finds none), which would make a frame's measurement depend on
its neighbours.

Every graph comes from `talkingub.vision`: the pose is the `mediapipe-pose` vision backend
(`MediapipePose` in tracking mode), and the face detectors, face mesh and segmenters come from
the vision package's one MediaPipe loader (`talkingub.vision.mediapipe_models`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from talkingub.curate.analysis.base import ANALYZERS, FaceDetection, RawDetections, main_face
from talkingub.curate.types import AnalysedFrame
from talkingub.vision import mediapipe_models
from talkingub.vision.mediapipe_pose import MediapipePose

MESH_SIZE = 256  # face mesh runs on a square crop of this size
MESH_CONTEXT = 2.0  # crop side / face detection box side
SEGMENTER_GENERAL, SEGMENTER_LANDSCAPE = 0, 1  # SelfieSegmentation model_selection values


def _check() -> str | None:
    return mediapipe_models.legacy_solutions_missing()


@ANALYZERS.register("mediapipe", check=_check, description="mediapipe 0.10.14 bundled models")
class MediaPipeAnalyzer:
    name = "mediapipe"

    def __init__(self, min_face_score: float = 0.5, pose_every: int = 1) -> None:
        self.version = mediapipe_models.mediapipe_version()
        self.pose_every = max(1, pose_every)
        self.faces = mediapipe_models.face_detection(
            model_selection=1, min_detection_confidence=min_face_score
        )
        self.faces_short = mediapipe_models.face_detection(
            model_selection=0, min_detection_confidence=min_face_score
        )
        # the metric backend, tracking across a sequence's frames (reset per sequence)
        self.pose = MediapipePose(
            model_complexity=1, min_detection_confidence=0.5, static_image_mode=False
        )
        self._segmenters: dict[int, Any] = {}  # model_selection -> model, loaded when needed
        self._models: list[Any] = [self.faces, self.faces_short, self.pose]
        self._load_face_points()

    def _load_face_points(self) -> None:
        """Load the face-landmark model (subclasses swap it; see `_face_points`)."""
        self.mesh = mediapipe_models.face_mesh(
            static_image_mode=True, max_num_faces=1, refine_landmarks=False
        )
        self._models.append(self.mesh)

    def detect(self, frames: list[AnalysedFrame]) -> list[RawDetections]:
        self.pose.reset()  # each sequence starts its own tracking
        out: list[RawDetections] = []
        for i, frame in enumerate(frames):
            pose = self._pose(frame.image) if i % self.pose_every == 0 else out[-1].pose
            out.append(self._one(frame.image, pose))
        return out

    def _one(self, image: np.ndarray, pose: np.ndarray | None) -> RawDetections:
        h, w = image.shape[:2]
        model, faces = "full", self._faces(self.faces, image, w, h)
        if not faces:
            model, faces = "short", self._faces(self.faces_short, image, w, h)
        return RawDetections(
            faces=faces,
            face_points=self._face_points(image, faces),
            pose=pose,
            mask=self._segmenter(w, h).process(image).segmentation_mask.astype(np.float32),
            face_model=model if faces else None,
        )

    def _segmenter(self, w: int, h: int) -> Any:
        selection = SEGMENTER_LANDSCAPE if w > h else SEGMENTER_GENERAL
        if selection not in self._segmenters:
            model = mediapipe_models.selfie_segmentation(model_selection=selection)
            self._segmenters[selection] = model
            self._models.append(model)
        return self._segmenters[selection]

    @staticmethod
    def _faces(
        detector: Any, image: np.ndarray, w: int, h: int
    ) -> list[tuple[float, float, float, float, float]]:
        found = detector.process(image).detections or []
        boxes = []
        for det in found:
            box = det.location_data.relative_bounding_box
            x0, y0 = box.xmin * w, box.ymin * h
            boxes.append((x0, y0, x0 + box.width * w, y0 + box.height * h, float(det.score[0])))
        return boxes

    def _face_points(self, image: np.ndarray, faces: list[FaceDetection]) -> np.ndarray | None:
        """Face mesh on a 256-px square crop around the largest face (works for small faces)."""
        import cv2

        if not faces:
            return None
        x0, y0, x1, y1, _ = main_face(faces)
        side = MESH_CONTEXT * max(x1 - x0, y1 - y0)
        left, top = (x0 + x1 - side) / 2, (y0 + y1 - side) / 2
        scale = MESH_SIZE / side
        matrix = np.array([[scale, 0, -left * scale], [0, scale, -top * scale]], dtype=np.float32)
        crop = cv2.warpAffine(image, matrix, (MESH_SIZE, MESH_SIZE), flags=cv2.INTER_LINEAR)
        result = self.mesh.process(crop).multi_face_landmarks
        if not result:
            return None
        points = np.array([(p.x, p.y) for p in result[0].landmark], dtype=np.float32)
        return points * side + np.array([left, top], dtype=np.float32)

    def _pose(self, image: np.ndarray) -> np.ndarray | None:
        landmarks = self.pose.landmarks(image)  # x, y in pixels of `image`, visibility
        return None if landmarks is None else landmarks.astype(np.float32)

    def close(self) -> None:
        for model in self._models:
            model.close()
