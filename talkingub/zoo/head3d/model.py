"""Head3D (Ni, Liu, Xue & Huang, "3D-Aware Talking-Head Video Motion Transfer", WACV 2024)
behind the model registry: the few-shot track.

Inputs beyond the contract's `source` / `driving`: the head crops and boxes of the source,
the driving frames and the N subject frames (`source_face`, `driving_face`,
`source_frames_face` [B, N, 3, S, S], `*_face_box`; the bench gives them to a model whose
config has a `face_size` and a `num_ref_frames`: `talkingub.bench.data`, `few_shot`). Without
`source_frames_face` the source's own head crop is the one subject frame (N = 1).

Pipeline (Sec. 3): head regions (parsing.py) -> F_D, F_P (depth.py, pose.py) -> the mean
canonical head x_bar^c of the N references (eq. 1, camera.py) and its depth -> E_H, ConvLSTM,
Omega_H: the canonical head x^c (aggregation.py), its depth F_D(x^c) -> x^c in the driving
head pose (eq. 3), pasted into the frame at the driving head box -> attention fusion with a
reference frame and the driving frame (fusion.py). Stages, their losses and learning rates:
schedule.py, losses.py. Animation uses the driving head pose as it is (the paper's inference,
Sec. 3.4): one mode, "absolute".
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import torch
from torch import nn

from talkingub.errors import ConfigError
from talkingub.models.base import FEW_SHOT, Batch, SynthesisModel
from talkingub.models.registry import register_model
from talkingub.zoo.head3d import losses as L
from talkingub.zoo.head3d import schedule as S
from talkingub.zoo.head3d.aggregation import CanonicalHeadGenerator
from talkingub.zoo.head3d.camera import Camera, Pose
from talkingub.zoo.head3d.config import Head3DConfig
from talkingub.zoo.head3d.depth import DepthNet
from talkingub.zoo.head3d.fusion import AttentionFusion
from talkingub.zoo.head3d.parsing import head_mask, paste
from talkingub.zoo.head3d.pose import PoseNet
from talkingub.zoo.keypoint_common.equivariance import RandomTPS, TransformConfig
from talkingub.zoo.keypoint_common.geometry import coordinate_grid
from talkingub.zoo.keypoint_common.training import LazyPerceptual

CONFIG_DIR = Path(__file__).parent / "configs"


@register_model("head3d", Head3DConfig, CONFIG_DIR)
class Head3D(SynthesisModel):
    track: ClassVar[str] = FEW_SHOT
    animate_modes = ("absolute",)
    mask: torch.Tensor
    pose_initialised: torch.Tensor

    def __init__(self, config: Head3DConfig) -> None:
        super().__init__(config)
        c = config
        self.camera = Camera(c.camera, c.face_size)
        self.depth_net = DepthNet(c.depth, c.camera)  # F_D
        self.pose_net = PoseNet(c.pose, c.camera)  # F_P
        self.canonical_head = CanonicalHeadGenerator(c.head_codec)  # E_H, Lambda, Omega_H
        self.fusion = AttentionFusion(c.frame_codec, c.predictor)  # E_F, Phi, Omega_F
        self.perceptual = LazyPerceptual(
            c.perceptual, c.loss.perceptual_scales, c.loss.perceptual, c.pyramid_downsample
        )
        self.register_buffer("mask", head_mask(c.head_mask, c.face_size), persistent=False)
        # 1 once F_P holds the Hopenet start (`pose_init: hopenet`); saved with the weights
        self.register_buffer("pose_initialised", torch.zeros((), dtype=torch.uint8))
        self._epoch = 0
        self._optimizers: dict[str, torch.optim.Optimizer] = {}

    # --- stages and optimisers ------------------------------------------------------------
    def parameter_groups(self) -> dict[str, list[nn.Parameter]]:
        return {
            S.GROUPS[1]: [*self.depth_net.parameters(), *self.pose_net.parameters()],
            S.GROUPS[2]: list(self.canonical_head.parameters()),
            S.GROUPS[3]: list(self.fusion.parameters()),
        }

    def build_optimizers(self) -> dict[str, torch.optim.Optimizer]:
        """One Adam per stage; stage 1 with F_D's and F_P's learning rates."""
        s1, s2, s3 = self.config.stage_optim
        cfg = self.config
        self._optimizers = {
            S.GROUPS[1]: S.adam(
                [(self.depth_net.parameters(), s1.lr), (self.pose_net.parameters(), s1.pose_lr)],
                cfg,
            ),
            S.GROUPS[2]: S.adam([(self.canonical_head.parameters(), s2.lr)], cfg),
            S.GROUPS[3]: S.adam([(self.fusion.parameters(), s3.lr)], cfg),
        }
        self.set_epoch(self._epoch)
        return dict(self._optimizers)

    def set_epoch(self, epoch: int) -> None:
        self._epoch = epoch
        stage, within = S.stage_at(self.config, epoch)
        optimizer = self._optimizers.get(S.GROUPS[stage])
        if optimizer is not None:
            S.set_stage_lr(optimizer, self.config.stage_optim[stage - 1], within)

    def active_stage(self) -> int:
        return S.stage_at(self.config, self._epoch)[0]

    def losses(self, group: str, batch: Batch) -> dict[str, torch.Tensor]:
        """The stage's losses when the current epoch trains it, else none (no step)."""
        for stage, name in S.GROUPS.items():
            if group == name:
                return self.stage_losses(stage, batch) if stage == self.active_stage() else {}
        return super().losses(group, batch)

    def generator_losses(self, batch: Batch) -> dict[str, torch.Tensor]:
        """Head3D has no `generator` group (its groups are the stages): this builds the lazily
        made loss network (the bench's priming, before the first step) and returns nothing."""
        if 3 in self.config.stages:
            self.perceptual(batch["driving"][:1], batch["driving"][:1])
        return {}

    def stage_losses(self, stage: int, batch: Batch) -> dict[str, torch.Tensor]:
        """The loss terms of `stage` (1, 2, 3) on `batch`; `total` is back-propagated."""
        terms = (self._stage1, self._stage2, self._stage3)[stage - 1](batch)
        return {**terms, "total": torch.stack([v.float() for v in terms.values()]).sum()}

    # --- the three stages -----------------------------------------------------------------
    def _stage1(self, batch: Batch) -> dict[str, torch.Tensor]:
        """Eq. 4: the mean canonical head in the driving pose against the driving head."""
        self._init_pose()
        heads, target = self._subject(batch), self._head(_need(batch, "driving_face"))
        mean, depth, _ = self.mean_canonical(heads)
        rendered, _ = self.camera.render_from_canonical(mean, depth, self.pose_net(target))
        w = self.config.loss
        return {
            "head_l1": L.l1(rendered, target),
            "symmetry": w.symmetry * L.symmetry(mean),
            "depth_smoothness": w.depth_smoothness * L.depth_smoothness(depth, mean),
        }

    def _stage2(self, batch: Batch) -> dict[str, torch.Tensor]:
        """Eq. 6: the recurrent canonical head in the driving pose against the driving head."""
        heads, target = self._subject(batch), self._head(_need(batch, "driving_face"))
        with S.frozen(self.pose_net), torch.no_grad():
            pose = self.pose_net(target)
        canonical, depth = self.canonical(heads)
        rendered, _ = self.camera.render_from_canonical(canonical, depth, pose)
        return {"head_l1": L.l1(rendered, target)}

    def _stage3(self, batch: Batch) -> dict[str, torch.Tensor]:
        """Eq. 8: the fused frame against the driving frame (perceptual + equivariance)."""
        source, driving = batch["source"], batch["driving"]
        with torch.no_grad(), S.frozen(self.depth_net, self.pose_net, self.canonical_head):
            canonical, depth = self.canonical(self._subject(batch))
            head_frame = self.head_frame(
                canonical, depth, _need(batch, "driving_face"), _need(batch, "driving_face_box"),
                driving.shape[-1],
            )  # fmt: skip
        pred, prediction = self.fusion(head_frame.to(source.dtype), source, driving)
        w, terms = self.config.loss, {}
        if self.config.perceptual != "off" and sum(w.perceptual) > 0:
            terms["perceptual"] = self.perceptual(pred, driving)
        if w.equivariance:
            transform = RandomTPS(
                driving.shape[0],
                TransformConfig(w.sigma_affine, w.sigma_tps, w.points_tps),
                kernel="l1",
                like=driving.float(),
            )
            moved = transform.transform_frame(driving.float(), align_corners=True)
            warped = self.fusion.predict(
                head_frame.to(source.dtype), source, moved.to(source.dtype)
            )
            b, h, wd = prediction.head_flow.shape[:3]
            grid = coordinate_grid(h, wd, like=driving.float()).view(1, h * wd, 2)
            grid = transform.warp_coordinates(grid).view(b, h, wd, 2)
            terms["equivariance"] = w.equivariance * L.flow_equivariance(prediction, warped, grid)
        if not terms:  # every weight 0: a zero that still has a graph
            terms["perceptual"] = pred.float().sum() * 0.0
        return terms

    # --- the pipeline ---------------------------------------------------------------------
    def mean_canonical(self, heads: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, Pose]:
        """Sec. 3.1: heads [B, N, 3, S, S] -> (x_bar^c, d_bar^c = F_D(x_bar^c), the N poses):
        each reference moved into the canonical frame (eq. 1), averaged where it lands."""
        b, n = heads.shape[:2]
        flat = heads.flatten(0, 1)
        poses = self.pose_net(flat)
        warped, masks = self.camera.render_to_canonical(flat, self.depth_net(flat), poses)
        weight = masks.unflatten(0, (b, n)).sum(1)
        mean = warped.unflatten(0, (b, n)).sum(1) / weight.clamp_min(1e-6)
        return mean, self.depth_net(mean), poses

    def canonical(self, heads: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Sec. 3.2: heads [B, N, 3, S, S] -> the 3-D canonical head (x^c, F_D(x^c)); F_D and
        F_P run frozen, gradients reach x^c through F_D's depth of it."""
        b, n = heads.shape[:2]
        with S.frozen(self.depth_net, self.pose_net):
            with torch.no_grad():
                _, mean_depth, poses = self.mean_canonical(heads)
                grids, valid = self.camera.canonical_grid(mean_depth.repeat_interleave(n, 0), poses)
            canonical = self.canonical_head(
                heads, grids.unflatten(0, (b, n)), valid.unflatten(0, (b, n))
            )
            return canonical, self.depth_net(canonical)

    def head_frame(
        self,
        canonical: torch.Tensor,
        depth: torch.Tensor,
        driving_face: torch.Tensor,
        driving_box: torch.Tensor,
        size: int,
    ) -> torch.Tensor:
        """x^c in the driving head's pose (eq. 3, F_P of the driving head crop), pasted into
        a `size` x `size` frame at the driving head box: [B, 3, size, size]."""
        with S.frozen(self.pose_net):
            pose = self.pose_net(self._head(driving_face))
        rendered, _ = self.camera.render_from_canonical(canonical, depth, pose)
        return paste(rendered, driving_box, size)

    # --- inference ------------------------------------------------------------------------
    def reconstruct(
        self, source: torch.Tensor, driving: torch.Tensor, **extra: Any
    ) -> torch.Tensor:
        return self.animate(source, driving, mode="absolute", **extra)

    def animate(
        self, source: torch.Tensor, driving: torch.Tensor, mode: str = "absolute", **extra: Any
    ) -> torch.Tensor:
        """Sec. 3.4: the canonical head of the subject frames once, then per driving frame
        its pose, the head in it and the fusion with `source` (s_ref)."""
        if mode not in self.animate_modes:
            raise ConfigError(f"head3d: animate mode {mode!r} not supported (have: absolute)")
        canonical, depth = self.canonical(self._subject(extra))
        faces, boxes = _need(extra, "driving_face"), _need(extra, "driving_face_box")
        frames = []
        for t in range(driving.shape[1]):
            box = boxes[:, t] if boxes.dim() == 3 else boxes
            head = self.head_frame(canonical, depth, faces[:, t], box, driving.shape[-1])
            frames.append(self.fusion(head.to(source.dtype), source, driving[:, t])[0])
        return torch.stack(frames, dim=1)

    # --- inputs ---------------------------------------------------------------------------
    def _head(self, faces: torch.Tensor) -> torch.Tensor:
        """The head region of head crops [..., 3, S, S] (parsing.py)."""
        return faces * self.mask.to(faces.dtype)

    def _subject(self, inputs: dict[str, Any]) -> torch.Tensor:
        """The N subject heads [B, N, 3, S, S]: `source_frames_face`, else the source's."""
        frames = inputs.get("source_frames_face")
        if frames is None:
            frames = _need(inputs, "source_face")[:, None]
        return self._head(frames)

    def _init_pose(self) -> None:
        """F_P starts from Hopenet's weights (`pose_init: hopenet`), once per run."""
        if self.config.pose_init == "hopenet" and not int(self.pose_initialised):
            self.pose_net.load_hopenet()
            self.pose_initialised.fill_(1)


def _need(inputs: dict[str, Any], key: str) -> torch.Tensor:
    value = inputs.get(key)
    if value is None:
        raise ConfigError(
            f"head3d needs {key!r} (head crops and boxes: a config with face_size gets them "
            "from the bench)"
        )
    return value
