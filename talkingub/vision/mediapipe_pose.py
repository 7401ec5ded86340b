"""MediaPipe Pose (legacy `mp.solutions.pose`, BlazePose GHUM 3D lite/full/heavy).

Offline default for AKD/MKR: the model ships inside the mediapipe wheel (0.10.14). 33 landmarks;
confidence is the landmark `visibility`. `static_image_mode=True` so every frame is detected
independently (no tracking across frames, as a metric must).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from talkingub.vision.base import KeypointBackend, Keypoints, check_images

NUM_LANDMARKS = 33
UPPER_BODY = tuple(range(25))  # face, shoulders, arms, hands, hips


class MediapipePose(KeypointBackend):
    name = "mediapipe-pose"
    kind = "pose"
    num_keypoints = NUM_LANDMARKS

    def __init__(self, model_complexity: int = 1, min_detection_confidence: float = 0.5) -> None:
        import mediapipe as mp

        self._mp_version = mp.__version__
        self.model_complexity = model_complexity
        self._pose: Any = mp.solutions.pose.Pose(
            static_image_mode=True,
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
            landmarks = self._pose.process(image).pose_landmarks
            if landmarks is None:
                continue
            coords = np.array([(p.x * w, p.y * h, p.visibility) for p in landmarks.landmark])
            out.points[i] = coords[:, :2]
            out.confidence[i] = coords[:, 2]
            out.detected[i] = True
        return out

    def close(self) -> None:
        if self._pose is not None:
            self._pose.close()
            self._pose = None
