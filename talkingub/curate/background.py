"""Background constancy: how much the non-person region changes inside a sequence.

For every analysed frame a small grey thumbnail (160 px wide) and the person mask (dilated,
so edges of the moving person do not count) are compared with the previous analysed frame
(`bg_step`) and with the sequence's first frame (`bg_drift`): the mean absolute grey-level
difference (0-255) over pixels that are background in both frames. A missed cut gives a
large step; a camera pan or zoom gives a growing drift.
"""

from __future__ import annotations

import numpy as np

from talkingub.curate.types import FrameMeasure

THUMB_WIDTH = 160


def thumbnail(image: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Grey thumbnail and background mask (True = background) of one analysis frame."""
    import cv2

    h, w = image.shape[:2]
    size = (THUMB_WIDTH, max(2, round(h * THUMB_WIDTH / w)))
    grey = cv2.resize(cv2.cvtColor(image, cv2.COLOR_RGB2GRAY), size, interpolation=cv2.INTER_AREA)
    person = cv2.resize((mask > 0.2).astype(np.uint8), size, interpolation=cv2.INTER_NEAREST)
    person = cv2.dilate(person, np.ones((7, 7), np.uint8))
    return grey.astype(np.float32), person == 0


def background_change(
    a: tuple[np.ndarray, np.ndarray], b: tuple[np.ndarray, np.ndarray]
) -> float | None:
    both = a[1] & b[1]
    if both.mean() < 0.05:  # almost no background visible: nothing to measure
        return None
    return float(np.abs(a[0] - b[0])[both].mean())


def score_sequence(
    measures: list[FrameMeasure], thumbs: list[tuple[np.ndarray, np.ndarray]]
) -> None:
    """Fill `bg_step` and `bg_drift` of each measure (the first frame gets 0)."""
    for i, (measure, thumb) in enumerate(zip(measures, thumbs)):
        measure.bg_step = 0.0 if i == 0 else background_change(thumbs[i - 1], thumb)
        measure.bg_drift = 0.0 if i == 0 else background_change(thumbs[0], thumb)
