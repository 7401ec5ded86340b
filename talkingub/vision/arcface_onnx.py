"""ArcFace identity embeddings from an insightface ONNX recognition model, via onnxruntime.

Contract of insightface's recognition models (`ArcFaceONNX`, e.g. buffalo_l `w600k_r50.onnx`):
input [N, 3, 112, 112] float32, RGB, (pixel - 127.5) / 127.5, the face aligned by a similarity
transform of 5 points (eye centres, nose tip, mouth corners) onto `ARCFACE_TEMPLATE`; output
[N, 512] un-normalised embedding. insightface itself is not required: its model zoo pulls a
compiled extension and a detector we do not need; here the 5 points come from the dlib
68-point shape (insightface uses its SCRFD detector's 5 points: a documented deviation).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from talkingub.vision.base import EmbeddingBackend, Embeddings, check_images
from talkingub.vision.dlib_face import Dlib68
from talkingub.vision.geometry import ARCFACE_TEMPLATE, five_points_from_68, similarity_transform
from talkingub.vision.weights_file import file_tag, weights_path

WEIGHTS_NAME = "arcface-w600k-r50"
INPUT_SIZE = 112


class ArcFaceOnnx(EmbeddingBackend):
    name = "arcface-onnx"
    kind = "face-embedding"
    dim = 512

    def __init__(self, weights: str | Path | None = None, upsample: int = 1) -> None:
        import onnxruntime as ort

        self.path = weights_path(weights, WEIGHTS_NAME)
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        self._session: Any = ort.InferenceSession(
            str(self.path), options, providers=["CPUExecutionProvider"]
        )
        self._input = self._session.get_inputs()[0].name
        self._ort_version = ort.__version__
        self._tag = file_tag(self.path)
        self._landmarks = Dlib68(upsample=upsample)

    @property
    def version(self) -> str:
        return f"{self._tag} onnxruntime {self._ort_version} align=dlib-68"

    def __call__(self, images: np.ndarray) -> Embeddings:
        images = check_images(images)
        shapes = self._landmarks(images)
        vectors = np.full((len(images), self.dim), np.nan)
        rows = np.flatnonzero(shapes.detected)
        if len(rows):
            faces = np.stack([align_face(images[i], shapes.points[i]) for i in rows])
            vectors[rows] = self.embed_aligned(faces)
        return Embeddings(vectors, shapes.detected.copy(), self.name, self.version)

    def embed_aligned(self, faces: np.ndarray) -> np.ndarray:
        """Embeddings [N, 512] of aligned uint8 RGB faces [N, 112, 112, 3]."""
        blob = (faces.astype(np.float32) - 127.5) / 127.5
        blob = np.ascontiguousarray(blob.transpose(0, 3, 1, 2))
        rows = [
            self._session.run(None, {self._input: blob[i : i + 1]})[0] for i in range(len(blob))
        ]
        return np.concatenate(rows).reshape(len(blob), -1).astype(np.float64)


def align_face(image: np.ndarray, shape68: np.ndarray) -> np.ndarray:
    """112x112 ArcFace crop of one face given its 68-point shape."""
    import cv2

    matrix = similarity_transform(five_points_from_68(shape68), ARCFACE_TEMPLATE)
    return np.asarray(cv2.warpAffine(image, matrix, (INPUT_SIZE, INPUT_SIZE), borderValue=0.0))
