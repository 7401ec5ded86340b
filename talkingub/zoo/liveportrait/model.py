"""LivePortrait (Guo et al. 2024), stage I, behind the talkingub model interface: `liveportrait`.

Pipeline on a Talking-UB frame: crop the face (the build's face box, [R]'s crop rule,
pasteback.py) -> f_s = F(crop_s); (x_c, R, delta, s, t) = M(crop) -> x = s (x_c R + delta) + t
(eq. 2) -> W warps f_s from x_s to x_d -> G decodes the 2x crop -> (inference) S corrects x_d and
the animated crop is pasted back into the source frame through a feathered mask. Training
(eq. 4) runs on the crops: L_E + L_L + L_H + L_Delta + L_P,cascade + L_G,cascade + L_faceid +
L_guide. The stitching / retargeting MLPs live here too (one layout for checkpoints and the
released weights) but are trained only by `liveportrait-stitch` (stitch.py).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any, ClassVar

import torch
from torch import nn

from talkingub.errors import ConfigError
from talkingub.models.base import Batch, SynthesisModel
from talkingub.models.registry import register_model
from talkingub.zoo.liveportrait import keypoints as kpt
from talkingub.zoo.liveportrait.appearance import AppearanceExtractor
from talkingub.zoo.liveportrait.config import LivePortraitConfig
from talkingub.zoo.liveportrait.losses import (
    deformation_prior,
    guide_loss,
    keypoint_prior,
    lip_box,
    total,
)
from talkingub.zoo.liveportrait.motion_extractor import Motion, MotionExtractor
from talkingub.zoo.liveportrait.objective import (
    Teachers,
    cascaded_terms,
    discriminator_terms,
    face_id_term,
    region_images,
    region_sizes,
)
from talkingub.zoo.liveportrait.pasteback import CropWindow, crop, crop_windows, paste
from talkingub.zoo.liveportrait.spade_decoder import SPADEDecoder
from talkingub.zoo.liveportrait.stitching import StitchingRetargeting
from talkingub.zoo.liveportrait.warping import WarpingModule
from talkingub.zoo.osfv.discriminator import MultiScaleDiscriminator
from talkingub.zoo.osfv.head_pose import bins_to_degrees as hopenet_degrees
from talkingub.zoo.osfv.losses import RandomTPS

CONFIG_DIR = Path(__file__).parent / "configs"
STAGE1_MODULES = ("appearance", "motion", "warping", "decoder")


@dataclasses.dataclass
class Observed:
    """One face crop seen by M: its raw motion, the pose in eq.-2 form and the crop window."""

    motion: Motion
    pose: kpt.Pose
    window: CropWindow
    crop: torch.Tensor


def boxes_of(extra: dict[str, Any], key: str, name: str) -> torch.Tensor:
    box = extra.get(key)
    if box is None:
        raise ConfigError(f"{name} needs the face boxes ({key}) to crop and paste the face")
    return box


@register_model("liveportrait", LivePortraitConfig, CONFIG_DIR)
class LivePortrait(SynthesisModel):
    animate_modes = ("relative", "absolute")
    teacher_terms: ClassVar[dict[str, tuple[str, ...]]] = {
        "face_id": ("face_id",),
        "landmark_guide": ("guide",),
        "perceptual": ("perceptual_global", "perceptual_face", "perceptual_lip"),
    }

    def __init__(self, config: LivePortraitConfig) -> None:
        super().__init__(config)
        self.appearance = AppearanceExtractor(config.appearance)
        self.motion = MotionExtractor(config.motion, config.num_kp)
        self.warping = WarpingModule(config)
        self.decoder = SPADEDecoder(config.decoder)
        self.stitching = StitchingRetargeting(config.stitching, config.num_kp)
        self.discriminators = self._discriminators()
        self.teachers = Teachers(config)
        self._last: tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]] | None = None

    def _discriminators(self) -> nn.ModuleDict:
        names = [n for w, n in zip(self.config.loss.region_weights, ("global", "face", "lip")) if w]
        return nn.ModuleDict({n: MultiScaleDiscriminator(self.config.discriminator) for n in names})

    def parameter_groups(self) -> dict[str, list[nn.Parameter]]:
        gen = [p for name in STAGE1_MODULES for p in getattr(self, name).parameters()]
        disc = list(self.discriminators.parameters()) if self.config.loss.generator_gan else []
        return {"generator": [p for p in gen if p.requires_grad], "discriminator": disc}

    # --- shared pieces --------------------------------------------------------------------
    def observe(self, frames: torch.Tensor, boxes: torch.Tensor) -> Observed:
        window = crop_windows(boxes, tuple(frames.shape[-2:]), self.config.crop)  # type: ignore[arg-type]
        face = crop(frames, window, self.config.face_size)
        motion = self.motion(face)
        return Observed(motion, kpt.pose_of(motion, self.config.motion.bin_offset), window, face)

    def render(
        self, volume: torch.Tensor, kp_src: torch.Tensor, kp_drv: torch.Tensor
    ) -> torch.Tensor:
        return self.decoder(self.warping(volume, kp_src, kp_drv).features)

    def face_box(self, obs: Observed, boxes: torch.Tensor) -> torch.Tensor:
        return obs.window.box_in_crop(boxes.float())

    # --- stage I training -----------------------------------------------------------------
    def generator_losses(self, batch: Batch) -> dict[str, torch.Tensor]:
        cfg = self.config
        name = self.model_name
        src_box = boxes_of(batch, "source_face_box", name)
        drv_box = boxes_of(batch, "driving_face_box", name)
        src = self.observe(batch["source"], src_box)
        drv = self.observe(batch["driving"], drv_box)
        canonical = src.motion.canonical
        kp_s, kp_d = kpt.apply(canonical, src.pose), kpt.apply(canonical, drv.pose)
        pred = self.render(self.appearance(src.crop), kp_s, kp_d)
        target = crop(batch["driving"], drv.window, cfg.output_size)
        face_d = self.face_box(drv, drv_box)
        losses: dict[str, torch.Tensor] = {}
        landmarks = self.teachers.get("landmarks", pred)
        lmk_d = None
        if landmarks is not None:
            with torch.no_grad():
                lmk_s = landmarks(src.crop, self.face_box(src, src_box))
                lmk_d = landmarks(drv.crop, face_d)
            losses["guide"] = guide_loss(kp_s, kp_d, lmk_s, lmk_d, cfg.loss)
        sizes = region_sizes(cfg)
        lips = lip_box(face_d, lmk_d)
        pred_r = region_images(pred, face_d, lips, sizes)
        real_r = region_images(target, face_d, lips, sizes)
        losses.update(cascaded_terms(cfg, self.teachers, self.discriminators, pred_r, real_r))
        self._last = ({k: v.detach() for k, v in pred_r.items()}, real_r)
        source_big = crop(batch["source"], src.window, cfg.output_size)
        losses.update(face_id_term(cfg, self.teachers, pred, source_big, face_d))
        losses.update(self.motion_terms(drv, canonical, kp_d))
        out = {**losses, "total": total(losses)}
        out["l1"] = (pred.detach().float() - target.float()).abs().mean()
        return out

    def motion_terms(
        self, drv: Observed, canonical: torch.Tensor, kp_d: torch.Tensor
    ) -> dict[str, torch.Tensor]:
        """L_E, L_L, L_Delta and L_H of the driving crop (face-vid2vid's terms)."""
        cfg = self.config.loss
        out: dict[str, torch.Tensor] = {}
        if cfg.equivariance:
            tps = RandomTPS(kp_d.shape[0], self.config.equivariance, kp_d)
            warped = self.motion(tps.warp_image(drv.crop.float()).to(drv.crop.dtype))
            pose_t = kpt.pose_of(warped, self.config.motion.bin_offset)
            kp_t = kpt.apply(canonical, pose_t)
            err = kp_d[..., :2] - tps.warp(kp_t[..., :2])
            out["equivariance"] = cfg.equivariance * err.abs().mean()
        if cfg.keypoint_prior:
            out["keypoint_prior"] = keypoint_prior(kp_d, cfg)
        if cfg.deformation_prior:
            out["deformation_prior"] = deformation_prior(drv.motion.expression, cfg)
        hopenet = self.teachers.get("hopenet", drv.crop)
        if hopenet is not None:
            with torch.no_grad():
                teacher = hopenet(drv.crop.float())  # (yaw, pitch, roll) logits
            offset = self.config.motion.bin_offset
            ours = (drv.motion.yaw, drv.motion.pitch, drv.motion.roll)
            diffs = [
                (kpt.bins_to_degrees(a, offset) - hopenet_degrees(b.float())).abs().mean()
                for a, b in zip(ours, teacher)
            ]
            out["head_pose"] = cfg.head_pose * torch.stack(diffs).sum()
        return out

    def discriminator_losses(self, batch: Batch) -> dict[str, torch.Tensor]:
        if self._last is None or not self.config.loss.generator_gan:
            return {}
        terms = discriminator_terms(self.config, self.discriminators, *self._last)
        return {**terms, "total": total(terms)} if terms else {}

    # --- inference ------------------------------------------------------------------------
    def reconstruct(
        self, source: torch.Tensor, driving: torch.Tensor, **extra: Any
    ) -> torch.Tensor:
        """Same identity: the driving frames' own pose and expression (as stage I trains)."""
        return self.animate(source, driving, mode="absolute", **extra)

    def animate(
        self, source: torch.Tensor, driving: torch.Tensor, mode: str = "relative", **extra: Any
    ) -> torch.Tensor:
        """Animate the face of `source` [B, 3, H, W] with `driving` [B, T, 3, H, W] and paste it
        back into the source frame (stitching on, [R]'s default). `relative`: eq. 7;
        `absolute`: the driving frame's pose and expression on the source's keypoints."""
        if mode not in self.animate_modes:
            raise ConfigError(f"animate mode {mode!r} is not one of {list(self.animate_modes)}")
        name = self.model_name
        src_box = boxes_of(extra, "source_face_box", name)
        drv_boxes = boxes_of(extra, "driving_face_box", name)
        src = self.observe(source, src_box)
        volume = self.appearance(src.crop)
        kp_s = kpt.apply(src.motion.canonical, src.pose)
        first: kpt.Pose | None = None
        frames = []
        for t in range(driving.shape[1]):
            drv = self.observe(driving[:, t], drv_boxes[:, t])
            first = first or drv.pose
            pose = kpt.relative(src.pose, drv.pose, first) if mode == "relative" else drv.pose
            kp_d = kpt.apply(src.motion.canonical, pose)
            if self.config.crop.stitching:
                kp_d = self.stitching.stitching(kp_s, kp_d)
            face = self.render(volume, kp_s, kp_d)
            frames.append(paste(face, source, src.window, self.config.crop.feather))
        return torch.stack(frames, dim=1).clamp(0.0, 1.0)
