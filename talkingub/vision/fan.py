"""FAN (2D-FAN-4, Bulat & Tzimiropoulos 2017) 68-point landmarks from face-alignment's
TorchScript checkpoint (`2DFAN4-cd938726ad.zip`, a `torch.jit` archive), without the
face-alignment package.

Contract followed (1adrianb/face-alignment@face_alignment/api.py and utils.py): a face box
(x0, y0, x1, y1) gives centre = box centre moved up by 0.12 x box height and
scale = (width + height) / 195; the square crop of side 200 x scale around the centre is
resized to 256 x 256, RGB in [0, 1], [1, 3, 256, 256]; the network returns 68 heatmaps of
64 x 64 (the last stack when it returns several); each point is the heatmap argmax moved a
quarter pixel towards its larger neighbour, mapped back to the image. Confidence is the
heatmap peak. Face boxes come from dlib's HOG detector (face-alignment defaults to S3FD).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from talkingub.vision.base import KeypointBackend, Keypoints, check_images
from talkingub.vision.dlib_face import Dlib68
from talkingub.vision.geometry import box_to_square_affine
from talkingub.vision.weights_file import file_tag, weights_path

WEIGHTS_NAME = "fan-2dfan4"
CROP = 256
HEATMAP = 64
REFERENCE_SCALE = 195.0


class FanLandmarks(KeypointBackend):
    name = "fan-2dfan4"
    kind = "face-landmarks"
    num_keypoints = 68

    def __init__(self, weights: str | Path | None = None, upsample: int = 1) -> None:
        import torch

        self.path = weights_path(weights, WEIGHTS_NAME)
        self._net: Any = torch.jit.load(str(self.path), map_location="cpu").eval()
        self._tag = file_tag(self.path)
        self._torch_version = torch.__version__
        self._faces = Dlib68(upsample=upsample)

    @property
    def version(self) -> str:
        return f"{self._tag} torch {self._torch_version} boxes=dlib-hog"

    def __call__(self, images: np.ndarray) -> Keypoints:
        images = check_images(images)
        n, h, w = images.shape[:3]
        out = self.empty(n, (h, w))
        for i, box in enumerate(self._faces.face_boxes(images)):
            if box is None:
                continue
            out.points[i], out.confidence[i] = self.landmarks(images[i], box)
            out.detected[i] = True
        return out

    def landmarks(self, image: np.ndarray, box: tuple[float, ...]) -> tuple[np.ndarray, np.ndarray]:
        import cv2
        import torch

        center, side = fan_crop(box)
        matrix = box_to_square_affine(center, side, CROP)
        crop = cv2.warpAffine(image, matrix, (CROP, CROP), flags=cv2.INTER_LINEAR)
        tensor = torch.from_numpy(crop).permute(2, 0, 1)[None].float() / 255.0
        with torch.no_grad():
            heat = self._net(tensor)
        heat = heat[-1] if isinstance(heat, list | tuple) else heat
        points, peak = decode_heatmaps(heat[0].numpy())
        origin = center - side / 2
        return origin + points * (side / HEATMAP), np.clip(peak, 0.0, 1.0)


def fan_crop(box: tuple[float, ...]) -> tuple[np.ndarray, float]:
    """Crop centre and side length (px) for a face box, per face-alignment's convention."""
    x0, y0, x1, y1 = box[:4]
    center = np.array([(x0 + x1) / 2, (y0 + y1) / 2 - (y1 - y0) * 0.12])
    scale = ((x1 - x0) + (y1 - y0)) / REFERENCE_SCALE
    return center, 200.0 * scale


def decode_heatmaps(heat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """[K, H, W] heatmaps -> points [K, 2] in heatmap pixels (cell centres) and peak values."""
    k, h, w = heat.shape
    flat = heat.reshape(k, -1)
    idx = flat.argmax(axis=1)
    ys, xs = np.divmod(idx, w)
    points = np.stack([xs, ys], axis=1).astype(np.float64)
    for j in range(k):
        x, y = xs[j], ys[j]
        if 0 < x < w - 1:
            points[j, 0] += 0.25 * np.sign(heat[j, y, x + 1] - heat[j, y, x - 1])
        if 0 < y < h - 1:
            points[j, 1] += 0.25 * np.sign(heat[j, y + 1, x] - heat[j, y - 1, x])
    return points + 0.5, flat.max(axis=1).astype(np.float64)
