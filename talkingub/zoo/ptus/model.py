"""PTUS (Lin et al., "Photo-Realistic Talking Upper-Body Synthesis via 3D-Aware Motion
Decomposition Warping", AAAI 2024) on the OSFV backbone, and its Table 4 ablations.

Pipeline: face-body motion decomposition (eq. 1-5), local-global face motion (eq. 6-7),
coarse-to-fine warping (eq. 8-9, warping.py), face/body feature fusion (fusion.py), OSFV
generator; objective eq. 10 with L_cam on the face and L_B on the body pose estimator
(losses.py).

Registered as `ptus` (full), `ptus-no-lgmd` (no local-global decomposition, no refining warp)
and the two readings of Table 4's "w/o FBLG": `ptus-no-fbmd` (one keypoint set and pose
estimator for the whole upper body, LGMD kept on it) and `ptus-no-fbmd-lgmd` (one keypoint set
and pose estimator, no local-global decomposition either).
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
from talkingub.zoo.osfv.appearance import AppearanceFeatureExtractor
from talkingub.zoo.osfv.discriminator import MultiScaleDiscriminator
from talkingub.zoo.osfv.generator import ImageGenerator
from talkingub.zoo.osfv.keypoint_motion import KeypointMotion, KeypointState
from talkingub.zoo.osfv.model import check_mode
from talkingub.zoo.osfv.objective import total
from talkingub.zoo.ptus.config import PTUSConfig
from talkingub.zoo.ptus.decomposition import (
    SetMotion,
    face_displacement_to_image,
    face_to_image,
    local_motion,
    plan_warp,
)
from talkingub.zoo.ptus.fusion import FaceBodyFusion, target_box
from talkingub.zoo.ptus.losses import PTUSObjective
from talkingub.zoo.ptus.warping import CoarseToFineWarping

CONFIG_ROOT = Path(__file__).parent / "configs"


@dataclasses.dataclass
class Frame:
    """What PTUS sees of one image: the full frame, and its face crop and box when split."""

    image: torch.Tensor
    face: torch.Tensor | None = None
    box: torch.Tensor | None = None


@dataclasses.dataclass
class Observation:
    body: KeypointState
    face: KeypointState | None
    box: torch.Tensor | None


class PTUSBase(SynthesisModel):
    animate_modes = ("relative", "absolute")
    #: (face_body_split, local_global) that the registered name stands for.
    switches: ClassVar[tuple[bool, bool]] = (True, True)
    teacher_terms: ClassVar[dict[str, tuple[str, ...]]] = {
        "head_pose_loss": ("head_pose", "body_pose")
    }  # L_cam and L_B

    def __init__(self, config: PTUSConfig) -> None:
        if (config.face_body_split, config.local_global) != self.switches:
            raise ConfigError(
                f"{self.model_name} needs face_body_split={self.switches[0]} and "
                f"local_global={self.switches[1]}; use the matching ptus* model name"
            )
        super().__init__(config)
        self.appearance = AppearanceFeatureExtractor(config)
        self.body = KeypointMotion(config)  # F_kp^bo and the upper-body pose / minor motion
        self.face: KeypointMotion | None = None
        if config.face_body_split:  # F_kp^fa and the face pose / expression
            self.face = KeypointMotion(dataclasses.replace(config, num_kp=config.num_face_kp))
        face_kp = config.num_face_kp if config.face_body_split else 0
        refine_kp = (face_kp or config.num_kp) if config.local_global else None
        self.warping = CoarseToFineWarping(config, config.num_kp + face_kp, refine_kp)
        # Combines the refined face features with the body features (no parameters).
        self.fusion: FaceBodyFusion | None = None
        if config.fuses_face:
            self.fusion = FaceBodyFusion(config.fusion_feather)
        self.generator = ImageGenerator(config)
        self.discriminator = MultiScaleDiscriminator(config.discriminator)
        self.objective = PTUSObjective(config)
        self._last: tuple[torch.Tensor, torch.Tensor] | None = None

    def parameter_groups(self) -> dict[str, list[nn.Parameter]]:
        disc = {id(p) for p in self.discriminator.parameters()}
        gen = [p for p in self.parameters() if p.requires_grad and id(p) not in disc]
        return {"generator": gen, "discriminator": list(self.discriminator.parameters())}

    # --- motion ---------------------------------------------------------------------------
    def canonical(self, source: Frame) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Eq. 1: x^bo = F_kp^bo(S), x^fa = F_kp^fa(S^fa)."""
        face = None if self.face is None else self.face.detector(self._face(source))
        return self.body.detector(source.image), face

    def observe(
        self, canonical: tuple[torch.Tensor, torch.Tensor | None], frame: Frame
    ) -> Observation:
        """Eq. 2-4: the canonical keypoints in the pose and minor motion of `frame`."""
        body = self.body.observe(canonical[0], frame.image)
        face = None
        if self.face is not None and canonical[1] is not None:
            face = self.face.observe(canonical[1], self._face(frame))
        return Observation(body, face, frame.box)

    def decompose(self, src: Observation, drv: Observation, ref: Observation) -> list[SetMotion]:
        """Per-set motion m (eq. 5) from `ref` to `drv`, applied at the source; m_l (eq. 7).

        Absolute motion: ref is the source. Relative motion: ref is the first driving frame.
        """
        lgmd = self.config.local_global
        body = SetMotion(src.body.keypoints, drv.body.keypoints - ref.body.keypoints)
        if src.face is None or drv.face is None or ref.face is None:
            if lgmd:
                body.local = _local(ref.body, drv.body)
            return [body]
        assert src.box is not None and drv.box is not None and ref.box is not None
        face_motion = face_to_image(drv.face.keypoints, drv.box) - face_to_image(
            ref.face.keypoints, ref.box
        )
        face = SetMotion(face_to_image(src.face.keypoints, src.box), face_motion)
        if lgmd:
            face.local = face_displacement_to_image(_local(ref.face, drv.face), drv.box)
        return [body, face]

    def face_box(self, src: Observation, drv: Observation, ref: Observation) -> torch.Tensor | None:
        """The face box in the output frame (for the fusion), when the model fuses."""
        if self.fusion is None or src.box is None or drv.box is None or ref.box is None:
            return None
        return target_box(src.box, drv.box, ref.box)

    def render(
        self, volume: torch.Tensor, sets: list[SetMotion], face_box: torch.Tensor | None = None
    ) -> torch.Tensor:
        """Warp (eq. 8-9), fuse the refined face features into the body features inside
        `face_box` (fusion.py), decode. Without fusion the most refined volume is decoded."""
        warped = self.warping(volume, plan_warp(sets))
        features = warped.final
        if self.fusion is not None and warped.refined is not None and face_box is not None:
            features = self.fusion(warped.initial, warped.refined, face_box)
        return self.generator(features, warped.occlusion)

    def _face(self, frame: Frame) -> torch.Tensor:
        if frame.face is None or frame.box is None:
            raise ConfigError(
                f"{self.model_name} needs face crops and face boxes (source_face, ...)"
            )
        return frame.face

    # --- training -------------------------------------------------------------------------
    def generator_losses(self, batch: Batch) -> dict[str, torch.Tensor]:
        src_frame, drv_frame = _frames(batch, "source"), _frames(batch, "driving")
        canonical = self.canonical(src_frame)
        src, drv = self.observe(canonical, src_frame), self.observe(canonical, drv_frame)
        volume = self.appearance(src_frame.image)
        pred = self.render(volume, self.decompose(src, drv, src), self.face_box(src, drv, src))
        self._last = (pred.detach(), drv_frame.image)
        losses = self.objective.image_terms(pred, drv_frame.image, self.discriminator)
        losses.update(self._regularizers(drv, drv_frame))
        out = {**losses, "total": total(losses)}
        out["l1"] = (pred.detach() - drv_frame.image).abs().mean()
        return out

    def _regularizers(self, drv: Observation, frame: Frame) -> dict[str, torch.Tensor]:
        """L_E, L_kp, L_delta per keypoint set; L_cam on the face and L_B on the body pose."""
        cfg, eq = self.config.loss, self.config.equivariance
        out = {
            f"body_{k}": v
            for k, v in self.body.regularizers(drv.body, frame.image, cfg, eq).items()
        }
        if self.face is not None and drv.face is not None:
            face_crop = self._face(frame)
            face_terms = self.face.regularizers(drv.face, face_crop, cfg, eq)
            out.update({f"face_{k}": v for k, v in face_terms.items()})
            out.update(self.objective.head_pose(drv.face.pose, face_crop))  # L_cam
        out.update(self.objective.body_pose(drv.body.pose, frame.image))  # L_B
        return out

    def discriminator_losses(self, batch: Batch) -> dict[str, torch.Tensor]:
        if self._last is None or not self.config.loss.generator_gan:
            return {}
        terms = self.objective.discriminator_terms(*self._last, self.discriminator)
        return {**terms, "total": total(terms)}

    # --- inference ------------------------------------------------------------------------
    def reconstruct(
        self, source: torch.Tensor, driving: torch.Tensor, **extra: Any
    ) -> torch.Tensor:
        """Same identity: the driving motion applied absolutely (as in training)."""
        return self.animate(source, driving, mode="absolute", **extra)

    def animate(
        self, source: torch.Tensor, driving: torch.Tensor, mode: str = "relative", **extra: Any
    ) -> torch.Tensor:
        check_mode(mode, self.animate_modes)
        src_frame = Frame(source, extra.get("source_face"), extra.get("source_face_box"))
        canonical = self.canonical(src_frame)
        src = self.observe(canonical, src_frame)
        volume = self.appearance(source)
        first: Observation | None = None
        frames = []
        for t in range(driving.shape[1]):
            drv = self.observe(canonical, _driving_frame(driving, extra, t))
            if first is None:
                first = drv
            ref = src if mode == "absolute" else first
            face_box = self.face_box(src, drv, ref)
            frames.append(self.render(volume, self.decompose(src, drv, ref), face_box))
        return torch.stack(frames, dim=1)


