"""Small geometry helpers shared by the face and body backends (numpy only)."""

from __future__ import annotations

import numpy as np

# ArcFace's 112x112 alignment template: eye centres, nose tip, mouth corners (x, y) px.
# Values as published with insightface (deepinsight/insightface@python-package/insightface/
# utils/face_align.py, `arcface_dst`).
ARCFACE_TEMPLATE = np.array(
    [
        [38.2946, 51.6963],
        [73.5318, 51.5014],
        [56.0252, 71.7366],
        [41.5493, 92.3655],
        [70.7299, 92.2041],
    ]
)

# iBUG-300W 68-point indices.
LEFT_EYE = slice(36, 42)  # subject's right eye, image left
RIGHT_EYE = slice(42, 48)
NOSE_TIP = 30
MOUTH_LEFT = 48
MOUTH_RIGHT = 54
OUTER_EYE_CORNERS = (36, 45)


def five_points_from_68(points: np.ndarray) -> np.ndarray:
    """Eye centres, nose tip and mouth corners [5, 2] from a 68-point face shape."""
    return np.stack(
        [
            points[LEFT_EYE].mean(axis=0),
            points[RIGHT_EYE].mean(axis=0),
            points[NOSE_TIP],
            points[MOUTH_LEFT],
            points[MOUTH_RIGHT],
        ]
    )


def similarity_transform(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Least-squares rotation + uniform scale + translation mapping src [K,2] onto dst [K,2].

    Returns the 2x3 matrix M with dst ≈ M[:, :2] @ src + M[:, 2] (Umeyama 1991, no reflection).
    """
    src = np.asarray(src, dtype=np.float64)
    dst = np.asarray(dst, dtype=np.float64)
    mu_src, mu_dst = src.mean(axis=0), dst.mean(axis=0)
    src0, dst0 = src - mu_src, dst - mu_dst
    cov = dst0.T @ src0 / len(src)
    u, s, vt = np.linalg.svd(cov)
    d = np.diag([1.0, np.sign(np.linalg.det(u @ vt)) or 1.0])
    rotation = u @ d @ vt
    scale = np.trace(np.diag(s) @ d) / (src0**2).sum(axis=1).mean()
    translation = mu_dst - scale * rotation @ mu_src
    return np.hstack([scale * rotation, translation[:, None]])


def box_to_square_affine(center: np.ndarray, side: float, out_size: int) -> np.ndarray:
    """2x3 matrix mapping the square of `side` px centred on `center` onto [0, out_size)^2."""
    scale = out_size / side
    cx, cy = float(center[0]), float(center[1])
    return np.array(
        [[scale, 0.0, out_size / 2 - scale * cx], [0.0, scale, out_size / 2 - scale * cy]]
    )


def invert_affine(matrix: np.ndarray) -> np.ndarray:
    full = np.vstack([matrix, [0.0, 0.0, 1.0]])
    return np.linalg.inv(full)[:2]


def apply_affine(matrix: np.ndarray, points: np.ndarray) -> np.ndarray:
    return points @ matrix[:, :2].T + matrix[:, 2]


def interocular_distance(points: np.ndarray) -> np.ndarray:
    """Outer-eye-corner distance of 68-point shapes [..., 68, 2] -> [...]."""
    a, b = OUTER_EYE_CORNERS
    return np.linalg.norm(points[..., a, :] - points[..., b, :], axis=-1)
