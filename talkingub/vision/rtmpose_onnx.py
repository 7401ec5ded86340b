"""RTMPose body keypoints (Jiang et al. 2023, mmpose) from an mmpose ONNX export, via
onnxruntime: a *top-down* single-person model (one person box in, 17 COCO keypoints out,
SimCC coordinate classification). It is not OpenPose (Cao et al. 2017: bottom-up part
affinity fields, 18 COCO keypoints with a neck), which FOMM's pose-evaluation used; the
keypoint sets differ (no neck here).

Contract of the rtmlib / mmpose `onnx_sdk` exports (e.g. `rtmpose-m_simcc-body7_pt-body7_420e-
256x192`, COCO-17 keypoints): the person box, enlarged 1.25x and widened to the model aspect,
is warped to the input size (w, h) = (192, 256); RGB normalised with ImageNet mean
(123.675, 116.28, 103.53) and std (58.395, 57.12, 57.375); input [1, 3, 256, 192]; outputs
simcc_x [1, K, 192 * 2] and simcc_y [1, K, 256 * 2]; a keypoint is (argmax_x, argmax_y) / 2 in
input pixels, mapped back to the image; its score the smaller of the two maxima (mmpose
`get_simcc_maximum`; rtmlib's copy averages the two since Tau-J/rtmlib@a71a774). rtmlib is not
required. The person box is the whole frame (one presenter per clip; rtmlib's `RTMPose` also
falls back to the whole image when given no box); rtmlib's `Body` runs a YOLOX person
detector first.

Detection: a keypoint whose score is below `threshold` (default 0.3, the keypoint threshold of
mmpose's top-down demo, open-mmlab/mmpose `demo/topdown_demo_with_mmdet.py` `--kpt-thr`) is
not detected (NaN point, its score kept as confidence); a frame with no keypoint at or above it
has no person (`detected` False), so missing-detection rates and MKR mean something.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from talkingub.vision.base import KeypointBackend, Keypoints, check_images
from talkingub.vision.geometry import apply_affine, invert_affine
from talkingub.vision.weights_file import file_tag, weights_path

WEIGHTS_NAME = "rtmpose-m-body7"
INPUT_W, INPUT_H = 192, 256
SPLIT_RATIO = 2.0
PADDING = 1.25
MEAN = np.array([123.675, 116.28, 103.53], dtype=np.float32)
STD = np.array([58.395, 57.12, 57.375], dtype=np.float32)
COCO_KEYPOINTS = 17
KEYPOINT_THRESHOLD = 0.3  # mmpose demo/topdown_demo_with_mmdet.py --kpt-thr default


class RtmposeBody(KeypointBackend):
    """RTMPose-m (COCO-17, top-down, whole frame as the person box); keypoints scoring below
    `threshold` are not detected, nor is a frame with none at or above it."""

    name = "rtmpose-m-body7"
    kind = "pose"
    num_keypoints = COCO_KEYPOINTS

    def __init__(
        self, weights: str | Path | None = None, threshold: float = KEYPOINT_THRESHOLD
    ) -> None:
        import onnxruntime as ort

        self.threshold = float(threshold)
        self.path = weights_path(weights, WEIGHTS_NAME)
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        self._session: Any = ort.InferenceSession(
            str(self.path), options, providers=["CPUExecutionProvider"]
        )
        self._input = self._session.get_inputs()[0].name
        self._tag = file_tag(self.path)
        self._ort_version = ort.__version__

    @property
    def version(self) -> str:
        return f"{self._tag} onnxruntime {self._ort_version} box=full-frame thr={self.threshold:g}"

    def __call__(self, images: np.ndarray) -> Keypoints:
        images = check_images(images)
        n, h, w = images.shape[:3]
        out = self.empty(n, (h, w))
        for i, image in enumerate(images):
            points, scores = self.keypoints(image)
            found = scores >= self.threshold
            out.points[i, found] = points[found]
            out.confidence[i] = scores
            out.detected[i] = bool(found.any())
        return out

    def keypoints(self, image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        import cv2

        h, w = image.shape[:2]
        matrix = crop_affine((0.0, 0.0, float(w), float(h)))
        crop = cv2.warpAffine(image, matrix, (INPUT_W, INPUT_H), flags=cv2.INTER_LINEAR)
        blob = ((crop.astype(np.float32) - MEAN) / STD).transpose(2, 0, 1)[None]
        simcc_x, simcc_y = self._session.run(None, {self._input: np.ascontiguousarray(blob)})[:2]
        points, scores = decode_simcc(simcc_x[0], simcc_y[0])
        return apply_affine(invert_affine(matrix), points), scores


def crop_affine(box: tuple[float, float, float, float]) -> np.ndarray:
    """2x3 matrix warping the padded, aspect-corrected box onto the model input."""
    x0, y0, x1, y1 = box
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    bw, bh = (x1 - x0) * PADDING, (y1 - y0) * PADDING
    aspect = INPUT_W / INPUT_H
    bw, bh = (bw, bw / aspect) if bw > bh * aspect else (bh * aspect, bh)
    sx, sy = INPUT_W / bw, INPUT_H / bh
    return np.array([[sx, 0.0, INPUT_W / 2 - sx * cx], [0.0, sy, INPUT_H / 2 - sy * cy]])


def decode_simcc(simcc_x: np.ndarray, simcc_y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """[K, Wx], [K, Wy] SimCC logits -> points [K, 2] in input px and scores [K]."""
    xs = simcc_x.argmax(axis=1) / SPLIT_RATIO
    ys = simcc_y.argmax(axis=1) / SPLIT_RATIO
    scores = np.minimum(simcc_x.max(axis=1), simcc_y.max(axis=1))
    return np.stack([xs, ys], axis=1).astype(np.float64), scores.astype(np.float64)
