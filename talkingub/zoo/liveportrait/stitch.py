"""LivePortrait stage II ([P] Sec. 3.3): `liveportrait-stitch` trains only the stitching and
eyes / lip retargeting MLPs; F, M, W and G are frozen (eval mode, no gradients).

Stage-I weights: `stage2.stage1_checkpoint`, a bench checkpoint of `liveportrait` (or of an
imported release), loaded for F, M, W, G; empty leaves them at their random initialisation
(tiny smoke runs only; the paper variant should name a trained stage I).

Losses: eq. 5 with cross-identity motion ([P]: another person's motion drives the source's
canonical keypoints): in a batch, sample i takes the driving pose of sample i+1 (the bench
batches hold different videos); the shoulder mask 1 - M^st is the crop below the face box.
eq. 6 when `stage2.retargeting` and the FAN teacher are on: random c_d,eyes and c_d,lip in
`stage2.loss.*_range`, x'_d = x_s + Delta, consistency outside the eye / lip boxes, the
openness of the rendered eyes / lips against c_d. I_p,recon = G(W(f_s; x_s, x_s)).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import torch
from torch import nn

from talkingub.errors import ConfigError
from talkingub.models.base import Batch
from talkingub.models.registry import register_model
from talkingub.zoo.liveportrait import keypoints as kpt
from talkingub.zoo.liveportrait.config import LivePortraitConfig
from talkingub.zoo.liveportrait.losses import (
    box_mask,
    eye_boxes,
    eye_openness,
    lip_box,
    lip_openness,
    masked_l1,
    shoulder_mask,
    total,
)
from talkingub.zoo.liveportrait.model import STAGE1_MODULES, LivePortrait, boxes_of
from talkingub.zoo.liveportrait.teachers import LandmarkTeacher

STITCH_CONFIG_DIR = Path(__file__).parent / "configs" / "stitch"


def load_stage1(model: LivePortrait, path: str) -> None:
    """F, M, W, G from a checkpoint file (safe loader; bench format or a bare state dict)."""
    state = torch.load(Path(path).expanduser(), map_location="cpu", weights_only=True)
    if isinstance(state, dict) and isinstance(state.get("model"), dict):
        state = state["model"]
    prefixes = tuple(f"{name}." for name in STAGE1_MODULES)
    wanted = {k: v for k, v in state.items() if k.startswith(prefixes)}
    if not wanted:
        raise ConfigError(f"{path}: no stage-I weights ({', '.join(STAGE1_MODULES)}) found")
    missing = [k for k in model.state_dict() if k.startswith(prefixes) and k not in wanted]
    if missing:
        raise ConfigError(f"{path}: stage-I weights missing, e.g. {missing[0]}")
    model.load_state_dict(wanted, strict=False)


@register_model("liveportrait-stitch", LivePortraitConfig, STITCH_CONFIG_DIR)
class LivePortraitStitch(LivePortrait):
    teacher_terms: ClassVar[dict[str, tuple[str, ...]]] = {"landmark_guide": ("eyes", "lip")}

    def __init__(self, config: LivePortraitConfig) -> None:
        super().__init__(config)
        if config.stage2.stage1_checkpoint:
            load_stage1(self, config.stage2.stage1_checkpoint)
        for name in STAGE1_MODULES:
            getattr(self, name).requires_grad_(False)
        self.discriminators.requires_grad_(False)

    def _discriminators(self) -> nn.ModuleDict:
        return nn.ModuleDict()  # stage II has no GAN

    def train(self, mode: bool = True) -> LivePortraitStitch:
        super().train(mode)
        for name in STAGE1_MODULES:
            getattr(self, name).eval()  # frozen BatchNorm statistics
        return self

    def parameter_groups(self) -> dict[str, list[nn.Parameter]]:
        return {"generator": [p for p in self.stitching.parameters() if p.requires_grad]}

    def discriminator_losses(self, batch: Batch) -> dict[str, torch.Tensor]:
        return {}

    def generator_losses(self, batch: Batch) -> dict[str, torch.Tensor]:
        cfg = self.config
        name = self.model_name
        src_box = boxes_of(batch, "source_face_box", name)
        with torch.no_grad():
            src = self.observe(batch["source"], src_box)
            drv = self.observe(batch["driving"], boxes_of(batch, "driving_face_box", name))
            volume = self.appearance(src.crop)
            canonical = src.motion.canonical
            kp_s = kpt.apply(canonical, src.pose)
            cross = kpt.Pose(*(torch.roll(getattr(drv.pose, f), 1, 0) for f in POSE_FIELDS))
            kp_d = kpt.apply(canonical, cross)
            recon = self.render(volume, kp_s, kp_s)
        face = self.face_box(src, src_box)
        size = cfg.output_size
        loss = cfg.stage2.loss
        kp_st = self.stitching.stitching(kp_s, kp_d)
        pred = self.render(volume, kp_s, kp_st)
        losses = {
            "stitching": masked_l1(pred, recon, shoulder_mask(face, size, pred)),
            "stitching_reg": loss.stitching_reg * (kp_st - kp_d).abs().mean(),
        }
        teacher = self.teachers.get("landmarks", pred) if cfg.stage2.retargeting else None
        if teacher is not None:
            losses.update(self.retargeting_terms(teacher, volume, src.crop, kp_s, recon, face))
        out = {**losses, "total": total(losses)}
        out["l1_shoulders"] = losses["stitching"].detach()
        return out

    def retargeting_terms(
        self,
        teacher: LandmarkTeacher,
        volume: torch.Tensor,
        source_crop: torch.Tensor,
        kp_s: torch.Tensor,
        recon: torch.Tensor,
        face: torch.Tensor,
    ) -> dict[str, torch.Tensor]:
        """eq. 6 for the eyes and the lip."""
        loss = self.config.stage2.loss
        size = self.config.output_size
        b = kp_s.shape[0]
        with torch.no_grad():
            lmk = teacher(source_crop, face)
        out: dict[str, torch.Tensor] = {}
        parts: list[tuple[str, Any, Any, tuple[float, float], float, float]] = [
            (
                "eyes",
                eye_openness,
                self.stitching.retarget_eyes,
                loss.eyes_range,
                loss.eyes_cond,
                loss.eyes_reg,
            ),
            (
                "lip",
                lip_openness,
                self.stitching.retarget_lip,
                loss.lip_range,
                loss.lip_cond,
                loss.lip_reg,
            ),
        ]
        for part, openness, retarget, (lo, hi), w_cond, w_reg in parts:
            c_s = openness(lmk)
            c_d = torch.empty(b, 1, device=kp_s.device).uniform_(lo, hi)
            delta = retarget(kp_s, torch.cat([c_s, c_d], dim=1))
            pred = self.render(volume, kp_s, kp_s + delta)
            region = eye_boxes(lmk) if part == "eyes" else [lip_box(face, lmk)]
            keep = 1 - box_mask(region, size, pred)
            c_p = openness(teacher(pred, face))
            out[part] = masked_l1(pred, recon, keep)
            out[f"{part}_cond"] = w_cond * (c_p - c_d).abs().mean()
            out[f"{part}_reg"] = w_reg * delta.abs().mean()
        return out


POSE_FIELDS = ("rotation", "expression", "scale", "translation")
