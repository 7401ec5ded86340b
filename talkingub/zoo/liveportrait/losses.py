"""LivePortrait's loss terms ([P] eq. 3-6) as plain functions; every one returns a scalar.

Stage I (eq. 4): equivariance L_E, keypoint prior L_L and deformation prior L_Delta as in
face-vid2vid (zhanglonghao1992/One-Shot_Free-View_Neural_Talking_Head_Synthesis@
modules/model.py: |x_d - T(x_T(d))| on (x, y), sum_{i != j} max(0, D_t - |x_i - x_j|^2) +
|mean z - Z_t|, |delta|_1); the landmark-guided Wing loss (eq. 3; Feng et al., CVPR 2018:
w ln(1 + |x| / eps) below w, |x| - C above, C = w - w ln(1 + w / eps)); the hinge GAN of the
cascaded global / face / lip discriminators. Stage II (eq. 5-6): masked pixel consistency with
the self-reconstruction, |c^p - c_d| condition terms and |Delta|_1 regularisers.

Regions: the face region is the face box in crop space; the lip region is the box around the
mouth landmarks (iBUG-68 48-67) when the landmark teacher runs, else the lower middle of the
face box (x: centre +- w/4, y: 0.55-1.05 of h). Eye / lip openness from iBUG-68 points (ours;
[R] computes them from its own 203-point model): eye = (|37-41| + |38-40|) / (2 |36-39|) per
eye, lip = |62-66| / |48-54|.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from talkingub.zoo.liveportrait.config import LossConfig

DiscOutput = list[tuple[list[torch.Tensor], torch.Tensor]]
LIP_POINTS = slice(48, 68)
EYE_POINTS = (slice(36, 42), slice(42, 48))


def wing(pred: torch.Tensor, target: torch.Tensor, width: float, curvature: float) -> torch.Tensor:
    """Wing loss per element, mean over everything."""
    err = (pred - target).abs()
    const = width - width * math.log(1 + width / curvature)
    small = width * torch.log1p(err / curvature)
    return torch.where(err < width, small, err - const).mean()


def guide_loss(
    kp_source: torch.Tensor,
    kp_driving: torch.Tensor,
    lmk_source: torch.Tensor,
    lmk_driving: torch.Tensor,
    cfg: LossConfig,
) -> torch.Tensor:
    """eq. 3: mean of Wing(l_i, x_s,i,:2) and Wing(l_i, x_d,i,:2) over the guided points."""
    kp, lm = list(cfg.guide_keypoints), list(cfg.guide_landmarks)
    terms = [
        wing(x[:, kp, :2], pts[:, lm].detach(), cfg.wing_width, cfg.wing_curvature)
        for x, pts in ((kp_source, lmk_source), (kp_driving, lmk_driving))
    ]
    return cfg.guide * (terms[0] + terms[1]) / 2


def keypoint_prior(kp: torch.Tensor, cfg: LossConfig) -> torch.Tensor:
    d2 = (kp.unsqueeze(1) - kp.unsqueeze(2)).pow(2).sum(-1)
    off = ~torch.eye(kp.shape[1], dtype=torch.bool, device=kp.device)
    spread = F.relu(cfg.keypoint_distance - d2)[:, off].sum(-1).mean()
    depth = (kp[..., 2].mean(-1) - cfg.keypoint_depth).abs().mean()
    return cfg.keypoint_prior * (spread + depth)


def deformation_prior(expression: torch.Tensor, cfg: LossConfig) -> torch.Tensor:
    return cfg.deformation_prior * expression.float().abs().flatten(1).sum(-1).mean()


def generator_hinge(fake: DiscOutput) -> torch.Tensor:
    return torch.stack([-logits.float().mean() for _, logits in fake]).sum()


def discriminator_hinge(real: DiscOutput, fake: DiscOutput) -> torch.Tensor:
    terms = [
        F.relu(1 - r.float()).mean() + F.relu(1 + f.float()).mean()
        for (_, r), (_, f) in zip(real, fake)
    ]
    return torch.stack(terms).sum()


def pyramid(image: torch.Tensor, scales: tuple[float, ...]) -> dict[float, torch.Tensor]:
    def down(scale: float) -> torch.Tensor:
        size = max(1, round(image.shape[-1] * scale))
        out = F.interpolate(image.float(), size=(size, size), mode="bilinear", antialias=True)
        return out.to(image.dtype)

    return {s: image if s == 1.0 else down(s) for s in scales}


def square_box(lo: torch.Tensor, hi: torch.Tensor, margin: float) -> torch.Tensor:
    """Square boxes [B, 4] around corners lo, hi [B, 2], grown by `margin` of their side."""
    center = (lo + hi) / 2
    half = (hi - lo).max(dim=1, keepdim=True).values / 2 * (1 + margin)
    return torch.cat([center - half, center + half], dim=1)


def lip_box(face_box: torch.Tensor, landmarks: torch.Tensor | None) -> torch.Tensor:
    """The lip region in crop space [B, 4] (see the module docstring)."""
    if landmarks is not None:
        pts = landmarks[:, LIP_POINTS].detach()
        return square_box(pts.min(dim=1).values, pts.max(dim=1).values, 0.5)
    w, h = face_box[:, 2] - face_box[:, 0], face_box[:, 3] - face_box[:, 1]
    cx = (face_box[:, 0] + face_box[:, 2]) / 2
    lo = torch.stack([cx - w / 4, face_box[:, 1] + 0.55 * h], dim=1)
    hi = torch.stack([cx + w / 4, face_box[:, 1] + 1.05 * h], dim=1)
    return square_box(lo, hi, 0.0)


def eye_boxes(landmarks: torch.Tensor) -> list[torch.Tensor]:
    out = []
    for part in EYE_POINTS:
        pts = landmarks[:, part].detach()
        out.append(square_box(pts.min(dim=1).values, pts.max(dim=1).values, 1.0))
    return out


def box_mask(boxes: list[torch.Tensor], size: int, like: torch.Tensor) -> torch.Tensor:
    """[B, 1, size, size]: 1 inside any of the crop-space boxes [B, 4], else 0."""
    u = (torch.arange(size, device=like.device, dtype=torch.float32) + 0.5) / size * 2 - 1
    mask = torch.zeros(like.shape[0], size, size, device=like.device)
    for box in boxes:
        inside_x = (u[None] >= box[:, 0:1]) & (u[None] <= box[:, 2:3])  # [B, size]
        inside_y = (u[None] >= box[:, 1:2]) & (u[None] <= box[:, 3:4])
        mask = torch.maximum(mask, (inside_y[:, :, None] & inside_x[:, None, :]).float())
    return mask[:, None].to(like.dtype)


def shoulder_mask(face_box: torch.Tensor, size: int, like: torch.Tensor) -> torch.Tensor:
    """1 - M^st: the crop rows below the face box (the neck and shoulders), [B, 1, size, size]."""
    below = face_box.new_tensor([-1.0, 0.0, 1.0, 1.0]).repeat(face_box.shape[0], 1)
    below[:, 1] = face_box[:, 3]
    return box_mask([below], size, like)


def distance(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return (a - b).pow(2).sum(-1).clamp_min(1e-12).sqrt()


def eye_openness(landmarks: torch.Tensor) -> torch.Tensor:
    """[B, 68, 2] -> [B, 2] (left, right) lid gap over eye width."""
    out = []
    for start in (36, 42):
        p = landmarks[:, start : start + 6]
        gap = distance(p[:, 1], p[:, 5]) + distance(p[:, 2], p[:, 4])
        out.append(gap / (2 * distance(p[:, 0], p[:, 3]) + 1e-6))
    return torch.stack(out, dim=1)


def lip_openness(landmarks: torch.Tensor) -> torch.Tensor:
    """[B, 68, 2] -> [B, 1] inner-lip gap over mouth width."""
    gap = distance(landmarks[:, 62], landmarks[:, 66])
    return (gap / (distance(landmarks[:, 48], landmarks[:, 54]) + 1e-6))[:, None]


def masked_l1(a: torch.Tensor, b: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean |a - b| over the masked pixels (eq. 5-6 consistency terms, per-pixel mean)."""
    weight = mask.float().expand_as(a)
    return ((a.float() - b.float()).abs() * weight).sum() / weight.sum().clamp_min(1.0)


def total(losses: dict[str, torch.Tensor]) -> torch.Tensor:
    return torch.stack([v.float() for v in losses.values()]).sum()
