"""Relative motion transfer helpers (first-order-model@animate.py `normalize_kp`,
articulated-animation@animate.py, Thin-Plate-Spline-Motion-Model@demo.py `relative_kp`)."""

from __future__ import annotations

import torch

from talkingub.zoo.keypoint_common.geometry import inverse


def convex_hull_area(points: torch.Tensor) -> float:
    """Area of the convex hull of [N, 2] points (Andrew's monotone chain + shoelace)."""
    pts = sorted({(float(x), float(y)) for x, y in points.detach().cpu().tolist()})
    if len(pts) < 3:
        return 0.0
    lower = _half_hull(pts)
    upper = _half_hull(pts[::-1])
    hull = lower[:-1] + upper[:-1]
    area = 0.0
    for (x0, y0), (x1, y1) in zip(hull, hull[1:] + hull[:1]):
        area += x0 * y1 - x1 * y0
    return abs(area) / 2.0


def _half_hull(pts: list[tuple[float, float]]) -> list[tuple[float, float]]:
    hull: list[tuple[float, float]] = []
    for p in pts:
        while len(hull) >= 2 and _cross(hull[-2], hull[-1], p) <= 0:
            hull.pop()
        hull.append(p)
    return hull


def _cross(o: tuple[float, float], a: tuple[float, float], b: tuple[float, float]) -> float:
    return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])


def movement_scale(source: torch.Tensor, driving_initial: torch.Tensor) -> torch.Tensor:
    """sqrt(area(source hull) / area(initial driving hull)) per sample -> [B, 1, 1].

    The references compute it on the first batch element only; here it is per sample.
    """
    scales = []
    for src, drv in zip(source, driving_initial):
        a_src, a_drv = convex_hull_area(src), convex_hull_area(drv)
        scales.append((a_src / a_drv) ** 0.5 if a_src > 0 and a_drv > 1e-12 else 1.0)
    return torch.tensor(scales, dtype=source.dtype, device=source.device).view(-1, 1, 1)


def relative_points(
    source: torch.Tensor,
    driving: torch.Tensor,
    driving_initial: torch.Tensor,
    scale: torch.Tensor | float = 1.0,
) -> torch.Tensor:
    """x_s + scale * (x_d - x_d0)."""
    return source + (driving - driving_initial) * scale


def relative_jacobian(
    source: torch.Tensor, driving: torch.Tensor, driving_initial: torch.Tensor
) -> torch.Tensor:
    """(J_d J_d0^-1) J_s."""
    return driving @ inverse(driving_initial) @ source
