"""Implicit keypoint transform of LivePortrait ([P] eq. 2 and eq. 7).

x = s * (x_c R + delta) + t, keypoints as row vectors [B, K, 3]. Conventions from [R]
(KwaiVGI/LivePortrait@1986663b): pose bins -> degrees as 3 * E[softmax bin] - 97.5
(utils/camera.py headpose_pred_to_degree); R = (Rz(roll) Ry(yaw) Rx(pitch))^T so that x_c R
rotates row vectors (utils/camera.py get_rotation_matrix); only t_x, t_y are added, t_z is
dropped (live_portrait_wrapper.py transform_keypoint, and `t_new[..., 2] = 0` in the
pipeline). Relative motion (eq. 7) uses R_d,i R_d,0^-1 R_s, s_s * s_d,i / s_d,0, and offsets of
delta and t from the first driving frame.
"""

from __future__ import annotations

import dataclasses
import math

import torch
import torch.nn.functional as F

from talkingub.zoo.liveportrait.motion_extractor import Motion


def bins_to_degrees(logits: torch.Tensor, offset: float) -> torch.Tensor:
    """[B, num_bins] logits -> [B] degrees (3-degree bins, expectation under softmax)."""
    idx = torch.arange(logits.shape[-1], dtype=torch.float32, device=logits.device)
    return (F.softmax(logits.float(), dim=-1) * idx).sum(-1) * 3.0 - offset


def rotation(pitch: torch.Tensor, yaw: torch.Tensor, roll: torch.Tensor) -> torch.Tensor:
    """Degrees [B] each -> R [B, 3, 3] for row-vector keypoints (x R)."""
    x, y, z = (a.float() * (math.pi / 180.0) for a in (pitch, yaw, roll))
    one, zero = torch.ones_like(x), torch.zeros_like(x)

    def mat(*rows: torch.Tensor) -> torch.Tensor:
        return torch.stack(rows, dim=-1).view(-1, 3, 3)

    rx = mat(one, zero, zero, zero, x.cos(), -x.sin(), zero, x.sin(), x.cos())
    ry = mat(y.cos(), zero, y.sin(), zero, one, zero, -y.sin(), zero, y.cos())
    rz = mat(z.cos(), -z.sin(), zero, z.sin(), z.cos(), zero, zero, zero, one)
    return (rz @ ry @ rx).transpose(1, 2)


@dataclasses.dataclass
class Pose:
    """The motion of one image in the form eq. 2 uses."""

    rotation: torch.Tensor  # R [B, 3, 3]
    expression: torch.Tensor  # delta [B, K, 3]
    scale: torch.Tensor  # s [B, 1]
    translation: torch.Tensor  # t [B, 3], t_z kept here, dropped in `apply`


def pose_of(motion: Motion, offset: float) -> Pose:
    degrees = [bins_to_degrees(a, offset) for a in (motion.pitch, motion.yaw, motion.roll)]
    return Pose(rotation(*degrees), motion.expression, motion.scale, motion.translation)


def apply(canonical: torch.Tensor, pose: Pose) -> torch.Tensor:
    """eq. 2: s * (x_c R + delta) + (t_x, t_y, 0)."""
    kp = canonical.float() @ pose.rotation + pose.expression.float()
    kp = kp * pose.scale.float()[:, :, None]
    shift = F.pad(pose.translation.float()[:, :2], (0, 1))
    return kp + shift[:, None, :]


def relative(source: Pose, driving: Pose, first: Pose) -> Pose:
    """eq. 7: the source's pose moved by the driving frame's change since the first frame."""
    rot = driving.rotation @ first.rotation.transpose(1, 2) @ source.rotation
    return Pose(
        rotation=rot,
        expression=source.expression + (driving.expression - first.expression),
        scale=source.scale * (driving.scale / first.scale),
        translation=source.translation + (driving.translation - first.translation),
    )
