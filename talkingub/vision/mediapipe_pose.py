"""MediaPipe Pose (legacy `mp.solutions.pose`, BlazePose GHUM 3D lite/full/heavy).

Offline default for AKD/MKR: the model ships inside the mediapipe wheel (0.10.14). 33 landmarks;
confidence is the landmark `visibility`. By default `static_image_mode=True`, so every frame is
detected independently (no tracking across frames, as a metric must). The dataset builder's
person analysis uses the same backend with `static_image_mode=False`, calling `reset()` at the
start of each sequence and `landmarks()` frame by frame.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from talkingub.vision import mediapipe_models
from talkingub.vision.base import KeypointBackend, Keypoints, check_images

NUM_LANDMARKS = 33
UPPER_BODY = tuple(range(25))  # face, shoulders, arms, hands, hips


class MediapipePose(KeypointBackend):
    name = "mediapipe-pose"
    kind = "pose"
    num_keypoints = NUM_LANDMARKS

    def __init__(
        self,
        model_complexity: int = 1,
        min_detection_confidence: float = 0.5,
        static_image_mode: bool = True,
    ) -> None:
        self._mp_version = mediapipe_models.mediapipe_module().__version__
        self.model_complexity = model_complexity
        self.static_image_mode = static_image_mode
        self._pose: Any = mediapipe_models.pose(
            static_image_mode=static_image_mode,
            model_complexity=model_complexity,
            min_detection_confidence=min_detection_confidence,
        )

    @property
    def version(self) -> str:
        return f"mediapipe {self._mp_version} pose complexity={self.model_complexity}"

    def __call__(self, images: np.ndarray) -> Keypoints:
        images = check_images(images)
        n, h, w = images.shape[:3]
        out = self.empty(n, (h, w))
        for i, image in enumerate(images):
            coords = self.landmarks(image)
            if coords is None:
                continue
            out.points[i] = coords[:, :2]
            out.confidence[i] = coords[:, 2]
            out.detected[i] = True
        return out

    def landmarks(self, image: np.ndarray) -> np.ndarray | None:
        """[33, 3] float64: x, y in pixels of the uint8 RGB `image`, and visibility; None when
        no person is found. In tracking mode the result depends on the previous calls."""
        h, w = image.shape[:2]
        found = self._pose.process(image).pose_landmarks
        if found is None:
            return None
        return np.array([(p.x * w, p.y * h, p.visibility) for p in found.landmark])

    def reset(self) -> None:
        """Forget the tracked person (tracking mode: the next frame is detected afresh)."""
        self._pose.reset()

    def close(self) -> None:
        if self._pose is not None:
            self._pose.close()
            self._pose = None