def _local(ref: KeypointState, drv: KeypointState) -> torch.Tensor:
    return local_motion(ref.rotation, ref.pose.expression, drv.rotation, drv.pose.expression)


def _frames(batch: Batch, key: str) -> Frame:
    return Frame(batch[key], batch.get(f"{key}_face"), batch.get(f"{key}_face_box"))


def _driving_frame(driving: torch.Tensor, extra: dict[str, Any], t: int) -> Frame:
    face, box = extra.get("driving_face"), extra.get("driving_face_box")
    return Frame(
        driving[:, t],
        None if face is None else face[:, t],
        None if box is None else (box[:, t] if box.dim() == 3 else box),
    )


@register_model("ptus", PTUSConfig, CONFIG_ROOT / "ptus")
class PTUS(PTUSBase):
    """Full PTUS: face-body and local-global motion decomposition, coarse-to-fine warping,
    face/body feature fusion, L_cam + L_B."""


@register_model("ptus-no-fbmd", PTUSConfig, CONFIG_ROOT / "ptus-no-fbmd")
class PTUSNoFBMD(PTUSBase):
    """Table 4 "w/o FBLG", reading 1: one keypoint set and pose estimator, LGMD kept.

    Follows "When removing FBLG (w/o FBLG), the ablation model uses only one pose estimator
    for the whole upperbody" literally: only the face-body split goes. There is no face set,
    so eq. 7 is applied to the single upper-body set (its m_l = e_D - R_D R_S^-1 e_S drives
    the refining network, eq. 9) and the refined volume is decoded whole (no face region to
    fuse). The single estimator is the body one: L_B only, no L_cam.
    """

    switches = (False, True)
    teacher_terms: ClassVar[dict[str, tuple[str, ...]]] = {
        "head_pose_loss": ("body_pose",)
    }  # one estimator: L_B only


