"""Motion decomposition of PTUS: face-body (eq. 1-5) and local-global (eq. 6-7).

Face keypoints live in the face crop's normalised coordinates; they are placed in the full
image through the crop box (x, y scaled by the box half-sizes around its centre, z by their
mean), which the paper leaves implicit. A keypoint set's motion is m = x_D - x_S (eq. 5);
for the set that is decomposed, m = m_g + m_l (eq. 6) with the local motion of eq. 7.
"""

from __future__ import annotations

import dataclasses

import torch


def local_motion(
    rot_src: torch.Tensor, exp_src: torch.Tensor, rot_drv: torch.Tensor, exp_drv: torch.Tensor
) -> torch.Tensor:
    """Eq. 7: m_l = e_D - R_D R_S^-1 e_S; rotations [B, 3, 3], expressions [B, K, 3].

    R_S^-1 = R_S^T (R_S is a rotation). The source expression is carried rigidly into the
    driving pose, so what remains is the expression change independent of the pose change.
    """
    carried = exp_src @ (rot_drv @ rot_src.transpose(-1, -2)).transpose(-1, -2)
    return exp_drv - carried


def box_frame(box: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Box [B, 4] (x0, y0, x1, y1 in [0, 1]) -> centre and scale [B, 1, 3] in [-1, 1] units."""
    x0, y0, x1, y1 = box.unbind(-1)
    half_w, half_h = x1 - x0, y1 - y0  # half-sizes in [-1, 1] units (2 * size / 2)
    centre = torch.stack([x0 + x1 - 1, y0 + y1 - 1, torch.zeros_like(x0)], -1)
    scale = torch.stack([half_w, half_h, (half_w + half_h) / 2], -1)
    return centre.unsqueeze(1), scale.unsqueeze(1)


def face_to_image(kp: torch.Tensor, box: torch.Tensor) -> torch.Tensor:
    """Face-crop keypoints [B, K, 3] -> full-image keypoints."""
    centre, scale = box_frame(box)
    return centre + kp * scale


def face_displacement_to_image(disp: torch.Tensor, box: torch.Tensor) -> torch.Tensor:
    """Face-crop displacements [B, K, 3] -> full-image displacements (no centre shift)."""
    return disp * box_frame(box)[1]


@dataclasses.dataclass
class SetMotion:
    """One keypoint set in full-image coordinates: source keypoints, motion m, local part m_l."""

    source: torch.Tensor  # x_S [B, K, 3]
    motion: torch.Tensor  # m = x_D - x_S (eq. 5), or its relative-mode counterpart
    local: torch.Tensor | None = None  # m_l (eq. 7) when this set is decomposed

    @property
    def global_target(self) -> torch.Tensor:
        """x_S + m_g = x_S + m - m_l: where the global motion alone takes the keypoints."""
        local = 0.0 if self.local is None else self.local
        return self.source + self.motion - local

    @property
    def target(self) -> torch.Tensor:
        return self.source + self.motion


@dataclasses.dataclass
class WarpPlan:
    """Keypoint pairs for the coarse (eq. 8) and the refining (eq. 9) motion networks."""

    coarse_src: torch.Tensor
    coarse_drv: torch.Tensor
    refine_src: torch.Tensor | None = None
    refine_drv: torch.Tensor | None = None


def plan_warp(sets: list[SetMotion]) -> WarpPlan:
    """Coarse: every set to its global target. Refine: the decomposed set's local motion."""
    plan = WarpPlan(
        torch.cat([s.source for s in sets], dim=1),
        torch.cat([s.global_target for s in sets], dim=1),
    )
    local = [s for s in sets if s.local is not None]
    if local:
        plan.refine_src = torch.cat([s.global_target for s in local], dim=1)
        plan.refine_drv = torch.cat([s.target for s in local], dim=1)
    return plan