@register_model("ptus-no-fbmd-lgmd", PTUSConfig, CONFIG_ROOT / "ptus-no-fbmd-lgmd")
class PTUSNoFBMDLGMD(PTUSBase):
    """Table 4 "w/o FBLG", reading 2: one keypoint set and pose estimator, no LGMD either.

    Follows the ablation's name, "FBLG" = FB(MD) + LG(MD), and "we compare PTUS to two
    ablation models where FBMD and LFMD are removed": LGMD decomposes "the 3D face motion
    into global and local motions" (eq. 6-7 use the face set's R^fa, e^fa), which does not
    exist without the face-body split, so it goes too. What remains is OSFV's pipeline on the
    upper body (one motion network, no refinement, no fusion) with PTUS's objective: L_rec
    and L_B on the single (body) estimator.
    """

    switches = (False, False)
    teacher_terms: ClassVar[dict[str, tuple[str, ...]]] = {"head_pose_loss": ("body_pose",)}


@register_model("ptus-no-lgmd", PTUSConfig, CONFIG_ROOT / "ptus-no-lgmd")
class PTUSNoLGMD(PTUSBase):
    """Table 4 "w/o LGMD": the whole face motion enters the first motion network; no
    refinement, so no refined face features to fuse. Follows "the drop in performance when
    removing LGMD (w/o LGMD), illustrates that the decomposition of facial motions into
    global and local components in PTUS is required"."""

    switches = (True, False)
